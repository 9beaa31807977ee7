"""Tests of CausalConv2D: Keras contract and gradient causality for every variant."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf.layers import CausalConv2D
from tests import causality
from tests.layer_test_case import run_layer_test

VARIANTS = [
    # (stack, include_current, kernel_size, rule)
    ("vertical", False, (2, 3), causality.rows_above),
    ("vertical", True, (2, 3), causality.rows_up_to),
    ("vertical", True, (3, 5), causality.rows_up_to),
    ("horizontal", False, (1, 2), causality.raster_before),
    ("horizontal", True, (1, 2), causality.raster_inclusive),
    ("horizontal", True, (2, 3), causality.raster_inclusive),
]


def _inputs(channels=3):
  return tf.random.stateless_normal([2, 6, 7, channels], seed=[1, 2])


@pytest.mark.parametrize("stack,include_current,kernel_size,rule", VARIANTS)
def test_layer_contract(stack, include_current, kernel_size, rule):
  run_layer_test(
      CausalConv2D,
      {"filters": 4, "kernel_size": kernel_size, "stack": stack,
       "include_current": include_current},
      [_inputs()], expected_output_shape=(2, 6, 7, 4))


def _exact_support(stack, include_current, kernel_size):
  """The input positions the output at (i, j) reads, as a causality rule."""
  kh, kw = kernel_size
  shift = 0 if include_current else 1
  def rule(i, j, c, i2, j2, c2):
    if stack == "vertical":
      rows = (i2 <= i - shift) & (i2 >= i - shift - kh + 1)
      return rows & (abs(j2 - j) <= (kw - 1) // 2)
    rows = (i2 <= i) & (i2 >= i - kh + 1)
    return rows & (j2 <= j - shift) & (j2 >= j - shift - kw + 1)
  return rule


def _assert_layer_causal(layer, x, rule):
  jac = causality.jacobian(layer, x)
  causality.assert_causal(jac, rule, require_dependence=False)
  # Exactly the kernel's taps, every one of them live: nothing masked, nothing leaking.
  exact = _exact_support(layer.stack, layer.include_current, layer.kernel_size)
  causality.assert_causal(jac, exact)
  b, h, w, c = x.shape
  i, j, k = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
  expected = exact(i[..., None, None, None], j[..., None, None, None], 0,
                   i[None, None, None], j[None, None, None], 0)
  expected = np.broadcast_to(expected[:, :, :1], (h, w, 1, h, w, c))
  nonzero = (jac[0, :, :, :1, 0] != 0)
  np.testing.assert_array_equal(nonzero, expected)


@pytest.mark.parametrize("stack,include_current,kernel_size,rule", VARIANTS)
def test_causal_at_init_and_after_a_step(stack, include_current, kernel_size, rule):
  layer = CausalConv2D(4, kernel_size, stack, include_current)
  x = _inputs()
  _assert_layer_causal(layer, x, rule)
  optimizer = keras.optimizers.Adam(0.1)
  with tf.GradientTape() as tape:
    loss = tf.reduce_sum(tf.square(layer(x)))
  optimizer.apply(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables)
  _assert_layer_causal(layer, x, rule)


def test_type_a_vertical_excludes_the_current_row_but_sees_the_one_above():
  layer = CausalConv2D(1, (1, 1), "vertical", include_current=False)
  jac = causality.jacobian(layer, _inputs(1))
  assert np.all(jac[0, 3, 4, 0, 0, 3, 4, 0] == 0)
  assert jac[0, 3, 4, 0, 0, 2, 4, 0] != 0


def test_receptive_field_is_exactly_the_kernel():
  layer = CausalConv2D(1, (2, 3), "vertical", include_current=True)
  jac = causality.jacobian(layer, _inputs(1))
  support = np.argwhere(jac[0, 3, 3, 0, 0, :, :, 0] != 0)
  assert sorted(map(tuple, support)) == [(2, 2), (2, 3), (2, 4), (3, 2), (3, 3), (3, 4)]


def test_kernel_holds_only_the_used_taps():
  layer = CausalConv2D(8, (2, 3), "vertical")
  layer.build((None, 5, 5, 4))
  assert tuple(layer.kernel.shape) == (2, 3, 4, 8)
  assert layer.macs_per_position(4) == 2 * 3 * 4 * 8


@pytest.mark.parametrize("kwargs,message", [
    ({"filters": 4, "kernel_size": (2, 2), "stack": "vertical"}, "odd"),
    ({"filters": 4, "kernel_size": (2, 3), "stack": "diagonal"}, "stack"),
    ({"filters": 0, "kernel_size": (2, 3)}, "filters"),
    ({"filters": 4, "kernel_size": (0, 3)}, "kernel_size"),
])
def test_bad_arguments(kwargs, message):
  with pytest.raises(ValueError, match=message):
    CausalConv2D(**kwargs)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
