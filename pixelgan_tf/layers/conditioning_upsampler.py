"""The small up-sampling network m(h) behind the location-dependent bias."""

import math
from typing import Sequence

import keras


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class ConditioningUpsampler(keras.layers.Layer):
  """Turns a conditioning vector into an H x W map s = m(h).

  A dense layer makes a map at 1/4 resolution, two stride-2 transposed
  convolutions bring it to full resolution (cropped to the image size). The
  map is computed once per image and shared by every gated layer, each of
  which projects it with its own `LocationDependentBias` (van den Oord et al.
  2016, eq. 5).

  Args:
    image_size: (height, width) of the decoder's images.
    channels: channels of the output map.
    hidden_channels: channels of the low-resolution map.

  Input shape: [batch, conditioning_dim].
  Output shape: [batch, height, width, channels].
  """

  def __init__(self,
               image_size: Sequence[int],
               channels: int = 16,
               hidden_channels: int = 32,
               **kwargs):
    super().__init__(**kwargs)
    self.image_size = tuple(int(s) for s in image_size)
    if len(self.image_size) != 2 or min(self.image_size) < 1:
      raise ValueError(f"image_size must be (height, width), got {image_size}.")
    self.channels = int(channels)
    self.hidden_channels = int(hidden_channels)
    height, width = self.image_size
    self._base_size = (math.ceil(height / 4), math.ceil(width / 4))
    policy = self.dtype_policy
    self.dense = keras.layers.Dense(
        self._base_size[0] * self._base_size[1] * self.hidden_channels,
        activation="relu", dtype=policy, name="dense")
    self.up1 = keras.layers.Conv2DTranspose(
        self.hidden_channels, 3, strides=2, padding="same", activation="relu",
        dtype=policy, name="up1")
    self.up2 = keras.layers.Conv2DTranspose(
        self.channels, 3, strides=2, padding="same", dtype=policy, name="up2")

  def build(self, input_shape):
    if len(input_shape) != 2:
      raise ValueError(
          f"ConditioningUpsampler expects [batch, dim] conditioning, got {input_shape}.")
    base_h, base_w = self._base_size
    self.dense.build(input_shape)
    self.up1.build((None, base_h, base_w, self.hidden_channels))
    self.up2.build((None, 2 * base_h, 2 * base_w, self.hidden_channels))

  def call(self, conditioning):
    base_h, base_w = self._base_size
    x = self.dense(conditioning)
    x = keras.ops.reshape(x, (-1, base_h, base_w, self.hidden_channels))
    x = self.up2(self.up1(x))
    height, width = self.image_size
    return x[:, :height, :width, :]

  def compute_output_shape(self, input_shape):
    return (input_shape[0],) + self.image_size + (self.channels,)

  def get_config(self):
    config = super().get_config()
    config.update({
        "image_size": self.image_size,
        "channels": self.channels,
        "hidden_channels": self.hidden_channels,
    })
    return config
