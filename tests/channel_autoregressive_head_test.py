"""Tests of ChannelAutoregressiveHead: R -> G -> B order inside a pixel."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf.layers import ChannelAutoregressiveHead
from tests import causality
from tests.layer_test_case import run_layer_test


def _inputs(channels):
  features = tf.random.stateless_normal([2, 4, 4, 6], seed=[2, 1])
  images = tf.random.stateless_uniform([2, 4, 4, channels], seed=[2, 2], minval=-1, maxval=1)
  return features, images


@pytest.mark.parametrize("channels", [1, 3])
def test_layer_contract(channels):
  run_layer_test(ChannelAutoregressiveHead,
                 {"channels": channels, "params_per_subpixel": 5, "hidden_units": 8},
                 list(_inputs(channels)), expected_output_shape=(2, 4, 4, channels, 5))


def _same_pixel_earlier_channels(i, j, c, i2, j2, c2):
  return (i2 == i) & (j2 == j) & (c2 < c)


def test_channel_order_within_the_pixel():
  head = ChannelAutoregressiveHead(3, 5, 8)
  features, images = _inputs(3)
  jac = causality.jacobian(lambda x: head(features, x), images)
  causality.assert_causal(jac, _same_pixel_earlier_channels)
  # Red sees nothing of its own pixel; blue sees both red and green.
  assert np.all(jac[:, :, :, 0] == 0)
  assert np.all(jac[0, 1, 2, 2, 0, 1, 2, :2] != 0)


def test_features_reach_only_their_own_pixel():
  head = ChannelAutoregressiveHead(3, 5, 8)
  features, images = _inputs(3)
  jac = causality.jacobian(lambda f: head(f, images), features)
  causality.assert_causal(jac, lambda i, j, c, i2, j2, c2: (i2 == i) & (j2 == j))


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
