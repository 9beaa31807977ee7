"""Tests of the recognition network's logit normalization."""

import numpy as np
import tensorflow as tf

from pixelgan_tf.encoder import CATEGORICAL_LOGITS, Encoder


def _encoder(normalize_logits: bool) -> Encoder:
  encoder = Encoder({"categorical": 5}, filters=(4,), hidden_units=16, noise_std=0.0,
                    normalize_logits=normalize_logits)
  encoder(tf.zeros([1, 8, 8, 1]))
  # A head so strongly in favour of category 0 that it wins every image: what
  # a collapsed categorical code looks like. (The hidden layer is a ReLU, so
  # a positive weight row into category 0 raises its logit for every image.)
  kernel = encoder.heads["categorical"].kernel
  kernel.assign(tf.tensor_scatter_nd_update(kernel, [[i, 0] for i in range(16)],
                                            tf.fill([16], 20.0)))
  return encoder


def _images(batch=64, seed=0):
  return tf.random.stateless_uniform([batch, 8, 8, 1], [seed, 1], -1.0, 1.0)


def test_without_normalization_a_biased_head_takes_every_image():
  predictions = np.argmax(_encoder(False)(_images(), training=True)["categorical"], -1)
  assert set(predictions.tolist()) == {0}


def test_normalized_logits_have_zero_batch_mean_and_spread_over_categories():
  outputs = _encoder(True)(_images(), training=True)
  logits = outputs[CATEGORICAL_LOGITS].numpy()
  np.testing.assert_allclose(logits.mean(0), 0.0, atol=1e-4)
  assert len(set(np.argmax(logits, -1).tolist())) >= 3


def test_training_updates_moving_statistics_that_inference_then_uses():
  encoder = _encoder(True)
  images = _images()
  before = encoder(images)[CATEGORICAL_LOGITS].numpy()
  for _ in range(50):
    encoder(images, training=True)
  after = encoder(images)[CATEGORICAL_LOGITS].numpy()
  assert not np.allclose(before, after, atol=1e-2)
  # Inference normalizes each image alone: its logits do not depend on the batch.
  alone = encoder(images[:1])[CATEGORICAL_LOGITS].numpy()
  np.testing.assert_allclose(alone, after[:1], rtol=1e-5, atol=1e-5)
  # The moving mean tracked the head's pull towards category 0.
  assert encoder.logit_norm.moving_mean.numpy()[0] > 5.0


def test_normalize_logits_round_trips_through_the_config():
  encoder = _encoder(True)
  clone = Encoder.from_config(encoder.get_config())
  assert clone.normalize_logits
