"""Autoregressive sampling from the decoder, one sub-pixel at a time."""

from typing import Optional

import tensorflow as tf

from pixelgan_tf import random


def sample_naive(decoder, code: Optional[tf.Tensor], seed, num_images=None) -> tf.Tensor:
  """Draws images by running the whole decoder once per sub-pixel.

  H x W x C full passes: simple and obviously right, the reference that a
  cached sampler must reproduce. Raster order, channels R -> G -> B inside a
  pixel. Call it inside a `tf.function` (it builds a `tf.while_loop`).

  Args:
    decoder: a `PixelCNNDecoder` or `FactorizedDecoder`.
    code: [B, code_dim] conditioning, or None for an unconditional decoder.
    seed: [2] integer seed; sub-pixel k uses `random.split(seed, k)`.
    num_images: B when `code` is None.

  Returns:
    [B, H, W, C] float32 images in the likelihood's data space.
  """
  height, width, channels = decoder.image_shape
  batch = tf.shape(code)[0] if code is not None else num_images
  positions = height * width * channels
  likelihood = decoder.pixel_likelihood

  def body(k, images):
    params = decoder(images, code)                       # [B, H, W, C, P]
    i, rest = k // (width * channels), k % (width * channels)
    j, c = rest // channels, rest % channels
    value = likelihood.sample(params[:, i, j, c][:, None, None, None, :],
                              seed=random.split(seed, 0) + [0, k])[:, 0, 0, 0]
    mask = tf.reshape(tf.one_hot(k, positions), [1, height, width, channels])
    return k + 1, images + mask * value[:, None, None, None]

  images = tf.zeros(tf.stack([batch, height, width, channels]))
  _, images = tf.while_loop(lambda k, _: k < positions, body, (tf.constant(0), images),
                            maximum_iterations=positions)
  return images


def image_grid(images: tf.Tensor, rows: int, max_value: float) -> tf.Tensor:
  """Tiles [rows * cols, H, W, C] images into one [1, rows*H, cols*W, C] uint8 image."""
  images = tf.convert_to_tensor(images)
  count, height, width, channels = images.shape
  cols = count // rows
  grid = tf.reshape(images[:rows * cols], [rows, cols, height, width, channels])
  grid = tf.reshape(tf.transpose(grid, [0, 2, 1, 3, 4]), [rows * height, cols * width, channels])
  return tf.cast(tf.clip_by_value(grid / max_value * 255.0, 0, 255), tf.uint8)[None]
