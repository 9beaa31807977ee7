r"""Trains the seeds of rows of the paper's Table 1, one run after another.

  python -m experiments.run_table1 --rows=mnist_100 --seeds=0,1,2
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

def main(argv):
  del argv
  rows = sorted(protocol.ROWS) if _ROWS.value == ["all"] else _ROWS.value
  try:
    seeds = [int(s) for s in _SEEDS.value]
    commands = [protocol.command(row, seed, _ROOT.value, _EXTRA.value)
                for row in rows for seed in seeds]
  except ValueError as error:
    sys.exit(f"error: {error}")
  failed = []
  for arguments in commands:
    if protocol.launch(arguments, _DRY_RUN.value):
      failed.append(arguments)
  if failed:
    sys.exit(f"error: {len(failed)} of {len(commands)} runs failed.")


if __name__ == "__main__":
  app.run(main)
