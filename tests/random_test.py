"""Tests of the counter-based RNG: XLA equals eager, statistics, independence."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import random
from pixelgan_tf.model import phase_seed

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


def _seed_tree(roots: tf.Tensor, depth: int, fanout: int) -> list:
  """Every seed of `depth` levels of `fanout` children under [N, 2] roots."""
  levels = [roots]
  for _ in range(depth):
    levels.append(tf.concat([random.split(levels[-1], i) for i in range(fanout)], 0))
  return levels


def test_no_two_streams_of_a_run_share_a_seed():
  # Steps x replicas x phases of a run, then children down to what the deepest
  # draw uses: phase seed -> encoder/prior -> prior component -> Box-Muller stream.
  steps, replicas, phases = np.meshgrid(np.arange(600), np.arange(4), np.arange(4),
                                        indexing="ij")
  roots = phase_seed(steps.ravel(), replicas.ravel(), phases.ravel())
  seeds = np.concatenate([level.numpy() for level in _seed_tree(roots, depth=3, fanout=3)])
  distinct = np.unique(seeds, axis=0)
  assert len(distinct) == len(seeds) == 9600 * (1 + 3 + 9 + 27)


def test_a_child_of_a_child_is_no_other_steps_seed():
  grandchild = random.split(random.split(phase_seed(5, 0, 1), 0), 0).numpy()
  for step in range(20):
    assert not np.array_equal(grandchild, phase_seed(step, 0, 1).numpy())


def test_split_is_the_same_batched_eagerly_and_under_xla():
  seeds = tf.constant([[3, 11], [-7, 2**31 - 1], [0, 0]])
  batched = random.split(seeds, 2).numpy()
  one_by_one = np.stack([random.split(seed, 2).numpy() for seed in seeds])
  np.testing.assert_array_equal(batched, one_by_one)
  compiled = tf.function(lambda s: random.split(s, 2), jit_compile=True)(seeds)
  np.testing.assert_array_equal(compiled.numpy(), batched)


def test_uniform_stays_inside_the_open_interval_at_its_extremes():
  values = random._to_open_unit_interval(tf.constant([0, 0xFFFFFFFF], tf.uint32)).numpy()
  assert 0.0 < values[0] and values[1] < 1.0


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
