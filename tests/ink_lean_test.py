"""experiments.ink_lean: the slant of a digit's strokes."""

import numpy as np
import pytest

from experiments import ink_lean


def _strokes():
  """An upright stroke and one from bottom left to top right, [9, 9, 1] each."""
  upright = np.zeros([9, 9, 1]); upright[1:8, 4] = 1.0
  top_right = np.zeros([9, 9, 1]); top_right[np.arange(9), 8 - np.arange(9)] = 1.0
  return upright, top_right


def test_lean_degrees_reads_a_stroke_s_angle_from_the_vertical_with_its_top_s_side():
  upright, top_right = _strokes()
  assert ink_lean.lean_degrees(upright) == pytest.approx(0.0)
  assert ink_lean.lean_degrees(top_right) == pytest.approx(45.0)
  assert ink_lean.lean_degrees(top_right[:, ::-1]) == pytest.approx(-45.0)


def test_leans_degrees_gives_each_image_its_own_lean():
  upright, top_right = _strokes()
  leans = ink_lean.leans_degrees(np.stack([top_right, upright, top_right[:, ::-1]]))
  np.testing.assert_allclose(leans, [45.0, 0.0, -45.0], atol=1e-9)


@pytest.mark.parametrize("lean,expected", [
    (-20.0, "1 of 6 lean further left; median +7.5°"),
    (30.0, "0 of 6 lean further right; median +7.5°"),
    (10.0, "2 of 6 lean further right; median +7.5°"),
])
def test_lean_among_class_counts_the_class_images_beyond_it_on_its_side_of_the_median(
    lean, expected):
  class_leans = np.array([-30.0, -20.0, 5.0, 10.0, 15.0, 30.0])
  assert ink_lean.lean_among_class(lean, class_leans) == expected
