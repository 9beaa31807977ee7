"""256-way softmax likelihood for 8-bit images."""

import tensorflow as tf
import tensorflow_probability as tfp

from pixelgan_tf.likelihoods.base import Likelihood

tfd = tfp.distributions

NUM_LEVELS = 256


class CategoricalLikelihood(Likelihood):
  """A softmax over the 256 intensities of each sub-pixel (van den Oord et al. 2016)."""

  name = "categorical"

  @property
  def params_per_subpixel(self) -> int:
    return NUM_LEVELS

  def normalize(self, images):
    return tf.cast(images, tf.float32) / 127.5 - 1.0

  def values(self):
    return tf.range(NUM_LEVELS, dtype=tf.float32)

  def distribution(self, params):
    # dtype float32: samples and log_prob live in the float data space.
    return tfd.Categorical(logits=params, dtype=tf.float32)
