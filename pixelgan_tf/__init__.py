"""PixelGAN autoencoders (Makhzani & Frey, 2017) in TensorFlow 2 / Keras 3."""

from pixelgan_tf import likelihoods
from pixelgan_tf.config import DECODER_PRESETS, DecoderConfig, decoder_preset
from pixelgan_tf.decoder import PixelCNNDecoder
from pixelgan_tf.layers import (CausalConv2D, ChannelAutoregressiveHead,
                                ConditioningUpsampler, GatedPixelCNNBlock,
                                LocationDependentBias, LocationInvariantBias)
