"""Opt-in augmentation of labelled images (not in the paper's protocol)."""

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
