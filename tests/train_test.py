"""Tests of the training-run helpers: config resolution and evaluation of a run."""

import dataclasses

import numpy as np
import pytest

from pixelgan_tf import config as config_lib
from pixelgan_tf import train
from pixelgan_tf.data import Splits


def _splits(num_classes=3, n=30):
  rng = np.random.default_rng(0)
  images = lambda: (rng.random([n, 8, 8, 1]) * 255).astype(np.uint8)
  labels = lambda: rng.integers(0, num_classes, n)
  return Splits(train_images=images(), labeled_images=images()[:6],
                labeled_labels=np.repeat(np.arange(num_classes), 2),
                validation_images=images(), validation_labels=labels(),
                test_images=images(), test_labels=labels(), num_classes=num_classes,
                image_shape=(8, 8, 1))


def _experiment(labels, **model_overrides):
  base = config_lib.experiment("tiny")
  model = dataclasses.replace(config_lib.model_preset("tiny"), **model_overrides)
  return dataclasses.replace(base, model=model,
                             data=dataclasses.replace(base.data, labels=labels, batch_size=16))


def test_resolve_takes_shape_classes_and_binarization_from_the_data():
  resolved = train.resolve(_experiment(labels=6), _splits(num_classes=3))
  assert resolved.model.image_shape == (8, 8, 1)
  assert resolved.model.num_classes == 3 and resolved.model.prior.categories == 3
  assert resolved.data.binarize
  unsupervised = train.resolve(_experiment(labels=0), _splits())
  assert unsupervised.model.num_classes == 0
  eight_bit = train.resolve(
      _experiment(labels=0, decoder=dataclasses.replace(
          config_lib.model_preset("tiny").decoder, likelihood="categorical")), _splits())
  assert not eight_bit.data.binarize


def test_semi_supervised_runs_report_classification_error():
  config = train.resolve(_experiment(labels=6), _splits())
  model = train.build_model(config)
  results = train.evaluate_run(model, _splits(), config)
  assert set(results["test"]) == {"nll", "bits_per_dim", "error"}
  assert 0 <= results["test"]["error"] <= 1


def test_unsupervised_categorical_runs_use_the_clustering_protocol():
  config = train.resolve(_experiment(labels=0), _splits())
  model = train.build_model(config)
  results = train.evaluate_run(model, _splits(), config)
  assert "error" not in results["test"]
  assert 0 <= results["test"]["clustering_error"] <= 1


def test_gaussian_runs_report_likelihood_only():
  config = train.resolve(_experiment(labels=0, prior=config_lib.PriorConfig(kind="gaussian",
                                                                            dim=2)), _splits())
  model = train.build_model(config)
  results = train.evaluate_run(model, _splits(), config)
  assert set(results["test"]) == {"nll", "bits_per_dim"}


@pytest.mark.parametrize("field,value,message", [
    ("steps", 0, "positive"),
    ("jit_compile", "maybe", "jit_compile"),
    ("mixed_precision", "int8", "mixed_precision"),
])
def test_bad_training_settings(field, value, message):
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(config, train=dataclasses.replace(config.train, **{field: value}))
  with pytest.raises(ValueError, match=message):
    train.validate(config)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
