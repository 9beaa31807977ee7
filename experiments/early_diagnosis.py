r"""Tabulates and plots the code diagnostics of a row's seeds over their first steps.

  python -m experiments.early_diagnosis \
      --row_dirs=results/cpu_1k_steps_diagnosed/mnist_20 \
      --png=docs/figures/early_diagnosis_mnist_20.png

Each `seed*/diagnostics.jsonl` under a --row_dirs entry (written by runs with
`--set=train.diagnose_every=N`, see `pixelgan_tf.diagnostics`) is one line per
seed in each panel: the validation error, the error of the best naming of the
categories (what the classes' separation alone allows), the code's mean
entropy and the discriminator's accuracy. The table printed has one row per
seed and measured step.
"""

import glob
import os
import sys
from typing import Dict, List, Sequence

from absl import app, flags

from pixelgan_tf import diagnostics

_ROW_DIRS = flags.DEFINE_list("row_dirs", None, "Row directories holding seed*/diagnostics.jsonl.")
_PNG = flags.DEFINE_string("png", None, "PNG file to write (no figure if unset).")
_AT_STEPS = flags.DEFINE_list("at_steps", [], "Only these steps in the table (default: all).")

# (record key, panel title, scale to % or not)
PANELS = (("validation/error", "validation error (%)", 100.0),
          ("validation/separation_error", "error of the best naming of the categories (%)", 100.0),
          ("validation/entropy", "mean code entropy (nats)", 1.0),
          ("discriminator_accuracy", "discriminator accuracy (%)", 100.0))


def read_row(row_dir: str) -> Dict[str, List[dict]]:
  """{seed directory name: its diagnostics records in step order}."""
  runs = {}
  for path in sorted(glob.glob(os.path.join(row_dir, "seed*", diagnostics.DIAGNOSTICS_FILE))):
    runs[os.path.basename(os.path.dirname(path))] = diagnostics.read_diagnostics(
        os.path.dirname(path))
  if not runs:
    raise FileNotFoundError(f"No seed*/{diagnostics.DIAGNOSTICS_FILE} under {row_dir!r}.")
  return runs


def table(rows: Dict[str, Dict[str, List[dict]]], steps: Sequence[int] = ()) -> str:
  """A markdown table: one line per row, seed and step."""
  lines = ["| run | seed | step | error % | best-naming error % | entropy | confident % "
           "| categories used | disc. acc. % | labelled error % |",
           "|---|---|---|---|---|---|---|---|---|---|"]
  percent = lambda value: "–" if value is None else f"{100 * value:.1f}"
  for row_dir, runs in rows.items():
    for seed, records in runs.items():
      for record in records:
        if steps and record["step"] not in steps:
          continue
        entropy = record.get("validation/entropy")
        lines.append(
            f"| {row_dir} | {seed[4:]} | {record['step']} "
            f"| {percent(record.get('validation/error'))} "
            f"| {percent(record.get('validation/separation_error'))} "
            f"| {'–' if entropy is None else f'{entropy:.2f}'} "
            f"| {percent(record.get('validation/confident'))} "
            f"| {record.get('validation/categories_used', '–')} "
            f"| {percent(record.get('discriminator_accuracy'))} "
            f"| {percent(record.get('labeled/error'))} |")
  return "\n".join(lines)


def plot(rows: Dict[str, Dict[str, List[dict]]], out: str) -> None:
  """Writes a 2x2 PNG, one panel per entry of PANELS, one line per row and seed."""
  try:
    import matplotlib
  except ImportError as error:
    raise ImportError("Plotting needs matplotlib: pip install matplotlib") from error
  matplotlib.use("Agg")   # files only: no display on servers and CI
  from matplotlib import pyplot

  figure, axes = pyplot.subplots(2, 2, figsize=(10, 7), dpi=110)
  styles = ("-", "--", ":", "-.")
  for (key, title, scale), axis in zip(PANELS, axes.flat):
    for style, (row_dir, runs) in zip(styles, rows.items()):
      for color, (seed, records) in enumerate(runs.items()):
        points = [(r["step"], scale * r[key]) for r in records if key in r]
        if points:
          axis.plot(*zip(*points), style, color=f"C{color}", marker=".",
                    label=f"{os.path.basename(os.path.dirname(row_dir.rstrip('/')))} {seed}")
    axis.set_title(title, fontsize=10)
    axis.set_xlabel("training step")
    axis.grid(alpha=0.3)
  axes.flat[0].legend(fontsize=7)
  figure.tight_layout()
  os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
  figure.savefig(out)
  pyplot.close(figure)


def main(argv):
  del argv
  if not _ROW_DIRS.value:
    sys.exit("error: --row_dirs is required.")
  try:
    rows = {row_dir: read_row(row_dir) for row_dir in _ROW_DIRS.value}
    steps = [int(step) for step in _AT_STEPS.value]
  except (FileNotFoundError, ValueError) as error:
    sys.exit(f"error: {error}")
  print(table(rows, steps))
  if _PNG.value:
    plot(rows, _PNG.value)
    print(f"wrote {_PNG.value}")


if __name__ == "__main__":
  app.run(main)
