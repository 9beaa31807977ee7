"""Frozen configuration dataclasses and named presets.

Library classes take their own sub-config or plain arguments; presets are
named here so that a refactor cannot silently change what a name means
(their parameter counts are pinned by tests).
"""

import dataclasses
from typing import Optional, Tuple

CONDITIONING_MODES = ("none", "location_invariant", "location_dependent", "both")


@dataclasses.dataclass(frozen=True)
class DecoderConfig:
  """The conditional gated PixelCNN p(x | z).

  Attributes:
    num_layers: gated blocks after the type-A stem.
    filters: channels of both stacks.
    vertical_kernel_size: taps of each vertical convolution (rows, odd cols).
    horizontal_kernel_size: taps of each horizontal convolution.
    head_units: hidden width of the output head (None: `filters`).
    likelihood: 'bernoulli', 'categorical' or 'logistic_mixture'.
    num_mixtures: logistic components per sub-pixel ('logistic_mixture').
    conditioning: 'none', 'location_invariant', 'location_dependent' or 'both'.
    conditioning_map_channels: channels of the map m(z) (location-dependent).
  """
  num_layers: int = 4
  filters: int = 32
  vertical_kernel_size: Tuple[int, int] = (2, 3)
  horizontal_kernel_size: Tuple[int, int] = (1, 2)
  head_units: Optional[int] = None
  likelihood: str = "bernoulli"
  num_mixtures: int = 5
  conditioning: str = "none"
  conditioning_map_channels: int = 16


DECODER_PRESETS = {
    # Default for MNIST on a CPU: the code carries the global structure, so a
    # local receptive field (6 rows above, 5 columns either side) suffices.
    "mnist_cpu": DecoderConfig(num_layers=4, filters=32),
    # Sized like the paper's PixelCNNs, for GPUs.
    "mnist_gpu": DecoderConfig(num_layers=12, filters=64, vertical_kernel_size=(3, 5),
                               horizontal_kernel_size=(1, 3)),
    "color_gpu": DecoderConfig(num_layers=12, filters=128, vertical_kernel_size=(3, 5),
                               horizontal_kernel_size=(1, 3),
                               likelihood="logistic_mixture", num_mixtures=5),
    # For tests: a few filters, 8x8 images.
    "tiny": DecoderConfig(num_layers=2, filters=8),
}


def decoder_preset(name: str, **overrides) -> DecoderConfig:
  """Returns the named decoder preset with fields overridden."""
  if name not in DECODER_PRESETS:
    raise ValueError(f"Unknown decoder preset {name!r}; choose one of {sorted(DECODER_PRESETS)}.")
  return dataclasses.replace(DECODER_PRESETS[name], **overrides)
