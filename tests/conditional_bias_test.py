"""Tests of the two conditional biases and the up-sampling network m(h)."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf.layers import (ConditioningUpsampler, LocationDependentBias,
                                LocationInvariantBias)
from tests.layer_test_case import run_layer_test


def test_location_invariant_contract():
  run_layer_test(LocationInvariantBias, {"units": 6},
                 [tf.random.stateless_normal([3, 4], seed=[1, 1])],
                 expected_output_shape=(3, 1, 1, 6))


def test_location_invariant_is_the_same_everywhere_and_follows_h():
  layer = LocationInvariantBias(6)
  h = tf.random.stateless_normal([2, 4], seed=[1, 2])
  out = layer(h)
  features = tf.zeros([2, 5, 5, 6]) + out     # broadcasts over H x W
  np.testing.assert_allclose(features[:, 0, 0].numpy(), features[:, 4, 3].numpy())
  assert not np.allclose(out[0].numpy(), out[1].numpy())


def test_location_dependent_contract():
  run_layer_test(LocationDependentBias, {"units": 6},
                 [tf.random.stateless_normal([2, 5, 5, 3], seed=[1, 3])],
                 expected_output_shape=(2, 5, 5, 6))


def test_location_dependent_is_a_1x1_projection():
  layer = LocationDependentBias(6)
  s = tf.random.stateless_normal([2, 5, 5, 3], seed=[1, 4])
  out = layer(s)
  kernel, bias = layer.projection.kernel.numpy(), layer.projection.bias.numpy()
  np.testing.assert_allclose(out.numpy(), s.numpy() @ kernel + bias, atol=1e-5)


@pytest.mark.parametrize("image_size", [(8, 8), (28, 28), (7, 9)])
def test_upsampler_contract(image_size):
  run_layer_test(ConditioningUpsampler,
                 {"image_size": image_size, "channels": 3, "hidden_channels": 4},
                 [tf.random.stateless_normal([2, 5], seed=[1, 5])],
                 expected_output_shape=(2,) + image_size + (3,))


def test_upsampler_map_varies_with_position_and_code():
  layer = ConditioningUpsampler((8, 8), channels=3, hidden_channels=4)
  h = tf.random.stateless_normal([2, 5], seed=[1, 6])
  s = layer(h).numpy()
  assert not np.allclose(s[0, 0, 0], s[0, 5, 6])
  assert not np.allclose(s[0], s[1])


@pytest.mark.parametrize("layer_cls", [LocationInvariantBias, LocationDependentBias])
def test_bad_units(layer_cls):
  with pytest.raises(ValueError, match="units"):
    layer_cls(0)


def test_wrong_rank_is_a_clear_error():
  with pytest.raises(ValueError, match=r"\[batch, dim\]"):
    LocationInvariantBias(4)(tf.zeros([2, 3, 3, 1]))


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
