"""Tests of the learning-rate decay over the end of a run, the adversarial warm-up and the
supervised and decoder leads."""

import dataclasses

import pytest
import tensorflow as tf

from pixelgan_tf import config as config_lib
from pixelgan_tf import schedule
from pixelgan_tf.model import PixelGANAutoencoder
from tests import trained_variables


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


def test_warmup_scale_rises_linearly_then_stays_at_one():
  assert schedule.warmup_scale(0, 500) == 0.0
  assert schedule.warmup_scale(100, 500) == pytest.approx(0.2)
  assert schedule.warmup_scale(500, 500) == 1.0
  assert schedule.warmup_scale(9000, 500) == 1.0
  assert schedule.warmup_scale(0, 0) == 1.0


@pytest.mark.parametrize("leading,others", [("supervised", ("reconstruction", "generator")),
                                             ("reconstruction", ("supervised", "generator"))])
def test_lead_scale_holds_every_phase_but_the_leading_one_until_the_lead_ends(leading, others):
  scale = lambda phase, step, lead: schedule.lead_scale(phase, step, lead, leading)
  assert scale(leading, 0, 20) == 1.0
  assert scale(others[0], 0, 20) == 0.0
  assert scale(others[1], 19, 20) == 0.0
  assert scale("discriminator", 20, 20) == 1.0
  assert scale(others[0], 0, 0) == 1.0


def test_lead_scale_leads_with_the_supervised_phase_by_default():
  assert schedule.lead_scale("supervised", 0, 20) == 1.0
  assert schedule.lead_scale("reconstruction", 0, 20) == 0.0


def _model(num_classes=0, **phase_overrides):
  config = dataclasses.replace(config_lib.model_preset("tiny"), num_classes=num_classes)
  if phase_overrides:
    config = dataclasses.replace(
        config, phases=dataclasses.replace(config.phases, **phase_overrides))
  model = PixelGANAutoencoder(config)
  model.compile()
  return model, config.phases


def _callback(model, decay_fraction, adversarial_warmup_steps=0, supervised_lead_steps=0,
              step=30, supervised_warmup_steps=0):
  model.optimizer.iterations.assign(step)
  return schedule.LearningRateDecay(model, steps=1000, time_budget_s=100.0,
                                    decay_fraction=decay_fraction, train_seconds=lambda: 75.0,
                                    adversarial_warmup_steps=adversarial_warmup_steps,
                                    supervised_lead_steps=supervised_lead_steps,
                                    supervised_warmup_steps=supervised_warmup_steps)


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


def test_a_resumed_run_without_decay_trains_at_the_configured_rates():
  model, phases = _model()
  # The checkpoint of a run whose rates decayed to 0 has been restored.
  for optimizer in model.phase_optimizers.values():
    optimizer.learning_rate = 0.0
  callback = _callback(model, decay_fraction=0.0)
  callback.on_train_begin()
  callback.on_train_batch_begin(0)
  rates = _rates(model)
  assert rates["reconstruction"] == pytest.approx(phases.reconstruction_learning_rate)
  assert rates["discriminator"] == pytest.approx(phases.discriminator_learning_rate)
  assert rates["generator"] == pytest.approx(phases.generator_learning_rate)


def test_warmup_ramps_only_the_adversarial_phases_and_combines_with_the_decay():
  model, phases = _model()
  _callback(model, decay_fraction=0.5, adversarial_warmup_steps=120).on_train_batch_begin(0)
  rates = _rates(model)   # step 30 of a 120-step warm-up, 75 % of the budget
  assert rates["reconstruction"] == pytest.approx(0.5 * phases.reconstruction_learning_rate)
  assert rates["discriminator"] == pytest.approx(0.125 * phases.discriminator_learning_rate)
  assert rates["generator"] == pytest.approx(0.125 * phases.generator_learning_rate)


def test_warmup_without_decay_sets_the_adversarial_rates():
  model, phases = _model()
  _callback(model, decay_fraction=0.0, adversarial_warmup_steps=60).on_train_batch_begin(0)
  rates = _rates(model)
  assert rates["generator"] == pytest.approx(0.5 * phases.generator_learning_rate)
  assert rates["reconstruction"] == pytest.approx(phases.reconstruction_learning_rate)


def test_supervised_warmup_ramps_only_the_supervised_phase():
  model, phases = _model(num_classes=3)
  _callback(model, decay_fraction=0.0, supervised_warmup_steps=120).on_train_batch_begin(0)
  rates = _rates(model)   # step 30 of a 120-step warm-up
  assert rates["supervised"] == pytest.approx(0.25 * phases.supervised_learning_rate)
  assert rates["reconstruction"] == pytest.approx(phases.reconstruction_learning_rate)
  assert rates["discriminator"] == pytest.approx(phases.discriminator_learning_rate)
  assert rates["generator"] == pytest.approx(phases.generator_learning_rate)


