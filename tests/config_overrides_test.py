"""Typed overrides and the command line: every bad value is refused in one line naming the field."""

import pytest

from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides


def test_dotted_overrides_parse_to_the_field_type():
  config = config_lib.experiment("mnist_semi")
  config = config_overrides.override(config, "model.decoder.filters", "48")
  config = config_overrides.override(config, "model.encoder.filters", "16,32")
  config = config_overrides.override(config, "data.binarize", "false")
  config = config_overrides.override(config, "model.phases.generator_learning_rate", "3e-4")
  config = config_overrides.override(config, "data.data_dir", "/tmp/x")
  assert config.model.decoder.filters == 48
  assert config.model.encoder.filters == (16, 32)
  assert config.data.binarize is False
  assert config.model.phases.generator_learning_rate == pytest.approx(3e-4)
  assert config.data.data_dir == "/tmp/x"
  assert config_lib.experiment("mnist_semi").model.decoder.filters == 32   # presets untouched


def test_optional_fields_parse_to_their_declared_type():
  config = config_lib.experiment("mnist_semi")
  assert config_overrides.override(config, "train.time_budget_s", "1800.5").train.time_budget_s == 1800.5
  assert config_overrides.override(config, "data.data_dir", "123").data.data_dir == "123"
  assert config_overrides.override(config, "data.max_train_examples", "64").data.max_train_examples == 64
  assert config_overrides.override(config, "model.decoder.head_units", "none").model.decoder.head_units \
      is None
  with pytest.raises(ValueError, match="Bad value for 'train.time_budget_s'"):
    config_overrides.override(config, "train.time_budget_s", "an hour")


@pytest.mark.parametrize("path,value,message", [
    ("model.decoder.widht", "3", "Unknown config field 'widht'"),
    ("model.decoder.filters", "many", "Bad value for 'model.decoder.filters'"),
    ("data.binarize", "perhaps", "true or false"),
    ("model.decoder.filters.x", "1", "not a section"),
])
def test_bad_overrides(path, value, message):
  with pytest.raises(ValueError, match=message):
    config_overrides.override(config_lib.experiment("mnist_semi"), path, value)


@pytest.mark.parametrize("word", ["none", "None", "null"])
def test_an_optional_field_set_by_a_preset_can_be_unset(word):
  config = config_lib.experiment("mnist_cpu_hour")
  assert config.train.time_budget_s == 3600.0
  assert config_overrides.override(config, "train.time_budget_s", word).train.time_budget_s is None


def test_a_required_field_cannot_be_unset():
  with pytest.raises(ValueError, match="Bad value for 'train.steps'"):
    config_overrides.override(config_lib.experiment("mnist_semi"), "train.steps", "none")


def test_an_unset_boolean_parses_false_as_false():
  config = config_lib.experiment("mnist_semi")
  assert config.data.binarize is None   # follows the likelihood until resolved
  assert config_overrides.override(config, "data.binarize", "false").data.binarize is False
  assert config_overrides.override(config, "data.binarize", "true").data.binarize is True


@pytest.mark.parametrize("path,value,choices", [
    ("model.decoder.likelihood", "gaussian", "bernoulli, categorical, logistic_mixture"),
    ("model.decoder.conditioning", "global",
     "none, location_invariant, location_dependent, both"),
    ("model.encoder.noise_position", "output", "input, hidden"),
    ("model.prior.kind", "uniform",
     "gaussian, categorical, gaussian_categorical, mixture_of_gaussians"),
    ("model.kind", "vae", "pixelgan, pixelcnn, aae"),
    ("train.jit_compile", "yes", "auto, on, off"),
    ("train.mixed_precision", "fp16", "off, float16, bfloat16"),
    ("train.strategy", "tpu", "auto, one_device, mirrored, multi_worker"),
    ("data.dataset", "imagenet", "mnist, fashion_mnist, svhn_cropped, cifar10, smallnorb"),
])
def test_a_field_with_choices_refuses_others_in_one_line_naming_field_and_choices(
    path, value, choices):
  with pytest.raises(ValueError) as error:
    config_overrides.override(config_lib.experiment("mnist_semi"), path, value)
  assert str(error.value) == f"Bad value for {path!r}: {value!r} is not one of {choices}."


def test_typed_values_are_checked_against_the_field_type():
  config = config_lib.experiment("mnist_semi")
  assert config_overrides.override(config, "train.steps", 5).train.steps == 5
  budget = config_overrides.override(config, "train.time_budget_s", 900).train.time_budget_s
  assert budget == 900.0 and isinstance(budget, float)
  assert config_overrides.override(config, "model.encoder.filters", (8, 16)).model.encoder.filters \
      == (8, 16)
  assert config_overrides.override(config, "model.image_shape", [8, 8, 1]).model.image_shape \
      == (8, 8, 1)
  for path, value in [("train.steps", 2.5), ("train.steps", True), ("data.binarize", 1),
                      ("model.encoder.filters", 8), ("model.image_shape", (8, 8)),
                      ("model.decoder.vertical_kernel_size", "2,3,4"), ("data.data_dir", 3),
                      ("train.decay_fraction", "half")]:
    with pytest.raises(ValueError, match=f"Bad value for '{path}'"):
      config_overrides.override(config, path, value)


def test_a_section_cannot_be_set_as_a_value():
  with pytest.raises(ValueError, match="'model.decoder' is a section"):
    config_overrides.override(config_lib.experiment("mnist_semi"), "model.decoder", "tiny")


@pytest.mark.parametrize("shortcuts,preset", [
    ({}, "mnist_semi"), ({"labels": 100}, "mnist_semi"), ({"labels": 0}, "mnist_cluster"),
    ({"prior": "gaussian"}, "mnist_gaussian"), ({"prior": "mixture_of_gaussians"}, "mnist_gaussian"),
    ({"model": "pixelcnn", "prior": "gaussian"}, "mnist_pixelcnn"), ({"model": "aae"}, "mnist_aae"),
])
def test_the_default_preset_follows_the_shortcut_flags(shortcuts, preset):
  assert config_overrides.default_experiment(shortcuts) == preset
  assert config_overrides.from_command_line(None, shortcuts)[1] == preset


def test_each_shortcut_flag_sets_its_one_field_and_nothing_else():
  base = config_lib.experiment("mnist_cluster")
  for flag, value in [("dataset", "cifar10"), ("data_dir", "/d"), ("labels", 20),
                      ("prior", "gaussian"), ("categories", 7), ("dim", 4), ("model", "aae"),
                      ("steps", 5), ("seed", 3), ("strategy", "mirrored")]:
    config, _ = config_overrides.from_command_line("mnist_cluster", {flag: value})
    assert config == config_overrides.override(base, config_overrides.SHORTCUT_FIELDS[flag], value), flag


def test_the_command_line_applies_set_after_the_shortcuts_and_names_bad_input():
  config, preset = config_overrides.from_command_line(
      "tiny", {"steps": 5}, ["train.steps=7", " model.decoder.filters = 4 "])
  assert preset == "tiny" and config.train.steps == 7 and config.model.decoder.filters == 4
  with pytest.raises(ValueError, match="--set takes field=value, got 'train.steps'"):
    config_overrides.from_command_line("tiny", {}, ["train.steps"])
  with pytest.raises(ValueError, match="Unknown shortcut flag --width"):
    config_overrides.from_command_line("tiny", {"width": 3})
  with pytest.raises(ValueError, match="Unknown experiment preset 'huge'"):
    config_overrides.from_command_line("huge", {})


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
