"""The rows of the paper's Table 1: how each is run, and how its seeds are summarized.

A row is a `launch/main.py` command line without --seed and --workdir; a run of
row r with seed s lives in <root>/<r>/seed<s>. Its result is the final test
error of results.json (the clustering error for unsupervised rows), in %.
"""

import concurrent.futures
import dataclasses
import json
import math
import os
import shlex
import subprocess
import sys
from typing import Dict, List, Optional, Sequence, Tuple


@dataclasses.dataclass(frozen=True)
class Row:
  """One row of the table.

  Attributes:
    column: the paper's column header.
    flags: `launch/main.py` flags, without --seed and --workdir.
    metric: the test metric of results.json that the paper reports.
    paper: the paper's PixelGAN number, (mean, std) in %.
    budget: what the preset is sized for, in words.
  """
  column: str
  flags: Tuple[str, ...]
  metric: str
  paper: Tuple[float, float]
  budget: str


ROWS: Dict[str, Row] = {
    "mnist_unsupervised": Row("MNIST unsup. (30 clusters)", ("--preset=mnist_cluster",),
                              "clustering_error", (5.27, 1.81), "20k steps"),
    # The unsupervised preset for half an hour of training steps on the 2 CPU cores,
    # the rates decaying over its last 40 %.
    "mnist_unsupervised_cpu_half_hour": Row(
        "MNIST unsup., half a CPU hour",
        ("--preset=mnist_cluster", "--set=train.steps=1000000",
         "--set=train.time_budget_s=1800", "--set=train.decay_fraction=0.4",
         "--set=train.sample_every=100"),
        "clustering_error", (5.27, 1.81), "2 CPU cores, 30 min of training steps"),
    "mnist_20": Row("MNIST 20", ("--preset=mnist_semi", "--labels=20"), "error",
                    (12.08, 5.50), "20k steps"),
    "mnist_50": Row("MNIST 50", ("--preset=mnist_semi", "--labels=50"), "error",
                    (1.16, 0.17), "20k steps"),
    "mnist_100": Row("MNIST 100", ("--preset=mnist_semi", "--labels=100"), "error",
                     (1.08, 0.15), "20k steps"),
    "mnist_100_cpu_hour": Row("MNIST 100, one CPU hour", ("--preset=mnist_cpu_hour",), "error",
                              (1.08, 0.15), "2 CPU cores, 1 h of training steps"),
    "mnist_100_gpu": Row("MNIST 100, paper-sized decoder", ("--preset=mnist_semi_gpu",),
                         "error", (1.08, 0.15), "GPU, 100k steps"),
    # The paper-sized networks for a quarter of an hour of training steps on one GPU, the
    # rates decaying over its last 40 %: what a short GPU lease can measure.
    "mnist_100_gpu_quarter_hour": Row(
        "MNIST 100, paper-sized decoder, 15 GPU minutes",
        ("--preset=mnist_semi_gpu", "--set=train.time_budget_s=900",
         "--set=train.decay_fraction=0.4", "--set=train.eval_every=2000"),
        "error", (1.08, 0.15), "1 GPU, 15 min of training steps"),
    "svhn_500": Row("SVHN 500", ("--preset=svhn_semi", "--labels=500"), "error",
                    (10.47, 1.80), "GPU, 100k steps"),
    "svhn_1000": Row("SVHN 1000", ("--preset=svhn_semi", "--labels=1000"), "error",
                     (6.96, 0.55), "GPU, 100k steps"),
    "norb_1000": Row("NORB 1000", ("--preset=norb_semi", "--labels=1000"), "error",
                     (8.90, 1.0), "GPU, 100k steps"),
}


@dataclasses.dataclass(frozen=True)
class Figure:
  """A qualitative experiment: a run and which of its sample grids shows the point.

  Attributes:
    flags: `launch/main.py` flags of the run, without --workdir.
    grid: the name of the sample grid (see `train.sample_grids`).
    caption: what the figure shows.
  """
  flags: Tuple[str, ...]
  grid: str
  caption: str


FIGURES: Dict[str, Figure] = {
    "global_local": Figure(
        ("--preset=mnist_gaussian",), "samples_per_code",
        "Gaussian prior: each row keeps the code of one validation image and redraws the "
        "PixelCNN; the code fixes the global shape, the PixelCNN the local strokes."),
    "style_content": Figure(
        ("--preset=mnist_cluster",), "samples_per_category",
        "Categorical prior, 30 clusters, no labels: one row per cluster; the cluster fixes "
        "the content, the PixelCNN draws the style."),
    "classes": Figure(
        ("--preset=mnist_cpu_hour",), "samples_per_category",
        "Semi-supervised, 100 labels, one CPU hour: one row per class."),
    "baseline_pixelcnn": Figure(
        ("--preset=mnist_pixelcnn",), "samples",
        "Plain PixelCNN with the PixelGAN decoder's receptive field: sharp strokes, no "
        "global structure."),
    "baseline_aae": Figure(
        ("--preset=mnist_aae",), "inputs_and_means",
        "Adversarial autoencoder (factorized decoder, the same 8-dimensional Gaussian code): "
        "validation images above the decoder's mean image for their codes; global "
        "structure, blurry strokes."),
}


