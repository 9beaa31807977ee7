"""Standing each digit upright: the opt-in `data.deskew` (not in the paper's protocol).

With few labels our categorical code cuts the 4s and 9s together by their slant
and the labelled images name the halves (RESULTS.md, "Round forty"). Removing the
slant from every image, as classic MNIST work deskews its digits, tests whether
the slant is what the code cuts by; it changes the data, so its errors and
likelihoods are not the paper's.

The shear is written once, in TensorFlow ops (float64, so that the data
pipeline's numpy arrays and a SavedModel's `prepare` signature shear an image
to the same pixels); `ink_slopes` and `deskew` are its numpy front.
"""

from typing import Tuple

import numpy as np
import tensorflow as tf

_CHUNK = 10_000  # images sheared at a time, to bound the float64 copies


def ink_slopes(images: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Where each image's ink is centred, and how its column moves with its row.

  Args:
    images: [N, H, W, C] (or [N, H, W]) non-negative pixel values.

  Returns:
    (centre_rows [N], slopes [N]), float64, as `ink_slopes_tensor` gives them.
  """
  images = np.asarray(images)
  if images.ndim == 3:
    images = images[..., None]
  centre_rows, slopes = ink_slopes_tensor(tf.constant(images))
  return centre_rows.numpy(), slopes.numpy()


def deskew(images: np.ndarray) -> np.ndarray:
  """`deskew_tensor` of uint8 [N, H, W, C] numpy images, a chunk at a time."""
  return np.concatenate([deskew_tensor(tf.constant(images[start:start + _CHUNK])).numpy()
                         for start in range(0, len(images), _CHUNK)] or [images[:0]])


def ink_slopes_tensor(images: tf.Tensor) -> Tuple[tf.Tensor, tf.Tensor]:
  """Where each image's ink is centred, and how its column moves with its row.

  The slope is the ink's column regressed on its row (their covariance over the
  rows' variance), each pixel weighted by its value summed over channels. Rows
  count downwards, so a digit whose top leans right has a negative slope.

  Args:
    images: [N, H, W, C] non-negative pixel values, any real or integer dtype.

  Returns:
    (centre_rows [N], slopes [N]), float64. An image without ink, or with its
    ink in one row, has slope 0.
  """
  ink = tf.reduce_sum(tf.cast(images, tf.float64), axis=-1)   # [N, H, W]
  total = tf.reduce_sum(ink, axis=[1, 2], keepdims=True)
  weights = ink / tf.where(total > 0, total, tf.ones_like(total))
  rows = tf.range(tf.shape(ink)[1], dtype=tf.float64)[None, :, None]
  columns = tf.range(tf.shape(ink)[2], dtype=tf.float64)[None, None, :]
  centre_row = tf.reduce_sum(weights * rows, axis=[1, 2], keepdims=True)
  centre_column = tf.reduce_sum(weights * columns, axis=[1, 2], keepdims=True)
  covariance = tf.reduce_sum(weights * (rows - centre_row) * (columns - centre_column),
                             axis=[1, 2])
  row_variance = tf.reduce_sum(weights * (rows - centre_row) ** 2, axis=[1, 2])
  spread = row_variance > 0
  slopes = covariance / tf.where(spread, row_variance, tf.ones_like(row_variance))
  return centre_row[:, 0, 0], tf.where(spread, slopes, tf.zeros_like(slopes))


def deskew_tensor(images: tf.Tensor) -> tf.Tensor:
  """Shears each image along its rows so that its ink stands upright.

  Row y of an image moves sideways by its slope times (y - centre row), read
  between the two nearest pixels, with 0 (MNIST's background) moved in from
  outside; the centre row stays where it was, so the ink's centre does too.

  Args:
    images: [N, H, W, C] uint8.

  Returns:
    [N, H, W, C] uint8, each image's ink with slope 0 up to rounding (halves
    round to even).
  """
  pixels = tf.cast(images, tf.float64)   # one copy, for the slopes and the shear alike
  centre_rows, slopes = ink_slopes_tensor(pixels)
  rows = tf.range(tf.shape(pixels)[1], dtype=tf.float64)
  shifts = slopes[:, None] * (rows[None, :] - centre_rows[:, None])   # [N, H]
  sheared = _read_along_rows(pixels, shifts)
  return tf.cast(tf.clip_by_value(tf.round(sheared), 0.0, 255.0), tf.uint8)


def _read_along_rows(images: tf.Tensor, shifts: tf.Tensor) -> tf.Tensor:
  """images [N, H, W, C] with output pixel (y, x) read at column x + shifts[y], linearly."""
  width = tf.shape(images)[2]
  source = (tf.range(width, dtype=tf.float64)[None, None, :]
            + shifts[:, :, None])                                     # [N, H, W]
  left = tf.floor(source)
  right_weight = (source - left)[..., None]
  # One column of zeros either side, so that a neighbour outside the image reads 0.
  padded = tf.pad(images, [[0, 0], [0, 0], [1, 1], [0, 0]])
  last = tf.cast(width + 1, tf.float64)

  def column(index):
    return tf.gather(padded, tf.cast(tf.clip_by_value(index + 1, 0.0, last), tf.int32),
                     axis=2, batch_dims=2)

  return (1 - right_weight) * column(left) + right_weight * column(left + 1)
