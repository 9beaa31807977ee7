r"""Where two runs of one config part: digests of the weights every few steps.

  python -m experiments.weight_digests --preset=mnist_semi --labels=100 --steps=200 \
      --every=10 --data_dir=/tmp/tfds --workdir=/tmp/a > a.jsonl   # and again into b.jsonl
  python -m experiments.weight_digests --compare=a.jsonl,b.jsonl

Each line is one step: a short SHA-1 of each sub-network's weights and of each
phase optimizer's state. `train.deterministic` is on, so two processes given
the same flags should print the same lines; `--compare` names the last step at
which they agree and the parts that differ first. `--materialize` feeds the
first `--steps` batches from memory instead of the live input pipeline, which
tells the pipeline's threads apart from the step's own arithmetic (RESULTS.md,
findings 49 and 50).
"""

import hashlib
import json
import sys
from typing import Dict, List, Sequence

from absl import app, flags
import keras
import numpy as np
import tensorflow as tf

from pixelgan_tf import config_overrides, distribute, train
from pixelgan_tf.callbacks import completed_steps
from pixelgan_tf.data import DataError
from pixelgan_tf.run_directory import IncompatibleRunError


def _define_flags() -> None:
  """The script's flags, defined only when it runs, so that tests can import it beside
  the other scripts (one absl registry, and `workdir`, `data_dir`... are theirs too)."""
  flags.DEFINE_string("preset", "mnist_semi", "Experiment preset.")
  flags.DEFINE_integer("labels", None, "data.labels (default: the preset's).")
  flags.DEFINE_integer("steps", 200, "Steps to train.", lower_bound=1)
  flags.DEFINE_integer("every", 10, "Steps between digests (train.steps_per_execution is "
                       "set to it).", lower_bound=1)
  flags.DEFINE_string("data_dir", None, "TFDS data directory.")
  flags.DEFINE_string("workdir", None, "A new run directory.")
  flags.DEFINE_multi_string("set", [], "More field=value overrides.")
  flags.DEFINE_bool("materialize", False, "Compute the batches ahead and feed them from "
                    "memory.")
  flags.DEFINE_list("compare", None, "Two files of digests to compare instead.")


def digest(arrays) -> str:
  """The first 8 hex digits of the SHA-1 of the arrays' bytes, in order."""
  h = hashlib.sha1()
  for array in arrays:
    h.update(array.tobytes())
  return h.hexdigest()[:8]


def first_difference(a: Sequence[Dict[str, str]], b: Sequence[Dict[str, str]]) -> dict:
  """{'last_equal': step or None, 'first_unequal': step or None, 'parts': [names]}."""
  last_equal = None
  for x, y in zip(a, b):
    if x["step"] != y["step"]:
      raise ValueError(f"The two files digest different steps ({x['step']} and {y['step']}).")
    parts = sorted(k for k in x if k != "step" and x[k] != y.get(k))
    if parts:
      return {"last_equal": last_equal, "first_unequal": x["step"], "parts": parts}
    last_equal = x["step"]
  return {"last_equal": last_equal, "first_unequal": None, "parts": []}


def experiment_config(preset: str, labels, steps: int, every: int, data_dir, sets: List[str]):
  """The run to trace: `preset` with `sets`, repeatable, a digest every `every` steps."""
  shortcuts = {name: value for name, value in
               {"labels": labels, "data_dir": data_dir, "steps": steps}.items()
               if value is not None}
  sets = ["train.deterministic=true", f"train.eval_every={steps}",
          f"train.steps_per_execution={every}", f"train.log_every={every}",
          "train.diagnose_every=0", *sets]
  return config_overrides.from_command_line(preset, shortcuts, sets)[0]


def trace(config, workdir: str, materialize: bool, out=sys.stdout) -> None:
  """Trains `config` in the new run directory `workdir`, writing a line of digests
  every `train.steps_per_execution` steps to `out`."""
  opened = train.open_run(config, workdir)
  steps = config.train.steps
  model = opened.model
  dataset = distribute.distribute_train_dataset(model.distribute_strategy, opened.splits,
                                                opened.config.data)
  if materialize:
    batches = list(dataset.take(steps))
    dataset = tf.data.Dataset.from_tensor_slices(
        {key: np.stack([b[key].numpy() for b in batches]) for key in batches[0]})
  parts = {"encoder": model.encoder, "decoder": model.decoder,
           **{f"discriminator/{name}": d for name, d in model.discriminators.items()}}
  values = lambda variables: [keras.ops.convert_to_numpy(v) for v in variables]

  class Digests(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
      line = {"step": completed_steps(model)}
      line.update({name: digest(values(part.weights)) for name, part in parts.items()})
      line.update({f"optimizer/{phase}": digest(values(optimizer.variables))
                   for phase, optimizer in model.phase_optimizers.items()})
      out.write(json.dumps(line) + "\n")
      out.flush()

  model.fit(dataset, epochs=1, steps_per_epoch=steps,
            callbacks=[Digests()], verbose=0, shuffle=False)


def _read(path: str) -> List[Dict[str, str]]:
  with open(path) as f:
    return [json.loads(line) for line in f if line.startswith("{")]


def main(argv):
  del argv
  options = flags.FLAGS
  if options.compare:
    if len(options.compare) != 2:
      sys.exit(f"error: --compare takes two files, got {len(options.compare)}.")
    print(json.dumps(first_difference(*(_read(path) for path in options.compare))))
    return
  if not options.workdir:
    sys.exit("error: --workdir is required (a new run directory).")
  if options.steps % options.every:
    sys.exit(f"error: --steps={options.steps} is not a multiple of --every={options.every}.")
  try:
    config = experiment_config(options.preset, options.labels, options.steps, options.every,
                               options.data_dir, options.set)
    trace(config, options.workdir, options.materialize)
  except (ValueError, DataError, IncompatibleRunError) as error:
    sys.exit(f"error: {error}")


if __name__ == "__main__":
  _define_flags()
  app.run(main)
