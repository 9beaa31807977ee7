"""How far a digit's ink leans from the vertical, alone and among its class.

Where a seed's categories split a class, the split often follows the slant of
the strokes (RESULTS.md, rounds thirty-nine and forty); these measure it.
"""

import numpy as np

from pixelgan_tf.data import deskew


def lean_degrees(image: np.ndarray) -> float:
  """How far the ink leans from the vertical, in degrees; positive when its top is right.

  Args:
    image: [H, W, C] (or [H, W]) non-negative pixel values with some ink.
  """
  return float(leans_degrees(np.asarray(image)[None])[0])


def leans_degrees(images: np.ndarray) -> np.ndarray:
  """`lean_degrees` of each image: [N, H, W, C] (or [N, H, W]) to [N].

  The slope of the ink's column regressed on its row (`deskew.ink_slopes`), as
  an angle.
  """
  _, slopes = deskew.ink_slopes(images)
  # Rows count downwards: a top to the right has columns falling as rows rise.
  return np.degrees(np.arctan(-slopes))


def lean_among_class(lean: float, class_leans: np.ndarray) -> str:
  """Where a lean lies among its class's: how many lean further, and their median.

  Args:
    lean: one image's `lean_degrees`.
    class_leans: [N] the leans of its class's training images.

  Returns:
    e.g. "8 of 5613 lean further left; median +11.7°". "Further" is away
    from the median, on the image's side of it.
  """
  median = float(np.median(class_leans))
  if lean < median:
    further, side = int((class_leans < lean).sum()), "left"
  else:
    further, side = int((class_leans > lean).sum()), "right"
  return f"{further} of {len(class_leans)} lean further {side}; median {median:+.1f}°"
