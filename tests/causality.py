"""Gradient test of autoregression (TFP's pixel_cnn_test): who may see whom.

A rule says, for an output position (i, j, c) and an input position
(i2, j2, c2) of the same image, whether the output may depend on the input.
`assert_causal` computes the full Jacobian and checks that it is exactly zero
wherever the rule forbids (and across batch items), and non-zero somewhere
the rule allows, for every output position that is allowed anything.
"""

from typing import Callable

import numpy as np
import tensorflow as tf


def raster_strict(i, j, c, i2, j2, c2):
  """Earlier pixels; in the same pixel, earlier channels (a whole decoder)."""
  return (i2 < i) | ((i2 == i) & (j2 < j)) | ((i2 == i) & (j2 == j) & (c2 < c))


def raster_before(i, j, c, i2, j2, c2):
  """Earlier pixels, all channels (a type-A horizontal layer)."""
  return (i2 < i) | ((i2 == i) & (j2 < j))


def raster_inclusive(i, j, c, i2, j2, c2):
  """Earlier pixels and the current one (a type-B horizontal layer)."""
  return (i2 < i) | ((i2 == i) & (j2 <= j))


def rows_above(i, j, c, i2, j2, c2):
  """Rows strictly above (a type-A vertical layer)."""
  return i2 < i


def rows_up_to(i, j, c, i2, j2, c2):
  """Rows above and the current row (a type-B vertical layer)."""
  return i2 <= i


def nothing(i, j, c, i2, j2, c2):
  """No dependence at all (the vertical stack on the horizontal one)."""
  return np.zeros(np.broadcast(i, i2).shape, dtype=bool)


def jacobian(fn: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor, seed: int = 0) -> np.ndarray:
  """d fn(x)[b, i, j, c] / d x[b2, i2, j2, c2] as a numpy array.

  A 5-D output [B, H, W, C, P] is contracted with fixed random weights over P,
  so that no parameter's dependence can hide.
  """
  x = tf.convert_to_tensor(x)
  with tf.GradientTape() as tape:
    tape.watch(x)
    y = fn(x)
    if y.shape.rank == 5:
      weights = tf.random.stateless_normal([y.shape[-1]], seed=[seed, 1], dtype=y.dtype)
      y = tf.reduce_sum(y * weights, axis=-1)
  return tape.jacobian(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy()


def assert_causal(jac: np.ndarray, rule: Callable, require_dependence: bool = True):
  """Checks a [B, H, W, C, B, H, W, C2] Jacobian against a rule.

  Args:
    jac: from `jacobian`.
    rule: one of the rules above.
    require_dependence: also require, for every output position with a
      non-empty allowed set, a non-zero derivative somewhere in that set.
  """
  b, h, w, c, b2, h2, w2, c2 = jac.shape
  i, j, k = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
  i2, j2, k2 = np.meshgrid(np.arange(h2), np.arange(w2), np.arange(c2), indexing="ij")
  allowed = rule(i[..., None, None, None], j[..., None, None, None], k[..., None, None, None],
                 i2[None, None, None], j2[None, None, None], k2[None, None, None])
  allowed = np.broadcast_to(allowed, (h, w, c, h2, w2, c2))
  nonzero = jac != 0
  for batch in range(b):
    for other in range(b2):
      block = nonzero[batch, :, :, :, other]
      if other != batch:
        assert not block.any(), f"output of item {batch} depends on item {other}"
        continue
      leaks = np.argwhere(block & ~allowed)
      assert leaks.size == 0, (
          f"{len(leaks)} forbidden dependences, e.g. output (i, j, c) -> input "
          f"(i2, j2, c2) = {leaks[0].tolist()}")
      if require_dependence:
        has_allowed = allowed.reshape(h, w, c, -1).any(-1)
        depends = (block & allowed).reshape(h, w, c, -1).any(-1)
        missing = np.argwhere(has_allowed & ~depends)
        assert missing.size == 0, (
            f"output positions with no dependence on any earlier input, e.g. "
            f"{missing[0].tolist()}")
