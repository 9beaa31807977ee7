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


def _u32(value: int) -> tf.Tensor:
  return tf.constant(value & 0xFFFFFFFF, tf.uint32)


def _permute(word0: tf.Tensor, word1: tf.Tensor, keys) -> tuple:
  """A keyed bijection of uint32 pairs: three Feistel rounds of `_mix`.

  Feistel rounds are invertible whatever the round function, so distinct
  pairs stay distinct; `_mix` makes every output bit depend on both words.
  """
  word0 = word0 ^ _mix(word1 + _u32(keys[0]))
  word1 = word1 ^ _mix(word0 + _u32(keys[1]))
  word0 = word0 ^ _mix(word1 + _u32(keys[2]))
  return word0, word1


def _words(seed) -> tuple:
  """The two uint32 words of a [..., 2] integer seed (int32 bits kept)."""
  seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
  seed = tf.cast(tf.bitwise.bitwise_and(seed, 0xFFFFFFFF), tf.uint32)
  return seed[..., 0], seed[..., 1]


def _bits(shape, seed) -> tf.Tensor:
  """uint32 random bits of `shape` for a [2] integer seed.

  Both seed words key the stream (64 bits), so two seeds share a stream only
  if they are equal.
  """
  key0, key1 = _permute(*_words(seed), keys=(_GOLDEN, 0x85EBCA6B, 0xC2B2AE35))
  count = tf.reduce_prod(tf.cast(shape, tf.int32))
  counter = tf.cast(tf.range(count), tf.uint32)   # uint32 range has no CPU kernel
  bits = _mix(_mix(counter ^ key0) + key1)
  return tf.reshape(bits, shape)


def split(seed, index: int) -> tf.Tensor:
  """The `index`-th child of a [..., 2] seed, as an int32 [..., 2] seed.

  The child is a keyed hash of both parent words: for one index distinct
  parents have distinct children, and any other two seeds of a tree of
  splits coincide only by a 64-bit chance. (Adding the index to one word,
  as a counter would, made split(split(s, 0), 0) the seed of step + 2.)
  """
  salt = (index + 1) * _GOLDEN
  word0, word1 = _permute(*_words(seed), keys=(salt, salt ^ 0x27D4EB2F, salt + 0x165667B1))
  return tf.bitcast(tf.stack([word0, word1], axis=-1), tf.int32)


def uniform(shape, seed, dtype=tf.float32) -> tf.Tensor:
  """Uniform floats in the open interval (0, 1), 23 random bits each."""
  return tf.cast(_to_open_unit_interval(_bits(shape, seed)), dtype)


def _to_open_unit_interval(bits: tf.Tensor) -> tf.Tensor:
  """float32 in (0, 1) from the top 23 of uint32 bits.

  (With 24 bits the largest value, 1 - 2^-25, rounds to 1.0 in float32.)
  """
  top = tf.cast(tf.bitwise.right_shift(bits, 9), tf.float32)
  return (top + 0.5) / float(1 << 23)


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
