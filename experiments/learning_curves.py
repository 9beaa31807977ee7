"""A run's learning curve (its row's metric at each evaluation), read from its results.json."""

import json
import os
from typing import List, Tuple

from experiments.rows import ROWS


def metric_of_run(run: str) -> str:
  """The metric of the row a run directory `<root>/<row>/seed<s>` belongs to ("error" if none)."""
  row = os.path.basename(os.path.dirname(os.path.normpath(run)))
  return ROWS[row].metric if row in ROWS else "error"


def learning_curve(results_path: str,
                   metric: str = "error") -> List[Tuple[int, float, float, float]]:
  """(step, training minutes, validation %, test %) of `metric` per evaluation of a run.

  Evaluations without the test metric are left out; a validation split without it
  (the unsupervised rows score only the test split) gives NaN.
  """
  with open(results_path) as f:
    history = json.load(f)["history"]
  return [(h["step"], h.get("train_seconds", float("nan")) / 60.0,
           100.0 * h["validation"].get(metric, float("nan")), 100.0 * h["test"][metric])
          for h in history if metric in h["test"]]
