"""Tests of the counter-based RNG: XLA equals eager, statistics, independence."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import random

SEED = tf.constant([3, 11])


@pytest.mark.parametrize("draw,rtol", [
    (lambda: random.uniform([1000], SEED), 0.0),
    (lambda: random.categorical([500], SEED, 10), 0.0),
    # Box-Muller's log and cos may round differently under XLA (1 ulp).
    (lambda: random.normal([7, 13], SEED), 1e-6),
])
def test_same_numbers_eagerly_in_a_graph_and_under_xla(draw, rtol):
  eager = draw().numpy()
  np.testing.assert_allclose(tf.function(draw)().numpy(), eager, rtol=rtol, atol=0)
  np.testing.assert_allclose(tf.function(draw, jit_compile=True)().numpy(), eager,
                             rtol=rtol, atol=0)


def test_uniform_and_normal_statistics():
  u = random.uniform([200000], SEED).numpy()
  assert 0 < u.min() and u.max() < 1
  np.testing.assert_allclose([u.mean(), u.var()], [0.5, 1 / 12], atol=3e-3)
  z = random.normal([200000], SEED).numpy()
  np.testing.assert_allclose([z.mean(), z.std()], [0.0, 1.0], atol=1e-2)
  # Tails of a normal: about 4.55 % beyond two standard deviations.
  np.testing.assert_allclose(np.mean(np.abs(z) > 2), 0.0455, atol=3e-3)


def test_categorical_is_uniform():
  counts = np.bincount(random.categorical([100000], SEED, 7).numpy(), minlength=7)
  np.testing.assert_allclose(counts / 100000, 1 / 7, atol=5e-3)


def test_seeds_and_children_give_unrelated_streams():
  a = random.uniform([5000], SEED).numpy()
  others = [random.uniform([5000], tf.constant([3, 12])).numpy(),
            random.uniform([5000], tf.constant([4, 11])).numpy(),
            random.uniform([5000], random.split(SEED, 0)).numpy(),
            random.uniform([5000], random.split(SEED, 1)).numpy()]
  for other in others:
    assert abs(np.corrcoef(a, other)[0, 1]) < 0.05
  np.testing.assert_array_equal(random.uniform([5000], SEED).numpy(), a)


def test_neighbouring_elements_are_uncorrelated():
  u = random.uniform([100000], SEED).numpy()
  assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.02


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
