"""A run directory: its config, checkpoints, TensorBoard logs, results and export."""

import json
import os

import tensorflow as tf

from pixelgan_tf import config as config_lib

# Sections whose change makes a checkpoint meaningless to resume.
_IDENTITY_SECTIONS = ("model", "data")
# Fields of other sections that a run keeps from its start: {(section, key): default}.
# The default stands for a config written before the field existed.
_IDENTITY_FIELDS = {("train", "warm_start"): ""}


class IncompatibleRunError(ValueError):
  """The run directory holds a run of another configuration."""


class RunDirectory:
  """Paths and bookkeeping of one run.

  Layout: config.json (the resolved config, written before training),
  checkpoints/ (tf.train.CheckpointManager; TF writes each checkpoint to
  temporary files and renames them, and updates the index atomically),
  tensorboard/{train,validation}, results.json, samples/, export/.

  Args:
    path: the run directory (created if missing).
  """

  def __init__(self, path: str):
    self.path = path
    self.config_path = os.path.join(path, "config.json")
    self.checkpoints = os.path.join(path, "checkpoints")
    self.tensorboard = os.path.join(path, "tensorboard")
    self.results_path = os.path.join(path, "results.json")
    self.samples = os.path.join(path, "samples")
    self.export = os.path.join(path, "export")

  def read_config(self):
    """The config stored in the directory, or None."""
    if not tf.io.gfile.exists(self.config_path):
      return None
    with tf.io.gfile.GFile(self.config_path) as f:
      return config_lib.from_dict(config_lib.ExperimentConfig, json.load(f))

  def check_and_write_config(self, config: config_lib.ExperimentConfig) -> None:
    """Writes `config`, or checks it against the one a previous run left.

    Raises:
      IncompatibleRunError: the directory holds a run whose model, data or
        warm start differ; nothing is written then.
    """
    self.check(config)
    tf.io.gfile.makedirs(self.path)
    write_json_atomically(self.config_path, config_lib.to_dict(config))

  def check(self, config: config_lib.ExperimentConfig) -> None:
    """Checks `config` against the one a previous run left, if any; writes nothing.

    Raises:
      IncompatibleRunError: the directory holds a run whose model, data or warm
        start differ.
    """
    stored = self.read_config()
    if stored is not None:
      old, new = config_lib.to_dict(stored), config_lib.to_dict(config)
      differences = sorted(
          f"{section}.{key}" for section in _IDENTITY_SECTIONS
          for key in set(old[section]) | set(new[section])
          if old[section].get(key) != new[section].get(key))
      differences += [f"{section}.{key}" for (section, key), default in _IDENTITY_FIELDS.items()
                      if old[section].get(key, default) != new[section].get(key, default)]
      if differences:
        raise IncompatibleRunError(
            f"The run directory {self.path} holds a run of another configuration "
            f"(differs in {', '.join(differences)}); its checkpoints cannot be resumed "
            f"with this one. Use a new --workdir, or the same flags as before.")

  def read_history(self, up_to_step: int) -> list:
    """The evaluations a previous run recorded, up to a (restored) step."""
    if not tf.io.gfile.exists(self.results_path):
      return []
    with tf.io.gfile.GFile(self.results_path) as f:
      history = json.load(f).get("history", [])
    return [entry for entry in history if entry["step"] <= up_to_step]

  def write_results(self, results: dict) -> None:
    write_json_atomically(self.results_path, results)


def write_json_atomically(path: str, value) -> None:
  """Writes JSON through a temporary file and a rename: never half a file."""
  temporary = path + ".tmp"
  with tf.io.gfile.GFile(temporary, "w") as f:
    json.dump(value, f, indent=2, sort_keys=True)
  tf.io.gfile.rename(temporary, path, overwrite=True)
