"""A finished (or paused) run, restored from its directory for analysis scripts."""

import dataclasses
from typing import Optional, Tuple

from absl import flags
import numpy as np
import tensorflow as tf

from pixelgan_tf import data as data_lib
from pixelgan_tf import determinism, train
from pixelgan_tf.encoder import CATEGORICAL_LOGITS
from pixelgan_tf.priors import CATEGORICAL
from pixelgan_tf.run_directory import RunDirectory

# Shared by the analysis scripts, which tests import together (one absl registry).
WORKDIR = flags.DEFINE_string("workdir", None, "A run directory with a checkpoint.")
NOISE_DRAWS = flags.DEFINE_integer(
    "noise_draws", 0, "Also report the errors with q(z|x) averaged over this many draws of "
    "the encoder's noise, and how often a draw moves a test image to another category "
    "(0: only n = 0, the protocol's).", lower_bound=0)

# Data seeds of the extra binarization draws: far from the seeds runs are given.
_DRAW_SEED_STRIDE = 1_000_003


def load_run(workdir: str):
  """(model restored from the run's latest checkpoint, splits, config).

  A run trained with `train.deterministic` is analysed under the same
  one-thread pools, so that its reports repeat too; that needs a process
  whose TensorFlow runtime has not started (ValueError otherwise).
  """
  run = RunDirectory(workdir)
  config = run.read_config()
  if config is None:
    raise ValueError(f"{workdir} holds no run (no config.json).")
  determinism.configure(config.train.deterministic)   # before any op: it sets thread pools
  model = train.build_model(config)
  manager = tf.train.CheckpointManager(model.checkpoint(), run.checkpoints, max_to_keep=None)
  if train.restore_latest(model, manager) == 0:
    raise ValueError(f"{workdir} has no checkpoint; train first.")
  return model, data_lib.load_splits(config.data), config


def class_probabilities(model, images: np.ndarray, labels: np.ndarray, data_config,
                        noise_draw: Optional[int] = None) -> np.ndarray:
  """[N, K] class (or cluster) probabilities, batch by batch.

  Without `noise_draw` the encoder is deterministic (n = 0); with it, n is
  that numbered draw of the encoder's noise (one seed per draw and batch).
  """
  return class_probabilities_and_logits(model, images, labels, data_config, noise_draw)[0]


def class_probabilities_and_logits(model, images: np.ndarray, labels: np.ndarray, data_config,
                                   noise_draw: Optional[int] = None,
                                   batch_statistics: bool = False
                                   ) -> Tuple[np.ndarray, np.ndarray]:
  """`class_probabilities` and the [N, K] logits behind them, from one encoder pass.

  `batch_statistics` normalizes each evaluation batch (of `data_config.batch_size`)
  by its own statistics, as the training phases normalize theirs, instead of by
  the moving averages that evaluation uses; the moving averages are left as
  they were.
  """
  if not batch_statistics:
    return _probabilities_and_logits(model, images, labels, data_config, noise_draw)
  moving = model.encoder.non_trainable_variables
  kept = [variable.numpy() for variable in moving]
  try:
    return _probabilities_and_logits(model, images, labels, data_config, noise_draw,
                                     training=True)
  finally:
    # Training mode also moves the averages towards each batch's statistics.
    for variable, value in zip(moving, kept):
      variable.assign(value)


def _probabilities_and_logits(model, images, labels, data_config, noise_draw, training=False):
  probabilities, logits = [], []
  for index, batch in enumerate(data_lib.eval_dataset(images, labels, data_config)):
    seed = None if noise_draw is None else tf.constant([noise_draw, index], tf.int32)
    outputs = model.encoder_outputs(batch["images"], seed=seed, training=training)
    probabilities.append(outputs[CATEGORICAL].numpy())
    logits.append(outputs[CATEGORICAL_LOGITS].numpy())
  return np.concatenate(probabilities), np.concatenate(logits)


def binarization_config(data_config, draw: int):
  """The data config whose evaluation pixels are binarization number `draw` (0: the protocol's).

  A binarized image is one draw of 1-bits for its 0..255 intensities; the
  evaluation fixes one draw per image. Other draws come from other data seeds,
  which the evaluation uses for nothing else.
  """
  if draw < 0:
    raise ValueError(f"A binarization draw is a count from 0, got {draw}.")
  return dataclasses.replace(data_config, seed=data_config.seed + _DRAW_SEED_STRIDE * draw)


def mean_class_probabilities(model, images: np.ndarray, labels: np.ndarray, data_config,
                             draws: int, protocol_draw: Optional[np.ndarray] = None
                             ) -> np.ndarray:
  """[N, K] `class_probabilities` averaged over `draws` binarizations of each image.

  The average estimates q(z|x) of the image's intensities rather than of one
  binarization of it; draws=1 is `class_probabilities` itself.
  `protocol_draw`: the [N, K] probabilities of draw 0 where the caller has them
  already (the protocol's own), so that they are not computed again.
  """
  if draws < 1:
    raise ValueError(f"Average over at least one binarization, got {draws}.")
  if protocol_draw is None:
    protocol_draw = class_probabilities(model, images, labels, data_config)
  others = [class_probabilities(model, images, labels, binarization_config(data_config, d))
            for d in range(1, draws)]
  return np.mean([protocol_draw, *others], axis=0)


def noise_class_probabilities(model, images: np.ndarray, labels: np.ndarray, data_config,
                              draws: int) -> np.ndarray:
  """[draws, N, K] `class_probabilities` under `draws` draws of the encoder's noise.

  Their mean over the first axis estimates the implicit q(z|x) of the paper
  (Section 2: sampling it means evaluating f(x, n) for fresh n); an encoder
  that ignores its noise gives `draws` copies of the n = 0 probabilities.
  """
  if draws < 1:
    raise ValueError(f"Draw the noise at least once, got {draws}.")
  return np.stack([class_probabilities(model, images, labels, data_config, noise_draw=d)
                   for d in range(draws)])


def share_moved_by_noise(noisy: np.ndarray, deterministic: np.ndarray) -> float:
  """The share of (draw, image) pairs whose category differs from n = 0's.

  `noisy` [K, N, C] from `noise_class_probabilities`; `deterministic` [N, C] at n = 0.
  """
  return float(np.mean(noisy.argmax(-1) != deterministic.argmax(-1)))
