"""Bit-for-bit repeatable runs (`train.deterministic`).

A seed fixes every random draw of a run (`pixelgan_tf.random`, the data
pipeline's seeds), but on a CPU two runs of one seed still part: TensorFlow's
multi-threaded kernels split their sums over threads in an order that varies
from run to run, and the adversarial game amplifies the last-digit
differences into points of test error (RESULTS.md, "Repeatable seeds"). One
intra-op thread removes that order; TensorFlow's op determinism does the same
for the GPU kernels that have a deterministic version and refuses the others.

Those two alone repeat a `mnist_semi` run for only about its first 100
steps (RESULTS.md, findings 49 and 50): the graph that TensorFlow's Grappler
rewrites the training step into gives one step, from one state on one batch,
one of two results that differ in the last digits, depending on the order in
which its ops happen to run. Without Grappler the step gives one result, and
the step is no slower on a CPU (bench/RESULTS.md), so repeatable runs turn
it off.
"""

import tensorflow as tf


def configure(deterministic: bool) -> None:
  """Makes this process's TensorFlow deterministic, or leaves it as it is.

  Call it before TensorFlow runs its first op: the thread pools are fixed
  when the runtime starts.

  Args:
    deterministic: `train.deterministic`; False changes nothing.

  Raises:
    ValueError: the runtime already started with other thread pools.
  """
  if not deterministic:
    return
  try:
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
  except RuntimeError as error:   # the runtime is up: its thread pools are final
    raise ValueError("train.deterministic=true needs one-thread pools, but TensorFlow's runtime "
                     "already started with its own: set it in a fresh process, before any "
                     "TensorFlow op (launch/main.py does).") from error
  tf.config.experimental.enable_op_determinism()
  # Functions traced from now on run as written, not as Grappler rewrites them.
  tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
