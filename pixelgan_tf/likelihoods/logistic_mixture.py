"""Discretized mixture of logistics for 8-bit images (PixelCNN++)."""

import tensorflow as tf
import tensorflow_probability as tfp

from pixelgan_tf.likelihoods.base import Likelihood

tfd = tfp.distributions

# PixelCNN++'s lower bound on log-scales, on the [-1, 1] scale: below it a
# bin's probability no longer changes and gradients vanish.
_MIN_LOG_SCALE = -7.0
_HALF_RANGE = 127.5


class LogisticMixtureLikelihood(Likelihood):
  """A mixture of K logistics per sub-pixel, quantized to the 256 levels.

  Each sub-pixel has its own mixture: params = [mixture logits (K), locations
  (K), log-scales (K)], locations and log-scales on the [-1, 1] scale. The
  edge levels 0 and 255 take the tails, so the 256 probabilities sum to 1
  (Salimans et al. 2017). Dependence between the channels of a pixel comes
  from the decoder's channel-autoregressive head rather than PixelCNN++'s
  linear coefficients, so it works the same for every likelihood.

  Args:
    num_mixtures: K.
  """

  name = "logistic_mixture"

  def __init__(self, num_mixtures: int = 5):
    if num_mixtures < 1:
      raise ValueError(f"num_mixtures must be positive, got {num_mixtures}.")
    self.num_mixtures = int(num_mixtures)

  @property
  def params_per_subpixel(self) -> int:
    return 3 * self.num_mixtures

  def normalize(self, images):
    return tf.cast(images, tf.float32) / _HALF_RANGE - 1.0

  def values(self):
    return tf.range(256, dtype=tf.float32)

  def distribution(self, params):
    logits, locs, log_scales = tf.split(params, 3, axis=-1)
    # To pixel units; level k is the bin (k - 1/2, k + 1/2], which is what
    # QuantizedDistribution's ceiling gives after a shift by -1/2.
    locs = (locs + 1.0) * _HALF_RANGE - 0.5
    scales = tf.exp(tf.maximum(log_scales, _MIN_LOG_SCALE)) * _HALF_RANGE
    components = tfd.QuantizedDistribution(
        tfd.Logistic(loc=locs, scale=scales), low=0.0, high=255.0)
    return tfd.MixtureSameFamily(
        mixture_distribution=tfd.Categorical(logits=logits),
        components_distribution=components)

  def get_config(self) -> dict:
    return {"name": self.name, "num_mixtures": self.num_mixtures}
