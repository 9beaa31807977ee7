"""Pins the presets: a refactor that changes what a preset builds must fail here."""

import dataclasses
import json

import pytest
import tensorflow as tf

from pixelgan_tf import DECODER_PRESETS, PixelCNNDecoder, decoder_preset
from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides

# Parameter counts of each decoder preset, unconditional, on its intended images.
EXPECTED_PARAMS = {
    ("mnist_cpu", (28, 28, 1)): 80_129,
    ("mnist_cpu_wide", (28, 28, 1)): 162_689,
    ("mnist_cpu_deep", (28, 28, 1)): 323_073,
    ("mnist_gpu", (28, 28, 1)): 1_927_425,
    ("color_gpu", (32, 32, 3)): 7_707_565,
    ("tiny", (8, 8, 1)): 2_737,
}


@pytest.mark.parametrize("name,image_shape", sorted(EXPECTED_PARAMS))
def test_preset_parameter_counts(name, image_shape):
  decoder = PixelCNNDecoder.from_decoder_config(DECODER_PRESETS[name], image_shape)
  decoder(tf.zeros((1,) + image_shape))
  assert decoder.count_params() == EXPECTED_PARAMS[(name, image_shape)]


def test_every_preset_is_pinned():
  assert {name for name, _ in EXPECTED_PARAMS} == set(DECODER_PRESETS)


def test_presets_are_frozen_and_overridable():
  config = decoder_preset("mnist_cpu", filters=48)
  assert config.filters == 48 and DECODER_PRESETS["mnist_cpu"].filters == 32
  with pytest.raises(dataclasses.FrozenInstanceError):
    config.filters = 64


def test_unknown_preset():
  with pytest.raises(ValueError, match="Unknown decoder preset 'huge'"):
    decoder_preset("huge")


@pytest.mark.parametrize("name", sorted(config_lib.EXPERIMENTS))
def test_every_experiment_survives_a_json_round_trip(name):
  config = config_lib.experiment(name)
  # As train.resolve writes it into the run directory: the data's fields filled in.
  resolved = config_overrides.override(config, "model.image_shape", (28, 28, 1))
  for config in (config, resolved):
    values = json.loads(json.dumps(config_lib.to_dict(config)))
    assert config_lib.from_dict(config_lib.ExperimentConfig, values) == config
