r"""Plots the learning curves of a Table 1 row's seeds: test error against training time.

  python -m experiments.plot_curves --row_dir=results/cpu/mnist_100_cpu_hour \
      --out=docs/figures/cpu_hour_curve.png --goal=2

Each `seed*/results.json` under --row_dir is one line of the row's metric (the
clustering error for the unsupervised rows, else the classification error); --goal
draws a dashed line at that error. Needs matplotlib (in `requirements-dev.txt`).
"""

import glob
import os
import sys
from typing import Optional

from absl import app, flags

from experiments import learning_curves

_ROW_DIR = flags.DEFINE_string("row_dir", None, "A row's directory, holding seed*/results.json.")
_OUT = flags.DEFINE_string("out", None, "PNG file to write.")
_GOAL = flags.DEFINE_float("goal", None, "Test error (%) to draw as a dashed line.")
_GOAL_LABEL = flags.DEFINE_string("goal_label", "goal", "Legend of the --goal line.")
_TITLE = flags.DEFINE_string("title", None, "Title; the row's directory name if unset.")


def plot_row(row_dir: str, out: str, goal: Optional[float] = None, goal_label: str = "goal",
             title: Optional[str] = None) -> int:
  """Writes one PNG with a test-error curve per seed of `row_dir`; returns how many."""
  paths = sorted(glob.glob(os.path.join(row_dir, "seed*", "results.json")))
  if not paths:
    raise FileNotFoundError(f"No seed*/results.json under {row_dir!r}.")
  try:
    import matplotlib
  except ImportError as error:
    raise ImportError("Plotting needs matplotlib: pip install matplotlib") from error
  matplotlib.use("Agg")   # files only: no display on servers and CI
  from matplotlib import pyplot, ticker

  figure, axes = pyplot.subplots(figsize=(6, 4), dpi=120)
  metric = learning_curves.metric_of_run(os.path.dirname(paths[0]))
  for path in paths:
    curve = learning_curves.learning_curve(path, metric)
    if not curve:
      raise ValueError(f"{path} has no evaluation with a test {metric!r}.")
    minutes = [point[1] for point in curve]
    test = [point[3] for point in curve]
    seed = os.path.basename(os.path.dirname(path))
    axes.plot(minutes, test, marker="o", markersize=3,
              label=f"{seed} (final {test[-1]:.2f} %)")
  if goal is not None:
    axes.axhline(goal, color="gray", linestyle="--", linewidth=1,
                 label=f"{goal_label} {goal:g} %")
  axes.set_xlabel("training time (minutes, evaluations excluded)")
  axes.set_ylabel(f"test {metric.replace('_', ' ')} (%)")
  axes.set_yscale("log")   # the interesting part is the last few percent
  axes.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
  axes.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
  axes.yaxis.set_minor_formatter(ticker.NullFormatter())
  axes.grid(True, which="both", alpha=0.3)
  axes.set_title(title or os.path.basename(os.path.normpath(row_dir)))
  axes.legend()
  figure.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  figure.savefig(out)
  pyplot.close(figure)
  return len(paths)


def main(argv):
  del argv
  if not _ROW_DIR.value or not _OUT.value:
    sys.exit("error: --row_dir and --out are required.")
  try:
    count = plot_row(_ROW_DIR.value, _OUT.value, _GOAL.value, _GOAL_LABEL.value,
                     _TITLE.value)
  except (ValueError, OSError, KeyError, ImportError) as error:
    sys.exit(f"error: {error!r}")
  print(f"{count} curves -> {_OUT.value}")


if __name__ == "__main__":
  app.run(main)
