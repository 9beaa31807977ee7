"""Datasets: offline MNIST preparation, TFDS loading and tf.data pipelines."""

from pixelgan_tf.data.errors import DataError
from pixelgan_tf.data.idx import read_idx, read_mnist, verify_checksums
from pixelgan_tf.data.pipeline import (Splits, eval_dataset, is_prepared, labeled_positions,
                                       load_splits, prepare_command, resizes, train_dataset)
from pixelgan_tf.data.prepare import prepare_mnist
