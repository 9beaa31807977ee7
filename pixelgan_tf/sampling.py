"""Autoregressive sampling from the decoder, one sub-pixel at a time."""

import math
from typing import Optional

import tensorflow as tf

from pixelgan_tf import random


def _draw_subpixel(likelihood, images, params, seed, k):
  """Draws sub-pixel k (raster order, channels last) and writes it into images.

  Both samplers draw through here, so the same seed gives the same value.

  Args:
    likelihood: the decoder's pixel likelihood.
    images: [B, H, W, C] images so far.
    params: [B, P] the sub-pixel's distribution parameters.
    seed: the sampler's [2] seed.
    k: the sub-pixel's index.
  """
  value = likelihood.sample(params[:, None, None, None, :],
                            seed=random.split(seed, 0) + [0, k])[:, 0, 0, 0]
  shape = images.shape[1:].as_list()
  position = tf.reshape(tf.one_hot(k, math.prod(shape)), [1] + shape)
  return images + position * value[:, None, None, None]


def _blank_images(decoder, code: Optional[tf.Tensor], num_images) -> tf.Tensor:
  """[B, H, W, C] zeros: B is the code's batch, or `num_images` without a code."""
  batch = tf.shape(code)[0] if code is not None else num_images
  return tf.zeros(tf.stack([batch, *decoder.image_shape]))


def _subpixel_params(decoder, images, code) -> tf.Tensor:
  """[B, H*W*C, P]: the decoder's parameters per sub-pixel in raster order, channels last."""
  params = decoder(images, code)
  return tf.reshape(params, [tf.shape(images)[0], -1, params.shape[-1]])


def _draw_in_raster_order(decoder, images, seed, params_at) -> tf.Tensor:
  """Draws every sub-pixel of `images` in turn; params_at(images, k) gives k's [B, P]."""
  positions = math.prod(decoder.image_shape)

  def body(k, images):
    return k + 1, _draw_subpixel(decoder.pixel_likelihood, images, params_at(images, k), seed, k)

  _, images = tf.while_loop(lambda k, _: k < positions, body, (tf.constant(0), images),
                            maximum_iterations=positions)
  return images


def sample_naive(decoder, code: Optional[tf.Tensor], seed, num_images=None) -> tf.Tensor:
  """Draws images by running the whole decoder once per sub-pixel.

  H x W x C full passes: simple and obviously right, the reference that a
  cached sampler must reproduce. Raster order, channels R -> G -> B inside a
  pixel. Call it inside a `tf.function` (it builds a `tf.while_loop`).

  Args:
    decoder: a `PixelCNNDecoder` or `FactorizedDecoder`.
    code: [B, code_dim] conditioning, or None for an unconditional decoder.
    seed: [2] integer seed; sub-pixel k draws with it as `_draw_subpixel` does.
    num_images: B when `code` is None.

  Returns:
    [B, H, W, C] float32 images in the likelihood's data space.
  """
  return _draw_in_raster_order(
      decoder, _blank_images(decoder, code, num_images), seed,
      lambda images, k: _subpixel_params(decoder, images, code)[:, k])


def image_grid(images: tf.Tensor, rows: int, max_value: float) -> tf.Tensor:
  """Tiles [rows * cols, H, W, C] images into one [1, rows*H, cols*W, C] uint8 image."""
  images = tf.convert_to_tensor(images)
  count, height, width, channels = images.shape
  cols = count // rows
  grid = tf.reshape(images[:rows * cols], [rows, cols, height, width, channels])
  grid = tf.reshape(tf.transpose(grid, [0, 2, 1, 3, 4]), [rows * height, cols * width, channels])
  return tf.cast(tf.clip_by_value(grid / max_value * 255.0, 0, 255), tf.uint8)[None]


def _take(tensor, axis: int, start, size: int):
  """tensor[..., start:start + size, ...] along `axis`, keeping a static size."""
  return tf.gather(tensor, start + tf.range(size), axis=axis)


def _spatial(bias) -> bool:
  """Whether a conditional bias varies over positions ([B, H, W, D], H, W > 1)."""
  return isinstance(bias, tf.Tensor) and bias.shape.rank == 4 and bias.shape[1] != 1


def _at_row(bias, i):
  """Row i of a [B, H, W, D] bias; a [B, 1, 1, D] (or zero) bias as it is."""
  return _take(bias, 1, i, 1) if _spatial(bias) else bias


def _at(bias, i, j):
  """Position (i, j) of a [B, H, W, D] bias as [B, 1, 1, D]; others as they are."""
  return _take(_take(bias, 1, i, 1), 2, j, 1) if _spatial(bias) else bias


def _set_row(tensor, i, row):
  """tensor with row i ([B, 1, W, D]) replaced."""
  mask = tf.reshape(tf.one_hot(i, tensor.shape[1], dtype=tensor.dtype), [1, -1, 1, 1])
  return tensor * (1 - mask) + mask * row


def _set_column(row_tensor, j, value):
  """[B, 1, W, D] with column j replaced by value [B, 1, 1, D]."""
  mask = tf.reshape(tf.one_hot(j, row_tensor.shape[2], dtype=row_tensor.dtype), [1, 1, -1, 1])
  return row_tensor * (1 - mask) + mask * value


def _window(layer, row_tensor, j, width):
  """The causal window of output column j of a one-row input, [B, 1, width, D]."""
  return _take(layer.causal_pad(row_tensor), 2, j, width)


