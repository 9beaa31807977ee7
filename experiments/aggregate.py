r"""Summarizes Table 1 runs as mean ± std over seeds, beside the paper's numbers.

  python -m experiments.aggregate --root=runs/table1
  python -m experiments.aggregate --curve=runs/table1/mnist_100_cpu_hour/seed0

The first prints the table in markdown; --curve prints one run's learning
curve (the row's error, validation and test, against training time) instead.
"""

import math
import os
import sys

from absl import app, flags

from experiments import learning_curves, rows, table1_markdown

_ROOT = flags.DEFINE_string("root", "runs/table1", "Directory of the runs.")
_ROWS = flags.DEFINE_list("rows", None, "Rows to show, in order; default: the protocol rows, "
                          "then the opt-in rows that have runs under --root.")
_CURVE = flags.DEFINE_string("curve", None, "A run directory whose learning curve to print.")


def curve_table(run: str) -> str:
  """Markdown table of a run's evaluations, in the metric of the run's row.

  The unsupervised rows score the test split only: their table has no
  validation column.
  """
  metric = learning_curves.metric_of_run(run)
  name = metric.replace("_", " ")
  curve = learning_curves.learning_curve(os.path.join(run, "results.json"), metric)
  with_validation = not all(math.isnan(validation) for _, _, validation, _ in curve)
  splits = ["validation", "test"] if with_validation else ["test"]
  header = ["step", "training min"] + [f"{split} {name} %" for split in splits]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for step, minutes, validation, test in curve:
    errors = [validation, test][-len(splits):]
    cells = [str(step), f"{minutes:.1f}"] + [f"{error:.2f}" for error in errors]
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main(argv):
  del argv
  try:
    if _CURVE.value:
      print(curve_table(_CURVE.value))
    else:
      shown = rows.rows_to_show(_ROOT.value) if _ROWS.value is None else _ROWS.value
      unknown = sorted(set(shown) - set(rows.ROWS))
      if unknown:
        raise ValueError(f"Unknown rows {unknown}; choose from {sorted(rows.ROWS)}.")
      print(table1_markdown.markdown_table(_ROOT.value, shown))
  except (ValueError, OSError, KeyError) as error:
    sys.exit(f"error: {error!r}")


if __name__ == "__main__":
  app.run(main)
