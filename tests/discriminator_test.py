"""Tests of the code discriminator, with and without the batch-mean feature."""

import numpy as np
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
