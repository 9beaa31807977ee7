"""Location-invariant conditional bias (conditional PixelCNN, eq. 4)."""

import keras


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class LocationInvariantBias(keras.layers.Layer):
  """Maps a conditioning vector to one bias per channel, shared by all positions.

  Implements the V^T h term of van den Oord et al. 2016, eq. 4: the same bias
  is added at every pixel, so it steers global content (a class, a cluster)
  without saying where anything is.

  Args:
    units: number of bias channels (the gated layer's pre-activation width).

  Input shape: [batch, conditioning_dim].
  Output shape: [batch, 1, 1, units], broadcastable over height and width.
  """

  def __init__(self, units: int, **kwargs):
    super().__init__(**kwargs)
    if units < 1:
      raise ValueError(f"units must be positive, got {units}.")
    self.units = int(units)
    self.projection = keras.layers.Dense(self.units, dtype=self.dtype_policy,
                                         name="projection")

  def build(self, input_shape):
    if len(input_shape) != 2:
      raise ValueError(
          f"LocationInvariantBias expects [batch, dim] conditioning, got {input_shape}.")
    self.projection.build(input_shape)

  def call(self, conditioning):
    return self.projection(conditioning)[:, None, None, :]

  def compute_output_shape(self, input_shape):
    return (input_shape[0], 1, 1, self.units)

  def get_config(self):
    config = super().get_config()
    config.update({"units": self.units})
    return config