def sample_cached(decoder, code: Optional[tf.Tensor], seed, num_images=None) -> tf.Tensor:
  """Draws the same images as `sample_naive`, computing only what each pixel needs.

  Every stream at row i depends only on rows above (vertical) or on earlier
  pixels of row i (horizontal), so generation can cache activations
  (Ramachandran et al. 2017): at the start of row i the vertical stack of
  every layer is computed for that row alone, from row windows of the cached
  rows above; then, pixel by pixel, the horizontal stack and the head run at
  one position, from column windows of the cached current row. The whole
  image costs about one forward pass plus small per-pixel work, instead of
  H x W x C passes. Sub-pixel k is drawn with the same seed as in
  `sample_naive`, so both give the same images.

  Args:
    decoder: a `PixelCNNDecoder`.
    code: [B, code_dim], or None for an unconditional decoder.
    seed: [2] integer seed.
    num_images: B when `code` is None.

  Returns:
    [B, H, W, C] float32 images in the likelihood's data space.
  """
  height, width, channels = decoder.image_shape
  if not decoder.built:   # the cache reads the layers' weights directly
    decoder(tf.zeros((1, height, width, channels)), None if code is None else code[:1])
  batch = tf.shape(code)[0] if code is not None else num_images
  likelihood = decoder.pixel_likelihood
  dtype = decoder.compute_dtype
  kh = decoder.vertical_kernel_size[0]
  kw_h = decoder.horizontal_kernel_size[1]
  filters = decoder.filters

  vector, conditioning_map = None, None
  if code is not None:
    code = tf.cast(code, dtype)
    vector = code if decoder.location_invariant else None
    conditioning_map = decoder.upsampler(code) if decoder.location_dependent else None
  biases = [block.conditional_biases(vector, conditioning_map) for block in decoder.blocks]

  def stem_input(images):
    x = tf.cast(likelihood.normalize(images), dtype)
    return tf.concat([x, tf.ones_like(x[..., :1])], axis=-1)

  def vertical_row(images, verticals, i):
    """Row i of every layer's vertical stream, from the rows above."""
    window = _take(decoder.vertical_stem.causal_pad(stem_input(images)), 1, i, kh)
    row = decoder.vertical_stem.convolve_window(window)
    updated, rows = [_set_row(verticals[0], i, row)], [row]
    for l, (block, (bias_v, _)) in enumerate(zip(decoder.blocks, biases)):
      window = _take(block.vertical_conv.causal_pad(updated[-1]), 1, i, kh)
      row = block.vertical_update(block.vertical_conv.convolve_window(window), _at_row(bias_v, i))
      updated.append(_set_row(verticals[l + 1], i, row))
      rows.append(row)
    return updated, rows

  def pixel(images, horizontals, v_rows, i, j):
    """Samples pixel (i, j), channel by channel; updates the row caches."""
    stem_row = _take(stem_input(images), 1, i, 1)
    h = decoder.horizontal_stem.convolve_window(
        _window(decoder.horizontal_stem, stem_row, j, kw_h))
    horizontals = list(horizontals)
    for l, (block, (_, bias_h)) in enumerate(zip(decoder.blocks, biases)):
      horizontals[l] = _set_column(horizontals[l], j, h)
      conv = block.horizontal_conv.convolve_window(
          _window(block.horizontal_conv, horizontals[l], j, kw_h))
      h = block.horizontal_update(h, conv, _take(v_rows[l + 1], 2, j, 1), _at(bias_h, i, j))
    for c in range(channels):
      x = tf.cast(likelihood.normalize(_take(_take(images, 1, i, 1), 2, j, 1)), dtype)
      params = decoder.head(h, x)[:, 0, 0, c]
      k = (i * width + j) * channels + c
      images = _draw_subpixel(likelihood, images, params, seed, k)
    return images, horizontals

  images = tf.zeros(tf.stack([batch, height, width, channels]))
  zeros = tf.zeros(tf.stack([batch, height, width, filters]), dtype)
  verticals = [zeros] * (len(decoder.blocks) + 1)
  row_zeros = tf.zeros(tf.stack([batch, 1, width, filters]), dtype)

  def row_body(i, images, verticals):
    verticals, v_rows = vertical_row(images, verticals, i)

    def column_body(j, images, horizontals):
      images, horizontals = pixel(images, horizontals, v_rows, i, j)
      return j + 1, images, horizontals

    _, images, _ = tf.while_loop(
        lambda j, *_: j < width, column_body,
        (tf.constant(0), images, [row_zeros] * len(decoder.blocks)),
        maximum_iterations=width)
    return i + 1, images, verticals

  _, images, _ = tf.while_loop(lambda i, *_: i < height, row_body,
                               (tf.constant(0), images, verticals), maximum_iterations=height)
  return images


def sample_factorized(decoder, code: tf.Tensor, seed, num_images=None) -> tf.Tensor:
  """Draws the same images as `sample_naive` from a non-autoregressive decoder.

  A factorized decoder's parameters do not depend on the images it is fed,
  so one pass gives every sub-pixel's distribution; the loop only draws.

  Args:
    decoder: a `FactorizedDecoder`.
    code, seed, num_images: as for `sample_naive`.

  Returns:
    [B, H, W, C] float32 images in the likelihood's data space.
  """
  images = _blank_images(decoder, code, num_images)
  params = _subpixel_params(decoder, images, code)     # [B, H*W*C, P]
  return _draw_in_raster_order(decoder, images, seed, lambda _, k: params[:, k])


def sample(decoder, code: Optional[tf.Tensor], seed, num_images=None) -> tf.Tensor:
  """Draws images with the fastest exact sampler for the decoder.

  `sample_cached` for a `PixelCNNDecoder`; `sample_factorized` for a decoder
  that ignores the images it is fed (`is_autoregressive` False).
  """
  if not decoder.is_autoregressive:
    return sample_factorized(decoder, code, seed, num_images)
  return sample_cached(decoder, code, seed, num_images)
