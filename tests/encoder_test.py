"""Tests of the recognition network: its layout and its logit normalization."""

import keras
import numpy as np
import tensorflow as tf

import pytest

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


def test_a_fully_connected_encoder_of_two_layers():
  encoder = Encoder({"categorical": 5, "gaussian": 3}, filters=(), hidden_units=16,
                    hidden_layers=2, noise_position="input", noise_std=0.5)
  outputs = encoder(_images(batch=4), seed=tf.constant([1, 2]))
  assert outputs["categorical"].shape == (4, 5) and outputs["gaussian"].shape == (4, 3)
  # The image's 64 pixels go straight into the first of two 16-unit layers.
  assert encoder.hidden.kernel.shape == (64, 16)
  assert [layer.kernel.shape for layer in encoder.deeper_hidden] == [(16, 16)]
  assert not encoder.convolutions
  clone = Encoder.from_config(encoder.get_config())
  assert clone.hidden_layers == 2 and clone.filters == ()


def test_an_encoder_without_dense_layers_is_refused():
  with pytest.raises(ValueError, match="hidden_layers must be >= 1, got 0"):
    Encoder({"categorical": 5}, hidden_layers=0)


def _normalized_encoder(hidden_layers=2):
  return Encoder({"categorical": 5}, filters=(4, 8), hidden_units=16, hidden_layers=hidden_layers,
                 noise_std=0.0, normalize_hidden=True)


def test_normalized_hidden_layers_have_one_normalization_each_and_no_biases():
  encoder = _normalized_encoder()
  encoder(_images(), training=True)
  # Two convolutions and two dense layers.
  assert len(encoder.hidden_norms) == 4
  for layer in [*encoder.convolutions, encoder.hidden, *encoder.deeper_hidden]:
    assert layer.bias is None


def test_normalized_hidden_layers_make_the_code_independent_of_the_pixels_scale():
  # Batch statistics undo a scale of the whole batch's pixels; an encoder
  # without normalization sees the scaled images as other inputs.
  images = _images()
  normalized = _normalized_encoder()
  plain = Encoder({"categorical": 5}, filters=(4, 8), hidden_units=16, hidden_layers=2,
                  noise_std=0.0)
  for encoder in (normalized, plain):
    encoder(images)
  # (Up to the normalization's epsilon.)
  np.testing.assert_allclose(normalized(images, training=True)["categorical"],
                             normalized(images * 10.0, training=True)["categorical"], atol=5e-3)
  change = np.abs(plain(images)["categorical"] - plain(images * 10.0)["categorical"])
  assert change.max() > 0.05


def test_inference_uses_moving_statistics_of_the_hidden_layers():
  encoder = _normalized_encoder()
  images = _images()
  for _ in range(30):
    encoder(images, training=True)
  alone = encoder(images[:1])["categorical"].numpy()
  batch = encoder(images)["categorical"].numpy()
  np.testing.assert_allclose(alone, batch[:1], rtol=1e-5, atol=1e-5)


def test_normalize_hidden_round_trips_through_the_config():
  clone = Encoder.from_config(_normalized_encoder(hidden_layers=1).get_config())
  assert clone.normalize_hidden and len(clone.hidden_norms) == 3


def _seeded_normalized_encoder(logit_scale):
  keras.utils.set_random_seed(3)   # the same weights for every scale
  return Encoder({"categorical": 5}, filters=(4,), hidden_units=16, noise_std=0.0,
                 normalize_logits=True, logit_scale=logit_scale)


def test_a_fixed_logit_scale_replaces_the_learnt_one():
  learnt, fixed = _seeded_normalized_encoder(None), _seeded_normalized_encoder(3.0)
  images = _images()
  # A learnt scale starts at 1: the fixed one multiplies the same normalized logits.
  np.testing.assert_allclose(fixed(images, training=True)[CATEGORICAL_LOGITS],
                             3.0 * learnt(images, training=True)[CATEGORICAL_LOGITS],
                             rtol=1e-5, atol=1e-5)
  assert not fixed.logit_norm.trainable_weights
  assert Encoder.from_config(fixed.get_config()).logit_scale == 3.0


def test_a_learnt_logit_scale_is_one_trainable_scale_per_category():
  encoder = _encoder(True)
  assert [w.shape for w in encoder.logit_norm.trainable_weights] == [(5,)]


