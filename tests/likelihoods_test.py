"""Tests of the pixel likelihoods: normalization, hand computations, bits/dim."""

import math

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import likelihoods

ALL = [("bernoulli", {}), ("categorical", {}), ("logistic_mixture", {"num_mixtures": 3})]


@pytest.mark.parametrize("name,kwargs", ALL)
def test_probabilities_of_all_values_sum_to_one(name, kwargs):
  likelihood = likelihoods.get(name, **kwargs)
  values = likelihood.values()
  params = 3.0 * tf.random.stateless_normal([4, likelihood.params_per_subpixel], seed=[1, 1])
  # Every value against every parameter vector: [V, 4].
  grid = tf.broadcast_to(params[None], [values.shape[0], 4, params.shape[-1]])
  log_p = likelihood.distribution(grid).log_prob(values[:, None])
  np.testing.assert_allclose(tf.reduce_sum(tf.exp(log_p), axis=0).numpy(), 1.0, atol=1e-5)


def test_bernoulli_by_hand():
  likelihood = likelihoods.get("bernoulli")
  logits = np.array([0.0, 2.0, -1.0, 0.5], np.float32).reshape(1, 2, 2, 1, 1)
  images = np.array([1, 0, 0, 1], np.float32).reshape(1, 2, 2, 1)
  p = 1 / (1 + np.exp(-logits.reshape(-1)))
  x = images.reshape(-1)
  expected = np.sum(x * np.log(p) + (1 - x) * np.log(1 - p))
  np.testing.assert_allclose(likelihood.log_prob(logits, images).numpy(), [expected], rtol=1e-5)


def test_categorical_uniform_logits_give_eight_bits():
  likelihood = likelihoods.get("categorical")
  params = tf.zeros([2, 3, 3, 3, 256])
  images = tf.random.stateless_uniform([2, 3, 3, 3], seed=[1, 2], maxval=256, dtype=tf.int32)
  nats = -likelihood.log_prob(params, tf.cast(images, tf.float32))
  np.testing.assert_allclose(nats.numpy(), 27 * math.log(256), rtol=1e-6)
  np.testing.assert_allclose(likelihoods.bits_per_dim(nats, 27).numpy(), 8.0, rtol=1e-6)


def test_categorical_picks_the_logit_of_the_value():
  likelihood = likelihoods.get("categorical")
  logits = tf.random.stateless_normal([1, 1, 1, 1, 256], seed=[1, 3])
  log_p = likelihood.log_prob(logits, tf.constant([[[[17.0]]]]))
  expected = logits[0, 0, 0, 0, 17] - tf.reduce_logsumexp(logits)
  np.testing.assert_allclose(log_p.numpy(), [expected.numpy()], rtol=1e-5)


def _logistic_cdf(x, loc, scale):
  return 1 / (1 + np.exp(-(x - loc) / scale))


def test_logistic_mixture_by_hand():
  likelihood = likelihoods.get("logistic_mixture", num_mixtures=2)
  mix_logits, locs, log_scales = [0.3, -0.2], [-0.5, 0.4], [-2.0, -3.0]
  params = np.array(mix_logits + locs + log_scales, np.float32).reshape(1, 1, 1, 1, 6)
  weights = np.exp(mix_logits) / np.sum(np.exp(mix_logits))
  for value in [0, 1, 100, 254, 255]:
    total = 0.0
    for w, loc, log_scale in zip(weights, locs, log_scales):
      loc_px, scale_px = (loc + 1) * 127.5, np.exp(log_scale) * 127.5
      upper = 1.0 if value == 255 else _logistic_cdf(value + 0.5, loc_px, scale_px)
      lower = 0.0 if value == 0 else _logistic_cdf(value - 0.5, loc_px, scale_px)
      total += w * (upper - lower)
    got = likelihood.log_prob(params, np.full([1, 1, 1, 1], value, np.float32)).numpy()[0]
    np.testing.assert_allclose(got, np.log(total), rtol=1e-4)


def test_logistic_mixture_is_finite_at_extreme_parameters():
  likelihood = likelihoods.get("logistic_mixture", num_mixtures=2)
  params = tf.constant([[[[[50.0, -50.0, 0.9, -0.9, -20.0, -20.0]]]]])
  for value in [0.0, 12.0, 242.0, 255.0]:
    log_p = likelihood.log_prob(params, tf.fill([1, 1, 1, 1], value))
    assert np.isfinite(log_p.numpy()).all()


@pytest.mark.parametrize("name,kwargs", ALL)
def test_samples_lie_in_the_data_space(name, kwargs):
  likelihood = likelihoods.get(name, **kwargs)
  params = tf.random.stateless_normal([2, 3, 3, 1, likelihood.params_per_subpixel], seed=[4, 4])
  sample = likelihood.sample(params, seed=[1, 2]).numpy()
  assert sample.shape == (2, 3, 3, 1)
  assert np.isin(sample, likelihood.values().numpy()).all()


@pytest.mark.parametrize("name,kwargs", ALL)
def test_mean_matches_the_average_of_many_samples(name, kwargs):
  likelihood = likelihoods.get(name, **kwargs)
  params = tf.random.stateless_normal([1, 2, 2, 1, likelihood.params_per_subpixel], seed=[5, 5])
  mean = likelihood.mean(params).numpy()
  assert mean.shape == (1, 2, 2, 1)
  draws = likelihood.sample(tf.repeat(params, 20000, axis=0), seed=[2, 3]).numpy()
  spread = float(likelihood.values()[-1])
  np.testing.assert_allclose(mean[0], draws.mean(0), atol=0.02 * spread)


def test_bernoulli_mean_is_the_sigmoid_of_the_logit():
  logits = np.array([-2.0, 0.0, 3.0], np.float32).reshape(1, 3, 1, 1, 1)
  np.testing.assert_allclose(likelihoods.get("bernoulli").mean(logits).numpy().reshape(-1),
                             1 / (1 + np.exp(-logits.reshape(-1))), rtol=1e-5)


@pytest.mark.parametrize("name,kwargs", ALL)
def test_log_prob_is_float32_under_float16_params(name, kwargs):
  likelihood = likelihoods.get(name, **kwargs)
  params = tf.zeros([1, 2, 2, 1, likelihood.params_per_subpixel], tf.float16)
  assert likelihood.log_prob(params, tf.zeros([1, 2, 2, 1])).dtype == tf.float32


def test_unknown_likelihood():
  with pytest.raises(ValueError, match="Unknown likelihood 'gaussian'"):
    likelihoods.get("gaussian")


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
