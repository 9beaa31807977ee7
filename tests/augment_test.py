"""Tests of the opt-in random shift of labelled images."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import augment


def _images(batch=64, size=8):
  """Each image a distinct ramp, so that a shift shows which pixel went where."""
  values = np.arange(batch * size * size, dtype=np.float32).reshape(batch, size, size, 1) + 1.0
  return tf.constant(values)


def _offset(original: np.ndarray, shifted: np.ndarray, max_shift: int):
  """The (dy, dx) that `original` was moved by to give `shifted`."""
  for dy in range(-max_shift, max_shift + 1):
    for dx in range(-max_shift, max_shift + 1):
      expected = np.zeros_like(original)
      height, width = original.shape[:2]
      expected[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = (
          original[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)])
      if np.array_equal(expected, shifted):
        return dy, dx
  return None


def test_each_image_is_translated_by_its_own_offset_within_bounds():
  images = _images()
  shifted = augment.random_shift(images, 2, tf.constant([3, 4])).numpy()
  offsets = [_offset(o, s, 2) for o, s in zip(images.numpy(), shifted)]
  assert None not in offsets
  # 64 draws from 25 offsets: the draw is per image and spans both axes' range.
  assert len(set(offsets)) > 10
  assert {dy for dy, _ in offsets} == {-2, -1, 0, 1, 2}
  assert {dx for _, dx in offsets} == {-2, -1, 0, 1, 2}


def test_the_shift_is_a_function_of_the_seed():
  images = _images()
  first = augment.random_shift(images, 1, tf.constant([1, 2]))
  np.testing.assert_array_equal(first, augment.random_shift(images, 1, tf.constant([1, 2])))
  assert not np.array_equal(first, augment.random_shift(images, 1, tf.constant([1, 3])))


def test_the_shift_compiles_with_xla_and_draws_the_same_offsets():
  images = _images()
  compiled = tf.function(lambda x, s: augment.random_shift(x, 2, s), jit_compile=True)
  np.testing.assert_array_equal(compiled(images, tf.constant([5, 6])),
                                augment.random_shift(images, 2, tf.constant([5, 6])))


def test_no_shift_returns_the_images():
  images = _images(batch=2)
  assert augment.random_shift(images, 0, tf.constant([0, 0])) is images


@pytest.mark.parametrize("max_shift", [-1, 8])
def test_a_shift_outside_the_image_is_refused(max_shift):
  with pytest.raises(ValueError, match="max_shift must be in"):
    augment.random_shift(_images(batch=2), max_shift, tf.constant([0, 0]))
