"""The finished seeds of a Table 1 row, read from their run directories, and their mean and spread."""

import dataclasses
import json
import math
import os
from typing import Dict, Optional, Tuple

from experiments.rows import ROWS


@dataclasses.dataclass(frozen=True)
class RowResult:
  """The finished seeds of one row: test errors in %, with their training budget."""
  row: str
  errors: Tuple[float, ...]
  steps: Tuple[int, ...]
  train_hours: Tuple[Optional[float], ...]

  @property
  def mean(self) -> float:
    return sum(self.errors) / len(self.errors)

  @property
  def std(self) -> float:
    """The sample standard deviation (0 for one seed)."""
    if len(self.errors) < 2:
      return 0.0
    mean = self.mean
    return math.sqrt(sum((e - mean) ** 2 for e in self.errors) / (len(self.errors) - 1))


# Fields that may differ between the seeds of one row.
PER_RUN_FIELDS = ("data.seed", "data.data_dir",
                   # How a run was spread over devices and calls, not what it computes:
                   "train.strategy", "train.devices", "train.collective_timeout_s",
                   "train.slurm_port_base", "train.steps_per_execution",
                   # One thread: the same sums in a fixed order (pixelgan_tf.determinism).
                   "train.deterministic",
                   # Measurements that do not change the training:
                   "train.diagnose_every",
                   # Each seed's warm start names that seed's source run.
                   "train.warm_start")


# Fields added after the first run records, with the default that keeps those
# records' behaviour: a record without one ran as if it held its default.
# (tests/resolved_configs_test.py holds every preset to these defaults;
# experiments.results_page does not count "absent -> default" as a knob.)
ADDED_FIELDS = {
    "train.diagnose_every": 0,
    "train.deterministic": False,
    "model.encoder.hidden_layers": 1,
    "model.phases.adversarial_warmup_steps": 0,
    "model.phases.adversarial_optimizer": "adam",
    "model.phases.sgd_momentum": 0.9,
    "model.encoder.normalize_hidden": False,
    "model.discriminator.batch_mean": False,
    "model.discriminator.input_noise_std": 0.0,
    "model.encoder.logit_scale": None,
    "model.encoder.dropout": 0.0,
    "model.phases.supervised_variables": "encoder",
    "model.phases.supervised_max_shift": 0,
    "model.phases.supervised_noise_std": None,
    "model.phases.adversarial_noise_std": None,
    "model.phases.labeled_reconstruction_weight": 0.0,
    "model.phases.labeled_reconstruction_code": "labels",
    "model.phases.adversarial_batch_fraction": 1.0,
    "model.decoder.coordinate_channels": False,
    "model.encoder.zero_categorical_head": False,
    "model.phases.supervised_lead_steps": 0,
    "model.phases.supervised_warmup_steps": 0,
    "model.phases.supervised_max_rotation": 0.0,
    "model.phases.decoder_lead_steps": 0,
    "data.labels_seed": None,
    "data.labeled_indices": None,
    "data.deskew": False,
    "train.warm_start": "",
}


def flatten_config(tree: dict, prefix: str = "") -> Dict[str, object]:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(flatten_config(value, f"{prefix}{key}."))
    else:
      flat[prefix + key] = value
  return flat


def with_added_defaults(flat: Dict[str, object]) -> Dict[str, object]:
  """A flattened config with every `ADDED_FIELDS` field it lacks set to its default."""
  return {**ADDED_FIELDS, **flat}


def _check_same_recipe(configs: Dict[str, dict]) -> None:
  """Raises ValueError naming the fields in which the seeds' config.json differ.

  A mean over seeds is only a mean of one recipe: a preset that changed between
  runs would otherwise be averaged with its old self. (Compared as plain JSON,
  leaf by leaf, not through `pixelgan_tf.config`: importing the package would
  load TensorFlow into every `run_table1` and `aggregate`.)
  """
  names = sorted(configs)
  first = with_added_defaults(flatten_config(configs[names[0]])) if names else {}
  for name in names[1:]:
    other = with_added_defaults(flatten_config(configs[name]))
    fields = sorted(key for key in set(first) | set(other)
                    if key not in PER_RUN_FIELDS and first.get(key) != other.get(key))
    if fields:
      raise ValueError(f"{names[0]} and {name} were run with different configurations "
                       f"(they differ in {', '.join(fields)}): keep each recipe's runs "
                       f"under its own root.")


def collect(root: str, row: str) -> Optional[RowResult]:
  """The finished seeds of `row` under `root` (runs without a final result are skipped).

  Raises ValueError if the finished seeds were run with different configurations.
  """
  directory = os.path.join(root, row)
  if not os.path.isdir(directory):
    return None
  errors, steps, hours, configs = [], [], [], {}
  for name in sorted(os.listdir(directory)):
    run = os.path.join(directory, name)
    path = os.path.join(run, "results.json")
    if not (name.startswith("seed") and os.path.isfile(path)):
      continue
    with open(path) as f:
      results = json.load(f)
    if "final" not in results:   # still training
      continue
    metric = ROWS[row].metric
    test = results["final"]["test"]
    if metric not in test:
      raise ValueError(f"{path} has no test {metric!r} (it has {sorted(test)}): "
                       f"is it a run of another row?")
    errors.append(100.0 * test[metric])
    steps.append(int(results["step"]))
    history = results.get("history") or [{}]
    seconds = history[-1].get("train_seconds")
    hours.append(None if seconds is None else seconds / 3600.0)
    config_path = os.path.join(run, "config.json")
    if os.path.isfile(config_path):
      with open(config_path) as f:
        configs[run] = json.load(f)
  _check_same_recipe(configs)
  if not errors:
    return None
  return RowResult(row, tuple(errors), tuple(steps), tuple(hours))