def test_the_two_warm_ups_keep_their_own_lengths_and_combine_with_the_decay():
  model, phases = _model(num_classes=3)
  _callback(model, decay_fraction=0.5, adversarial_warmup_steps=60,
            supervised_warmup_steps=120).on_train_batch_begin(0)
  rates = _rates(model)   # step 30, 75 % of the budget
  assert rates["generator"] == pytest.approx(0.25 * phases.generator_learning_rate)
  assert rates["supervised"] == pytest.approx(0.125 * phases.supervised_learning_rate)
  _callback(model, decay_fraction=0.0, adversarial_warmup_steps=60, supervised_warmup_steps=120,
            step=200).on_train_batch_begin(0)   # past both warm-ups
  assert _rates(model)["supervised"] == pytest.approx(phases.supervised_learning_rate)


def _changed_variables(model, step):
  """Paths of the trainable variables that one whole training step at `step` changes."""
  before = trained_variables.snapshot(model.trainable_variables)
  model.optimizer.iterations.assign(step)
  images = tf.cast(tf.random.stateless_uniform([16, 8, 8, 1], seed=[4, 1]) < 0.3, tf.float32)
  model.train_on_batch({"images": images, "labeled_images": images,
                        "labels": tf.constant([0, 1, 2, 0] * 4)})
  return trained_variables.changed_paths(model.trainable_variables, before)


def test_during_the_lead_a_training_step_changes_only_what_the_labels_train():
  model, _ = _model(num_classes=3)
  callback = _callback(model, decay_fraction=0.0, supervised_lead_steps=20, step=0)
  encoder = {v.path for v in model.encoder.trainable_variables}
  callback.on_train_batch_begin(0)
  assert _changed_variables(model, step=0) == encoder
  model.optimizer.iterations.assign(20)
  callback.on_train_batch_begin(0)
  decoder = {v.path for v in model.decoder.trainable_variables}
  assert _changed_variables(model, step=20) >= encoder | decoder


def test_during_the_decoder_lead_a_training_step_changes_only_the_decoder():
  model, _ = _model(num_classes=3, decoder_lead_steps=20)
  model.optimizer.iterations.assign(0)
  callback = schedule.LearningRateDecay(model, steps=1000, time_budget_s=None, decay_fraction=0.0,
                                        train_seconds=lambda: 0.0, decoder_lead_steps=20)
  callback.on_train_batch_begin(0)
  decoder = {v.path for v in model.decoder.trainable_variables}
  # The conditioning weights learn too: the batch's mean code is not zero.
  assert _changed_variables(model, step=0) == decoder
  model.optimizer.iterations.assign(20)
  callback.on_train_batch_begin(0)
  encoder = {v.path for v in model.encoder.trainable_variables}
  discriminators = {v.path for d in model.discriminators.values() for v in d.trainable_variables}
  assert _changed_variables(model, step=20) == encoder | decoder | discriminators


def test_the_lead_combines_with_the_decay_and_the_warm_up():
  model, phases = _model(num_classes=3)
  _callback(model, decay_fraction=0.5, adversarial_warmup_steps=120,
            supervised_lead_steps=40).on_train_batch_begin(0)
  rates = _rates(model)   # step 30 of a 40-step lead, 75 % of the budget
  assert rates["supervised"] == pytest.approx(0.5 * phases.supervised_learning_rate)
  assert rates["reconstruction"] == rates["discriminator"] == rates["generator"] == 0.0
  _callback(model, decay_fraction=0.5, adversarial_warmup_steps=120,
            supervised_lead_steps=30).on_train_batch_begin(0)
  assert _rates(model)["generator"] == pytest.approx(0.125 * phases.generator_learning_rate)


def test_the_schedule_sets_an_sgd_game_s_rates_too():
  model, phases = _model(adversarial_optimizer="sgd", discriminator_learning_rate=0.02,
                         generator_learning_rate=0.04)
  _callback(model, decay_fraction=0.5).on_train_batch_begin(0)   # 75 % of the budget
  rates = _rates(model)
  assert rates["discriminator"] == pytest.approx(0.01)
  assert rates["generator"] == pytest.approx(0.02)
  assert rates["reconstruction"] == pytest.approx(0.5 * phases.reconstruction_learning_rate)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
