r"""Time of one training step per phase of the PixelGAN autoencoder.

Builds a model preset, then times each phase (reconstruction, discriminator,
generator, supervised) as its own compiled function, and the whole
`train_step` as Keras runs it, at batch 100 (the labelled batch also 100).
Prints a markdown table of milliseconds per step.

  python bench/phase_times.py                          # mnist_semi, XLA off
  python bench/phase_times.py --preset=mnist_cluster --xla=on
"""

import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from pixelgan_tf import MODEL_PRESETS, PixelGANAutoencoder  # noqa: E402

_PRESET = flags.DEFINE_enum("preset", "mnist_semi", sorted(MODEL_PRESETS), "Model preset.")
_BATCH = flags.DEFINE_integer("batch_size", 100, "Images per step.")
_XLA = flags.DEFINE_enum("xla", "off", ["off", "on"], "Compile the phases with XLA.")
_SECONDS = flags.DEFINE_float("seconds", 10.0, "Timed seconds per phase (at least 3 steps).")


def time_ms(function, seconds: float) -> float:
  """Milliseconds per call, after two warm-up calls."""
  function()
  function()
  steps, start = 0, time.perf_counter()
  while steps < 3 or time.perf_counter() - start < seconds:
    tf.nest.map_structure(np.asarray, function())  # waits for the result
    steps += 1
  return 1000 * (time.perf_counter() - start) / steps


def main(argv):
  del argv
  preset = MODEL_PRESETS[_PRESET.value]
  # What train.resolve would take from the data: MNIST's images (unless the preset has its
  # own) and, for the semi-supervised preset, MNIST's ten classes.
  config = dataclasses.replace(preset, image_shape=preset.image_shape or (28, 28, 1),
                               num_classes=10 if _PRESET.value == "mnist_semi" else 0)
  model = PixelGANAutoencoder(config)
  jit = _XLA.value == "on"
  model.compile(jit_compile=jit)
  shape = (_BATCH.value,) + tuple(config.image_shape)
  images = tf.cast(tf.random.uniform(shape) < 0.2, tf.float32)
  labels = tf.random.uniform([_BATCH.value], maxval=max(config.num_classes, 1), dtype=tf.int32)

  phases = {"reconstruction": lambda: model.reconstruction_phase(images)}
  if model.discriminators:
    phases["discriminator"] = lambda: model.discriminator_phase(images)
    phases["generator"] = lambda: model.generator_phase(images)
  if config.num_classes:
    phases["supervised"] = lambda: model.supervised_phase(images, labels)
  batch = {"images": images}
  if config.num_classes:
    batch.update(labeled_images=images, labels=labels)

  print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
        f"preset {_PRESET.value}, batch {_BATCH.value}, XLA {_XLA.value}\n")
  print("| phase | ms / step |")
  print("|---|---|")
  for name, phase in phases.items():
    print(f"| {name} | {time_ms(tf.function(phase, jit_compile=jit), _SECONDS.value):.0f} |",
          flush=True)
  whole = time_ms(lambda: model.train_on_batch(batch, return_dict=True)["nll"], _SECONDS.value)
  print(f"| whole train_step (Keras) | {whole:.0f} |")


if __name__ == "__main__":
  app.run(main)
