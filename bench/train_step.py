r"""Milliseconds per step and images per second of an experiment preset's whole training step.

Builds the preset's model as training does (`train.build_model`: its
strategy, XLA setting, precision policy and `steps_per_execution`), then times
`fit` on an endless stream of batches of the preset's sizes: every phase,
the optimizers, the metrics and Keras' loop between steps. Without
--data_dir the stream repeats one random binary MNIST-shaped batch (the
host's input pipeline costs nothing); with it, the real pipeline of
`train_and_evaluate` feeds the steps.

  python bench/train_step.py                                   # mnist_semi as configured
  python bench/train_step.py --steps_per_execution=10 --xla=on
  python bench/train_step.py --mixed_precision=bfloat16 --data_dir=/tmp/tfds
  python bench/train_step.py --deterministic=true              # one thread, op determinism
"""

import os
import time
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from pixelgan_tf import config as config_lib  # noqa: E402
from pixelgan_tf import config_overrides  # noqa: E402
from pixelgan_tf import data as data_lib  # noqa: E402
from pixelgan_tf import determinism, distribute, train  # noqa: E402

_PRESET = flags.DEFINE_enum("preset", "mnist_semi", sorted(config_lib.EXPERIMENTS),
                            "Experiment preset.")
_STEPS_PER_EXECUTION = flags.DEFINE_integer("steps_per_execution", None,
                                            "Steps per compiled call (default: the preset's).")
_XLA = flags.DEFINE_enum("xla", None, ["auto", "on", "off"],
                         "XLA-compile the whole step (default: the preset's).")
_PRECISION = flags.DEFINE_enum("mixed_precision", None, ["off", "float16", "bfloat16"],
                               "Precision policy (default: the preset's).")
_DETERMINISTIC = flags.DEFINE_enum("deterministic", None, ["true", "false"],
                                   "train.deterministic (default: the preset's).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Feed the real pipeline from this TFDS "
                                "directory (default: one repeated random batch).")
_STEPS = flags.DEFINE_integer("steps", 200, "Timed steps per repeat.")
_REPEATS = flags.DEFINE_integer("repeats", 3, "Timed repeats; the best is reported.")


def _config() -> config_lib.ExperimentConfig:
  config = config_lib.experiment(_PRESET.value)
  overrides = {"train.steps_per_execution": _STEPS_PER_EXECUTION.value,
               "train.jit_compile": _XLA.value, "train.mixed_precision": _PRECISION.value,
               "train.deterministic": _DETERMINISTIC.value,
               "data.data_dir": _DATA_DIR.value}
  for path, value in overrides.items():
    if value is not None:
      config = config_overrides.override(config, path, str(value))
  return config


def _synthetic_stream(config: config_lib.ExperimentConfig) -> tf.data.Dataset:
  """One random binary batch of the preset's sizes, repeated for ever."""
  data = config.data
  shape = tuple(config.model.image_shape)
  images = lambda n: tf.cast(tf.random.stateless_uniform((n,) + shape, [0, 1]) < 0.2, tf.float32)
  batch = {"images": images(data.batch_size)}
  if config.model.num_classes:
    batch.update(labeled_images=images(data.labeled_batch_size),
                 labels=tf.zeros([data.labeled_batch_size], tf.int32))
  return tf.data.Dataset.from_tensors(batch).repeat()


def main(argv):
  del argv
  config = _config()
  train.validate(config)
  determinism.configure(config.train.deterministic)   # before the runtime starts
  strategy = distribute.make_strategy(config.train)
  if _DATA_DIR.value:
    splits = data_lib.load_splits(config.data)
  else:   # what `resolve` needs of the data, for MNIST-shaped presets
    splits = types.SimpleNamespace(num_classes=10, image_shape=(28, 28, 1))
  config = train.resolve(config, splits)
  model = train.build_model(config, strategy)
  if _DATA_DIR.value:
    dataset = distribute.distribute_train_dataset(strategy, splits, config.data)
  else:
    dataset = _synthetic_stream(config)
  per_call = config.train.steps_per_execution
  iterator_steps = max(per_call, _STEPS.value - _STEPS.value % per_call)
  model.fit(dataset, steps_per_epoch=iterator_steps, epochs=1, verbose=0)   # traces
  best = np.inf
  for _ in range(_REPEATS.value):
    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=iterator_steps, epochs=1, verbose=0)
    best = min(best, (time.perf_counter() - start) / iterator_steps)
  device = "GPU" if tf.config.list_logical_devices("GPU") else f"{os.cpu_count()} CPUs"
  print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {device}, "
        f"preset {_PRESET.value}, batch {config.data.batch_size} (+{config.data.labeled_batch_size}"
        f" labelled), steps_per_execution {config.train.steps_per_execution}, XLA "
        f"{config.train.jit_compile}, precision {config.train.mixed_precision}, "
        f"deterministic {config.train.deterministic}, "
        f"data {'pipeline' if _DATA_DIR.value else 'synthetic'}")
  print(f"{1000 * best:.2f} ms/step, {config.data.batch_size / best:.0f} images/s "
        f"(best of {_REPEATS.value} x {iterator_steps} steps)")


if __name__ == "__main__":
  app.run(main)
