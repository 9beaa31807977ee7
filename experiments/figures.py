r"""The paper's qualitative figures as PNGs: trains the runs they need, then samples them.

  python -m experiments.figures --out=docs/figures --extra=--steps=3000
  python -m experiments.figures --figures=global_local,style_content --notrain

Runs live in <root>/<figure>; rerunning resumes unfinished ones. Each figure is
a sample grid of its run's latest checkpoint (`launch/main.py --mode=sample`),
copied to <out>/<figure>.png.
"""

import glob
import os
import shlex
import shutil
import sys

from absl import app, flags

from experiments import launcher, rows

_FIGURES = flags.DEFINE_list("figures", list(rows.FIGURES), "Figures to make.")
_ROOT = flags.DEFINE_string("root", "runs/figures", "Directory of the figures' runs.")
_OUT = flags.DEFINE_string("out", "docs/figures", "Directory of the PNGs.")
_EXTRA = flags.DEFINE_multi_string("extra", [], "More launch/main.py flags for every run.")
_TRAIN = flags.DEFINE_bool("train", True, "Train (or resume) the runs first.")

def _main_py(*arguments) -> None:
  if launcher.run_python(["launch/main.py", *arguments]):
    raise RuntimeError(f"launch/main.py {shlex.join(arguments)} failed.")


def make_figure(name: str, root: str, out: str, extra=(), train: bool = True) -> str:
  """Trains (optionally) and samples the figure's run; returns the PNG's path."""
  figure = rows.FIGURES[name]
  workdir = os.path.join(root, name)
  arguments = [*figure.flags, f"--workdir={workdir}", *extra]
  if train:
    _main_py(*arguments)
  _main_py("--mode=sample", *arguments)
  grids = glob.glob(os.path.join(workdir, "samples", f"{figure.grid}_step*.png"))
  if not grids:
    raise RuntimeError(f"{workdir} has no {figure.grid} grid.")
  latest = max(grids, key=lambda p: int(p.rsplit("_step", 1)[1][:-len(".png")]))
  os.makedirs(out, exist_ok=True)
  target = os.path.join(out, f"{name}.png")
  shutil.copyfile(latest, target)
  return target


def main(argv):
  del argv
  unknown = sorted(set(_FIGURES.value) - set(rows.FIGURES))
  if unknown:
    sys.exit(f"error: unknown figures {unknown}; choose from {sorted(rows.FIGURES)}.")
  try:
    for name in _FIGURES.value:
      path = make_figure(name, _ROOT.value, _OUT.value, _EXTRA.value, _TRAIN.value)
      print(f"{path}: {rows.FIGURES[name].caption}")
  except RuntimeError as error:
    sys.exit(f"error: {error}")


if __name__ == "__main__":
  app.run(main)
