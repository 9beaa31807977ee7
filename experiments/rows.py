"""The paper's Table 1 rows, opt-in rows outside its protocol, and qualitative figures.

Each names a preset, field overrides and seeds.

A row is an experiment preset of `pixelgan_tf.config.EXPERIMENTS` with typed
field overrides; a run of row r with seed s lives in <root>/<r>/seed<s> and is
`launch/main.py --preset=<preset> --set=<field>=<value>... --seed=<s>`. Its
result is the final test error of results.json (the clustering error for
unsupervised rows), in %. (This module does not import `pixelgan_tf`, so that
run_table1 and aggregate do not load TensorFlow; tests/resolved_configs_test.py
checks every override against the config's types.)
"""

import dataclasses
import os
from typing import Dict, List, Mapping, Sequence, Tuple


@dataclasses.dataclass(frozen=True)
class Row:
  """One row of the table.

  Attributes:
    column: the paper's column header.
    preset: the experiment preset the row runs.
    metric: the test metric of results.json that the paper reports.
    paper: the paper's PixelGAN number, (mean, std) in %.
    budget: what the preset is sized for, in words.
    overrides: config fields the row sets on top of the preset, by dotted path.
    seeds: the seeds a full row runs.
    protocol: whether the row follows the paper's protocol. An opt-in recipe
      that changes the data or adds what the paper does not have is a row of
      its own with protocol False: RESULTS.md's Table 1 of a machine leaves it
      out, `experiments.aggregate` shows it below the protocol rows only where
      it has runs, and the paper's number beside it is a reference, not a
      like-for-like comparison.
  """
  column: str
  preset: str
  metric: str
  paper: Tuple[float, float]
  budget: str
  overrides: Mapping[str, object] = dataclasses.field(default_factory=dict)
  seeds: Tuple[int, ...] = (0, 1, 2)
  protocol: bool = True

  @property
  def flags(self) -> List[str]:
    """The `launch/main.py` flags of the row, without --seed and --workdir."""
    return preset_flags(self.preset, self.overrides)


# The deskewed recipe of the labelled rows (RESULTS.md, rounds forty-one and forty-two):
# every image stood upright, the labelled images shifted by up to a pixel, and the
# encoder of 5.1 M weights. Deskewing changes the data and the shift augments it, so
# its rows are outside the paper's protocol.
DESKEWED_SEMI_SUPERVISED = {
    "data.deskew": True, "model.phases.supervised_max_shift": 1,
    "model.encoder.filters": (64, 128, 256), "model.encoder.hidden_units": 1000}
_OUTSIDE = "deskewed, outside the protocol"


ROWS: Dict[str, Row] = {
    "mnist_unsupervised": Row("MNIST unsup. (30 clusters)", "mnist_cluster", "clustering_error",
                              (5.27, 1.81), "20k steps"),
    # The unsupervised preset for half an hour of training steps on the 2 CPU cores,
    # the rates decaying over its last 40 %.
    "mnist_unsupervised_cpu_half_hour": Row(
        "MNIST unsup., half a CPU hour", "mnist_cluster", "clustering_error", (5.27, 1.81),
        "2 CPU cores, 30 min of training steps",
        {"train.steps": 1_000_000, "train.time_budget_s": 1800.0, "train.decay_fraction": 0.4,
         "train.sample_every": 100}),
    "mnist_20": Row("MNIST 20", "mnist_semi", "error", (12.08, 5.50), "20k steps",
                    {"data.labels": 20}),
    "mnist_50": Row("MNIST 50", "mnist_semi", "error", (1.16, 0.17), "20k steps",
                    {"data.labels": 50}),
    "mnist_100": Row("MNIST 100", "mnist_semi", "error", (1.08, 0.15), "20k steps",
                     {"data.labels": 100}),
    "mnist_100_cpu_hour": Row("MNIST 100, one CPU hour", "mnist_cpu_hour", "error",
                              (1.08, 0.15), "2 CPU cores, 1 h of training steps"),
    "mnist_100_gpu": Row("MNIST 100, paper-sized decoder", "mnist_semi_gpu", "error",
                         (1.08, 0.15), "GPU, 100k steps"),
    # The paper-sized networks for a quarter of an hour of training steps on one GPU, the
    # rates decaying over its last 40 %: what a short GPU lease can measure.
    "mnist_100_gpu_quarter_hour": Row(
        "MNIST 100, paper-sized decoder, 15 GPU minutes", "mnist_semi_gpu", "error",
        (1.08, 0.15), "1 GPU, 15 min of training steps",
        {"train.time_budget_s": 900.0, "train.decay_fraction": 0.4, "train.eval_every": 2000}),
    "svhn_500": Row("SVHN 500", "svhn_semi", "error", (10.47, 1.80), "GPU, 100k steps",
                    {"data.labels": 500}),
    "svhn_1000": Row("SVHN 1000", "svhn_semi", "error", (6.96, 0.55), "GPU, 100k steps",
                     {"data.labels": 1000}),
    "norb_1000": Row("NORB 1000", "norb_semi", "error", (8.90, 1.0), "GPU, 100k steps",
                     {"data.labels": 1000}),
    "mnist_unsupervised_deskewed": Row(
        f"MNIST unsup. (30 clusters), {_OUTSIDE}", "mnist_cluster", "clustering_error",
        (5.27, 1.81), "20k steps", {"data.deskew": True}, protocol=False),
    "mnist_20_deskewed": Row(
        f"MNIST 20, {_OUTSIDE}", "mnist_semi", "error", (12.08, 5.50), "20k steps",
        {"data.labels": 20, **DESKEWED_SEMI_SUPERVISED}, protocol=False),
    "mnist_50_deskewed": Row(
        f"MNIST 50, {_OUTSIDE}", "mnist_semi", "error", (1.16, 0.17), "20k steps",
        {"data.labels": 50, **DESKEWED_SEMI_SUPERVISED}, protocol=False),
    "mnist_100_deskewed": Row(
        f"MNIST 100, {_OUTSIDE}", "mnist_semi", "error", (1.08, 0.15), "20k steps",
        {"data.labels": 100, **DESKEWED_SEMI_SUPERVISED}, protocol=False),
}
PROTOCOL_ROWS: List[str] = [name for name, row in ROWS.items() if row.protocol]


