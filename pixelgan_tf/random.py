"""A counter-based stateless random number generator made of integer ops.

TensorFlow's stateless generators give different numbers under XLA than in
the TF kernels for the same seed and algorithm, so a step compiled with XLA
would draw other noise than the same step run eagerly. These draws hash each
element's index with the seed using 32-bit integer multiplies, shifts and
xors, which every backend computes the same way: the same seed gives the same
numbers eagerly, in a graph, under XLA and on any device or replica layout.

The hash is the "lowbias32" integer finalizer (C. Wellons, 2018), applied
twice with the seed mixed in between rounds.
"""

import math

import tensorflow as tf

_GOLDEN = 0x9E3779B9


def _mix(x: tf.Tensor) -> tf.Tensor:
  """A bijective avalanche hash of uint32 values."""
  x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
  x = x * tf.constant(0x7FEB352D, tf.uint32)
  x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 15))
  x = x * tf.constant(0x846CA68B, tf.uint32)
  return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def _bits(shape, seed) -> tf.Tensor:
  """uint32 random bits of `shape` for a [2] integer seed."""
  seed = tf.cast(tf.convert_to_tensor(seed), tf.uint32)
  key = _mix(seed[0] * tf.constant(_GOLDEN, tf.uint32) + _mix(seed[1]))
  count = tf.reduce_prod(tf.cast(shape, tf.int32))
  counter = tf.cast(tf.range(count), tf.uint32)   # uint32 range has no CPU kernel
  bits = _mix(_mix(counter + key) ^ key)
  return tf.reshape(bits, shape)


def split(seed, index: int) -> tf.Tensor:
  """The `index`-th independent child of a [2] seed."""
  seed = tf.cast(tf.convert_to_tensor(seed), tf.int32)
  child = tf.bitwise.bitwise_xor(seed[1], tf.constant((index + 1) * 0x2545F491 & 0x7FFFFFFF))
  return tf.stack([seed[0] + index + 1, child])


def uniform(shape, seed, dtype=tf.float32) -> tf.Tensor:
  """Uniform floats in the open interval (0, 1), 24 random bits each."""
  top = tf.cast(tf.bitwise.right_shift(_bits(shape, seed), 8), tf.float32)
  return tf.cast((top + 0.5) / float(1 << 24), dtype)


def normal(shape, seed, stddev=1.0, dtype=tf.float32) -> tf.Tensor:
  """Standard normal values (Box-Muller on two uniform streams)."""
  u1 = uniform(shape, split(seed, 0))
  u2 = uniform(shape, split(seed, 1))
  z = tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos(2.0 * math.pi * u2)
  return tf.cast(stddev * z, dtype)


def categorical(shape, seed, num_classes: int) -> tf.Tensor:
  """Integers drawn uniformly from [0, num_classes)."""
  index = tf.cast(tf.floor(uniform(shape, seed) * num_classes), tf.int32)
  return tf.minimum(index, num_classes - 1)
