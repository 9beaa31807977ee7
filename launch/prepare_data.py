"""Prepares a TFDS dataset offline: `python launch/prepare_data.py --data_dir=DIR`.

Only mnist can be prepared without internet access, from the original IDX
files in `shared/data/mnist`; TFDS downloads the other datasets itself on
first use on a machine with internet access.
"""

import os
import sys

from absl import app
from absl import flags
import tensorflow_datasets as tfds

from pixelgan_tf.config import DATASETS
from pixelgan_tf.data import DataError, is_prepared, prepare_command, prepare_mnist

# The default source is found from the repository root, not the working directory.
_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_DEFAULT_SOURCE = os.path.normpath(os.path.join(_REPO, "..", "shared", "data", "mnist"))

_DATASET = flags.DEFINE_enum("dataset", "mnist", DATASETS, "The TFDS dataset to prepare.")
_SOURCE = flags.DEFINE_string(
    "source", _DEFAULT_SOURCE,
    "Directory of the original MNIST IDX .gz files and their SHA256SUMS "
    "(default: ../shared/data/mnist next to the repository).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory (default: TFDS's own).")
_MAX_EXAMPLES = flags.DEFINE_integer(
    "max_examples_per_split", None, "Keep only the first N examples of each split (for tests).",
    lower_bound=1)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
  data_dir = _DATA_DIR.value or tfds.core.constants.DATA_DIR
  if _DATASET.value != "mnist":
    print(f"{_DATASET.value} cannot be prepared offline: TFDS downloads it on first use on a "
          f"machine with internet access (or run: {prepare_command(_DATASET.value, data_dir)}).")
    return
  try:
    if is_prepared("mnist", data_dir):
      print(f"mnist is already prepared in {data_dir}; nothing to do.")
      return
    path = prepare_mnist(_SOURCE.value, data_dir, _MAX_EXAMPLES.value)
  except DataError as e:
    print(f"prepare_data.py: error: {e}", file=sys.stderr)
    sys.exit(1)
  print(f"Prepared mnist in {path}")


if __name__ == "__main__":
  app.run(main)
