"""Tests of launch/prepare_data.py and prepare_mnist: a small prepared MNIST, corrupt sources."""

import logging
import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from pixelgan_tf.data import DataError, is_prepared, prepare, prepare_mnist
from pixelgan_tf.data.idx import CHECKSUMS_FILE, MNIST_FILES

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"

pytestmark = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} is absent")


def _run(*args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  return subprocess.run([sys.executable, "launch/prepare_data.py", *args], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=120)


def _copy_source(tmp_path):
  source = tmp_path / "source"
  shutil.copytree(SHARED_MNIST, source)
  for path in source.iterdir():
    path.chmod(0o644)  # the shared copies are read-only
  return source


def test_prepares_a_dataset_tfds_loads(tmp_path):
  data_dir = tmp_path / "tfds"
  result = _run(f"--data_dir={data_dir}", "--max_examples_per_split=100")
  assert result.returncode == 0, result.stderr
  assert f"Prepared mnist in {data_dir}/mnist/3.0.1" in result.stdout
  train = tfds.as_numpy(tfds.load("mnist", split="train", data_dir=str(data_dir),
                                  download=False, batch_size=-1))
  assert train["image"].shape == (100, 28, 28, 1)


def _corrupt_train_labels(tmp_path, update_checksums):
  """A source copy whose train labels are cut short; its corrupt file."""
  source = _copy_source(tmp_path)
  corrupt = source / MNIST_FILES["train_labels"]
  corrupt.write_bytes(corrupt.read_bytes()[:1000])
  if update_checksums:
    sums = subprocess.run(["sha256sum", *MNIST_FILES.values()], cwd=source, check=True,
                          capture_output=True, text=True).stdout
    (source / CHECKSUMS_FILE).write_text(sums)
  return source, corrupt


def test_corrupt_source_exits_1_naming_the_file(tmp_path):
  source, corrupt = _corrupt_train_labels(tmp_path, update_checksums=False)
  data_dir = tmp_path / "tfds"
  result = _run(f"--source={source}", f"--data_dir={data_dir}", "--max_examples_per_split=100")
  assert result.returncode == 1
  assert "Checksum mismatch for" in result.stderr and str(corrupt) in result.stderr
  assert "Traceback" not in result.stderr
  assert not is_prepared("mnist", str(data_dir))
  assert not (data_dir / "mnist").exists()


def test_a_corrupt_gzip_stream_is_an_error_naming_the_file(tmp_path):
  # The script turns any DataError into its exit status 1 (the test above).
  source, corrupt = _corrupt_train_labels(tmp_path, update_checksums=True)
  data_dir = tmp_path / "tfds"
  with pytest.raises(DataError, match=re.escape(f"Corrupt gzip stream in {corrupt}")):
    prepare_mnist(str(source), str(data_dir), max_examples_per_split=100)
  assert not is_prepared("mnist", str(data_dir))
  assert not (data_dir / "mnist").exists()


def test_a_file_missing_from_the_checksums_is_refused_before_it_is_read(tmp_path):
  source = _copy_source(tmp_path)
  corrupt = source / MNIST_FILES["test_labels"]
  corrupt.write_bytes(b"not an IDX file")
  sums = (source / CHECKSUMS_FILE).read_text().splitlines()
  (source / CHECKSUMS_FILE).write_text(
      "".join(f"{line}\n" for line in sums if corrupt.name not in line))
  with pytest.raises(DataError, match=f"{CHECKSUMS_FILE} does not list {corrupt.name}"):
    prepare_mnist(str(source), str(tmp_path / "tfds"), max_examples_per_split=20)
  assert not (tmp_path / "tfds" / "mnist").exists()


def test_prepare_mnist_keeps_an_existing_dataset(tmp_path):
  path = prepare_mnist(str(SHARED_MNIST), str(tmp_path), max_examples_per_split=20)
  assert path == str(tmp_path / "mnist" / "3.0.1")
  info = (tmp_path / "mnist" / "3.0.1" / "dataset_info.json").stat().st_mtime_ns
  assert prepare_mnist(str(SHARED_MNIST), str(tmp_path), max_examples_per_split=30) == path
  assert (tmp_path / "mnist" / "3.0.1" / "dataset_info.json").stat().st_mtime_ns == info


def test_prepare_mnist_rejects_a_non_positive_limit(tmp_path):
  with pytest.raises(DataError, match="max_examples_per_split must be positive"):
    prepare_mnist(str(SHARED_MNIST), str(tmp_path), max_examples_per_split=0)


def test_failed_write_leaves_nothing_prepared(tmp_path, monkeypatch):
  """TFDS writes into an incomplete.* directory and renames it only on success."""
  def failing_splits(arrays, max_examples):
    datasets = {"train": tf.data.Dataset.from_tensor_slices(
        {"image": arrays["train_images"][:10], "label": arrays["train_labels"][:10]})}
    def fail(example):
      with tf.control_dependencies([tf.debugging.assert_equal(0, 1, message="disk full")]):
        return tf.nest.map_structure(tf.identity, example)

    # The test split fails after the train split's shards are written.
    datasets["test"] = datasets["train"].map(fail)
    return datasets

  monkeypatch.setattr(prepare, "_split_datasets", failing_splits)
  with pytest.raises(tf.errors.InvalidArgumentError, match="disk full"):
    prepare_mnist(str(SHARED_MNIST), str(tmp_path))
  assert not is_prepared("mnist", str(tmp_path))
  leftovers = os.listdir(tmp_path / "mnist") if (tmp_path / "mnist").exists() else []
  assert "3.0.1" not in leftovers and not [n for n in leftovers if n.startswith("incomplete")]


def test_the_registered_builder_finds_nothing_to_complain_about(tmp_path, caplog):
  prepare_mnist(str(SHARED_MNIST), str(tmp_path), max_examples_per_split=10)
  with caplog.at_level(logging.INFO, logger="absl"):
    info = tfds.builder("mnist", data_dir=str(tmp_path)).info
  assert info.supervised_keys == ("image", "label")
  assert caplog.records and not [r for r in caplog.records if "differ" in r.getMessage()]


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
