"""One harness for every layer: serialization, build, symbolic, eager == XLA, a fit step."""

from typing import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf


def _assert_nested_close(actual, expected, atol=1e-5):
  for a, e in zip(tf.nest.flatten(actual), tf.nest.flatten(expected)):
    np.testing.assert_allclose(np.asarray(a), np.asarray(e), atol=atol, rtol=1e-5)


def _flat_shapes(output):
  return [tuple(t.shape) for t in tf.nest.flatten(output)]


def _as_shape_list(shape_or_shapes):
  """(2, 3) -> [(2, 3)]; ((2, 3), (4,)) -> [(2, 3), (4,)]."""
  if all(d is None or isinstance(d, int) for d in shape_or_shapes):
    return [tuple(shape_or_shapes)]
  return [tuple(s) for s in shape_or_shapes]


def run_layer_test(layer_cls: Callable,
                   init_kwargs: dict,
                   inputs: Sequence,
                   call_kwargs: dict = None,
                   expected_output_shape=None):
  """Checks the Keras 3 contract of a layer on concrete inputs.

  - eager call, output shape and `compute_output_shape` agree;
  - `get_config` -> `from_config` (and Keras serialization) rebuilds a layer
    with the same config that, given the same weights, gives the same output;
  - a symbolic call on `KerasTensor`s with an unknown batch size;
  - eager output equals `tf.function(jit_compile=True)` output;
  - one XLA-compiled Adam step changes every trainable variable, finitely.

  Args:
    layer_cls: the layer class.
    init_kwargs: constructor arguments.
    inputs: positional call arguments (tensors or tuples of tensors).
    call_kwargs: keyword call arguments (tensors or None).
    expected_output_shape: shape (or tuple of shapes) of the output.
  """
  call_kwargs = call_kwargs or {}
  layer = layer_cls(**init_kwargs)
  output = layer(*inputs, **call_kwargs)
  shapes = _flat_shapes(output)
  if expected_output_shape is not None:
    assert shapes == _as_shape_list(expected_output_shape), (shapes, expected_output_shape)
  input_shapes = [tf.nest.map_structure(lambda t: tuple(t.shape), x) for x in inputs]
  kwarg_shapes = {f"{k}_shape": None if v is None else tuple(v.shape)
                  for k, v in call_kwargs.items()}
  computed = layer.compute_output_shape(*input_shapes, **kwarg_shapes)
  assert _as_shape_list(computed) == shapes, (computed, shapes)

  # Serialization round trip.
  config = layer.get_config()
  for clone in (layer_cls.from_config(config),
                keras.saving.deserialize_keras_object(
                    keras.saving.serialize_keras_object(layer))):
    assert clone.get_config() == config
    clone(*inputs, **call_kwargs)
    clone.set_weights(layer.get_weights())
    _assert_nested_close(clone(*inputs, **call_kwargs), output)

  # Symbolic call with an unknown batch size.
  def symbolic(x):
    return keras.KerasTensor((None,) + tuple(x.shape[1:]), dtype=x.dtype)
  sym_inputs = [tf.nest.map_structure(symbolic, x) for x in inputs]
  sym_kwargs = {k: None if v is None else symbolic(v) for k, v in call_kwargs.items()}
  sym_output = layer(*sym_inputs, **sym_kwargs)
  assert [s[1:] for s in _flat_shapes(sym_output)] == [s[1:] for s in shapes]
  assert all(s[0] is None for s in _flat_shapes(sym_output))

  # Eager equals XLA.
  compiled = tf.function(lambda: layer(*inputs, **call_kwargs), jit_compile=True)
  _assert_nested_close(compiled(), output, atol=1e-4)

  # One XLA-compiled training step moves every weight.
  optimizer = keras.optimizers.Adam(1e-2)
  variables = layer.trainable_variables
  optimizer.build(variables)
  before = [v.numpy().copy() for v in variables]

  @tf.function(jit_compile=True)
  def train_step():
    with tf.GradientTape() as tape:
      out = layer(*inputs, **call_kwargs)
      loss = tf.add_n([tf.reduce_mean(tf.square(o)) for o in tf.nest.flatten(out)])
    optimizer.apply(tape.gradient(loss, variables), variables)
    return loss

  assert np.isfinite(train_step().numpy())
  for variable, old in zip(variables, before):
    assert not np.allclose(variable.numpy(), old), f"{variable.path} did not change"
