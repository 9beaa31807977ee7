"""Prepares TFDS's `mnist` offline from the original IDX files.

TFDS's registered `mnist` builder downloads the four gzip files and checks
them against its registered checksums. Our copies (in `shared/data/mnist`)
hold the original IDX bytes in re-compressed gzip wrappers, so that check
would fail; instead we verify them against our own `SHA256SUMS`, parse them,
and let TFDS write them with `tfds.dataset_builders.store_as_tfds_dataset`
(the supported way to store tf.data datasets as a TFDS dataset;
`TfDataBuilder` is its deprecated alias in TFDS 4.9).

The result is read by the registered builder (`tfds.load("mnist",
data_dir=..., download=False)`), because a registered builder finds its data
by name and version alone: `<data_dir>/mnist/3.0.1/` with `dataset_info.json`,
`features.json` and the `mnist-{train,test}.tfrecord-*` shards. We write
exactly that name, version and feature spec. Examples are keyed by their
index in the IDX files as the registered builder keys them, and TFDS shuffles
by hashing the key with the split name, so the stored order is the one
`tfds.load` gives after a normal download.

Interrupted preparations leave nothing that looks prepared: TFDS writes into
`<data_dir>/mnist/incomplete.<random>_3.0.1/` and renames it to `3.0.1` only
after the last file is written (it deletes that directory on an exception; a
killed process leaves it behind, harmless, under a name TFDS never reads).
"""

import json
import os
from typing import Dict, Optional

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from pixelgan_tf.data import idx
from pixelgan_tf.data.errors import DataError
from pixelgan_tf.run_directory import write_json_atomically

NAME = "mnist"
VERSION = "3.0.1"
_SPLITS = ("train", "test")


def mnist_features() -> tfds.features.FeaturesDict:
  """The feature spec of TFDS's own `mnist` (image [28, 28, 1] uint8, label of 10 classes)."""
  return tfds.features.FeaturesDict({
      "image": tfds.features.Image(shape=(28, 28, 1)),
      "label": tfds.features.ClassLabel(num_classes=idx.MNIST_CLASSES),
  })


def _split_datasets(arrays: Dict[str, np.ndarray],
                    max_examples: Optional[int]) -> Dict[str, tf.data.Dataset]:
  """One tf.data dataset of {'image', 'label'} examples per split, in file order."""
  datasets = {}
  for split in _SPLITS:
    images = arrays[f"{split}_images"][:max_examples]
    labels = arrays[f"{split}_labels"][:max_examples]
    datasets[split] = tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})
  return datasets


def prepare_mnist(source_dir: str, data_dir: str,
                  max_examples_per_split: Optional[int] = None) -> str:
  """Writes TFDS's `mnist` (version 3.0.1, splits train and test) into `data_dir`.

  Does nothing if `data_dir` already holds a prepared `mnist` 3.0.1 (whatever
  its size): delete `<data_dir>/mnist/3.0.1` to prepare it again.

  Args:
    source_dir: directory with the four original IDX .gz files and `SHA256SUMS`.
    data_dir: the TFDS data directory to write into.
    max_examples_per_split: keep only the first N examples of each split (for
      fast tests); None keeps all 60000 / 10000.

  Returns:
    The dataset's directory, `<data_dir>/mnist/3.0.1`.

  Raises:
    DataError: naming the file that is missing, fails its checksum or is
      malformed; nothing is written in that case.
  """
  if max_examples_per_split is not None and max_examples_per_split < 1:
    raise DataError(f"max_examples_per_split must be positive, got {max_examples_per_split}.")
  data_dir = os.path.abspath(os.path.expanduser(data_dir))
  existing = tfds.builder(f"{NAME}:{VERSION}", data_dir=data_dir)
  if existing.is_prepared():
    return os.fspath(existing.data_dir)
  # Everything that can fail on bad input happens before TFDS writes a byte.
  idx.verify_checksums(source_dir, required=idx.MNIST_FILES.values())
  arrays = idx.read_mnist(source_dir)
  registered = existing.info
  builder = tfds.dataset_builders.store_as_tfds_dataset(
      name=NAME,
      version=VERSION,
      features=mnist_features(),
      split_datasets=_split_datasets(arrays, max_examples_per_split),
      data_dir=data_dir,
      description=registered.description,
      homepage=registered.homepage,
      citation=registered.citation,
  )
  _adopt_registered_metadata(os.fspath(builder.data_dir), registered)
  return os.fspath(builder.data_dir)


# The dataset_info.json fields that the registered builder compares with its
# own code on every load (it logs each difference).
_COMPARED_FIELDS = ("description", "citation", "supervisedKeys", "moduleName")


def _adopt_registered_metadata(dataset_dir: str, registered: tfds.core.DatasetInfo) -> None:
  """Makes the stored metadata the registered builder's own, so loads agree with the code.

  `store_as_tfds_dataset` records its ad hoc builder's module and no
  supervised keys; the registered `mnist` builder then finds its info "differs
  on disk and in the code" at every load.
  """
  path = os.path.join(dataset_dir, "dataset_info.json")
  with tf.io.gfile.GFile(path) as f:
    stored = json.load(f)
  code = json.loads(registered.as_json)
  for field in _COMPARED_FIELDS:
    if field in code:
      stored[field] = code[field]
  write_json_atomically(path, stored)
