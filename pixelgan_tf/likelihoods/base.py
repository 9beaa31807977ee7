"""What every pixel likelihood provides to the decoder and the losses."""

import abc
import math

import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions


def bits_per_dim(nats_per_image: tf.Tensor, num_dims: int) -> tf.Tensor:
  """Converts a negative log-likelihood in nats per image to bits per sub-pixel."""
  return nats_per_image / (num_dims * math.log(2.0))


class Likelihood(abc.ABC):
  """A per-sub-pixel distribution p(x[b, i, j, c] | params[b, i, j, c, :]).

  Images live in the likelihood's data space (`values()`): {0, 1} for
  Bernoulli, the integers 0..255 (as floats) for the 8-bit ones. The
  decoder feeds `normalize(images)` to its network.
  """

  name: str = ""

  @property
  @abc.abstractmethod
  def params_per_subpixel(self) -> int:
    """P, the length of the last axis of the parameters."""

  @abc.abstractmethod
  def normalize(self, images: tf.Tensor) -> tf.Tensor:
    """Maps images [B, H, W, C] from data space to about [-1, 1] for the network."""

  @abc.abstractmethod
  def values(self) -> tf.Tensor:
    """All values one sub-pixel can take, [V] float32."""

  @abc.abstractmethod
  def distribution(self, params: tf.Tensor) -> tfd.Distribution:
    """The distribution with batch shape params.shape[:-1] and scalar events."""

  def log_prob(self, params: tf.Tensor, images: tf.Tensor) -> tf.Tensor:
    """log p(images | params) in nats per image.

    Args:
      params: [B, H, W, C, P] from the decoder.
      images: [B, H, W, C] in data space.

    Returns:
      [B] float32 log-likelihoods in nats.
    """
    params = tf.cast(params, tf.float32)  # likelihood math stays float32 under mixed precision
    per_subpixel = self.distribution(params).log_prob(tf.cast(images, tf.float32))
    return tf.reduce_sum(per_subpixel, axis=[1, 2, 3])

  def mean(self, params: tf.Tensor) -> tf.Tensor:
    """E[x] per sub-pixel [B, H, W, C] (float32, data space), summed over `values()`.

    For a factorized decoder this is the image it predicts (blurry where it is
    unsure); for an autoregressive one only the next pixel's mean.
    """
    params = tf.cast(params, tf.float32)
    values = self.values()
    support = tf.reshape(values, [-1] + [1] * (params.shape.rank - 1))
    probabilities = self.distribution(params).prob(support)       # [V, B, H, W, C]
    return tf.tensordot(values, probabilities, axes=[[0], [0]])

  def sample(self, params: tf.Tensor, seed) -> tf.Tensor:
    """Draws images [B, H, W, C] (float32, data space) from params [B, H, W, C, P]."""
    params = tf.cast(params, tf.float32)
    return tf.cast(self.distribution(params).sample(seed=seed), tf.float32)

  def get_config(self) -> dict:
    return {"name": self.name}
