"""The IDX file format of the original MNIST files, and their checksums.

An IDX file is two zero bytes, a type code (0x08: unsigned bytes), the number
of dimensions, one big-endian int32 per dimension, then the values in C
order. The files are usually gzip-compressed; `read_idx` reads both.
"""

import gzip
import hashlib
import os
import zlib
from typing import Dict, Iterable

import numpy as np

from pixelgan_tf.data.errors import DataError

CHECKSUMS_FILE = "SHA256SUMS"
_GZIP_MAGIC = b"\x1f\x8b"
_UINT8 = 0x08

# The four original files, by the key `read_mnist` returns them under.
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
MNIST_CLASSES = 10


def _sha256(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def _read_checksums(source_dir: str) -> Dict[str, str]:
  """Parses `SHA256SUMS` (`<hex>  <name>` lines, as sha256sum writes) into {name: hex}."""
  path = os.path.join(source_dir, CHECKSUMS_FILE)
  if not os.path.isfile(path):
    raise DataError(f"Missing checksum file {path}: cannot verify the files in {source_dir}.")
  expected = {}
  with open(path) as f:
    for number, line in enumerate(f, start=1):
      if not line.strip():
        continue
      parts = line.split(maxsplit=1)
      if len(parts) != 2 or len(parts[0]) != 64:
        raise DataError(f"{path}, line {number}: expected '<sha256 hex>  <file name>', "
                        f"got {line.rstrip()!r}.")
      # sha256sum marks binary-mode entries with a leading '*'.
      expected[parts[1].strip().lstrip("*")] = parts[0].lower()
  if not expected:
    raise DataError(f"Checksum file {path} lists no files.")
  return expected


def verify_checksums(source_dir: str, required: Iterable[str] = ()) -> None:
  """Checks every file listed in `source_dir/SHA256SUMS` against its sha256.

  Args:
    source_dir: directory holding `SHA256SUMS` and the files it lists.
    required: file names that must be among those listed (so that a file we
      read is never one that went unverified).

  Raises:
    DataError: naming the file that is missing, unlisted or does not match.
  """
  expected = _read_checksums(source_dir)
  for name in required:
    if name not in expected:
      raise DataError(f"{os.path.join(source_dir, CHECKSUMS_FILE)} does not list {name}.")
  for name, digest in sorted(expected.items()):
    path = os.path.join(source_dir, name)
    if not os.path.isfile(path):
      raise DataError(f"Missing file {path} (listed in {CHECKSUMS_FILE}).")
    actual = _sha256(path)
    if actual != digest:
      raise DataError(f"Checksum mismatch for {path}: sha256 is {actual}, "
                      f"{CHECKSUMS_FILE} says {digest}. The file is corrupt or was replaced.")


def _read_bytes(path: str) -> bytes:
  """The file's bytes, decompressed if it starts with the gzip magic number."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise DataError(f"Cannot read {path}: {e.strerror or e}.") from e
  if not data.startswith(_GZIP_MAGIC):
    return data
  try:
    return gzip.decompress(data)
  except (OSError, EOFError, zlib.error) as e:
    raise DataError(f"Corrupt gzip stream in {path}: {e}.") from e


def read_idx(path: str) -> np.ndarray:
  """Reads a gzip-compressed or plain IDX file of unsigned bytes.

  Args:
    path: the file.

  Returns:
    A writable uint8 array of the shape the header gives, e.g. [60000, 28, 28]
    for MNIST's training images, [60000] for its labels.

  Raises:
    DataError: naming the file, for a bad magic number, a type other than
      unsigned bytes, a corrupt gzip stream, or fewer or more value bytes than
      the dimensions say.
  """
  data = _read_bytes(path)
  if len(data) < 4 or data[:2] != b"\x00\x00":
    raise DataError(f"{path} is not an IDX file: bad magic number {data[:4].hex() or '(empty)'}.")
  type_code, ndim = data[2], data[3]
  if type_code != _UINT8:
    raise DataError(f"{path}: unsupported IDX type code 0x{type_code:02x}; "
                    f"only 0x{_UINT8:02x} (unsigned bytes) is supported.")
  if ndim < 1:
    raise DataError(f"{path}: IDX header declares no dimensions.")
  offset = 4 + 4 * ndim
  if len(data) < offset:
    raise DataError(f"{path} is truncated: its header needs {offset} bytes, "
                    f"the file has {len(data)}.")
  shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
  expected = int(np.prod(shape))
  actual = len(data) - offset
  if actual < expected:
    raise DataError(f"{path} is truncated: dimensions {shape} need {expected} bytes of "
                    f"values, the file has {actual}.")
  if actual > expected:
    raise DataError(f"{path} has {actual - expected} trailing bytes after the {expected} "
                    f"that dimensions {shape} need.")
  return np.frombuffer(data, np.uint8, offset=offset).reshape(shape).copy()


def _read_pair(source_dir: str, split: str) -> Dict[str, np.ndarray]:
  """Images [N, 28, 28, 1] uint8 and labels [N] int64 of one split, checked to agree."""
  images_path = os.path.join(source_dir, MNIST_FILES[f"{split}_images"])
  labels_path = os.path.join(source_dir, MNIST_FILES[f"{split}_labels"])
  images, labels = read_idx(images_path), read_idx(labels_path)
  if images.ndim != 3:
    raise DataError(f"{images_path}: expected [N, height, width] images, got shape "
                    f"{images.shape}.")
  if labels.ndim != 1:
    raise DataError(f"{labels_path}: expected [N] labels, got shape {labels.shape}.")
  if len(images) != len(labels):
    raise DataError(f"{images_path} has {len(images)} images but {labels_path} has "
                    f"{len(labels)} labels.")
  if labels.size and labels.max() >= MNIST_CLASSES:
    raise DataError(f"{labels_path}: label {labels.max()} is not a digit 0-9.")
  return {f"{split}_images": images[..., np.newaxis], f"{split}_labels": labels.astype(np.int64)}


def read_mnist(source_dir: str) -> Dict[str, np.ndarray]:
  """Reads the four original MNIST files (names in `MNIST_FILES`) from `source_dir`.

  Checksums are not verified here; see `verify_checksums`.

  Returns:
    {'train_images': [60000, 28, 28, 1] uint8, 'train_labels': [60000] int64,
     'test_images': [10000, 28, 28, 1] uint8, 'test_labels': [10000] int64}.

  Raises:
    DataError: naming the file that is missing or malformed, or the pair whose
      image and label counts disagree.
  """
  return {**_read_pair(source_dir, "train"), **_read_pair(source_dir, "test")}
