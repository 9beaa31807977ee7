"""Tests of the training-run helpers: config resolution and evaluation of a run."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import config as config_lib
from pixelgan_tf import train
from pixelgan_tf.data import Splits


def _splits(num_classes=3, n=30):
  rng = np.random.default_rng(0)
  images = lambda: (rng.random([n, 8, 8, 1]) * 255).astype(np.uint8)
  labels = lambda: rng.integers(0, num_classes, n)
  return Splits(train_images=images(), train_labels=labels(), labeled_images=images()[:6],
                labeled_labels=np.repeat(np.arange(num_classes), 2),
                validation_images=images(), validation_labels=labels(),
                test_images=images(), test_labels=labels(), num_classes=num_classes,
                image_shape=(8, 8, 1))


def _experiment(labels, **model_overrides):
  base = config_lib.experiment("tiny")
  model = dataclasses.replace(config_lib.model_preset("tiny"), **model_overrides)
  return dataclasses.replace(base, model=model,
                             data=dataclasses.replace(base.data, labels=labels, batch_size=16))


def _with_data(config, **fields):
  return dataclasses.replace(config, data=dataclasses.replace(config.data, **fields))


def _categorical_likelihood():
  return dataclasses.replace(config_lib.model_preset("tiny").decoder, likelihood="categorical")


def test_resolve_takes_shape_classes_and_binarization_from_the_data():
  resolved = train.resolve(_experiment(labels=6), _splits(num_classes=3))
  assert resolved.model.image_shape == (8, 8, 1)
  assert resolved.model.num_classes == 3 and resolved.model.prior.categories == 3
  assert resolved.data.binarize is True
  unsupervised = train.resolve(_experiment(labels=0), _splits())
  assert unsupervised.model.num_classes == 0
  eight_bit = train.resolve(_experiment(labels=0, decoder=_categorical_likelihood()), _splits())
  assert eight_bit.data.binarize is False


def test_resolve_honours_a_binarization_that_fits_the_likelihood():
  bernoulli = _with_data(_experiment(labels=0), binarize=True)
  assert train.resolve(bernoulli, _splits()).data.binarize is True
  eight_bit = _with_data(_experiment(labels=0, decoder=_categorical_likelihood()), binarize=False)
  assert train.resolve(eight_bit, _splits()).data.binarize is False


def test_resolve_refuses_a_binarization_that_contradicts_the_likelihood():
  with pytest.raises(ValueError, match="Bernoulli likelihood needs binarized images: set "
                                       "model.decoder.likelihood=categorical"):
    train.resolve(_with_data(_experiment(labels=0), binarize=False), _splits())
  with pytest.raises(ValueError, match="set model.decoder.likelihood=bernoulli"):
    train.resolve(_with_data(_experiment(labels=0, decoder=_categorical_likelihood()),
                             binarize=True), _splits())


def test_resolve_refuses_categories_that_do_not_match_the_classes():
  five = _experiment(labels=6, prior=config_lib.PriorConfig(categories=5))
  with pytest.raises(ValueError, match=r"prior has 5 categories but the data has 3 classes\. "
                                       r"Set model\.prior\.categories=3"):
    train.resolve(five, _splits(num_classes=3))
  # Without labels the categories are clusters, and any number is honoured.
  assert train.resolve(dataclasses.replace(five, data=dataclasses.replace(
      five.data, labels=0)), _splits(num_classes=3)).model.prior.categories == 5


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


def test_gaussian_grids_keep_one_code_per_row_and_redraw_the_pixelcnn():
  config = train.resolve(_experiment(labels=0, prior=config_lib.PriorConfig(kind="gaussian",
                                                                            dim=2)), _splits())
  config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                 samples_per_row=3))
  model = train.build_model(config)
  grids = train.sample_grids(model, _splits(), config, seed=1)
  assert set(grids) == {"inputs_and_samples", "samples_per_code"}
  grid = grids["samples_per_code"].numpy()[0, :, :, 0]
  assert grid.shape == (3 * 8, 3 * 8)
  rows = [grid[8 * r:8 * (r + 1)] for r in range(3)]
  # Within a row the code is fixed but the PixelCNN draws differ.
  assert not np.array_equal(rows[0][:, :8], rows[0][:, 8:16])


def test_categorical_grids_have_one_row_per_category():
  config = train.resolve(_experiment(labels=6), _splits(num_classes=3))
  config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                 samples_per_row=2))
  model = train.build_model(config)
  grids = train.sample_grids(model, _splits(num_classes=3), config, seed=1)
  assert set(grids) == {"inputs_and_samples", "samples_per_category"}
  assert grids["samples_per_category"].shape == (1, 3 * 8, 2 * 8, 1)
  assert grids["inputs_and_samples"].shape == (1, 2 * 8, 2 * 8, 1)


def test_adversarial_autoencoder_grids_show_the_decoder_mean():
  encoder = dataclasses.replace(config_lib.model_preset("tiny").encoder, noise_std=0.0)
  config = train.resolve(_experiment(labels=0, kind="aae", encoder=encoder,
                                     prior=config_lib.PriorConfig(kind="gaussian", dim=2)),
                         _splits())
  config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                 samples_per_row=3))
  model = train.build_model(config)
  grids = train.sample_grids(model, _splits(), config, seed=1)
  assert set(grids) == {"inputs_and_samples", "inputs_and_means", "samples_per_code"}
  means = grids["inputs_and_means"].numpy()[0, 8:, :, 0]     # the second row
  assert grids["inputs_and_means"].shape == (1, 2 * 8, 3 * 8, 1)
  # Means of Bernoulli pixels are grey levels, not the samples' black and white.
  assert len(np.unique(means)) > 2


def _manager(model, directory):
  return tf.train.CheckpointManager(model.checkpoint(), str(directory), max_to_keep=None)


def test_restore_latest_returns_the_step_and_restores_every_saved_value(tmp_path):
  config = train.resolve(_experiment(labels=6), _splits())
  model = train.build_model(config)
  assert train.restore_latest(model, _manager(model, tmp_path)) == 0   # nothing saved yet
  model.optimizer.iterations.assign(7)
  _manager(model, tmp_path).save(checkpoint_number=7)
  # Another seed, so that the restored weights must come from the file, not the initializer.
  fresh = train.build_model(dataclasses.replace(config,
                                                data=dataclasses.replace(config.data, seed=1)))
  assert not all(np.array_equal(a.numpy(), b.numpy())
                 for a, b in zip(model.variables, fresh.variables))
  manager = _manager(fresh, tmp_path)
  assert train.restore_latest(fresh, manager) == 7
  for a, b in zip(model.variables, fresh.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
  # The manager's save counter is restored as well, so the file holds nothing left unmatched.
  assert int(manager.checkpoint.save_counter) == 1


def test_restore_latest_refuses_a_checkpoint_of_another_configuration(tmp_path):
  model = train.build_model(train.resolve(_experiment(labels=6), _splits()))
  _manager(model, tmp_path).save(checkpoint_number=3)
  other = train.build_model(train.resolve(_experiment(labels=0), _splits()))
  with pytest.raises(ValueError, match="does not fit this model"):
    train.restore_latest(other, _manager(other, tmp_path))


@pytest.mark.parametrize("field,value,message", [
    ("steps", 0, "positive"),
    ("log_every", 0, "positive"),
    ("jit_compile", "maybe", "jit_compile"),
    ("mixed_precision", "int8", "mixed_precision"),
    ("time_budget_s", 0.0, "time_budget_s"),
    ("decay_fraction", 1.5, "decay_fraction"),
    ("decay_fraction", -0.1, "decay_fraction"),
])
def test_bad_training_settings(field, value, message):
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(config, train=dataclasses.replace(config.train, **{field: value}))
  with pytest.raises(ValueError, match=message):
    train.validate(config)


@pytest.mark.parametrize("fields,message", [
    ({"steps_per_execution": 3}, "divide eval_every"),        # tiny: eval_every 10
    ({"steps_per_execution": 2, "log_every": 5}, "divide log_every"),
    ({"steps_per_execution": 2, "steps": 31}, "divide steps"),
])
def test_steps_per_execution_must_divide_the_callback_periods(fields, message):
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(config, train=dataclasses.replace(config.train, **fields))
  with pytest.raises(ValueError, match=message):
    train.validate(config)


@pytest.mark.parametrize("warmup", ["adversarial_warmup_steps", "supervised_warmup_steps"])
def test_a_negative_warm_up_is_refused(warmup):
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(config, model=dataclasses.replace(
      config.model, phases=dataclasses.replace(config.model.phases, **{warmup: -1})))
  with pytest.raises(ValueError, match=f"model.phases.{warmup} must be >= 0, got -1"):
    train.validate(config)


@pytest.mark.parametrize("field", ["supervised_lead_steps", "decoder_lead_steps"])
@pytest.mark.parametrize("lead", [-10, 5])
def test_a_lead_must_be_whole_calls(field, lead):
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(
      config, train=dataclasses.replace(config.train, steps_per_execution=2),
      model=dataclasses.replace(config.model, phases=dataclasses.replace(
          config.model.phases, **{field: lead})))
  with pytest.raises(ValueError, match=f"{field} must be 0 or a positive multiple "
                                       "of steps_per_execution \\(2\\)"):
    train.validate(config)


@pytest.mark.parametrize("step, steps, calls", [
    (0, 1500, [(0, 500)]),              # a fresh run: whole rounds
    (500, 1500, [(500, 500)]),          # resumed at a round's end
    (340, 1500, [(340, 160), (500, 500)]),   # mid-round: finish it, then whole rounds
    (340, 400, [(340, 160)]),           # the remainder passes steps: StopAtSteps ends it
    (340, 500, [(340, 160)]),
    (1500, 1500, []),
])
def test_a_resumed_run_finishes_its_round_before_whole_rounds(step, steps, calls):
  assert train.training_rounds(step, steps, eval_every=500) == calls


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
