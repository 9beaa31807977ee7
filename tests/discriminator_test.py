"""Tests of the code discriminator: the batch-mean feature and the input noise."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf.discriminator import CodeDiscriminator


def _one_hot(categories, size=5):
  return tf.one_hot(categories, size)


def _discriminator(batch_mean):
  discriminator = CodeDiscriminator((16, 16), batch_mean=batch_mean)
  discriminator(_one_hot([0]))
  return discriminator


def test_a_plain_discriminator_judges_each_code_alone():
  discriminator = _discriminator(False)
  batch = _one_hot([0, 1, 2, 3, 4])
  np.testing.assert_allclose(discriminator(batch)[:1], discriminator(batch[:1]), rtol=1e-6)


def test_the_batch_mean_lets_it_see_which_categories_a_batch_leaves_unused():
  discriminator = _discriminator(True)
  # The same first code, in a batch using every category and in one using one.
  every = discriminator(_one_hot([0, 1, 2, 3, 4]))[0]
  one = discriminator(_one_hot([0, 0, 0, 0, 0]))[0]
  assert abs(float(every - one)) > 1e-4


def test_the_batch_mean_passes_gradient_to_every_code_of_the_batch():
  codes = tf.Variable(_one_hot([0, 0, 0, 0, 0]))
  for batch_mean, reaches_others in ((False, False), (True, True)):
    discriminator = _discriminator(batch_mean)
    with tf.GradientTape() as tape:
      first = discriminator(codes)[0]
    gradient = tape.gradient(first, codes).numpy()
    assert (np.abs(gradient[1:]).max() > 0) == reaches_others


def test_batch_mean_round_trips_through_the_config():
  clone = CodeDiscriminator.from_config(_discriminator(True).get_config())
  assert clone.batch_mean and clone.hidden_units == (16, 16)


def _noisy_discriminator(input_noise_std):
  discriminator = CodeDiscriminator((16, 16), input_noise_std=input_noise_std)
  discriminator(_one_hot([0]))
  return discriminator


def test_input_noise_acts_only_in_a_call_with_a_seed():
  discriminator = _noisy_discriminator(0.3)
  batch = _one_hot([0, 1, 2, 3, 4])
  seed = tf.constant([3, 4])
  clean = discriminator(batch).numpy()
  noisy = discriminator(batch, seed=seed).numpy()
  assert np.abs(noisy - clean).max() > 1e-4
  np.testing.assert_array_equal(discriminator(batch, seed=seed), noisy)
  assert np.abs(discriminator(batch, seed=tf.constant([3, 5])).numpy() - noisy).max() > 1e-4


def test_without_input_noise_a_seed_changes_nothing():
  discriminator = _noisy_discriminator(0.0)
  batch = _one_hot([0, 1, 2, 3, 4])
  np.testing.assert_array_equal(discriminator(batch, seed=tf.constant([3, 4])),
                                discriminator(batch))


def test_negative_input_noise_is_refused():
  with pytest.raises(ValueError, match="input_noise_std must be >= 0, got -0.1"):
    CodeDiscriminator((16,), input_noise_std=-0.1)


def test_input_noise_round_trips_through_the_config():
  clone = CodeDiscriminator.from_config(_noisy_discriminator(0.3).get_config())
  assert clone.input_noise_std == 0.3