def test_a_logit_scale_without_normalized_logits_is_refused():
  with pytest.raises(ValueError, match="logit_scale=2.0 .* needs normalize_logits=True"):
    Encoder({"categorical": 5}, logit_scale=2.0)


@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_a_logit_scale_that_is_not_positive_is_refused(scale):
  with pytest.raises(ValueError, match=f"logit_scale must be positive .* got {scale}"):
    Encoder({"categorical": 5}, normalize_logits=True, logit_scale=scale)


def _seeded_dropout_encoder(dropout):
  keras.utils.set_random_seed(5)   # the same weights for every rate
  return Encoder({"categorical": 5}, filters=(4,), hidden_units=64, noise_std=0.0,
                 dropout=dropout)


def test_dropout_acts_only_in_training_with_a_seed():
  plain, dropped = _seeded_dropout_encoder(0.0), _seeded_dropout_encoder(0.5)
  images, seed = _images(), tf.constant([3, 4])
  reference = plain(images)[CATEGORICAL_LOGITS].numpy()
  for kwargs in ({}, {"seed": seed}, {"training": True}):
    np.testing.assert_allclose(dropped(images, **kwargs)[CATEGORICAL_LOGITS], reference,
                               rtol=1e-5, atol=1e-5)
  trained = dropped(images, seed=seed, training=True)[CATEGORICAL_LOGITS].numpy()
  assert np.abs(trained - reference).max() > 0.01


def test_dropout_zeroes_about_its_share_and_repeats_with_its_seed():
  encoder = _seeded_dropout_encoder(0.25)
  features = tf.ones([200, 64])
  dropped = encoder._drop_out(features, tf.constant([7, 8]), True, 0).numpy()
  assert 0.2 < np.mean(dropped == 0) < 0.3
  # Inverted dropout: the kept units are scaled so that the expectation stays.
  np.testing.assert_allclose(dropped[dropped != 0], 1 / 0.75, rtol=1e-6)
  again = encoder._drop_out(features, tf.constant([7, 8]), True, 0).numpy()
  other = encoder._drop_out(features, tf.constant([7, 9]), True, 0).numpy()
  np.testing.assert_array_equal(dropped, again)
  assert not np.array_equal(dropped, other)


@pytest.mark.parametrize("rate", [-0.1, 1.0])
def test_a_dropout_rate_outside_zero_to_one_is_refused(rate):
  with pytest.raises(ValueError, match=f"dropout must be in \\[0, 1\\), got {rate}"):
    Encoder({"categorical": 5}, dropout=rate)


def test_dropout_round_trips_through_the_config():
  assert Encoder.from_config(_seeded_dropout_encoder(0.25).get_config()).dropout == 0.25


def _seeded_encoder(zero_categorical_head):
  keras.utils.set_random_seed(9)   # the same draws with and without the option
  encoder = Encoder({"categorical": 5, "gaussian": 3}, filters=(4,), hidden_units=16,
                    noise_std=0.0, normalize_logits=True,
                    zero_categorical_head=zero_categorical_head)
  encoder(tf.zeros([1, 8, 8, 1]))
  encoder.zero_categorical_kernel()
  return encoder


def test_a_zero_categorical_head_starts_every_code_uniform_and_keeps_the_other_draws():
  plain, zeroed = _seeded_encoder(False), _seeded_encoder(True)
  assert np.abs(plain.heads["categorical"].kernel.numpy()).max() > 0
  np.testing.assert_array_equal(zeroed.heads["categorical"].kernel.numpy(), 0.0)
  # Every other weight is the one drawn without the option, the Gaussian head's too.
  others = [(a, b) for a, b in zip(plain.weights, zeroed.weights)
            if a.path != plain.heads["categorical"].kernel.path]
  assert len(others) == len(plain.weights) - 1
  for a, b in others:
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
  for training in (False, True):
    np.testing.assert_allclose(zeroed(_images(), training=training)["categorical"], 0.2,
                               atol=1e-6)


def test_a_zero_categorical_head_without_a_categorical_code_is_refused():
  with pytest.raises(ValueError, match="no categorical component"):
    Encoder({"gaussian": 3}, zero_categorical_head=True)


def test_zero_categorical_head_round_trips_through_the_config():
  assert Encoder.from_config(_seeded_encoder(True).get_config()).zero_categorical_head
