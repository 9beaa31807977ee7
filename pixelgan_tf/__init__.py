"""PixelGAN autoencoders (Makhzani & Frey, 2017) in TensorFlow 2 / Keras 3."""

from pixelgan_tf import likelihoods, losses, priors, random
from pixelgan_tf.config import (DECODER_PRESETS, MODEL_PRESETS, DecoderConfig,
                                DiscriminatorConfig, EncoderConfig, ModelConfig,
                                PhaseConfig, PriorConfig, decoder_preset, model_preset)
from pixelgan_tf.decoder import PixelCNNDecoder
from pixelgan_tf.discriminator import CodeDiscriminator
from pixelgan_tf.encoder import Encoder
from pixelgan_tf.factorized_decoder import FactorizedDecoder
from pixelgan_tf.layers import (CausalConv2D, ChannelAutoregressiveHead,
                                ConditioningUpsampler, GatedPixelCNNBlock,
                                LocationDependentBias, LocationInvariantBias)
from pixelgan_tf.model import PixelGANAutoencoder
