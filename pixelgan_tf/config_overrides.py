"""Typed field overrides, and the one path from launch/main.py's flags to a config.

`override` sets a field of a frozen config from a value of its type or from a
string (a --set value), checking the type and, for a Literal field, its
choices; `from_command_line` applies the shortcut flags and --set items to a
preset in order. Every error is one line that names the field.
"""

import dataclasses
import typing
from typing import Literal, Mapping, Optional, Sequence, Tuple

from pixelgan_tf.config import ExperimentConfig, experiment


# The shortcut flags of launch/main.py: each sets one field, as --set would, and nothing else.
SHORTCUT_FIELDS = {
    "dataset": "data.dataset", "data_dir": "data.data_dir", "labels": "data.labels",
    "prior": "model.prior.kind", "categories": "model.prior.categories",
    "dim": "model.prior.dim", "model": "model.kind", "steps": "train.steps",
    "seed": "data.seed", "strategy": "train.strategy",
}


def default_experiment(shortcuts: Mapping[str, object]) -> str:
  """The preset of a command line without --preset, from its shortcut flags.

  mnist_pixelcnn / mnist_aae for the baselines, mnist_gaussian for a Gaussian
  (or mixture) prior, mnist_cluster for a run without labels, else mnist_semi.
  """
  model, prior = shortcuts.get("model"), shortcuts.get("prior")
  if model in ("pixelcnn", "aae"):
    return f"mnist_{model}"
  if prior in ("gaussian", "mixture_of_gaussians"):
    return "mnist_gaussian"
  if shortcuts.get("labels") in (0, "0"):
    return "mnist_cluster"
  return "mnist_semi"


def from_command_line(preset: Optional[str], shortcuts: Mapping[str, object],
                      sets: Sequence[str] = ()) -> Tuple[ExperimentConfig, str]:
  """(config, preset name) of a launch/main.py command line.

  Args:
    preset: --preset, or None to choose it with `default_experiment`.
    shortcuts: the shortcut flags given, by flag name (see `SHORTCUT_FIELDS`).
    sets: --set's 'field=value' strings, applied after the shortcuts.

  Raises:
    ValueError: an unknown preset, flag or field, or a value the field does not take.
  """
  preset = preset or default_experiment(shortcuts)
  config = experiment(preset)
  for name, value in shortcuts.items():
    if name not in SHORTCUT_FIELDS:
      raise ValueError(f"Unknown shortcut flag --{name}; choose one of {sorted(SHORTCUT_FIELDS)}.")
    config = override(config, SHORTCUT_FIELDS[name], value)
  for item in sets:
    path, sep, value = item.partition("=")
    if not sep:
      raise ValueError(f"--set takes field=value, got {item!r}.")
    config = override(config, path.strip(), value.strip())
  return config, preset


_NONE_WORDS = ("none", "null")
_TRUE_WORDS = ("true", "1", "yes")
_FALSE_WORDS = ("false", "0", "no")


def override(config, path: str, value):
  """Returns `config` with the field at dotted `path` set to `value`.

  `value` is a value of the field's type, or a string parsed into it: "48",
  "3e-4", "16,32" for a tuple, "true" / "false", "none" (or "null") for an
  Optional field. A field typed with a Literal takes only its choices.
  Example: override(cfg, "model.decoder.filters", "48").

  Raises:
    ValueError: one line naming the field: it does not exist, or the value
      is not of its type or not one of its choices.
  """
  return _override(config, path.split("."), path, value)


def _override(config, parts, path: str, value):
  head, rest = parts[0], parts[1:]
  fields = {f.name for f in dataclasses.fields(config)}
  if head not in fields:
    raise ValueError(f"Unknown config field {head!r} in {path!r}; "
                     f"{type(config).__name__} has {sorted(fields)}.")
  current = getattr(config, head)
  if rest:
    if not dataclasses.is_dataclass(current):
      raise ValueError(f"{head!r} is not a section; cannot set {path!r}.")
    return dataclasses.replace(config, **{head: _override(current, rest, path, value)})
  if dataclasses.is_dataclass(current):
    raise ValueError(f"{path!r} is a section; set one of its fields, e.g. "
                     f"{path}.{dataclasses.fields(current)[0].name}.")
  try:
    typed = _typed(value, typing.get_type_hints(type(config))[head])
  except ValueError as error:
    raise ValueError(f"Bad value for {path!r}: {error}.") from None
  return dataclasses.replace(config, **{head: typed})


def _typed(value, kind):
  """`value` as a value of type `kind`, parsed if it is a string.

  Raises:
    ValueError: saying what `kind` takes.
  """
  origin, args = typing.get_origin(kind), typing.get_args(kind)
  if origin is typing.Union:   # Optional[X]
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE_WORDS):
      return None
    return _typed(value, next(a for a in args if a is not type(None)))
  if origin is Literal:
    if value not in args:
      raise ValueError(f"{value!r} is not one of {', '.join(args)}")
    return value
  if origin is tuple:
    items = [v for v in value.split(",") if v.strip()] if isinstance(value, str) else value
    if not isinstance(items, (tuple, list)):
      raise ValueError(f"expected comma-separated values, got {value!r}")
    variadic = len(args) == 2 and args[1] is Ellipsis
    if not variadic and len(items) != len(args):
      raise ValueError(f"expected {len(args)} comma-separated values, got {value!r}")
    return tuple(_typed(item, args[0]) for item in items)
  if kind is bool:
    if isinstance(value, bool):
      return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE_WORDS or word in _FALSE_WORDS:
      return word in _TRUE_WORDS
    raise ValueError(f"expected true or false, got {value!r}")
  if kind in (int, float):
    if isinstance(value, str):
      try:
        return kind(value.strip())
      except ValueError:
        pass
    elif isinstance(value, int) and not isinstance(value, bool):
      return kind(value)
    elif kind is float and isinstance(value, float):
      return value
    raise ValueError(f"expected {'an integer' if kind is int else 'a number'}, got {value!r}")
  if not isinstance(value, kind):
    raise ValueError(f"expected a {kind.__name__}, got {value!r}")
  return value
