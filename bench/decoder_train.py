r"""Training-step speed of the PixelCNN decoder presets against this machine's matmul.

Times forward + backward + Adam at batch 100 on MNIST-shaped input (28x28x1)
for each decoder preset, with XLA on and off, and prints a markdown table:
images/s, useful FLOPs per image (every weight that exists, no masked-out
ones; element-wise gates not counted), achieved GFLOP/s, the best dense fp32
matmul GFLOP/s (1024^2 or 2048^2) measured just before and after each row, and
the ratio of the two.

  python bench/decoder_train.py                       # every preset
  python bench/decoder_train.py --presets=mnist_cpu --overrides=filters=48
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from pixelgan_tf import DECODER_PRESETS, PixelCNNDecoder, decoder_preset  # noqa: E402

_PRESETS = flags.DEFINE_list("presets", sorted(set(DECODER_PRESETS) - {"tiny"}),
                             "Decoder presets to time.")
_OVERRIDES = flags.DEFINE_list("overrides", [], "field=int overrides, e.g. filters=48.")
_BATCH = flags.DEFINE_integer("batch_size", 100, "Images per step.")
_XLA = flags.DEFINE_list("xla", ["off", "on"], "XLA settings to try.")
_SECONDS = flags.DEFINE_float("seconds", 20.0, "Timed seconds per row (at least 2 steps).")

IMAGE_SHAPE = (28, 28, 1)


def matmul_gflops(sizes=(1024, 2048), seconds: float = 1.0) -> float:
  """The best achieved fp32 GFLOP/s of dense square matmuls of these sizes."""
  return max(_matmul_gflops(size, seconds) for size in sizes)


def _matmul_gflops(size: int, seconds: float) -> float:
  a = tf.random.normal([size, size])
  matmul = tf.function(lambda: tf.matmul(a, a))
  matmul().numpy()
  steps, start = 0, time.perf_counter()
  while time.perf_counter() - start < seconds:
    matmul().numpy()
    steps += 1
  return 2 * size**3 * steps / (time.perf_counter() - start) / 1e9


def training_flops_per_image(decoder: PixelCNNDecoder) -> int:
  """Forward, weight gradient and input gradient: 3x the forward FLOPs, less
  the stem's input gradient, which training never computes (the images are data)."""
  channels = decoder.image_shape[-1]
  stem_macs = decoder.image_shape[0] * decoder.image_shape[1] * (
      decoder.vertical_stem.macs_per_position(channels + 1)
      + decoder.horizontal_stem.macs_per_position(channels + 1))
  return 2 * (3 * decoder.macs_per_image() - stem_macs)


def time_training(decoder: PixelCNNDecoder, jit_compile: bool, batch_size: int,
                  seconds: float) -> float:
  """Images per second of forward + backward + Adam."""
  high = 2 if decoder.likelihood == "bernoulli" else 256
  images = tf.cast(tf.random.uniform((batch_size,) + IMAGE_SHAPE, 0, high, tf.int32),
                   tf.float32)
  decoder(images[:1])
  optimizer = keras.optimizers.Adam(1e-3)
  optimizer.build(decoder.trainable_variables)

  @tf.function(jit_compile=jit_compile)
  def step():
    with tf.GradientTape() as tape:
      loss = -tf.reduce_mean(decoder.log_prob(images))
    optimizer.apply(tape.gradient(loss, decoder.trainable_variables),
                    decoder.trainable_variables)
    return loss

  step().numpy()
  step().numpy()  # compile and warm up
  steps, start = 0, time.perf_counter()
  while steps < 2 or time.perf_counter() - start < seconds:
    step().numpy()
    steps += 1
  return batch_size * steps / (time.perf_counter() - start)


def main(argv):
  del argv
  overrides = {k: int(v) for k, v in (item.split("=") for item in _OVERRIDES.value)}
  print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"{os.cpu_count()} CPUs, batch {_BATCH.value}, images {IMAGE_SHAPE}\n")
  print("| preset | layers x filters | likelihood | XLA | images/s | MFLOP/image "
        "| GFLOP/s | matmul GFLOP/s | ratio |")
  print("|---|---|---|---|---|---|---|---|---|")
  for name in _PRESETS.value:
    config = decoder_preset(name, **overrides)
    for xla in _XLA.value:
      keras.utils.clear_session()
      decoder = PixelCNNDecoder.from_decoder_config(config, IMAGE_SHAPE)
      flops = training_flops_per_image(decoder)
      reference = matmul_gflops()
      images_per_second = time_training(decoder, xla == "on", _BATCH.value,
                                        _SECONDS.value)
      reference = (reference + matmul_gflops()) / 2
      achieved = flops * images_per_second / 1e9
      print(f"| {name} | {config.num_layers} x {config.filters} | {config.likelihood} "
            f"| {xla} | {images_per_second:.0f} | {flops / 1e6:.0f} | {achieved:.0f} "
            f"| {reference:.0f} | {achieved / reference:.2f} |", flush=True)


if __name__ == "__main__":
  app.run(main)
