r"""Trains, evaluates, samples or exports a PixelGAN autoencoder run.

  python launch/main.py --dataset=mnist --labels=100            # semi-supervised
  python launch/main.py --labels=0 --prior=categorical --categories=30   # clustering
  python launch/main.py --prior=gaussian                        # global / local
  python launch/main.py --model=pixelcnn                        # a baseline
  python launch/main.py --mode=eval --workdir=runs/mnist_semi   # or sample, export
  python launch/main.py --set=model.decoder.filters=48 --set=train.steps=5000
  python launch/main.py --strategy=multi_worker   # on every machine (TF_CONFIG, or srun)

Rerunning the same command on the same --workdir resumes from its latest
checkpoint; --set=train.warm_start=<run> starts a new --workdir from another
run's latest checkpoint, to change a knob such as a model.phases weight midway.
Without --preset, the preset follows the flags: mnist_gaussian for a Gaussian
prior, mnist_pixelcnn / mnist_aae for the baselines, mnist_cluster for a
categorical prior without labels, mnist_semi otherwise. The other flags
(--dataset, --labels, --prior, ...) each set one field of the preset, as
--set does, and nothing else; --set checks the value against the field's type
and choices.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import tensorflow as tf  # noqa: E402

from pixelgan_tf import config as config_lib  # noqa: E402
from pixelgan_tf import config_overrides  # noqa: E402
from pixelgan_tf import logs  # noqa: E402
from pixelgan_tf import train  # noqa: E402
from pixelgan_tf.data import DataError  # noqa: E402
from pixelgan_tf.distribute import WorkerLostError  # noqa: E402
from pixelgan_tf.run_directory import IncompatibleRunError  # noqa: E402

_MODE = flags.DEFINE_enum("mode", "train", ["train", "eval", "sample", "export"], "What to do.")
_PRESET = flags.DEFINE_enum("preset", None, sorted(config_lib.EXPERIMENTS),
                            "Experiment preset (default: chosen from the other flags).")
_WORKDIR = flags.DEFINE_string("workdir", None, "Run directory (default: runs/<preset>).")
# The shortcut flags: each sets the one field config_overrides.SHORTCUT_FIELDS names.
flags.DEFINE_enum("dataset", None, list(config_lib.DATASETS), "TFDS dataset.")
flags.DEFINE_string("data_dir", None, "TFDS data directory.")
flags.DEFINE_integer("labels", None, "Labelled training examples (0: none).", lower_bound=0)
flags.DEFINE_enum("prior", None, list(config_lib.PRIOR_KINDS), "Prior p(z).")
flags.DEFINE_integer("categories", None, "Categories of a categorical prior.")
flags.DEFINE_integer("dim", None, "Dimension of a Gaussian code.")
flags.DEFINE_enum("model", None, list(config_lib.MODEL_KINDS),
                  "pixelgan, or a baseline: pixelcnn, aae.")
flags.DEFINE_integer("steps", None, "Training steps.", lower_bound=1)
flags.DEFINE_integer("seed", None, "Seed of data subsets, shuffling and noise.")
flags.DEFINE_enum("strategy", None, list(config_lib.STRATEGIES),
                  "tf.distribute strategy: auto, one_device, mirrored (local GPUs, "
                  "or --set=train.devices=...), multi_worker (TF_CONFIG or SLURM).")
_SET = flags.DEFINE_multi_string("set", [], "Override any field, checked against its type and "
                                 "choices: --set=model.decoder.filters=48.")
_VERBOSE = flags.DEFINE_bool("verbose", False, "Also print TensorFlow's and TFDS's INFO logs.")


def resolve_flags() -> tuple:
  """Preset + flags -> (frozen ExperimentConfig, preset name)."""
  shortcuts = {name: flags.FLAGS[name].value for name in config_overrides.SHORTCUT_FIELDS
               if flags.FLAGS[name].value is not None}
  return config_overrides.from_command_line(_PRESET.value, shortcuts, _SET.value)


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
