"""The speed settings of a training step (steps per execution, XLA, bfloat16) keep its numbers."""

import dataclasses

import keras
import numpy as np
import pytest

from pixelgan_tf import config as config_lib
from pixelgan_tf import train
from pixelgan_tf.data import train_dataset
from tests.stand_in_splits import three_class_splits

STEPS = 4


def _train(**train_fields):
  """(trainable weights, per-step history) after STEPS steps of the tiny preset."""
  base = config_lib.experiment("tiny")
  config = dataclasses.replace(
      base, data=dataclasses.replace(base.data, labels=6, batch_size=8, labeled_batch_size=4),
      model=dataclasses.replace(base.model, prior=dataclasses.replace(  # one per class
          base.model.prior, categories=3)),
      train=dataclasses.replace(base.train, eval_every=STEPS, **train_fields))
  splits = three_class_splits()
  config = train.resolve(config, splits)
  try:
    model = train.build_model(config)
    history = model.fit(train_dataset(splits, config.data), steps_per_epoch=STEPS, epochs=1,
                        verbose=0).history
    weights = [np.asarray(v.numpy(), np.float32) for v in model.trainable_variables]
  finally:
    keras.mixed_precision.set_dtype_policy("float32")
  return weights, history


@pytest.fixture(scope="module")
def reference():
  return _train()


@pytest.mark.parametrize("steps_per_execution", [2, 4])
def test_steps_per_execution_trains_the_same_weights(reference, steps_per_execution):
  weights, history = _train(steps_per_execution=steps_per_execution)
  for ours, theirs in zip(weights, reference[0]):
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(history["nll"], reference[1]["nll"], rtol=1e-5)


def test_an_xla_compiled_step_trains_the_same_weights(reference):
  weights, _ = _train(jit_compile="on")
  for ours, theirs in zip(weights, reference[0]):
    np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


def test_a_bfloat16_step_stays_within_bfloat16_precision(reference):
  _, history = _train(mixed_precision="bfloat16")
  # bfloat16 keeps 8 bits of mantissa: a loss summed over 64 pixels moves by
  # about a percent; a broken step would move it by much more.
  np.testing.assert_allclose(history["nll"], reference[1]["nll"], rtol=0.02)
  assert not np.allclose(history["nll"], reference[1]["nll"], rtol=1e-6)   # it ran in bfloat16
