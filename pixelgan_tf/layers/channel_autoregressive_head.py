"""Output head that respects the R -> G -> B order inside a pixel."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class ChannelAutoregressiveHead(keras.layers.Layer):
  """Per-pixel head giving each sub-pixel's distribution parameters.

  The decoder's causal stream at (i, j) has seen only earlier pixels. The head
  adds what the current pixel's earlier channels say, so that

    params[..., c, :] = W_c elu(U elu(features) + A_c x[..., :c])

  depends on x[i, j, c'] only for c' < c: R sees nothing of the current pixel,
  G sees R, B sees R and G (the ordering of van den Oord et al. 2016, done in
  the head instead of with channel masks in every layer). For one channel it
  is a plain two-layer 1x1 head.

  Args:
    channels: image channels C.
    params_per_subpixel: P, the likelihood's parameters per sub-pixel.
    hidden_units: width of the hidden 1x1 layer.

  Call args:
    features: [batch, height, width, F] causal features.
    images: [batch, height, width, C] normalized images (teacher forcing).

  Returns:
    [batch, height, width, C, P] distribution parameters.
  """

  def __init__(self, channels: int, params_per_subpixel: int, hidden_units: int,
               **kwargs):
    super().__init__(**kwargs)
    self.channels = int(channels)
    self.params_per_subpixel = int(params_per_subpixel)
    self.hidden_units = int(hidden_units)
    policy = self.dtype_policy
    self.hidden = keras.layers.Dense(self.hidden_units, dtype=policy, name="hidden")
    # A_c for c >= 1: reads the current pixel's channels before c.
    self.earlier_channels = [
        keras.layers.Dense(self.hidden_units, use_bias=False, dtype=policy,
                           name=f"earlier_channels_{c}")
        for c in range(1, self.channels)]
    self.output_projections = [
        keras.layers.Dense(self.params_per_subpixel, dtype=policy, name=f"output_{c}")
        for c in range(self.channels)]

  def build(self, features_shape, images_shape=None):
    self.hidden.build(features_shape)
    for c, layer in enumerate(self.earlier_channels, start=1):
      layer.build(tuple(features_shape[:-1]) + (c,))
    for layer in self.output_projections:
      layer.build(tuple(features_shape[:-1]) + (self.hidden_units,))

  def call(self, features, images):
    shared = self.hidden(tf.nn.elu(features))
    params = []
    for c in range(self.channels):
      hidden = shared
      if c > 0:
        hidden = hidden + self.earlier_channels[c - 1](images[..., :c])
      params.append(self.output_projections[c](tf.nn.elu(hidden)))
    return tf.stack(params, axis=-2)

  def compute_output_shape(self, features_shape, images_shape=None):
    return tuple(features_shape[:-1]) + (self.channels, self.params_per_subpixel)

  def macs_per_position(self, feature_channels: int) -> int:
    c, hid, p = self.channels, self.hidden_units, self.params_per_subpixel
    earlier = sum(k * hid for k in range(1, c))
    return feature_channels * hid + earlier + c * hid * p

  def get_config(self):
    config = super().get_config()
    config.update({
        "channels": self.channels,
        "params_per_subpixel": self.params_per_subpixel,
        "hidden_units": self.hidden_units,
    })
    return config
