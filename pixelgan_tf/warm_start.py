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
from typing import Optional

import tensorflow as tf


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


def restore(checkpoint: tf.train.Checkpoint, path: str) -> None:
  """Restores every value of the checkpoint at `path` into `checkpoint`.

  Every saved value must find its variable and every variable its value: a
  checkpoint of other networks is refused, not partly loaded.

  Raises:
    ValueError: the checkpoint does not fit the model.
  """
  try:
    status = checkpoint.restore(path)
    status.assert_consumed()
    status.assert_existing_objects_matched()
  except (AssertionError, ValueError, tf.errors.OpError) as error:
    raise ValueError(f"The checkpoint {path} of train.warm_start does not fit this model "
                     f"({error.__class__.__name__}: {str(error)[:300]}). Warm start from a "
                     f"run of the same networks: only knobs without weights may change.")
