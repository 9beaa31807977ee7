"""Every preset, Table 1 row, figure and documented command line resolves as it did before.

tests/data/resolved_configs_before.json was written by the code before the
configuration rework (rows as `--set` strings, shortcut flags with hidden
defaults, `train.resolve` overwriting the image shape and classes): for each
case the config before `train.resolve` ("config") and after it, on stand-in
data of the dataset's shape ("resolved"). The resolved configs must be equal.
Before resolve, `model.image_shape` and `model.num_classes` now stay None ("from
the data") where the old presets wrote a value that resolve then overwrote, so
those two fields are compared only once resolved; every other field is
compared before resolve too. Fields added since (`ADDED_FIELDS`) must hold
their defaults everywhere, and are then left out of the comparison.

Two changes are by design. The adversarial autoencoder's encoder noise: the old
model ignored `model.encoder.noise_std` when `model.kind` was 'aae' (its
encoder is deterministic); the field now says so (0 in `mnist_aae`) and any
other value is refused, so the snapshot's aae configs are compared with 0 there.
And the `mnist_cluster` preset's decoder, now `mnist_cpu_deep` (RESULTS.md,
"Round seven"): the snapshot's configs of that preset are compared with it.
"""

import json
import os
import types

import pytest

from experiments import rows, seed_statistics
from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides
from pixelgan_tf import train

SNAPSHOT_PATH = os.path.join(os.path.dirname(__file__), "data", "resolved_configs_before.json")
with open(SNAPSHOT_PATH) as f:
  SNAPSHOT = json.load(f)

# The stand-in data the snapshot was resolved on: (image shape, classes) per dataset.
DATA = {"mnist": ((28, 28, 1), 10), "fashion_mnist": ((28, 28, 1), 10),
        "svhn_cropped": ((32, 32, 3), 10), "cifar10": ((32, 32, 3), 10),
        "smallnorb": ((32, 32, 1), 5)}
DATA_DERIVED = ("image_shape", "num_classes")
# Fields that did not exist when the snapshot was written: (path, default).
ADDED_FIELDS = tuple((tuple(field.split(".")), default)
                     for field, default in seed_statistics.ADDED_FIELDS.items())


def _resolved(config) -> dict:
  shape, classes = DATA[config.data.dataset]
  try:
    return _as_json(train.resolve(
        config, types.SimpleNamespace(image_shape=shape, num_classes=classes)))
  except ValueError as error:
    return {"error": str(error)}


def _as_json(config, within=()) -> dict:
  """A config (or dataclass) as the snapshot stores it (tuples as lists), without `ADDED_FIELDS`.

  `within` is the path of `config` in an experiment's config (("model", "decoder")
  for a `DecoderConfig`): only the added fields under it are dropped.
  """
  values = json.loads(json.dumps(config_lib.to_dict(config)))
  for path, default in ADDED_FIELDS:
    if path[:len(within)] != within:
      continue
    parent = values
    for part in path[len(within):-1]:
      parent = parent[part]
    assert parent.pop(path[-1]) == default, ".".join(path)
  return values


def _without_data_derived(values: dict) -> dict:
  model = {k: v for k, v in values["model"].items() if k not in DATA_DERIVED}
  return {**values, "model": model}


def _with_a_deterministic_aae(values: dict) -> dict:
  """The snapshot's values with an aae's ignored encoder noise written as the 0 it was."""
  if not isinstance(values, dict) or values.get("model", {}).get("kind") != "aae":
    return values
  encoder = {**values["model"]["encoder"], "noise_std": 0.0}
  return {**values, "model": {**values["model"], "encoder": encoder}}


def _with_the_deep_cluster_decoder(values: dict, preset: str) -> dict:
  """The snapshot's values of an `mnist_cluster` config with the `mnist_cpu_deep` decoder."""
  if preset != "mnist_cluster" or "model" not in values:
    return values
  conditioning = values["model"]["decoder"]["conditioning"]
  decoder = _as_json(config_lib.decoder_preset("mnist_cpu_deep", conditioning=conditioning),
                     within=("model", "decoder"))
  return {**values, "model": {**values["model"], "decoder": decoder}}


def _assert_same(config, expected: dict, preset: str) -> None:
  expected = {key: _with_the_deep_cluster_decoder(_with_a_deterministic_aae(value), preset)
              for key, value in expected.items()}
  assert _without_data_derived(_as_json(config)) == _without_data_derived(expected["config"])
  assert _resolved(config) == expected["resolved"]


