"""Tests of naive autoregressive sampling and image grids."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import FactorizedDecoder, PixelCNNDecoder
from pixelgan_tf.sampling import (image_grid, sample, sample_cached, sample_factorized,
                                  sample_naive)


def _decoder(likelihood="bernoulli", channels=1, conditioning="location_invariant"):
  return PixelCNNDecoder((4, 4, channels), likelihood=likelihood, num_layers=1, filters=4,
                         num_mixtures=2, conditioning=conditioning,
                         conditioning_dim=0 if conditioning == "none" else 3)


@pytest.mark.parametrize("likelihood,channels", [("bernoulli", 1), ("categorical", 3),
                                                 ("logistic_mixture", 3)])
def test_samples_lie_in_the_data_space_and_follow_the_seed(likelihood, channels):
  decoder = _decoder(likelihood, channels)
  code = tf.random.stateless_normal([5, 3], seed=[1, 1])
  sampler = tf.function(sample_naive)
  a = sampler(decoder, code, tf.constant([1, 2])).numpy()
  b = sampler(decoder, code, tf.constant([1, 2])).numpy()
  c = sampler(decoder, code, tf.constant([1, 3])).numpy()
  assert a.shape == (5, 4, 4, channels)
  assert np.isin(a, decoder.pixel_likelihood.values().numpy()).all()
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)


def test_each_sub_pixel_is_drawn_from_the_decoder_given_the_earlier_ones():
  """Pixel k of a sample is the draw the decoder's distribution gives when fed
  the sample itself: check via the likelihood, which must be finite and match
  the decoder's log_prob of the sample."""
  decoder = _decoder("categorical", 3, "none")
  sample = tf.function(sample_naive)(decoder, None, tf.constant([3, 4]), 2)
  log_prob = decoder.log_prob(sample).numpy()
  assert np.all(np.isfinite(log_prob))
  # A sample is far more likely under the model than uniform noise images.
  noise = tf.cast(tf.random.stateless_uniform([2, 4, 4, 3], seed=[5, 5], maxval=256,
                                              dtype=tf.int32), tf.float32)
  assert log_prob.mean() > decoder.log_prob(noise).numpy().mean() - 50


def test_unconditional_sampling_takes_a_count():
  decoder = _decoder(conditioning="none")
  sample = tf.function(sample_naive)(decoder, None, tf.constant([1, 1]), 3)
  assert sample.shape == (3, 4, 4, 1)


CACHED_CASES = [
    # (likelihood, channels, conditioning, vertical kernel, horizontal kernel)
    ("bernoulli", 1, "none", (2, 3), (1, 2)),              # mnist_cpu's kernels
    ("bernoulli", 1, "location_invariant", (3, 5), (1, 3)),  # mnist_gpu's kernels
    ("bernoulli", 1, "location_dependent", (2, 3), (1, 2)),
    ("categorical", 3, "location_invariant", (2, 3), (1, 2)),
    ("logistic_mixture", 3, "both", (3, 5), (1, 3)),        # color_gpu's kernels
]


@pytest.mark.parametrize("likelihood,channels,conditioning,vertical,horizontal", CACHED_CASES)
def test_cached_sampling_draws_exactly_the_naive_images(likelihood, channels, conditioning,
                                                        vertical, horizontal):
  decoder = PixelCNNDecoder((6, 6, channels), likelihood=likelihood, num_layers=2, filters=6,
                            num_mixtures=2, vertical_kernel_size=vertical,
                            horizontal_kernel_size=horizontal, conditioning=conditioning,
                            conditioning_dim=0 if conditioning == "none" else 3)
  code = None if conditioning == "none" else tf.random.stateless_normal([3, 3], seed=[2, 2])
  seed = tf.constant([7, 8])
  naive = tf.function(sample_naive)(decoder, code, seed, 3).numpy()
  cached = tf.function(sample_cached)(decoder, code, seed, 3).numpy()
  np.testing.assert_array_equal(cached, naive)
  # Not a degenerate agreement: another seed gives other images.
  assert not np.array_equal(tf.function(sample_cached)(decoder, code, tf.constant([7, 9]),
                                                       3).numpy(), naive)


def test_sample_takes_the_cached_path_for_a_pixelcnn():
  decoder = _decoder()
  code = tf.random.stateless_normal([2, 3], seed=[1, 1])
  np.testing.assert_array_equal(tf.function(sample)(decoder, code, tf.constant([1, 2])).numpy(),
                                tf.function(sample_cached)(decoder, code,
                                                           tf.constant([1, 2])).numpy())


@pytest.mark.parametrize("likelihood,channels", [("bernoulli", 1), ("logistic_mixture", 3)])
def test_factorized_sampling_draws_exactly_the_naive_images_in_one_pass(likelihood, channels):
  decoder = FactorizedDecoder((4, 4, channels), conditioning_dim=3, likelihood=likelihood,
                              num_mixtures=2, filters=8)
  code = tf.random.stateless_normal([3, 3], seed=[4, 4])
  seed = tf.constant([5, 6])
  naive = tf.function(sample_naive)(decoder, code, seed).numpy()
  one_pass = tf.function(sample_factorized)(decoder, code, seed).numpy()
  np.testing.assert_array_equal(one_pass, naive)
  assert not np.array_equal(tf.function(sample_factorized)(decoder, code,
                                                           tf.constant([5, 7])).numpy(), naive)
  np.testing.assert_array_equal(tf.function(sample)(decoder, code, seed).numpy(), naive)


def test_image_grid_layout():
  images = tf.reshape(tf.range(6, dtype=tf.float32), [6, 1, 1, 1]) / 5.0
  grid = image_grid(images, rows=2, max_value=1.0).numpy()
  assert grid.shape == (1, 2, 3, 1) and grid.dtype == np.uint8
  np.testing.assert_array_equal(grid[0, :, :, 0], [[0, 51, 102], [153, 204, 255]])


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
