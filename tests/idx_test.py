"""Tests of the IDX reader and checksum verification: valid files, each corruption, real MNIST."""

import gzip
import hashlib
import pathlib
import struct

import numpy as np
import pytest

from pixelgan_tf.data import DataError, idx

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def _idx_bytes(array, type_code=0x08):
  header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
  return header + struct.pack(f">{array.ndim}i", *array.shape) + array.astype(np.uint8).tobytes()


def _write(path, content, compress=True):
  path.write_bytes(gzip.compress(content) if compress else content)
  return str(path)


def _write_checksums(directory, names):
  lines = [f"{hashlib.sha256((directory / n).read_bytes()).hexdigest()}  {n}\n" for n in names]
  (directory / idx.CHECKSUMS_FILE).write_text("".join(lines))


def _images(n=3):
  return np.arange(n * 4 * 5, dtype=np.uint8).reshape(n, 4, 5)


@pytest.mark.parametrize("compress", [True, False])
def test_reads_images_and_labels(tmp_path, compress):
  images = _images()
  labels = np.array([7, 0, 9], np.uint8)
  np.testing.assert_array_equal(
      idx.read_idx(_write(tmp_path / "images", _idx_bytes(images), compress)), images)
  read = idx.read_idx(_write(tmp_path / "labels", _idx_bytes(labels), compress))
  np.testing.assert_array_equal(read, labels)
  assert read.dtype == np.uint8
  read[0] = 1  # writable, unlike a view of the file's bytes


CORRUPTIONS = {
    "bad_magic": (lambda b: b"\x01\x00" + b[2:], "bad magic"),
    "empty": (lambda b: b"", "bad magic"),
    "unsupported_type": (lambda b: b[:2] + b"\x0d" + b[3:], "unsupported IDX type code 0x0d"),
    "truncated_header": (lambda b: b[:9], "truncated"),
    "truncated_values": (lambda b: b[:-1], "truncated"),
    "trailing_bytes": (lambda b: b + b"\x00\x00", "2 trailing bytes"),
}


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
@pytest.mark.parametrize("compress", [True, False])
def test_corrupt_idx_raises_naming_the_file(tmp_path, name, compress):
  corrupt, message = CORRUPTIONS[name]
  path = _write(tmp_path / f"{name}.idx", corrupt(_idx_bytes(_images())), compress)
  with pytest.raises(DataError, match=message) as error:
    idx.read_idx(path)
  assert path in str(error.value)


@pytest.mark.parametrize("corrupt", [
    lambda gz: gz[:len(gz) // 2],                                  # cut short
    lambda gz: gz[:12] + bytes(b ^ 0xFF for b in gz[12:-8]) + gz[-8:],  # scrambled stream
], ids=["cut_short", "scrambled"])
def test_corrupt_gzip_raises_naming_the_file(tmp_path, corrupt):
  path = tmp_path / "images.gz"
  path.write_bytes(corrupt(gzip.compress(_idx_bytes(_images(50)))))
  with pytest.raises(DataError, match="Corrupt gzip stream") as error:
    idx.read_idx(str(path))
  assert str(path) in str(error.value)


def test_missing_file_raises_naming_it(tmp_path):
  with pytest.raises(DataError, match="Cannot read .*absent.gz"):
    idx.read_idx(str(tmp_path / "absent.gz"))


def test_checksums_pass_for_intact_files(tmp_path):
  _write(tmp_path / "a.gz", _idx_bytes(_images()))
  _write(tmp_path / "b.gz", _idx_bytes(np.zeros([3], np.uint8)))
  _write_checksums(tmp_path, ["a.gz", "b.gz"])
  idx.verify_checksums(str(tmp_path), required=["a.gz"])


def test_checksum_mismatch_names_the_file(tmp_path):
  _write(tmp_path / "a.gz", _idx_bytes(_images()))
  _write_checksums(tmp_path, ["a.gz"])
  (tmp_path / "a.gz").write_bytes((tmp_path / "a.gz").read_bytes()[:-3])
  with pytest.raises(DataError, match=r"Checksum mismatch for .*a\.gz"):
    idx.verify_checksums(str(tmp_path))


def test_missing_listed_file_names_it(tmp_path):
  _write(tmp_path / "a.gz", _idx_bytes(_images()))
  _write_checksums(tmp_path, ["a.gz"])
  (tmp_path / "a.gz").unlink()
  with pytest.raises(DataError, match=r"Missing file .*a\.gz"):
    idx.verify_checksums(str(tmp_path))


def test_missing_checksum_file(tmp_path):
  with pytest.raises(DataError, match="Missing checksum file .*SHA256SUMS"):
    idx.verify_checksums(str(tmp_path))


def test_unlisted_required_file(tmp_path):
  _write(tmp_path / "a.gz", _idx_bytes(_images()))
  _write_checksums(tmp_path, ["a.gz"])
  with pytest.raises(DataError, match="does not list b.gz"):
    idx.verify_checksums(str(tmp_path), required=["b.gz"])


def test_malformed_checksum_line(tmp_path):
  (tmp_path / idx.CHECKSUMS_FILE).write_text("not-a-digest a.gz\n")
  with pytest.raises(DataError, match="line 1"):
    idx.verify_checksums(str(tmp_path))


def _write_mnist(directory, train_images, train_labels):
  files = idx.MNIST_FILES
  _write(directory / files["train_images"], _idx_bytes(train_images))
  _write(directory / files["train_labels"], _idx_bytes(train_labels))
  _write(directory / files["test_images"], _idx_bytes(train_images[:2]))
  _write(directory / files["test_labels"], _idx_bytes(train_labels[:2]))


def test_read_mnist_adds_channel_axis_and_int64_labels(tmp_path):
  _write_mnist(tmp_path, _images(), np.array([1, 2, 3], np.uint8))
  arrays = idx.read_mnist(str(tmp_path))
  assert arrays["train_images"].shape == (3, 4, 5, 1)
  assert arrays["train_labels"].dtype == np.int64
  assert arrays["test_images"].shape == (2, 4, 5, 1)


def test_read_mnist_rejects_disagreeing_counts(tmp_path):
  _write_mnist(tmp_path, _images(), np.array([1, 2], np.uint8))
  with pytest.raises(DataError, match="has 3 images but .*train-labels-idx1-ubyte.gz has 2 labels"):
    idx.read_mnist(str(tmp_path))


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} is absent")
def test_shared_mnist_files():
  idx.verify_checksums(str(SHARED_MNIST), required=idx.MNIST_FILES.values())
  arrays = idx.read_mnist(str(SHARED_MNIST))
  assert arrays["train_images"].shape == (60000, 28, 28, 1)
  assert arrays["test_images"].shape == (10000, 28, 28, 1)
  assert arrays["train_images"].dtype == np.uint8
  assert np.bincount(arrays["train_labels"]).tolist() == MNIST_TRAIN_LABEL_COUNTS
  assert len(arrays["test_labels"]) == 10000


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
