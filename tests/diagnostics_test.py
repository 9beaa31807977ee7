"""Tests of the categorical code's diagnostics."""

import dataclasses
import json
import math

import numpy as np
import pytest

from pixelgan_tf import config as config_lib
from pixelgan_tf import diagnostics, train
from pixelgan_tf.data import Splits


def _one_hot(winners, categories):
  return np.eye(categories)[winners]


def test_a_one_hot_code_that_names_the_classes_right():
  labels = np.array([0, 1, 2, 0, 1, 2])
  stats = diagnostics.code_statistics(_one_hot(labels, 3), labels)
  assert stats["entropy"] == pytest.approx(0.0, abs=1e-6)
  assert stats["confident"] == 1.0
  assert stats["usage_entropy"] == pytest.approx(math.log(3))
  assert stats["categories_used"] == 3
  assert stats["separation_error"] == 0.0
  assert stats["error"] == 0.0
  assert stats["confusion"] == [[2, 0, 0], [0, 2, 0], [0, 0, 2]]


def test_swapped_categories_separate_the_classes_but_name_them_wrong():
  labels = np.array([0, 1, 2, 0, 1, 2])
  stats = diagnostics.code_statistics(_one_hot((labels + 1) % 3, 3), labels)
  assert stats["separation_error"] == 0.0
  assert stats["error"] == 1.0
  assert stats["confusion"][0] == [0, 2, 0]


def test_an_unsure_code_that_uses_one_category():
  labels = np.array([0, 1, 2, 0])
  probabilities = np.tile([[0.5, 0.3, 0.2]], [4, 1])
  stats = diagnostics.code_statistics(probabilities, labels)
  assert stats["entropy"] == pytest.approx(-(0.5 * math.log(0.5) + 0.3 * math.log(0.3)
                                             + 0.2 * math.log(0.2)))
  assert stats["confident"] == 0.0
  assert stats["categories_used"] == 1
  assert stats["separation_error"] == pytest.approx(0.5)   # all named 0: two of four right


def test_clusters_have_no_class_reading_but_a_separation():
  labels = np.array([0, 0, 1, 1])
  stats = diagnostics.code_statistics(_one_hot([4, 4, 2, 3], 5), labels)
  assert "error" not in stats and "confusion" not in stats
  assert stats["separation_error"] == 0.0
  assert stats["categories_used"] == 3


def test_reading_keeps_the_last_record_of_a_step_measured_twice(tmp_path):
  path = tmp_path / diagnostics.DIAGNOSTICS_FILE
  path.write_text("\n".join(json.dumps(r) for r in
                            [{"step": 10, "a": 1}, {"step": 20, "a": 2}, {"step": 10, "a": 3}]))
  assert diagnostics.read_diagnostics(str(tmp_path)) == [{"step": 10, "a": 3},
                                                          {"step": 20, "a": 2}]


def _splits(n=40):
  rng = np.random.default_rng(0)
  images = lambda: (rng.random([n, 8, 8, 1]) * 255).astype(np.uint8)
  labels = lambda: rng.integers(0, 3, n)
  return Splits(train_images=images(), train_labels=labels(), labeled_images=images()[:6],
                labeled_labels=np.repeat(np.arange(3), 2),
                validation_images=images(), validation_labels=labels(),
                test_images=images(), test_labels=labels(), num_classes=3,
                image_shape=(8, 8, 1))


def _callback(directory):
  """A 3-class semi-supervised tiny model and its diagnostics every 5 steps."""
  base = config_lib.experiment("tiny")
  config = train.resolve(dataclasses.replace(
      base, model=dataclasses.replace(base.model, prior=config_lib.PriorConfig(categories=3)),
      data=dataclasses.replace(base.data, labels=6)), _splits())
  model = train.build_model(config)
  return model, diagnostics.CodeDiagnostics(model, _splits(), config.data, directory, every=5,
                                            images=30)


def test_the_callback_measures_every_period_and_writes_one_line_each(tmp_path):
  model, callback = _callback(str(tmp_path))
  for step in (4, 5, 9, 10):
    model.optimizer.iterations.assign(step)
    callback.on_train_batch_end(0)
  records = diagnostics.read_diagnostics(str(tmp_path))
  assert [r["step"] for r in records] == [5, 10]
  record = records[0]
  assert 0.0 <= record["validation/entropy"] <= math.log(3) + 1e-6
  assert 0.0 <= record["discriminator_accuracy"] <= 1.0
  assert np.sum(record["validation/confusion"]) == 30   # the fixed validation images
  assert 0.0 <= record["labeled/error"] <= 1.0


def test_the_callback_measures_the_initial_weights_once_before_the_first_step(tmp_path):
  model, callback = _callback(str(tmp_path))
  callback.on_train_begin()
  model.optimizer.iterations.assign(5)
  callback.on_train_begin()   # a later fit round: no second initial record
  callback.on_train_batch_end(0)
  records = diagnostics.read_diagnostics(str(tmp_path))
  assert [r["step"] for r in records] == [0, 5]
  assert records[0]["labeled/error"] >= 0.0 and "discriminator_accuracy" in records[0]


def test_a_period_that_steps_per_execution_does_not_divide_is_refused():
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(config, train=dataclasses.replace(
      config.train, steps_per_execution=5, eval_every=10, log_every=5, diagnose_every=7))
  with pytest.raises(ValueError, match="diagnose_every"):
    train.validate(config)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