# The repository root: launch/main.py is run from there, whatever the caller's directory.
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def launch(arguments: Sequence[str], dry_run: bool = False, log: Optional[str] = None) -> int:
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


def launch_many(commands: Sequence[Sequence[str]], parallel: int = 1,
                dry_run: bool = False) -> List[int]:
  """Runs `launch`'s commands, up to `parallel` at once; returns their exit statuses in order.

  Small runs leave a GPU mostly idle, so several can share it (seven MNIST runs on one
  H100 kept it about 12 % busy at about 25 ms a step each, RESULTS.md). With
  `parallel` > 1 each run's output goes to `<its --workdir>.log`, not the terminal, where
  progress bars would interleave.
  """
  if parallel < 1:
    raise ValueError(f"parallel must be >= 1, got {parallel}.")
  if parallel == 1 or dry_run:
    return [launch(arguments, dry_run) for arguments in commands]
  logs = [_workdir(arguments) + ".log" for arguments in commands]
  with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
    return list(pool.map(lambda arguments, log: launch(arguments, log=log), commands, logs))


def _workdir(arguments: Sequence[str]) -> str:
  for argument in arguments:
    if argument.startswith("--workdir="):
      return argument.split("=", 1)[1]
  raise ValueError(f"No --workdir in {shlex.join(arguments)}: cannot name its log file.")


def run_directory(root: str, row: str, seed: int) -> str:
  return os.path.join(root, row, f"seed{seed}")


def command(row: str, seed: int, root: str, extra: Sequence[str] = ()) -> List[str]:
  """The `launch/main.py` arguments of one seed of one row."""
  if row not in ROWS:
    raise ValueError(f"Unknown row {row!r}; choose from {sorted(ROWS)}.")
  return ["launch/main.py", *ROWS[row].flags, f"--seed={seed}",
          f"--workdir={run_directory(root, row, seed)}", *extra]


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
_PER_RUN_FIELDS = ("data.seed", "data.data_dir",
                   # How a run was spread over devices and calls, not what it computes:
                   "train.strategy", "train.devices", "train.collective_timeout_s",
                   "train.slurm_port_base", "train.steps_per_execution")


def _flatten(tree: dict, prefix: str = "") -> Dict[str, object]:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict):
      flat.update(_flatten(value, f"{prefix}{key}."))
    else:
      flat[prefix + key] = value
  return flat


def _check_same_recipe(configs: Dict[str, dict]) -> None:
  """Raises ValueError naming the fields in which the seeds' config.json differ.

  A mean over seeds is only a mean of one recipe: a preset that changed between
  runs would otherwise be averaged with its old self. (Compared as plain JSON,
  leaf by leaf, not through `pixelgan_tf.config`: importing the package would
  load TensorFlow into every `run_table1` and `aggregate`.)
  """
  names = sorted(configs)
  first = _flatten(configs[names[0]]) if names else {}
  for name in names[1:]:
    other = _flatten(configs[name])
    fields = sorted(key for key in set(first) | set(other)
                    if key not in _PER_RUN_FIELDS and first.get(key) != other.get(key))
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


def markdown_table(root: str, rows: Sequence[str] = tuple(ROWS)) -> str:
  """Table 1 in markdown: our mean ± std (seeds) beside the paper's PixelGAN number."""
  lines = ["| row | paper (PixelGAN) | ours | seeds | steps | training h | budget |",
           "|---|---|---|---|---|---|---|"]
  for row in rows:
    spec = ROWS[row]
    paper = f"{spec.paper[0]:.2f} ± {spec.paper[1]:.2f}"
    result = collect(root, row)
    if result is None:
      lines.append(f"| {spec.column} | {paper} | not run | 0 | – | – | {spec.budget} |")
      continue
    hours = [h for h in result.train_hours if h is not None]
    # One seed has no spread to report.
    ours = (f"{result.mean:.2f} ± {result.std:.2f}" if len(result.errors) > 1
            else f"{result.mean:.2f} (one seed)")
    lines.append(
        f"| {spec.column} | {paper} | {ours} | "
        f"{len(result.errors)} | {_span(result.steps, '{:d}')} | "
        f"{_span(hours, '{:.2f}') if hours else '–'} | {spec.budget} |")
  return "\n".join(lines)


def _span(values, form: str) -> str:
  low, high = form.format(min(values)), form.format(max(values))
  return low if low == high else f"{low}–{high}"   # equal once rounded: one value


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
