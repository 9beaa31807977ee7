"""A non-autoregressive decoder: the adversarial autoencoder baseline."""

import math
from typing import Sequence

import keras
import tensorflow as tf

from pixelgan_tf import likelihoods
from pixelgan_tf.decoder import decoder_save_signature


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class FactorizedDecoder(keras.Model):
  """p(x|z) = prod_i p(x_i | z): every pixel from the code alone.

  The decoder of the adversarial-autoencoder baseline (Makhzani & Frey 2017,
  Figure 2): a dense layer to a 1/4-resolution map, then two stride-2
  transposed convolutions to the likelihood's parameters. Its interface is
  the `PixelCNNDecoder`'s, so the model trains either the same way; it
  ignores the teacher-forced images.

  Args:
    image_shape: (height, width, channels).
    conditioning_dim: size of the code.
    likelihood, num_mixtures: as for `PixelCNNDecoder`.
    filters: channels of the 1/4- and 1/2-resolution maps.

  Call args:
    images: [batch, height, width, channels] (used only for their shape).
    conditioning: [batch, conditioning_dim].

  Returns:
    [batch, height, width, channels, P] likelihood parameters.
  """

  def __init__(self,
               image_shape: Sequence[int],
               conditioning_dim: int,
               likelihood: str = "bernoulli",
               num_mixtures: int = 5,
               filters: int = 64,
               **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(int(s) for s in image_shape)
    self.conditioning_dim = int(conditioning_dim)
    self.likelihood = likelihood
    self.num_mixtures = int(num_mixtures)
    self.filters = int(filters)
    self.pixel_likelihood = likelihoods.get(likelihood, self.num_mixtures)
    height, width, channels = self.image_shape
    self._base = (math.ceil(height / 4), math.ceil(width / 4))
    params = channels * self.pixel_likelihood.params_per_subpixel
    policy = self.dtype_policy
    self.dense = keras.layers.Dense(self._base[0] * self._base[1] * self.filters,
                                    activation="relu", dtype=policy, name="dense")
    self.up1 = keras.layers.Conv2DTranspose(self.filters // 2, 5, strides=2, padding="same",
                                            activation="relu", dtype=policy, name="up1")
    self.up2 = keras.layers.Conv2DTranspose(params, 5, strides=2, padding="same",
                                            dtype=policy, name="up2")

  def call(self, images, conditioning=None):
    if conditioning is None:
      raise ValueError("FactorizedDecoder needs `conditioning`: it models pixels from the code alone.")
    height, width, channels = self.image_shape
    x = self.dense(tf.cast(conditioning, self.compute_dtype))
    x = tf.reshape(x, [-1, self._base[0], self._base[1], self.filters])
    x = self.up2(self.up1(x))[:, :height, :width]
    return tf.reshape(x, [-1, height, width, channels,
                          self.pixel_likelihood.params_per_subpixel])

  @property
  def is_autoregressive(self) -> bool:
    """False: p(x|z) does not depend on the images fed (one pass samples them)."""
    return False

  @property
  def _default_save_signature(self):
    return decoder_save_signature(self)

  def log_prob(self, images, conditioning=None) -> tf.Tensor:
    """log p(images | conditioning) in nats per image, [batch] float32."""
    return self.pixel_likelihood.log_prob(self(images, conditioning), images)

  def get_config(self):
    config = super().get_config()
    config.update({
        "image_shape": self.image_shape,
        "conditioning_dim": self.conditioning_dim,
        "likelihood": self.likelihood,
        "num_mixtures": self.num_mixtures,
        "filters": self.filters,
    })
    return config
