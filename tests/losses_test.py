"""Tests of the loss functions against hand computations."""

import math

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import losses


def test_discriminator_loss_by_hand():
  real, fake = tf.constant([2.0, -1.0]), tf.constant([0.5])
  softplus = lambda x: math.log1p(math.exp(x))
  expected = 0.5 * ((softplus(-2.0) + softplus(1.0)) / 2 + softplus(0.5))
  np.testing.assert_allclose(losses.discriminator_loss(real, fake).numpy(), expected, rtol=1e-6)


def test_discriminator_accuracy():
  real, fake = tf.constant([2.0, -1.0]), tf.constant([0.5, -3.0])
  assert losses.discriminator_accuracy(real, fake).numpy() == pytest.approx(0.5)


def test_generator_loss_is_minus_log_d():
  fake = tf.constant([0.0, 3.0])
  expected = np.mean([math.log(2.0), -math.log(1 / (1 + math.exp(-3.0)))])
  np.testing.assert_allclose(losses.generator_loss(fake).numpy(), expected, rtol=1e-6)


def test_supervised_loss():
  logits = tf.constant([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]])
  labels = tf.constant([0, 1])
  lse = lambda row: math.log(sum(math.exp(v) for v in row))
  expected = np.mean([lse([2, 0, 0]) - 2.0, lse([0, 0, 5]) - 0.0])
  np.testing.assert_allclose(losses.supervised_loss(logits, labels).numpy(), expected, rtol=1e-6)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
