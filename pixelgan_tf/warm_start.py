"""A new run that starts from another run's checkpoint (`train.warm_start`).

Resuming a run directory refuses a changed `model` section, rightly: its
checkpoints are that model's. A warm start is the way to change a knob in the
middle of a run on purpose. The new run directory starts from the other run's
latest checkpoint, with every weight, every phase optimizer's state and the
step counter. It then trains with its own config. Its data stream, decay and
seeds follow from the restored step, as a resumed run's do. So a warm start
whose config equals the source's trains exactly as continuing a copy of the
source would (tests/warm_start_test.py). A config that switches on a `model.phases`
knob then differs from that continuation in the knob alone.
"""

import os
from typing import Any, Dict, Optional

import tensorflow as tf

from pixelgan_tf import config as config_lib
from pixelgan_tf.run_directory import RunDirectory

# Sections whose fields can shape a checkpoint: the networks, and the phases'
# trained variables and optimizers (both under `model`); `data` sets the classes.
_SHAPING_SECTIONS = ("model", "data")
# At most this many differing fields are named in a refusal, to keep it one line.
_NAMED_DIFFERENCES = 6


def source_checkpoint(source: str) -> str:
  """The checkpoint that `train.warm_start=source` starts from.

  Args:
    source: a run directory (its latest checkpoint), a checkpoint directory,
      or one checkpoint's prefix (`.../checkpoints/ckpt-500`).

  Raises:
    ValueError: `source` holds no checkpoint.
  """
  found = _latest(os.path.join(source, "checkpoints")) or _latest(source)
  if found:
    return found
  if tf.io.gfile.exists(source + ".index"):
    return source
  raise ValueError(f"train.warm_start={source!r} holds no checkpoint: give a run directory, "
                   f"its checkpoints/ folder or a checkpoint such as .../checkpoints/ckpt-500.")


def _latest(directory: str) -> Optional[str]:
  return tf.train.latest_checkpoint(directory) if tf.io.gfile.isdir(directory) else None


def restore(checkpoint: tf.train.Checkpoint, path: str,
            config: config_lib.ExperimentConfig) -> None:
  """Restores every value of the checkpoint at `path` into `checkpoint`.

  Every saved value must find its variable and every variable its value: a
  checkpoint of other networks is refused, not partly loaded. So is one whose
  phases train other variables (`model.phases.supervised_variables`) or keep
  other optimizer states (`model.phases.adversarial_optimizer`).

  Args:
    checkpoint: the new run's checkpoint object (model and optimizers).
    path: the source checkpoint's prefix, `<run>/checkpoints/ckpt-N`.
    config: the new run's resolved config; a refusal names the fields in which
      it differs from the source run's config.json.

  Raises:
    ValueError: the checkpoint does not fit the model.
  """
  try:
    status = checkpoint.restore(path)
    status.assert_consumed()
    status.assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as error:
    changes = _named_changes(path, config)
    raise ValueError(f"The checkpoint {path} of train.warm_start does not fit this model "
                     f"({error.__class__.__name__}: {str(error)[:300]}).{changes}"
                     f" Warm start from a run of the same networks whose phases train the same "
                     f"variables with the same optimizers: only knobs that add no weight and no "
                     f"optimizer state may change.")


def _named_changes(path: str, config: config_lib.ExperimentConfig) -> str:
  """' This run differs from its source in a (x → y), ...', or '' when unknown.

  The source's config.json lies beside its checkpoints/ folder; a checkpoint
  kept elsewhere, or a config.json this code cannot read, names nothing.
  """
  try:
    stored = RunDirectory(os.path.dirname(os.path.dirname(path))).read_config()
  except (ValueError, TypeError, KeyError):   # a config.json this code cannot read
    return ""
  if stored is None:
    return ""
  old = _flat(config_lib.to_dict(stored), _SHAPING_SECTIONS)
  new = _flat(config_lib.to_dict(config), _SHAPING_SECTIONS)
  names = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
  if not names:
    return ""
  named = [f"{name} ({old.get(name)!r} → {new.get(name)!r})"
           for name in names[:_NAMED_DIFFERENCES]]
  more = f" and {len(names) - _NAMED_DIFFERENCES} more" if len(names) > _NAMED_DIFFERENCES else ""
  return f" This run differs from its source in {', '.join(named)}{more}."


def _flat(tree: Dict[str, Any], sections) -> Dict[str, Any]:
  """{'model.phases.supervised_variables': 'head', ...} for the given top-level sections."""
  flat = {}

  def visit(prefix: str, value) -> None:
    if isinstance(value, dict):
      for key, inner in value.items():
        visit(f"{prefix}.{key}", inner)
    else:
      flat[prefix] = value

  for section in sections:
    visit(section, tree.get(section, {}))
  return flat
