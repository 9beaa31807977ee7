r"""Naive vs cached autoregressive sampling time.

Draws a batch of images from a decoder with fresh weights (speed does not
depend on training) twice: `sample_naive` (one full decoder pass per
sub-pixel) and `sample_cached` (the row / pixel caches), each inside a
`tf.function`, with XLA off and on, and prints seconds per batch and the ratio.
Compilation is excluded for the cached sampler (a warm-up call); the naive
sampler is timed once, its tracing included (small beside its run time).

  python bench/sampling.py                 # 28x28x1 (mnist_cpu) and 32x32x3
  python bench/sampling.py --shapes=28x28x1 --batch_size=100
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from pixelgan_tf import PixelCNNDecoder, decoder_preset  # noqa: E402
from pixelgan_tf.sampling import sample_cached, sample_naive  # noqa: E402

_SHAPES = flags.DEFINE_list("shapes", ["28x28x1", "32x32x3"], "Image shapes HxWxC.")
_BATCH = flags.DEFINE_list("batch_size", ["100", "20"], "Images per batch, one per shape.")
_XLA = flags.DEFINE_list("xla", ["off", "on"], "XLA settings.")

CODE_DIM = 10


def _decoder(shape):
  """mnist_cpu's architecture; 8-bit colour images take the logistic mixture."""
  likelihood = "bernoulli" if shape[-1] == 1 else "logistic_mixture"
  config = decoder_preset("mnist_cpu", likelihood=likelihood, conditioning="location_invariant")
  return PixelCNNDecoder.from_decoder_config(config, shape, conditioning_dim=CODE_DIM)


def _seconds(function, *args):
  start = time.perf_counter()
  np.asarray(function(*args))
  return time.perf_counter() - start


def main(argv):
  del argv
  print("| images | batch | XLA | naive s | cached s | cached / naive |")
  print("|---|---|---|---|---|---|")
  for shape_text, batch in zip(_SHAPES.value, _BATCH.value):
    shape = tuple(int(s) for s in shape_text.split("x"))
    batch = int(batch)
    decoder = _decoder(shape)
    code = tf.random.stateless_normal([batch, CODE_DIM], seed=[1, 2])
    seed = tf.constant([3, 4])
    for xla in _XLA.value:
      jit = xla == "on"
      cached = tf.function(sample_cached, jit_compile=jit)
      _seconds(cached, decoder, code, seed)          # compile
      cached_s = min(_seconds(cached, decoder, code, seed) for _ in range(2))
      naive_s = _seconds(tf.function(sample_naive, jit_compile=jit), decoder, code, seed)
      print(f"| {shape_text} | {batch} | {xla} | {naive_s:.1f} | {cached_s:.2f} "
            f"| 1/{naive_s / cached_s:.0f} |", flush=True)


if __name__ == "__main__":
  app.run(main)
