"""Tests of GatedPixelCNNBlock: contract, stream causality, conditioning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf.layers import GatedPixelCNNBlock
from tests import causality
from tests.layer_test_case import run_layer_test

F = 4


def _streams():
  v = tf.random.stateless_normal([2, 6, 6, F], seed=[3, 4])
  h = tf.random.stateless_normal([2, 6, 6, F], seed=[5, 6])
  return v, h


def _conditioning(kind):
  kwargs = {}
  if kind in ("invariant", "both"):
    kwargs["conditioning"] = tf.random.stateless_normal([2, 3], seed=[7, 8])
  if kind in ("dependent", "both"):
    kwargs["conditioning_map"] = tf.random.stateless_normal([2, 6, 6, 5], seed=[9, 10])
  return kwargs


def _block(kind):
  return GatedPixelCNNBlock(F, location_invariant=kind in ("invariant", "both"),
                            location_dependent=kind in ("dependent", "both"))


@pytest.mark.parametrize("kind", ["none", "invariant", "dependent", "both"])
def test_layer_contract(kind):
  run_layer_test(
      GatedPixelCNNBlock,
      {"filters": F, "location_invariant": kind in ("invariant", "both"),
       "location_dependent": kind in ("dependent", "both")},
      [_streams()], _conditioning(kind),
      expected_output_shape=((2, 6, 6, F), (2, 6, 6, F)))


def _assert_stream_causality(block, kind):
  v, h = _streams()
  cond = _conditioning(kind)
  # Which output stream may see which input stream.
  rules = {
      (0, 0): causality.rows_up_to,        # v' <- v
      (0, 1): causality.nothing,           # v' <- h: the vertical stack never sees it
      (1, 0): causality.rows_up_to,        # h' <- v (link)
      (1, 1): causality.raster_inclusive,  # h' <- h
  }
  for (out_index, in_index), rule in rules.items():
    def fn(x, out_index=out_index, in_index=in_index):
      streams = [v, h]
      streams[in_index] = x
      return block(tuple(streams), **cond)[out_index]
    jac = causality.jacobian(fn, (v, h)[in_index])
    causality.assert_causal(jac, rule, require_dependence=rule is not causality.nothing)


@pytest.mark.parametrize("kind", ["none", "both"])
def test_causal_at_init_and_after_a_step(kind):
  block = _block(kind)
  _assert_stream_causality(block, kind)
  optimizer = keras.optimizers.Adam(0.1)
  with tf.GradientTape() as tape:
    v, h = block(_streams(), **_conditioning(kind))
    loss = tf.reduce_sum(tf.square(v)) + tf.reduce_sum(tf.square(h))
  optimizer.apply(tape.gradient(loss, block.trainable_variables), block.trainable_variables)
  _assert_stream_causality(block, kind)


def test_residual_connection_on_horizontal_stack_only():
  block = _block("none")
  v, h = _streams()
  block((v, h))
  for weight in block.residual.trainable_weights + block.horizontal_conv.trainable_weights:
    weight.assign(tf.zeros_like(weight))
  v_out, h_out = block((v, h))
  # With the horizontal branch zeroed, h' = h exactly; v' is a fresh gated map.
  np.testing.assert_allclose(h_out.numpy(), h.numpy(), atol=1e-6)
  assert not np.allclose(v_out.numpy(), v.numpy())


@pytest.mark.parametrize("kind", ["invariant", "dependent"])
def test_conditioning_changes_the_output(kind):
  block = _block(kind)
  cond = _conditioning(kind)
  v1, h1 = block(_streams(), **cond)
  other = {k: t + 1.0 for k, t in cond.items()}
  v2, h2 = block(_streams(), **other)
  assert not np.allclose(v1.numpy(), v2.numpy())
  assert not np.allclose(h1.numpy(), h2.numpy())


def test_unconditional_block_has_no_conditioning_weights():
  block = _block("none")
  block(_streams())
  conditional = _block("both")
  conditional(_streams(), **_conditioning("both"))
  assert not [w.path for w in block.weights if "_bias/" in w.path]
  assert [w.path for w in conditional.weights if "_bias/" in w.path]
  extra = conditional.count_params() - block.count_params()
  assert extra == (3 * 4 * F + 4 * F) + (5 * 4 * F + 4 * F)


def test_missing_conditioning_is_a_clear_error():
  block = _block("invariant")
  with pytest.raises(ValueError, match="pass `conditioning`"):
    block(_streams())


def test_macs_count_only_existing_weights():
  block = _block("none")
  block(_streams())
  # vertical 2x3 F->2F, horizontal 1x2 F->2F, link F->2F, residual F->F.
  assert block.macs_per_position() == 6 * F * 2 * F + 2 * F * 2 * F + 2 * F * F + F * F


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
