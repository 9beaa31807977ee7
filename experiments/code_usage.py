r"""How much the decoder uses the code: NLL with each image's own code vs. another's.

  python -m experiments.code_usage --workdir=runs/table1/mnist_100_cpu_hour/seed0

A PixelCNN decoder can model the images well on its own; the code helps it
only by what the receptive field cannot see. This measures that help on the
test split: the NLL under each image's own code (the deterministic encoder,
n = 0), under the code of another test image (the batch rolled by one: a
draw from the aggregated posterior), and, for a categorical code, under the
one-hot code of the argmax category. The gap between the first two, in nats
per image, is how much the decoder relies on the code: near 0 for a decoder
that ignores it. (It is not bounded by the code's entropy: a confident wrong
code can cost more than no code at all.)
"""

import sys

from absl import app, flags
import numpy as np
import tensorflow as tf

from experiments.trained_run import WORKDIR, load_run
from pixelgan_tf import data as data_lib
from pixelgan_tf import priors

_IMAGES = flags.DEFINE_integer("images", 10000, "Test images to measure on.")


def code_usage(model, batches) -> dict:
  """Mean NLL in nats per image under own, another image's and one-hot codes.

  Args:
    model: a `PixelGANAutoencoder` with a code.
    batches: an iterable of [B, H, W, C] image batches (B > 1) in data space.

  Returns:
    dict with 'own', 'other', 'gain' (other - own) and, for a categorical
    code, 'one_hot' (the argmax category's one-hot vector in place of the
    softmax).
  """
  if not model.has_code:
    raise ValueError("This model has no code whose use to measure.")

  @tf.function
  def nlls(images):
    outputs, code = model.encoder_outputs_and_code(images)
    own = -model.decoder.log_prob(images, code)
    other = -model.decoder.log_prob(images, tf.roll(code, shift=1, axis=0))
    if not model.can_classify:
      return own, other, tf.zeros_like(own)
    probabilities = outputs[priors.CATEGORICAL]
    one_hot = tf.one_hot(tf.argmax(probabilities, axis=-1), probabilities.shape[-1])
    hardened = dict(outputs, **{priors.CATEGORICAL: one_hot})
    return own, other, -model.decoder.log_prob(images, model.encoder.code(hardened))

  totals = []
  for images in batches:
    if images.shape[0] < 2:
      continue
    totals.append(np.stack([t.numpy() for t in nlls(images)], axis=-1))
  if not totals:
    raise ValueError("No batch of two or more images to measure on.")
  own, other, one_hot = np.concatenate(totals).mean(axis=0)
  result = {"own": float(own), "other": float(other), "gain": float(other - own)}
  if model.can_classify:
    result["one_hot"] = float(one_hot)
  return result


def main(argv):
  del argv
  try:
    model, splits, config = load_run(WORKDIR.value)
    count = _IMAGES.value
    batches = (batch["images"] for batch in data_lib.eval_dataset(
        splits.test_images[:count], splits.test_labels[:count], config.data))
    result = code_usage(model, batches)
  except (ValueError, OSError) as error:
    sys.exit(f"error: {error}")
  step = int(model.optimizer.iterations)
  print(f"step {step}, {min(count, len(splits.test_images))} test images, NLL in nats/image:")
  for name, value in result.items():
    print(f"  {name}: {value:.3f}")


if __name__ == "__main__":
  flags.mark_flag_as_required("workdir")
  app.run(main)
