"""The conditional gated PixelCNN decoder p(x | z)."""

import dataclasses
from typing import Optional, Sequence

import keras
import tensorflow as tf

from pixelgan_tf import likelihoods
from pixelgan_tf.config import CONDITIONING_MODES, DecoderConfig
from pixelgan_tf.layers.causal_conv2d import CausalConv2D
from pixelgan_tf.layers.channel_autoregressive_head import ChannelAutoregressiveHead
from pixelgan_tf.layers.conditioning_upsampler import ConditioningUpsampler
from pixelgan_tf.layers.gated_block import GatedPixelCNNBlock


def decoder_save_signature(decoder) -> tf.types.experimental.PolymorphicFunction:
  """(images[, code]) -> parameters, for SavedModel's default signature.

  Keras derives a model's default signature from its first input alone; a
  conditional decoder cannot run without its code, and saving would fail.
  """
  specs = [tf.TensorSpec((None,) + tuple(decoder.image_shape), tf.float32, name="images")]
  if decoder.conditioning_dim:
    specs.append(tf.TensorSpec((None, decoder.conditioning_dim), tf.float32, name="code"))
  return tf.function(lambda *inputs: decoder(*inputs), input_signature=specs)


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class PixelCNNDecoder(keras.Model):
  """Gated PixelCNN with optional conditioning on a code h (the PixelGAN decoder).

  Layout: a type-A stem (a vertical and a horizontal `CausalConv2D` that do not
  see the current pixel, fed the normalized image, a channel of ones that
  marks the border and, with `coordinate_channels`, each pixel's row and
  column), `num_layers` type-B `GatedPixelCNNBlock`s, and a
  `ChannelAutoregressiveHead` that orders the channels of a pixel R -> G -> B.
  Conditioning (van den Oord et al. 2016): a location-invariant bias from h
  (eq. 4), a location-dependent bias from the map s = m(h) (eq. 5), or both,
  added to both stacks of every block.

  Receptive field of the output at (i, j), with vertical kernel (kh, kw),
  horizontal kernel (1, kw_h) and L blocks: rows i - kh - L (kh - 1) .. i - 1,
  (kw - 1) / 2 * (L + 1) columns either side, plus kw_h + L (kw_h - 1) pixels
  to the left in row i (`receptive_field()` computes it; a gradient test pins
  it). The default MNIST preset sees 6 rows above, 5 columns either side and
  6 pixels to the left.

  Args:
    image_shape: (height, width, channels).
    likelihood: 'bernoulli', 'categorical' or 'logistic_mixture'.
    num_mixtures: components of the logistic mixture.
    num_layers, filters, vertical_kernel_size, horizontal_kernel_size,
    head_units, conditioning, conditioning_map_channels, coordinate_channels:
      see `DecoderConfig`.
    conditioning_dim: size of the code h; 0 for an unconditional decoder.

  Call args:
    images: [batch, height, width, channels] in the likelihood's data space
      ({0, 1} for Bernoulli, 0..255 otherwise): the teacher-forced input.
    conditioning: [batch, dim] code h; required iff the decoder is conditional.

  Returns:
    [batch, height, width, channels, P] parameters of p(x[b, i, j, c] | x_<, h).
  """

  def __init__(self,
               image_shape: Sequence[int],
               likelihood: str = "bernoulli",
               num_mixtures: int = 5,
               num_layers: int = 4,
               filters: int = 32,
               vertical_kernel_size: Sequence[int] = (2, 3),
               horizontal_kernel_size: Sequence[int] = (1, 2),
               head_units: Optional[int] = None,
               conditioning: str = "none",
               conditioning_map_channels: int = 16,
               coordinate_channels: bool = False,
               conditioning_dim: int = 0,
               **kwargs):
    super().__init__(**kwargs)
    self.image_shape = tuple(int(s) for s in image_shape)
    if len(self.image_shape) != 3 or min(self.image_shape) < 1:
      raise ValueError(f"image_shape must be (height, width, channels), got {image_shape}.")
    if conditioning not in CONDITIONING_MODES:
      raise ValueError(f"conditioning must be one of {CONDITIONING_MODES}, got {conditioning!r}.")
    if num_layers < 1:
      raise ValueError(f"num_layers must be at least 1, got {num_layers}.")
    if tuple(horizontal_kernel_size)[0] != 1:
      raise ValueError(
          "The decoder's horizontal stack reads only the current row (the vertical "
          f"stack covers the rows above): horizontal_kernel_size must be (1, k), got "
          f"{tuple(horizontal_kernel_size)}.")
    if (conditioning == "none") != (conditioning_dim == 0) or conditioning_dim < 0:
      raise ValueError(
          f"conditioning_dim must be positive for a conditional decoder and 0 for an "
          f"unconditional one; got conditioning={conditioning!r}, "
          f"conditioning_dim={conditioning_dim}.")
    self.likelihood = likelihood
    self.num_mixtures = int(num_mixtures)
    self.num_layers = int(num_layers)
    self.filters = int(filters)
    self.vertical_kernel_size = tuple(vertical_kernel_size)
    self.horizontal_kernel_size = tuple(horizontal_kernel_size)
    self.head_units = int(head_units or filters)
    self.conditioning = conditioning
    self.conditioning_map_channels = int(conditioning_map_channels)
    self.coordinate_channels = bool(coordinate_channels)
    self.conditioning_dim = int(conditioning_dim)

    self.pixel_likelihood = likelihoods.get(likelihood, self.num_mixtures)
    self.location_invariant = conditioning in ("location_invariant", "both")
    self.location_dependent = conditioning in ("location_dependent", "both")

    policy = self.dtype_policy
    self.vertical_stem = CausalConv2D(
        self.filters, self.vertical_kernel_size, "vertical", include_current=False,
        dtype=policy, name="vertical_stem")
    self.horizontal_stem = CausalConv2D(
        self.filters, self.horizontal_kernel_size, "horizontal", include_current=False,
        dtype=policy, name="horizontal_stem")
    self.blocks = [
        GatedPixelCNNBlock(
            self.filters, self.vertical_kernel_size, self.horizontal_kernel_size,
            location_invariant=self.location_invariant,
            location_dependent=self.location_dependent,
            dtype=policy, name=f"gated_block_{i}")
        for i in range(self.num_layers)]
    self.upsampler = (
        ConditioningUpsampler(self.image_shape[:2], self.conditioning_map_channels,
                              dtype=policy, name="conditioning_upsampler")
        if self.location_dependent else None)
    self.head = ChannelAutoregressiveHead(
        self.image_shape[-1], self.pixel_likelihood.params_per_subpixel, self.head_units,
        dtype=policy, name="head")

  @property
  def is_autoregressive(self) -> bool:
    """True: each sub-pixel's distribution depends on the earlier ones."""
    return True

  @property
  def is_conditional(self) -> bool:
    return self.conditioning != "none"

  def _check_inputs(self, images, conditioning):
    if tuple(images.shape[1:]) != self.image_shape:
      raise ValueError(
          f"PixelCNNDecoder for images {self.image_shape} got images of shape "
          f"{tuple(images.shape)}.")
    if self.is_conditional and conditioning is None:
      raise ValueError(f"This decoder is conditional ({self.conditioning}): pass `conditioning`.")
    if not self.is_conditional and conditioning is not None:
      raise ValueError("This decoder is unconditional but got `conditioning`.")
    if conditioning is not None and conditioning.shape[-1] != self.conditioning_dim:
      raise ValueError(
          f"This decoder takes codes of size {self.conditioning_dim}, got conditioning "
          f"of shape {tuple(conditioning.shape)}.")

  def call(self, images, conditioning=None):
    self._check_inputs(images, conditioning)
    x = tf.cast(self.pixel_likelihood.normalize(images), self.compute_dtype)
    # A channel of ones lets the stem tell zero padding from a zero pixel.
    stem_input = tf.concat([x, tf.ones_like(x[..., :1]), *self._coordinates(x)], axis=-1)
    v = self.vertical_stem(stem_input)
    h = self.horizontal_stem(stem_input)
    conditioning_map = None
    if conditioning is not None:
      conditioning = tf.cast(conditioning, self.compute_dtype)
      if self.location_dependent:
        conditioning_map = self.upsampler(conditioning)
    vector = conditioning if self.location_invariant else None
    for block in self.blocks:
      v, h = block((v, h), conditioning=vector, conditioning_map=conditioning_map)
    return self.head(h, x)

  def _coordinates(self, x) -> list:
    """[] without `coordinate_channels`, else [grid]: grid [B, H, W, 2] holds each
    pixel's row and column of x [B, H, W, C], scaled to [-1, 1]."""
    if not self.coordinate_channels:
      return []
    height, width = self.image_shape[:2]
    rows = tf.linspace(-1.0, 1.0, height) if height > 1 else tf.zeros([1])
    columns = tf.linspace(-1.0, 1.0, width) if width > 1 else tf.zeros([1])
    grid = tf.stack(tf.meshgrid(rows, columns, indexing="ij"), axis=-1)   # [H, W, 2]
    grid = tf.broadcast_to(tf.cast(grid, x.dtype), tf.concat([tf.shape(x)[:1], grid.shape], 0))
    return [grid]

  def _stem_channels(self) -> int:
    """Channels the stem reads: the image's, the ones channel and the coordinates."""
    return self.image_shape[-1] + 1 + (2 if self.coordinate_channels else 0)

  def compute_output_shape(self, images_shape, conditioning_shape=None):
    return tuple(images_shape) + (self.pixel_likelihood.params_per_subpixel,)

  def log_prob(self, images, conditioning=None) -> tf.Tensor:
    """log p(images | conditioning) in nats per image, [batch] float32."""
    return self.pixel_likelihood.log_prob(self(images, conditioning), images)

  def receptive_field(self) -> dict:
    """Extent of the causal receptive field of one output position.

    Returns:
      dict with 'rows_above' (rows above the current one that are seen),
      'columns_each_side' (columns left and right seen in those rows) and
      'left_in_row' (pixels to the left seen in the current row).
    """
    kh, kw = self.vertical_kernel_size
    kw_h = self.horizontal_kernel_size[1]
    blocks = self.num_layers
    return {
        "rows_above": kh + blocks * (kh - 1),
        "columns_each_side": (kw - 1) // 2 * (blocks + 1),
        "left_in_row": kw_h + blocks * (kw_h - 1),
    }

  def macs_per_image(self) -> int:
    """Multiply-adds of one forward pass for one image, masked-out weights excluded.

    Counts every convolution and dense layer; element-wise gates excluded.
    """
    conditioning_dim = self.conditioning_dim
    height, width = self.image_shape[:2]
    pixels = height * width
    f = self.filters
    per_pixel = (self.vertical_stem.macs_per_position(self._stem_channels())
                 + self.horizontal_stem.macs_per_position(self._stem_channels())
                 + sum(block.macs_per_position() for block in self.blocks)
                 + self.head.macs_per_position(f))
    per_image = 0
    if self.location_invariant:
      per_image += self.num_layers * conditioning_dim * 4 * f
    if self.location_dependent:
      per_pixel += self.num_layers * self.conditioning_map_channels * 4 * f
      up = self.upsampler
      base = up._base_size[0] * up._base_size[1]
      per_image += conditioning_dim * base * up.hidden_channels
      per_image += base * 9 * up.hidden_channels * up.hidden_channels   # up1
      per_image += 4 * base * 9 * up.hidden_channels * up.channels       # up2
    return pixels * per_pixel + per_image

  def get_config(self):
    config = super().get_config()
    config.update({
        "image_shape": self.image_shape,
        "likelihood": self.likelihood,
        "num_mixtures": self.num_mixtures,
        "num_layers": self.num_layers,
        "filters": self.filters,
        "vertical_kernel_size": self.vertical_kernel_size,
        "horizontal_kernel_size": self.horizontal_kernel_size,
        "head_units": self.head_units,
        "conditioning": self.conditioning,
        "conditioning_map_channels": self.conditioning_map_channels,
        "coordinate_channels": self.coordinate_channels,
        "conditioning_dim": self.conditioning_dim,
    })
    return config

  @property
  def _default_save_signature(self):
    return decoder_save_signature(self)

  def build_from_config(self, config):
    """Creates the weights on `.keras` loading, conditioning size included."""
    del config  # The constructor arguments say everything.
    code = tf.zeros((1, self.conditioning_dim)) if self.is_conditional else None
    self(tf.zeros((1,) + self.image_shape), code)

  @classmethod
  def from_decoder_config(cls, config: DecoderConfig, image_shape: Sequence[int],
                          **kwargs) -> "PixelCNNDecoder":
    """Builds a decoder from a `DecoderConfig` for images of `image_shape`."""
    return cls(image_shape=image_shape, **dataclasses.asdict(config), **kwargs)
