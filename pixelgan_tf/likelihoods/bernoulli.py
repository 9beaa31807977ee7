"""Bernoulli likelihood for binarized images."""

import tensorflow as tf
import tensorflow_probability as tfp

from pixelgan_tf.likelihoods.base import Likelihood

tfd = tfp.distributions


class BernoulliLikelihood(Likelihood):
  """One logit per sub-pixel; data in {0, 1} (e.g. dynamically binarized MNIST)."""

  name = "bernoulli"

  @property
  def params_per_subpixel(self) -> int:
    return 1

  def normalize(self, images):
    return 2.0 * tf.cast(images, tf.float32) - 1.0

  def values(self):
    return tf.constant([0.0, 1.0])

  def distribution(self, params):
    return tfd.Bernoulli(logits=params[..., 0], dtype=tf.float32)
