"""Standing each digit upright: the opt-in `data.deskew` (not in the paper's protocol).

With few labels our categorical code cuts the 4s and 9s together by their slant
and the labelled images name the halves (RESULTS.md, "Round forty"). Removing the
slant from every image, as classic MNIST work deskews its digits, tests whether
the slant is what the code cuts by; it changes the data, so its errors and
likelihoods are not the paper's.
"""

from typing import Tuple

import numpy as np

_CHUNK = 10_000  # images sheared at a time, to bound the float64 copies


def ink_slopes(images: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Where each image's ink is centred, and how its column moves with its row.

  The slope is the ink's column regressed on its row (their covariance over the
  rows' variance), each pixel weighted by its value summed over channels. Rows
  count downwards, so a digit whose top leans right has a negative slope.

  Args:
    images: [N, H, W, C] (or [N, H, W]) non-negative pixel values.

  Returns:
    (centre_rows [N], slopes [N]), float64. An image without ink, or with its
    ink in one row, has slope 0.
  """
  images = np.asarray(images, np.float64)
  ink = images.reshape(images.shape[:3] + (-1,)).sum(-1)
  total = ink.sum(axis=(1, 2), keepdims=True)
  weights = ink / np.where(total > 0, total, 1.0)
  rows, columns = np.mgrid[0:ink.shape[1], 0:ink.shape[2]]
  centre_row = (weights * rows).sum(axis=(1, 2), keepdims=True)
  centre_column = (weights * columns).sum(axis=(1, 2), keepdims=True)
  covariance = (weights * (rows - centre_row) * (columns - centre_column)).sum(axis=(1, 2))
  row_variance = (weights * (rows - centre_row) ** 2).sum(axis=(1, 2))
  slopes = covariance / np.where(row_variance > 0, row_variance, 1.0)
  return centre_row[:, 0, 0], np.where(row_variance > 0, slopes, 0.0)


def deskew(images: np.ndarray) -> np.ndarray:
  """Shears each image along its rows so that its ink stands upright.

  Row y of an image moves sideways by its slope times (y - centre row), read
  between the two nearest pixels, with 0 (MNIST's background) moved in from
  outside; the centre row stays where it was, so the ink's centre does too.

  Args:
    images: [N, H, W, C] uint8.

  Returns:
    [N, H, W, C] uint8, each image's ink with slope 0 up to rounding.
  """
  return np.concatenate([_deskew_chunk(images[start:start + _CHUNK])
                         for start in range(0, len(images), _CHUNK)] or [images[:0]])


def _deskew_chunk(images: np.ndarray) -> np.ndarray:
  pixels = images.astype(np.float64)   # one copy, for the slopes and the shear alike
  centre_rows, slopes = ink_slopes(pixels)
  rows = np.arange(images.shape[1], dtype=np.float64)
  shifts = slopes[:, None] * (rows[None, :] - centre_rows[:, None])   # [N, H]
  sheared = _read_along_rows(pixels, shifts)
  return np.clip(np.round(sheared), 0, 255).astype(np.uint8)


def _read_along_rows(images: np.ndarray, shifts: np.ndarray) -> np.ndarray:
  """images [N, H, W, C] with output pixel (y, x) read at column x + shifts[y], linearly."""
  width = images.shape[2]
  source = np.arange(width, dtype=np.float64)[None, None, :] + shifts[:, :, None]   # [N, H, W]
  left = np.floor(source)
  right_weight = (source - left)[..., None]
  # One column of zeros either side, so that a neighbour outside the image reads 0.
  padded = np.pad(images, [(0, 0), (0, 0), (1, 1), (0, 0)])

  def column(index):
    index = np.clip(index + 1, 0, width + 1).astype(np.int64)[..., None]
    return np.take_along_axis(padded, index, axis=2)

  return (1 - right_weight) * column(left) + right_weight * column(left + 1)
