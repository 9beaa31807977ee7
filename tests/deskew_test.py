"""pixelgan_tf.data.deskew: each digit sheared upright."""

import numpy as np
import pytest

from experiments import ink_lean
from pixelgan_tf.data import deskew


def _stroke(lean_degrees: float, size: int = 28, thickness: int = 3) -> np.ndarray:
  """[size, size, 1] uint8: a bar through the centre whose top leans `lean_degrees` right."""
  image = np.zeros([size, size, 1], np.uint8)
  slope = np.tan(np.radians(lean_degrees))
  for row in range(4, size - 4):
    centre = (size - 1) / 2 + slope * ((size - 1) / 2 - row)
    left = int(round(centre)) - thickness // 2
    image[row, left:left + thickness] = 255
  return image


@pytest.mark.parametrize("lean", [25.0, -15.0])
def test_a_slanted_stroke_stands_upright_with_its_ink_kept(lean):
  image = _stroke(lean)
  assert ink_lean.lean_degrees(image) == pytest.approx(lean, abs=2.0)
  upright = deskew.deskew(image[None])[0]
  assert upright.dtype == np.uint8 and upright.shape == image.shape
  assert abs(ink_lean.lean_degrees(upright)) < 1.0
  # A shear moves the ink along its rows: each row keeps about its own amount.
  np.testing.assert_allclose(upright.sum(axis=(1, 2)), image.sum(axis=(1, 2)).astype(float),
                             rtol=0.02, atol=2)


def test_an_upright_stroke_and_an_empty_image_are_left_as_they_are():
  images = np.stack([_stroke(0.0), np.zeros([28, 28, 1], np.uint8)])
  np.testing.assert_array_equal(deskew.deskew(images), images)


def test_each_image_is_sheared_by_its_own_slope_in_any_number_of_chunks(monkeypatch):
  images = np.stack([_stroke(20.0), _stroke(-20.0), _stroke(0.0)])
  whole = deskew.deskew(images)
  monkeypatch.setattr(deskew, "_CHUNK", 2)
  np.testing.assert_array_equal(deskew.deskew(images), whole)
  np.testing.assert_array_equal(whole[1], deskew.deskew(images[1:2])[0])
  assert deskew.deskew(images[:0]).shape == (0, 28, 28, 1)


def test_ink_slopes_are_negative_for_a_top_leaning_right():
  centre_rows, slopes = deskew.ink_slopes(np.stack([_stroke(30.0), _stroke(0.0)]))
  assert slopes[0] == pytest.approx(-np.tan(np.radians(30.0)), abs=0.03)
  assert slopes[1] == pytest.approx(0.0)
  np.testing.assert_allclose(centre_rows, 13.5)
