"""A finished (or paused) run, restored from its directory for analysis scripts."""

from typing import Tuple

from absl import flags
import numpy as np
import tensorflow as tf

from pixelgan_tf import data as data_lib
from pixelgan_tf import train
from pixelgan_tf.encoder import CATEGORICAL_LOGITS
from pixelgan_tf.priors import CATEGORICAL
from pixelgan_tf.run_directory import RunDirectory

# Shared by the analysis scripts, which tests import together (one absl registry).
WORKDIR = flags.DEFINE_string("workdir", None, "A run directory with a checkpoint.")


def load_run(workdir: str):
  """(model restored from the run's latest checkpoint, splits, config)."""
  run = RunDirectory(workdir)
  config = run.read_config()
  if config is None:
    raise ValueError(f"{workdir} holds no run (no config.json).")
  model = train.build_model(config)
  manager = tf.train.CheckpointManager(model.checkpoint(), run.checkpoints, max_to_keep=None)
  if train.restore_latest(model, manager) == 0:
    raise ValueError(f"{workdir} has no checkpoint; train first.")
  return model, data_lib.load_splits(config.data), config


def class_probabilities(model, images: np.ndarray, labels: np.ndarray, data_config) -> np.ndarray:
  """[N, K] class (or cluster) probabilities of the deterministic encoder, batch by batch."""
  return np.concatenate([model.classify(batch["images"]).numpy()
                         for batch in data_lib.eval_dataset(images, labels, data_config)])


def class_probabilities_and_logits(model, images: np.ndarray, labels: np.ndarray,
                                   data_config) -> Tuple[np.ndarray, np.ndarray]:
  """`class_probabilities` and the [N, K] logits behind them, from one encoder pass."""
  probabilities, logits = [], []
  for batch in data_lib.eval_dataset(images, labels, data_config):
    outputs = model.encoder_outputs(batch["images"])
    probabilities.append(outputs[CATEGORICAL].numpy())
    logits.append(outputs[CATEGORICAL_LOGITS].numpy())
  return np.concatenate(probabilities), np.concatenate(logits)
