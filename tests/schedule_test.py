"""Tests of the learning-rate decay over the end of a run."""

import pytest

from pixelgan_tf import config as config_lib
from pixelgan_tf import schedule
from pixelgan_tf.model import PixelGANAutoencoder


def test_progress_is_the_larger_of_steps_and_time_budget_fractions():
  assert schedule.progress(50, 100, 0.0, None) == 0.5
  assert schedule.progress(50, 100, 90.0, 100.0) == 0.9
  assert schedule.progress(90, 100, 10.0, 100.0) == 0.9
  assert schedule.progress(10, 100, 500.0, 100.0) == 1.0   # budget overrun


def test_decay_scale_is_constant_then_linear_to_zero():
  assert schedule.decay_scale(0.3, 0.4) == 1.0
  assert schedule.decay_scale(0.6, 0.4) == 1.0
  assert schedule.decay_scale(0.8, 0.4) == pytest.approx(0.5)
  assert schedule.decay_scale(1.0, 0.4) == 0.0
  assert schedule.decay_scale(0.99, 0.0) == 1.0
  assert schedule.decay_scale(0.0, 1.0) == 1.0


def _model():
  config = config_lib.model_preset("tiny")
  model = PixelGANAutoencoder(config)
  model.compile()
  return model, config.phases


def _callback(model, decay_fraction):
  model.optimizer.iterations.assign(30)
  return schedule.LearningRateDecay(model, steps=1000, time_budget_s=100.0,
                                    decay_fraction=decay_fraction, train_seconds=lambda: 75.0)


def _rates(model):
  return {phase: float(optimizer.learning_rate)
          for phase, optimizer in model.phase_optimizers.items()}


def test_callback_scales_every_phase_rate_from_the_compiled_rates():
  model, phases = _model()
  # A restored checkpoint leaves decayed rates in the optimizers; the base must not follow.
  for optimizer in model.phase_optimizers.values():
    optimizer.learning_rate = 1e-7
  _callback(model, decay_fraction=0.5).on_train_batch_begin(0)   # 75 % of the budget
  rates = _rates(model)
  assert rates["reconstruction"] == pytest.approx(0.5 * phases.reconstruction_learning_rate)
  assert rates["discriminator"] == pytest.approx(0.5 * phases.discriminator_learning_rate)
  assert rates["generator"] == pytest.approx(0.5 * phases.generator_learning_rate)


def test_callback_without_decay_leaves_the_rates_alone():
  model, _ = _model()
  before = _rates(model)
  _callback(model, decay_fraction=0.0).on_train_batch_begin(0)
  assert _rates(model) == before


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
