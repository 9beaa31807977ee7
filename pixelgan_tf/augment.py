"""Opt-in augmentation of labelled images (not in the paper's protocol)."""

import math

import tensorflow as tf

from pixelgan_tf import random


def random_shift(images: tf.Tensor, max_shift: int, seed) -> tf.Tensor:
  """Translates each image by its own whole-pixel offset, filling with zeros.

  Each image moves by (dy, dx), both drawn uniformly from
  [-max_shift, max_shift]; pixels moved in from outside are 0 (MNIST's
  background). Stateless and XLA-compilable: one seed, one draw.

  Args:
    images: [B, H, W, C] in data space.
    max_shift: the largest offset in pixels, 0 <= max_shift < min(H, W).
    seed: [2] integer seed of the offsets.

  Returns:
    [B, H, W, C], the translated images.
  """
  if max_shift == 0:
    return images
  height, width = images.shape[1], images.shape[2]
  if not 0 < max_shift < min(height, width):
    raise ValueError(f"max_shift must be in [0, {min(height, width)}) for {height}x{width} "
                     f"images, got {max_shift}.")
  batch = tf.shape(images)[0]
  offsets = tf.cast(tf.floor(random.uniform([batch, 2], seed) * (2 * max_shift + 1)),
                    tf.int32) - max_shift
  padded = tf.pad(images, [[0, 0], [max_shift, max_shift], [max_shift, max_shift], [0, 0]])
  # Output pixel (i, j) of image b is padded pixel (i + max_shift - dy, j + max_shift - dx).
  rows = tf.range(height)[None, :] + (max_shift - offsets[:, :1])
  columns = tf.range(width)[None, :] + (max_shift - offsets[:, 1:])
  shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
  return tf.gather(shifted, columns, axis=2, batch_dims=1)


def random_rotation(images: tf.Tensor, max_degrees: float, seed) -> tf.Tensor:
  """Rotates each image about its centre by its own angle, bilinearly, filling with zeros.

  Each image turns by an angle drawn uniformly from [-max_degrees,
  max_degrees]; pixels that come from outside the image are 0 (MNIST's
  background). Gathers only, so it is stateless and XLA-compilable: one seed,
  one draw.

  Args:
    images: [B, H, W, C] in data space.
    max_degrees: the largest angle, in [0, 180].
    seed: [2] integer seed of the angles.

  Returns:
    [B, H, W, C] float32, the rotated images.
  """
  if max_degrees == 0:
    return images
  if not 0 < max_degrees <= 180:
    raise ValueError(f"max_degrees must be in [0, 180], got {max_degrees}.")
  height, width = images.shape[1], images.shape[2]
  batch = tf.shape(images)[0]
  angles = (2.0 * random.uniform([batch, 1, 1], seed) - 1.0) * (max_degrees * math.pi / 180.0)
  cos, sin = tf.cos(angles), tf.sin(angles)
  # Output pixel (y, x) takes its value from the input at (y, x) turned about the centre.
  y = tf.range(height, dtype=tf.float32)[None, :, None] - (height - 1) / 2.0
  x = tf.range(width, dtype=tf.float32)[None, None, :] - (width - 1) / 2.0
  source_y = sin * x + cos * y + (height - 1) / 2.0   # [B, H, W]
  source_x = cos * x - sin * y + (width - 1) / 2.0
  return _bilinear(tf.cast(images, tf.float32), source_y, source_x)


def _bilinear(images: tf.Tensor, source_y: tf.Tensor, source_x: tf.Tensor) -> tf.Tensor:
  """images [B, H, W, C] read at the real positions source_y, source_x [B, H', W'],
  interpolated between the four nearest pixels, 0 outside the image."""
  height, width = images.shape[1], images.shape[2]
  # One zero pixel of border, so that a neighbour outside the image reads 0.
  padded = tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]])
  top, left = tf.floor(source_y), tf.floor(source_x)
  fy, fx = (source_y - top)[..., None], (source_x - left)[..., None]

  def pixel(row, column):
    row = tf.cast(tf.clip_by_value(row + 1.0, 0.0, height + 1.0), tf.int32)
    column = tf.cast(tf.clip_by_value(column + 1.0, 0.0, width + 1.0), tf.int32)
    return tf.gather_nd(padded, tf.stack([row, column], axis=-1), batch_dims=1)

  return ((1 - fy) * ((1 - fx) * pixel(top, left) + fx * pixel(top, left + 1))
          + fy * ((1 - fx) * pixel(top + 1, left) + fx * pixel(top + 1, left + 1)))
