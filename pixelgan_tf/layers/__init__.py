"""Keras 3 layers of the conditional gated PixelCNN decoder."""

from pixelgan_tf.layers.causal_conv2d import CausalConv2D
from pixelgan_tf.layers.channel_autoregressive_head import ChannelAutoregressiveHead
from pixelgan_tf.layers.conditioning_upsampler import ConditioningUpsampler
from pixelgan_tf.layers.gated_block import GatedPixelCNNBlock
from pixelgan_tf.layers.location_dependent_bias import LocationDependentBias
from pixelgan_tf.layers.location_invariant_bias import LocationInvariantBias
