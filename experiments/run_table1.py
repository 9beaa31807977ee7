r"""Trains the seeds of rows of the paper's Table 1, one run after another or several at once.

  python -m experiments.run_table1 --rows=mnist_100 --seeds=0,1,2
  python -m experiments.run_table1 --rows=mnist_20,mnist_50,mnist_100 --parallel=7   # a GPU
  python -m experiments.run_table1 --rows=all --dry_run      # print the commands only
  python -m experiments.run_table1 --rows=mnist_100 --extra=--steps=2000

Each run is `launch/main.py` in <root>/<row>/seed<s>; rerunning resumes
unfinished runs and skips finished ones. `python -m experiments.aggregate`
summarizes them.
"""

import sys

from absl import app, flags

from experiments import protocol

_ROWS = flags.DEFINE_list("rows", ["mnist_100"], f"Rows, or 'all': {sorted(protocol.ROWS)}.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds (labelled subset, weights, data order).")
_ROOT = flags.DEFINE_string("root", "runs/table1", "Directory of the runs.")
_EXTRA = flags.DEFINE_multi_string("extra", [], "More launch/main.py flags for every run.")
_DRY_RUN = flags.DEFINE_bool("dry_run", False, "Print the commands without running them.")
_PARALLEL = flags.DEFINE_integer(
    "parallel", 1, "Runs at once (several small runs can share one GPU); above 1 each "
    "run's output goes to <its workdir>.log.", lower_bound=1)

def main(argv):
  del argv
  rows = sorted(protocol.ROWS) if _ROWS.value == ["all"] else _ROWS.value
  try:
    seeds = [int(s) for s in _SEEDS.value]
    commands = [protocol.command(row, seed, _ROOT.value, _EXTRA.value)
                for row in rows for seed in seeds]
  except ValueError as error:
    sys.exit(f"error: {error}")
  statuses = protocol.launch_many(commands, _PARALLEL.value, _DRY_RUN.value)
  failed = sum(1 for status in statuses if status)
  if failed:
    sys.exit(f"error: {failed} of {len(commands)} runs failed.")


if __name__ == "__main__":
  app.run(main)
