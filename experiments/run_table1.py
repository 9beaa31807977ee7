r"""Trains the seeds of rows of the paper's Table 1, one run after another or several at once.

  python -m experiments.run_table1 --rows=mnist_100              # the row's seeds (0, 1, 2)
  python -m experiments.run_table1 --rows=mnist_100 --seeds=3,4
  python -m experiments.run_table1 --rows=mnist_20,mnist_50,mnist_100 --parallel=7   # a GPU
  python -m experiments.run_table1 --rows=all --dry_run      # print the commands only
  python -m experiments.run_table1 --rows=mnist_20_deskewed  # an opt-in row (rows.py)
  python -m experiments.run_table1 --rows=mnist_100 --extra=--steps=2000

Each run is `launch/main.py` in <root>/<row>/seed<s>; rerunning resumes
unfinished runs and skips finished ones. `python -m experiments.aggregate`
summarizes them.
"""

import sys

from absl import app, flags

from experiments import launcher, rows

_ROWS = flags.DEFINE_list("rows", ["mnist_100"], f"Rows, or 'all' (the paper-protocol rows): "
                         f"{sorted(rows.ROWS)}.")
_SEEDS = flags.DEFINE_list("seeds", None, "Seeds (labelled subset, weights, data order); "
                           "default: each row's own.")
_ROOT = flags.DEFINE_string("root", "runs/table1", "Directory of the runs.")
_EXTRA = flags.DEFINE_multi_string("extra", [], "More launch/main.py flags for every run.")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the commands without running them.")
_PARALLEL = flags.DEFINE_integer(
    "parallel", 1, "Runs at once (several small runs can share one GPU); above 1 each "
    "run's output goes to <its workdir>.log.", lower_bound=1)


def _seeds(row: str) -> list:
  """--seeds, or the row's own seeds (an unknown row is left to `rows.command` to name)."""
  if _SEEDS.value is not None:
    return [int(seed) for seed in _SEEDS.value]
  return list(rows.ROWS[row].seeds) if row in rows.ROWS else [0]


def main(argv):
  del argv
  names = sorted(rows.PROTOCOL_ROWS) if _ROWS.value == ["all"] else _ROWS.value
  try:
    commands = [rows.command(name, seed, _ROOT.value, _EXTRA.value)
                for name in names for seed in _seeds(name)]
  except ValueError as error:
    sys.exit(f"error: {error}")
  statuses = launcher.run_python_many(commands, _PARALLEL.value, _DRY_RUN.value)
  failed = sum(1 for status in statuses if status)
  if failed:
    sys.exit(f"error: {failed} of {len(commands)} runs failed.")


if __name__ == "__main__":
  app.run(main)
