r"""Trains, evaluates, samples or exports a PixelGAN autoencoder run.

  python launch/main.py --dataset=mnist --labels=100            # semi-supervised
  python launch/main.py --labels=0 --prior=categorical --categories=30   # clustering
  python launch/main.py --prior=gaussian                        # global / local
  python launch/main.py --model=pixelcnn                        # a baseline
  python launch/main.py --mode=eval --workdir=runs/mnist_semi   # or sample, export
  python launch/main.py --set=model.decoder.filters=48 --set=train.steps=5000
  python launch/main.py --strategy=multi_worker   # on every machine (TF_CONFIG, or srun)

Rerunning the same command on the same --workdir resumes from its latest
checkpoint. Without --preset, the preset follows the flags: mnist_gaussian for
a Gaussian prior, mnist_pixelcnn / mnist_aae for the baselines, mnist_cluster
for a categorical prior without labels, mnist_semi otherwise.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import tensorflow as tf  # noqa: E402

from pixelgan_tf import config as config_lib  # noqa: E402
from pixelgan_tf import logs  # noqa: E402
from pixelgan_tf import train  # noqa: E402
from pixelgan_tf.data import DataError  # noqa: E402
from pixelgan_tf.distribute import WorkerLostError  # noqa: E402
from pixelgan_tf.run_directory import IncompatibleRunError  # noqa: E402

_MODE = flags.DEFINE_enum("mode", "train", ["train", "eval", "sample", "export"], "What to do.")
_PRESET = flags.DEFINE_enum("preset", None, sorted(config_lib.EXPERIMENTS),
                            "Experiment preset (default: chosen from the other flags).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory (default: runs/<preset>).")
_DATASET = flags.DEFINE_enum("dataset", None, list(config_lib.DATASETS), "TFDS dataset.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")
_LABELS = flags.DEFINE_integer("labels", None, "Labelled training examples (0: none).",
                               lower_bound=0)
_PRIOR = flags.DEFINE_enum("prior", None, list(config_lib.PRIOR_KINDS), "Prior p(z).")
_CATEGORIES = flags.DEFINE_integer("categories", None, "Categories of a categorical prior.")
_DIM = flags.DEFINE_integer("dim", None, "Dimension of a Gaussian code.")
_MODEL = flags.DEFINE_enum("model", None, list(config_lib.MODEL_KINDS),
                           "pixelgan, or a baseline: pixelcnn, aae.")
_STEPS = flags.DEFINE_integer("steps", None, "Training steps.", lower_bound=1)
_SEED = flags.DEFINE_integer("seed", None, "Seed of data subsets, shuffling and noise.")
_STRATEGY = flags.DEFINE_enum("strategy", None, list(config_lib.STRATEGIES),
                              "tf.distribute strategy: auto, one_device, mirrored (local GPUs, "
                              "or --set=train.devices=...), multi_worker (TF_CONFIG or SLURM).")
_SET = flags.DEFINE_multi_string("set", [], "Override any field: --set=model.decoder.filters=48.")
_VERBOSE = flags.DEFINE_bool("verbose", False, "Also print TensorFlow's and TFDS's INFO logs.")


def _default_preset() -> str:
  if _MODEL.value == "pixelcnn":
    return "mnist_pixelcnn"
  if _MODEL.value == "aae":
    return "mnist_aae"
  if _PRIOR.value in ("gaussian", "mixture_of_gaussians"):
    return "mnist_gaussian"
  if _LABELS.value == 0:
    return "mnist_cluster"
  return "mnist_semi"


def resolve_flags() -> tuple:
  """Preset + flags -> (frozen ExperimentConfig, preset name)."""
  preset = _PRESET.value or _default_preset()
  config = config_lib.experiment(preset)
  overrides = {
      "data.dataset": _DATASET.value, "data.data_dir": _DATA_DIR.value,
      "data.labels": _LABELS.value, "model.prior.kind": _PRIOR.value,
      "model.prior.categories": _CATEGORIES.value, "model.prior.dim": _DIM.value,
      "model.kind": _MODEL.value, "train.steps": _STEPS.value, "data.seed": _SEED.value,
      "train.strategy": _STRATEGY.value,
  }
  for path, value in overrides.items():
    if value is not None:
      config = config_lib.override(config, path, str(value))
  if _PRIOR.value in ("gaussian", "mixture_of_gaussians") and config.model.prior.dim < 1:
    config = config_lib.override(config, "model.prior.dim", "8")
  for item in _SET.value:
    path, sep, value = item.partition("=")
    if not sep:
      raise ValueError(f"--set takes field=value, got {item!r}.")
    config = config_lib.override(config, path.strip(), value.strip())
  return config, preset


def main(argv):
  del argv
  if not _VERBOSE.value:
    tf.get_logger().setLevel("ERROR")  # TensorFlow's INFO lines drown the run's own
    logs.show_only_own_info()
  try:
    config, preset = resolve_flags()
    workdir = _WORKDIR.value or os.path.join("runs", preset)
    if _MODE.value == "train":
      results = train.train_and_evaluate(config, workdir)
    elif _MODE.value == "eval":
      results = train.evaluate(config, workdir)
    elif _MODE.value == "sample":
      results = train.sample(config, workdir)
    else:
      results = train.export(config, workdir)
  except (ValueError, DataError, IncompatibleRunError, train.TrainingDivergedError,
          WorkerLostError) as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(1)
  print(f"{_MODE.value} done: {workdir}\n{results}")


if __name__ == "__main__":
  app.run(main)