def rows_to_show(root: str) -> List[str]:
  """The protocol rows, then the opt-in rows that have runs under `root`."""
  return PROTOCOL_ROWS + [name for name, row in ROWS.items()
                          if not row.protocol and os.path.isdir(os.path.join(root, name))]


@dataclasses.dataclass(frozen=True)
class Figure:
  """A qualitative experiment: a run and which of its sample grids shows the point.

  Attributes:
    preset: the experiment preset of the run.
    grid: the name of the sample grid (see `train.sample_grids`).
    caption: what the figure shows.
    overrides: config fields the run sets on top of the preset, by dotted path.
  """
  preset: str
  grid: str
  caption: str
  overrides: Mapping[str, object] = dataclasses.field(default_factory=dict)

  @property
  def flags(self) -> List[str]:
    """The `launch/main.py` flags of the run, without --workdir."""
    return preset_flags(self.preset, self.overrides)


FIGURES: Dict[str, Figure] = {
    "global_local": Figure(
        "mnist_gaussian", "samples_per_code",
        "Gaussian prior: each row keeps the code of one validation image and redraws the "
        "PixelCNN; the code fixes the global shape, the PixelCNN the local strokes."),
    "style_content": Figure(
        "mnist_cluster", "samples_per_category",
        "Categorical prior, 30 clusters, no labels: one row per cluster; the cluster fixes "
        "the content, the PixelCNN draws the style."),
    "classes": Figure(
        "mnist_cpu_hour", "samples_per_category",
        "Semi-supervised, 100 labels, one CPU hour: one row per class."),
    "baseline_pixelcnn": Figure(
        "mnist_pixelcnn", "samples",
        "Plain PixelCNN with the PixelGAN decoder's receptive field: sharp strokes, no "
        "global structure."),
    "baseline_aae": Figure(
        "mnist_aae", "inputs_and_means",
        "Adversarial autoencoder (factorized decoder, the same 8-dimensional Gaussian code): "
        "validation images above the decoder's mean image for their codes; global "
        "structure, blurry strokes."),
}


def preset_flags(preset: str, overrides: Mapping[str, object]) -> List[str]:
  """`launch/main.py` flags that select `preset` and set each override with --set."""
  return [f"--preset={preset}",
          *(f"--set={path}={flag_text(value)}" for path, value in overrides.items())]


def flag_text(value) -> str:
  """A field value as `pixelgan_tf.config_overrides.override` parses it back."""
  if value is None:
    return "none"
  if isinstance(value, bool):
    return "true" if value else "false"
  if isinstance(value, tuple):
    return ",".join(flag_text(item) for item in value)
  return str(value)


def run_directory(root: str, row: str, seed: int) -> str:
  """Where seed `seed` of `row` runs under `root`."""
  return os.path.join(root, row, f"seed{seed}")


def command(row: str, seed: int, root: str, extra: Sequence[str] = ()) -> List[str]:
  """The `launch/main.py` arguments of one seed of one row."""
  if row not in ROWS:
    raise ValueError(f"Unknown row {row!r}; choose from {sorted(ROWS)}.")
  return ["launch/main.py", *ROWS[row].flags, f"--seed={seed}",
          f"--workdir={run_directory(root, row, seed)}", *extra]
