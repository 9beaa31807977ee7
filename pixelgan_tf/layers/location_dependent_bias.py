"""Location-dependent conditional bias (conditional PixelCNN, eq. 5)."""

import keras


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class LocationDependentBias(keras.layers.Layer):
  """Projects a spatial conditioning map to a bias at every position.

  Implements the V * s term of van den Oord et al. 2016, eq. 5: an unmasked
  1x1 convolution of the map s = m(h). The map depends only on the code, never
  on pixels, so it cannot break the decoder's causality.

  Args:
    units: number of bias channels (the gated layer's pre-activation width).

  Input shape: [batch, height, width, map_channels].
  Output shape: [batch, height, width, units].
  """

  def __init__(self, units: int, **kwargs):
    super().__init__(**kwargs)
    if units < 1:
      raise ValueError(f"units must be positive, got {units}.")
    self.units = int(units)
    # A Dense on the channel axis is exactly a 1x1 convolution.
    self.projection = keras.layers.Dense(self.units, dtype=self.dtype_policy,
                                         name="projection")

  def build(self, input_shape):
    if len(input_shape) != 4:
      raise ValueError(
          "LocationDependentBias expects a [batch, height, width, channels] map, "
          f"got {input_shape}.")
    self.projection.build(input_shape)

  def call(self, conditioning_map):
    return self.projection(conditioning_map)

  def compute_output_shape(self, input_shape):
    return tuple(input_shape[:-1]) + (self.units,)

  def get_config(self):
    config = super().get_config()
    config.update({"units": self.units})
    return config
