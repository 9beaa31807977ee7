"""Tests of the priors: shapes, moments, one-hot samples, stateless seeds, bad configs."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import PriorConfig, priors


def _sample(config, n=4000, seed=(1, 2)):
  return priors.CodePrior(config).sample(n, tf.constant(seed))


def test_gaussian_prior_moments():
  z = _sample(PriorConfig(kind="gaussian", dim=3))["gaussian"].numpy()
  assert z.shape == (4000, 3)
  np.testing.assert_allclose(z.mean(0), 0.0, atol=0.06)
  np.testing.assert_allclose(z.std(0), 1.0, atol=0.06)


def test_categorical_prior_is_uniform_one_hot():
  z = _sample(PriorConfig(kind="categorical", categories=4))["categorical"].numpy()
  assert set(np.unique(z)) == {0.0, 1.0}
  np.testing.assert_array_equal(z.sum(-1), 1.0)
  np.testing.assert_allclose(z.mean(0), 0.25, atol=0.03)


def test_joint_prior_has_both_components():
  sample = _sample(PriorConfig(kind="gaussian_categorical", dim=2, categories=5), n=10)
  assert {k: tuple(v.shape) for k, v in sample.items()} == {
      "gaussian": (10, 2), "categorical": (10, 5)}


def test_mixture_of_gaussians_lies_near_its_means():
  config = PriorConfig(kind="mixture_of_gaussians", dim=2, categories=6,
                       mixture_radius=4.0, mixture_scale=0.1)
  z = _sample(config)["gaussian"].numpy()
  radius = np.linalg.norm(z, axis=-1)
  np.testing.assert_allclose(radius.mean(), 4.0, atol=0.05)


def test_sampling_is_stateless():
  config = PriorConfig(kind="gaussian_categorical", dim=2, categories=5)
  a, b, c = _sample(config, seed=(3, 4)), _sample(config, seed=(3, 4)), _sample(config, seed=(3, 5))
  np.testing.assert_array_equal(a["gaussian"].numpy(), b["gaussian"].numpy())
  assert not np.allclose(a["gaussian"].numpy(), c["gaussian"].numpy())


@pytest.mark.parametrize("config,message", [
    (PriorConfig(kind="categorical", categories=1), "at least 2 categories"),
    (PriorConfig(kind="gaussian", dim=0), "dim >= 1"),
    (PriorConfig(kind="uniform"), "Unknown prior"),
    (PriorConfig(kind="mixture_of_gaussians", dim=3, categories=5), "needs dim >= 5"),
])
def test_bad_priors(config, message):
  with pytest.raises(ValueError, match=message):
    priors.CodePrior(config)


@pytest.mark.parametrize("config", [
    PriorConfig(kind="gaussian", dim=3),
    PriorConfig(kind="categorical", categories=4),
    PriorConfig(kind="mixture_of_gaussians", dim=2, categories=4, mixture_scale=0.3),
])
def test_samples_follow_the_tfp_distribution(config):
  """Our sampler and TFP's math describe the same prior: the average
  log-density of our samples matches the distribution's negative entropy
  (estimated from TFP's own samples where it has no closed form)."""
  prior = priors.CodePrior(config)
  for name, distribution in prior.components.items():
    ours = prior.sample(20000, tf.constant([4, 5]))[name]
    reference = distribution.sample(20000, seed=[6, 7])
    np.testing.assert_allclose(tf.reduce_mean(distribution.log_prob(ours)).numpy(),
                               tf.reduce_mean(distribution.log_prob(reference)).numpy(),
                               atol=0.03)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
