"""Pins the presets: a refactor that changes what a preset builds must fail here."""

import dataclasses
import json

import pytest
import tensorflow as tf

from pixelgan_tf import DECODER_PRESETS, PixelCNNDecoder, decoder_preset
from pixelgan_tf import config as config_lib

# Parameter counts of each decoder preset, unconditional, on its intended images.
EXPECTED_PARAMS = {
    ("mnist_cpu", (28, 28, 1)): 80_129,
    ("mnist_cpu_wide", (28, 28, 1)): 162_689,
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
  values = json.loads(json.dumps(config_lib.to_dict(config)))
  assert config_lib.from_dict(config_lib.ExperimentConfig, values) == config


def test_dotted_overrides_parse_to_the_field_type():
  config = config_lib.experiment("mnist_semi")
  config = config_lib.override(config, "model.decoder.filters", "48")
  config = config_lib.override(config, "model.encoder.filters", "16,32")
  config = config_lib.override(config, "data.binarize", "false")
  config = config_lib.override(config, "model.phases.generator_learning_rate", "3e-4")
  config = config_lib.override(config, "data.data_dir", "/tmp/x")
  assert config.model.decoder.filters == 48
  assert config.model.encoder.filters == (16, 32)
  assert config.data.binarize is False
  assert config.model.phases.generator_learning_rate == pytest.approx(3e-4)
  assert config.data.data_dir == "/tmp/x"
  assert config_lib.experiment("mnist_semi").model.decoder.filters == 32   # presets untouched


def test_optional_fields_parse_to_their_declared_type():
  config = config_lib.experiment("mnist_semi")
  assert config_lib.override(config, "train.time_budget_s", "1800.5").train.time_budget_s == 1800.5
  assert config_lib.override(config, "data.data_dir", "123").data.data_dir == "123"
  assert config_lib.override(config, "data.max_train_examples", "64").data.max_train_examples == 64
  assert config_lib.override(config, "model.decoder.head_units", "none").model.decoder.head_units \
      is None
  with pytest.raises(ValueError, match="Bad value for 'train.time_budget_s'"):
    config_lib.override(config, "train.time_budget_s", "an hour")


@pytest.mark.parametrize("path,value,message", [
    ("model.decoder.widht", "3", "Unknown config field 'widht'"),
    ("model.decoder.filters", "many", "Bad value for 'model.decoder.filters'"),
    ("data.binarize", "perhaps", "true or false"),
    ("model.decoder.filters.x", "1", "not a section"),
])
def test_bad_overrides(path, value, message):
  with pytest.raises(ValueError, match=message):
    config_lib.override(config_lib.experiment("mnist_semi"), path, value)


@pytest.mark.parametrize("word", ["none", "None", "null"])
def test_an_optional_field_set_by_a_preset_can_be_unset(word):
  config = config_lib.experiment("mnist_cpu_hour")
  assert config.train.time_budget_s == 3600.0
  assert config_lib.override(config, "train.time_budget_s", word).train.time_budget_s is None


def test_a_required_field_cannot_be_unset():
  with pytest.raises(ValueError, match="Bad value for 'train.steps'"):
    config_lib.override(config_lib.experiment("mnist_semi"), "train.steps", "none")


def test_an_unset_boolean_parses_false_as_false():
  config = config_lib.experiment("mnist_semi")
  assert config.data.binarize is None   # follows the likelihood until resolved
  assert config_lib.override(config, "data.binarize", "false").data.binarize is False
  assert config_lib.override(config, "data.binarize", "true").data.binarize is True


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
