"""Table 1 as markdown: our mean ± std over seeds beside the paper's PixelGAN number."""

from typing import Sequence

from experiments.rows import PROTOCOL_ROWS, ROWS
from experiments.seed_statistics import collect


def markdown_table(root: str, rows: Sequence[str] = tuple(PROTOCOL_ROWS)) -> str:
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
