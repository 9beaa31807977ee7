"""Runs `python` commands from the repository root, one after another or several at once."""

import concurrent.futures
import os
import shlex
import subprocess
import sys
from typing import List, Optional, Sequence

# The repository root: launch/main.py is run from there, whatever the caller's directory.
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_python(arguments: Sequence[str], dry_run: bool = False, log: Optional[str] = None) -> int:
  """Prints `python <arguments>` and, unless `dry_run`, runs it; returns its exit status.

  With `log`, the run's output is appended to that file instead of the terminal.
  """
  print("python " + shlex.join(arguments) + (f" > {log}" if log else ""), flush=True)
  if dry_run:
    return 0
  if log is None:
    return subprocess.run([sys.executable, *arguments], cwd=REPOSITORY).returncode
  os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
  with open(log, "a") as output:
    return subprocess.run([sys.executable, *arguments], cwd=REPOSITORY, stdout=output,
                          stderr=subprocess.STDOUT).returncode


def run_python_many(commands: Sequence[Sequence[str]], parallel: int = 1,
                    dry_run: bool = False) -> List[int]:
  """Runs `run_python`'s commands, up to `parallel` at once; returns their exit statuses in order.

  Small runs leave a GPU mostly idle, so several can share it (docs/experiment_log.md,
  "MNIST on one H100 GPU (before normalized logits)"). With `parallel` > 1 each run's
  output goes to `<its --workdir>.log`, not the terminal, where progress bars would
  interleave.
  """
  if parallel < 1:
    raise ValueError(f"parallel must be >= 1, got {parallel}.")
  if parallel == 1 or dry_run:
    return [run_python(arguments, dry_run) for arguments in commands]
  logs = [_workdir(arguments) + ".log" for arguments in commands]
  with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
    return list(pool.map(lambda arguments, log: run_python(arguments, log=log), commands, logs))


def _workdir(arguments: Sequence[str]) -> str:
  for argument in arguments:
    if argument.startswith("--workdir="):
      return argument.split("=", 1)[1]
  raise ValueError(f"No --workdir in {shlex.join(arguments)}: cannot name its log file.")
