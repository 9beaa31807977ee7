"""What the categorical code is doing, measured cheaply every few hundred steps.

A semi-supervised or clustering run decides early which category each digit
falls into. These measurements show when: how sure the encoder is of each
image's category (the code becoming one-hot), how evenly the categories are
used, how well the categories separate the classes whatever their names
(`separation_error`), whether they carry the right names (`error`), and how
well the discriminator tells the codes from the prior's one-hot samples.
`experiments/early_diagnosis.py` tabulates and plots them across seeds.
"""

import json
import os
from typing import Dict

import keras
import numpy as np
import tensorflow as tf

from pixelgan_tf import data as data_lib
from pixelgan_tf import evaluation, losses, random
from pixelgan_tf.callbacks import completed_steps

DIAGNOSTICS_FILE = "diagnostics.jsonl"


def entropy(probabilities: np.ndarray) -> np.ndarray:
  """Entropy in nats of each row of [..., K] probabilities -> [...]."""
  p = np.clip(probabilities, 1e-12, 1.0)
  return -np.sum(p * np.log(p), axis=-1)


def code_statistics(probabilities: np.ndarray, labels: np.ndarray) -> Dict[str, object]:
  """How confident, balanced and class-aligned a categorical code is.

  Args:
    probabilities: [N, K] q(y | x) of N images under the deterministic encoder.
    labels: [N] their classes.

  Returns:
    dict of floats: 'entropy' (mean per-image entropy, nats; 0 is one-hot),
    'confident' (fraction of images whose top category has p > 0.9),
    'usage_entropy' (entropy of the mean of the rows; log K is uniform use),
    'categories_used' (categories that win at least 1 % of the images),
    'separation_error' (error when each category is named by the commonest
    class among the images it wins: what the categories' impurity alone
    costs) and, when K equals the number of classes, 'error' (the categories
    read as classes, the semi-supervised prediction) and 'confusion' ([K, K]
    counts, rows the classes, columns the winning categories).
  """
  winners = np.argmax(probabilities, axis=-1)
  categories = probabilities.shape[-1]
  share = np.bincount(winners, minlength=categories) / len(winners)
  separation = evaluation.majority_cluster_labels(probabilities, labels,
                                                  fallback=np.zeros(categories, np.int64))
  result = {
      "entropy": float(np.mean(entropy(probabilities))),
      "confident": float(np.mean(np.max(probabilities, axis=-1) > 0.9)),
      "usage_entropy": float(entropy(np.mean(probabilities, axis=0))),
      "categories_used": int(np.sum(share >= 0.01)),
      "separation_error": evaluation.clustering_error(probabilities, labels, separation),
  }
  classes = int(labels.max()) + 1
  if categories == classes:
    result["error"] = float(evaluation.classification_error(probabilities, labels))
    confusion = np.zeros((classes, categories), np.int64)
    np.add.at(confusion, (labels, winners), 1)
    result["confusion"] = confusion.tolist()
  return result


class CodeDiagnostics(keras.callbacks.Callback):
  """Every `every` steps, and once before the first, appends the code's statistics to
  `<run>/diagnostics.jsonl`.

  One JSON object per line: the step, `code_statistics` of a fixed set of
  validation images (prefixed 'validation/'), the same of the labelled
  training images ('labeled/', semi-supervised runs), and the discriminator's
  accuracy on those validation codes (with the encoder's noise) against as
  many prior samples ('discriminator_accuracy'). Costs one encoder pass and
  one discriminator pass over `images` images.

  Args:
    model: a `PixelGANAutoencoder` with a categorical code.
    splits: the run's `data.Splits`.
    data_config: the run's resolved `DataConfig` (how pixels are binarized).
    directory: where to write (the chief's run directory), or None to skip.
    every: steps between measurements; a multiple of steps_per_execution.
    images: validation images to measure (the first ones, fixed for the run).
  """

  def __init__(self, model, splits, data_config, directory, every: int, images: int = 2000):
    super().__init__()
    self._model, self._every = model, every
    self._path = os.path.join(directory, DIAGNOSTICS_FILE) if directory else None
    self._validation = _pixels(splits.validation_images[:images],
                               splits.validation_labels[:images], data_config)
    self._labeled = _pixels(splits.labeled_images, splits.labeled_labels, data_config)

  def _probabilities(self, images: np.ndarray) -> np.ndarray:
    batches = [self._model.classify(images[i:i + 500]).numpy()
               for i in range(0, len(images), 500)]
    return np.concatenate(batches)

  def _discriminator_accuracy(self, images: np.ndarray, step: int) -> float:
    model = self._model
    seed = tf.constant([step, 7], tf.int32)
    outputs = model.encoder_outputs(images, random.split(seed, 0))
    samples = model.prior.sample(len(images), random.split(seed, 1))
    accuracy = [losses.discriminator_accuracy(discriminator(samples[name]),
                                              discriminator(outputs[name]))
                for name, discriminator in sorted(model.discriminators.items())]
    return float(np.mean([a.numpy() for a in accuracy]))

  def measure(self, step: int) -> dict:
    """The record of this step (also what the callback writes)."""
    images, labels = self._validation
    record = {"step": step}
    stats = code_statistics(self._probabilities(images), labels)
    record.update({f"validation/{k}": v for k, v in stats.items()})
    if len(self._labeled[1]):
      stats = code_statistics(self._probabilities(self._labeled[0]), self._labeled[1])
      record.update({f"labeled/{k}": v for k, v in stats.items() if k != "confusion"})
    if self._model.discriminators:
      record["discriminator_accuracy"] = self._discriminator_accuracy(images[:1000], step)
    return record

  def _write(self, step: int) -> None:
    with open(self._path, "a") as stream:
      stream.write(json.dumps(self.measure(step)) + "\n")

  def on_train_begin(self, logs=None):
    # The initial weights' code, before any step: what the first steps start from.
    if self._path is not None and completed_steps(self._model) == 0:
      self._write(0)

  def on_train_batch_end(self, batch, logs=None):
    step = completed_steps(self._model)
    if step % self._every or self._path is None:
      return
    self._write(step)


def _pixels(images: np.ndarray, labels: np.ndarray, data_config):
  """(float32 [N, H, W, C] pixels as evaluation sees them, int [N] labels)."""
  if not len(labels):
    return images.astype(np.float32), labels
  batches = list(data_lib.eval_dataset(images, labels, data_config).as_numpy_iterator())
  return (np.concatenate([b["images"] for b in batches]),
          np.concatenate([b["labels"] for b in batches]))


def read_diagnostics(run_directory: str) -> list:
  """The records of a run's diagnostics.jsonl, in step order, the last of each step kept."""
  path = os.path.join(run_directory, DIAGNOSTICS_FILE)
  by_step = {}
  with open(path) as stream:
    for line in stream:
      if line.strip():
        record = json.loads(line)
        by_step[record["step"]] = record   # a resumed run measures a step again
  return [by_step[step] for step in sorted(by_step)]