def _command_line(arguments):
  """(config, preset) of launch/main.py arguments, parsed as its flags are."""
  preset, shortcuts, sets = None, {}, []
  for argument in arguments:
    name, _, value = argument[len("--"):].partition("=")
    if name == "preset":
      preset = value
    elif name == "set":
      sets.append(value)
    else:
      shortcuts[name] = value
  return config_overrides.from_command_line(preset, shortcuts, sets)


def test_the_snapshot_covers_every_preset_row_and_figure():
  assert set(SNAPSHOT["presets"]) == set(config_lib.EXPERIMENTS)
  # The opt-in rows came after the snapshot: the test below checks them against their
  # protocol rows.
  assert set(SNAPSHOT["rows"]) == set(rows.PROTOCOL_ROWS)
  assert set(SNAPSHOT["figures"]) == set(rows.FIGURES)


@pytest.mark.parametrize("name", sorted(config_lib.EXPERIMENTS))
def test_every_preset_resolves_as_before(name):
  config = config_lib.experiment(name)
  assert config.model.image_shape is None and config.model.num_classes is None
  _assert_same(config, SNAPSHOT["presets"][name], name)


@pytest.mark.parametrize("registry,name", [("rows", name) for name in sorted(rows.PROTOCOL_ROWS)] +
                         [("figures", name) for name in sorted(rows.FIGURES)])
def test_every_row_and_figure_resolves_as_before(registry, name):
  entry = (rows.ROWS if registry == "rows" else rows.FIGURES)[name]
  config, preset = _command_line(entry.flags)
  assert preset == entry.preset == SNAPSHOT[registry][name]["preset"]
  _assert_same(config, SNAPSHOT[registry][name], preset)
  # The typed overrides, applied directly, give what their command line gives.
  direct = config_lib.experiment(entry.preset)
  for path, value in entry.overrides.items():
    direct = config_overrides.override(direct, path, value)
  assert direct == config


OPT_IN_ROWS = sorted(set(rows.ROWS) - set(rows.PROTOCOL_ROWS))


@pytest.mark.parametrize("name", OPT_IN_ROWS)
def test_an_opt_in_row_is_its_protocol_row_with_the_deskewed_recipe_on_top(name):
  opt_in, protocol = rows.ROWS[name], rows.ROWS[name.removesuffix("_deskewed")]
  assert (opt_in.preset, opt_in.metric, opt_in.paper) == (
      protocol.preset, protocol.metric, protocol.paper)
  recipe = {path: value for path, value in opt_in.overrides.items()
            if path not in protocol.overrides}
  assert {path: opt_in.overrides[path] for path in protocol.overrides} == protocol.overrides
  assert recipe["data.deskew"] is True
  if protocol.preset == "mnist_semi":
    assert recipe == rows.DESKEWED_SEMI_SUPERVISED
  config, _ = _command_line(opt_in.flags)
  expected, _ = _command_line(protocol.flags + rows.preset_flags(protocol.preset, recipe)[1:])
  assert config == expected
  shape, classes = DATA[config.data.dataset]
  train.resolve(config, types.SimpleNamespace(image_shape=shape, num_classes=classes))   # raises


@pytest.mark.parametrize("command_line", sorted(SNAPSHOT["flags"]))
def test_documented_command_lines_resolve_as_before(command_line):
  config, preset = _command_line(command_line.split())
  assert preset == SNAPSHOT["flags"][command_line]["preset"]
  _assert_same(config, SNAPSHOT["flags"][command_line], preset)


def test_a_gaussian_prior_keeps_the_dim_it_is_given():
  # By design, unlike before: --prior=gaussian set model.prior.dim=8 when the preset's was
  # below 1. Now the flag sets the prior's kind only, and resolve refuses the dim of 0.
  config, _ = _command_line(["--preset=mnist_cluster", "--prior=gaussian"])
  assert config.model.prior == config_lib.PriorConfig(kind="gaussian", dim=0, categories=30)
  assert "set model.prior.dim (--dim)" in _resolved(config)["error"]
  config, _ = _command_line(["--preset=mnist_cluster", "--prior=gaussian", "--dim=4"])
  assert _resolved(config)["model"]["prior"]["dim"] == 4
