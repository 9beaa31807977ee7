"""Tests of load_splits and the tf.data pipelines on a small real MNIST prepared offline."""

import dataclasses
import pathlib
import shutil
import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from pixelgan_tf.config import DATASETS, DataConfig
from pixelgan_tf.data import (DataError, deskew, eval_dataset, is_prepared, load_splits, pipeline,
                              prepare_command, train_dataset)

SHARED_MNIST = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
EXAMPLES = 600  # per split, as conftest's shared `data_dir` prepares them

pytestmark = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"{SHARED_MNIST} is absent")


@pytest.fixture(scope="module")
def tfds_train(data_dir):
  """The TFDS train split as numpy, in TFDS's order."""
  return tfds.as_numpy(tfds.load("mnist", split="train", data_dir=data_dir, download=False,
                                 batch_size=-1))


def _config(data_dir, **overrides):
  fields = dict(data_dir=data_dir, validation_size=100, labels=50, batch_size=32,
                labeled_batch_size=16, binarize=True)
  fields.update(overrides)
  return DataConfig(**fields)


def _rows(images):
  return {image.tobytes() for image in images}


def test_registered_builder_reads_the_prepared_dataset(data_dir, tfds_train):
  builder = tfds.builder("mnist", data_dir=data_dir)
  assert type(builder) is tfds.image_classification.MNIST
  assert builder.is_prepared() and str(builder.version) == "3.0.1"
  assert builder.info.splits["train"].num_examples == EXAMPLES
  assert builder.info.splits["test"].num_examples == EXAMPLES
  assert tfds_train["image"].shape == (EXAMPLES, 28, 28, 1)
  assert tfds_train["image"].dtype == np.uint8
  assert set(tfds_train["label"]) <= set(range(10))
  image, label = next(iter(tfds.load("mnist", split="test", data_dir=data_dir, download=False,
                                     as_supervised=True)))
  assert image.shape == (28, 28, 1) and label.dtype == tf.int64


def test_is_prepared(data_dir, tmp_path):
  assert is_prepared("mnist", data_dir)
  assert not is_prepared("mnist", str(tmp_path))
  assert not is_prepared("cifar10", data_dir)


def test_prepare_command_names_the_script_and_directory():
  assert prepare_command("mnist", "/x y") == (
      "python launch/prepare_data.py --dataset=mnist --source=../shared/data/mnist "
      "--data_dir='/x y'")
  assert "cifar10" in prepare_command("cifar10", "/d")


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_facts_match_tfds(name):
  facts = pipeline._FACTS[name]
  features = tfds.builder(name, data_dir="/nonexistent").info.features  # no data, no network
  assert features[facts.label_key].num_classes == facts.num_classes
  stored = features["image"].shape
  assert stored[-1] == facts.image_shape[-1]
  assert facts.resize == (stored != facts.image_shape)


def test_every_dataset_has_facts():
  assert set(pipeline._FACTS) == set(DATASETS)


def test_area_resize_averages_blocks():
  images = np.random.default_rng(0).integers(0, 256, [3, 96, 96, 1]).astype(np.uint8)
  resized = pipeline._resize_area(images, (32, 32, 1))
  expected = images.reshape(3, 32, 3, 32, 3, 1).mean(axis=(2, 4))
  assert resized.dtype == np.uint8 and resized.shape == (3, 32, 32, 1)
  np.testing.assert_array_less(np.abs(resized - expected), 0.5 + 1e-4)


def test_split_sizes(data_dir):
  splits = load_splits(_config(data_dir))
  assert splits.train_images.shape == (EXAMPLES - 100, 28, 28, 1)
  assert splits.labeled_images.shape == (50, 28, 28, 1)
  assert splits.labeled_labels.shape == (50,)
  assert splits.validation_images.shape == (100, 28, 28, 1)
  assert splits.validation_labels.shape == (100,)
  assert splits.test_images.shape == (EXAMPLES, 28, 28, 1)
  assert splits.test_labels.shape == (EXAMPLES,)
  assert splits.num_classes == 10 and splits.image_shape == (28, 28, 1)
  assert splits.train_images.dtype == np.uint8 and splits.labeled_labels.dtype == np.int64


def test_validation_is_the_end_of_the_train_split_and_kept_apart(data_dir, tfds_train):
  splits = load_splits(_config(data_dir))
  np.testing.assert_array_equal(splits.validation_images, tfds_train["image"][-100:])
  np.testing.assert_array_equal(splits.validation_labels, tfds_train["label"][-100:])
  np.testing.assert_array_equal(splits.train_images, tfds_train["image"][:-100])
  assert not _rows(splits.validation_images) & _rows(splits.train_images)
  assert not _rows(splits.validation_images) & _rows(splits.labeled_images)


def test_labeled_subset_is_balanced_seeded_and_from_training(data_dir):
  splits = load_splits(_config(data_dir, seed=3))
  assert np.bincount(splits.labeled_labels, minlength=10).tolist() == [5] * 10
  assert _rows(splits.labeled_images) <= _rows(splits.train_images)
  again = load_splits(_config(data_dir, seed=3))
  np.testing.assert_array_equal(again.labeled_images, splits.labeled_images)
  other = load_splits(_config(data_dir, seed=4))
  assert _rows(other.labeled_images) != _rows(splits.labeled_images)


def test_labels_seed_draws_the_labelled_subset_alone(data_dir):
  crossed = _config(data_dir, seed=3, labels_seed=4)
  splits = load_splits(crossed)
  np.testing.assert_array_equal(splits.labeled_images,
                                load_splits(_config(data_dir, seed=4)).labeled_images)
  # The batches of unlabelled images are still seed 3's.
  own = _config(data_dir, seed=3)
  first = next(iter(train_dataset(splits, crossed)))
  first_own = next(iter(train_dataset(load_splits(own), own)))
  np.testing.assert_array_equal(first["images"], first_own["images"])
  assert not np.array_equal(first["labeled_images"], first_own["labeled_images"])


def test_labeled_indices_name_the_labelled_images(data_dir, tfds_train):
  drawn = pipeline._balanced_subset(tfds_train["label"][:-100], 50, 10, seed=3)
  exchanged = [int(i) for i in drawn[1:]] + [next(i for i in range(500) if i not in drawn)]
  splits = load_splits(_config(data_dir, seed=3, labeled_indices=tuple(exchanged)))
  order = sorted(exchanged)
  np.testing.assert_array_equal(splits.labeled_images, tfds_train["image"][order])
  np.testing.assert_array_equal(splits.labeled_labels, tfds_train["label"][order])
  assert len(_rows(splits.labeled_images) & _rows(load_splits(
      _config(data_dir, seed=3)).labeled_images)) == 49


@pytest.mark.parametrize("overrides", [dict(seed=3), dict(seed=3, labels_seed=4),
                                       dict(labeled_indices=tuple(range(60, 10, -1)))])
def test_labeled_positions_locate_the_labelled_images(data_dir, tfds_train, overrides):
  config = _config(data_dir, **overrides)
  splits = load_splits(config)
  positions = pipeline.labeled_positions(config, splits.train_labels, splits.num_classes)
  assert positions.tolist() == sorted(positions.tolist())
  np.testing.assert_array_equal(tfds_train["image"][positions], splits.labeled_images)
  np.testing.assert_array_equal(tfds_train["label"][positions], splits.labeled_labels)


def test_deskew_stands_every_split_upright_and_labels_the_same_images(data_dir, tfds_train):
  plain = load_splits(_config(data_dir, seed=3))
  upright = load_splits(_config(data_dir, seed=3, deskew=True))
  np.testing.assert_array_equal(upright.train_images,
                                deskew.deskew(tfds_train["image"][:-100]))
  np.testing.assert_array_equal(upright.validation_images,
                                deskew.deskew(tfds_train["image"][-100:]))
  np.testing.assert_array_equal(upright.test_images, deskew.deskew(plain.test_images))
  np.testing.assert_array_equal(upright.labeled_images, deskew.deskew(plain.labeled_images))
  np.testing.assert_array_equal(upright.labeled_labels, plain.labeled_labels)
  fewer = load_splits(_config(data_dir, seed=3, deskew=True, max_train_examples=300))
  np.testing.assert_array_equal(fewer.train_images, upright.train_images[:300])


def test_max_train_examples(data_dir, tfds_train):
  splits = load_splits(_config(data_dir, max_train_examples=300, labels=20))
  np.testing.assert_array_equal(splits.train_images, tfds_train["image"][:300])
  np.testing.assert_array_equal(splits.train_labels, tfds_train["label"][:300])
  assert _rows(splits.labeled_images) <= _rows(splits.train_images)
  assert len(splits.validation_images) == 100


def test_no_labels(data_dir):
  splits = load_splits(_config(data_dir, labels=0))
  assert splits.labeled_images.shape == (0, 28, 28, 1)
  assert splits.labeled_labels.shape == (0,)
  batch = next(iter(train_dataset(splits, _config(data_dir, labels=0))))
  assert set(batch) == {"images"}


BAD_CONFIGS = [
    (dict(dataset="imagenet"), "Unknown dataset 'imagenet'"),
    (dict(labels=-10), "labels must be >= 0, got -10"),
    (dict(labels=15), "labels=15 is not divisible by the 10 classes of mnist"),
    (dict(labels=1000), "labels=1000 is larger than the 500 training images"),
    (dict(validation_size=EXAMPLES), f"validation_size={EXAMPLES} must be smaller than the "
                                     f"{EXAMPLES} images"),
    (dict(validation_size=-1), "validation_size must be >= 0"),
    (dict(max_train_examples=0), "max_train_examples must be positive"),
    (dict(labels_seed=-1), "labels_seed must be >= 0 or None, got -1"),
    (dict(labels=0, labels_seed=2), "labels_seed=2 chooses the labelled images, but labels=0"),
    (dict(labels=100, max_train_examples=100), "needs 10 training images of class"),
    (dict(labels=10, labeled_indices=tuple(range(10)), labels_seed=1),
     r"labeled_indices names the labelled images, so labels_seed=1 would draw none"),
    (dict(labels=10, labeled_indices=(0, 1)), "names 2 images, but labels=10"),
    (dict(labels=10, labeled_indices=tuple(range(-1, 9))), "labeled_indices must be >= 0, got -1"),
    (dict(labels=10, labeled_indices=(3,) * 2 + tuple(range(4, 12))),
     r"names images \[3\] more than once"),
    (dict(labels=10, labeled_indices=tuple(range(495, 505))),
     r"labeled_indices \[500, 501, 502, 503, 504\] are not among the 500 training images"),
]


@pytest.mark.parametrize("overrides,message", BAD_CONFIGS)
def test_bad_configs(data_dir, overrides, message):
  with pytest.raises(DataError, match=message):
    load_splits(_config(data_dir, **overrides))


def test_missing_dataset_offline_fails_fast_with_the_command(tmp_path, monkeypatch):
  monkeypatch.setattr(pipeline, "_tfds_reachable", lambda: False)
  empty = str(tmp_path / "empty")
  start = time.monotonic()
  with pytest.raises(DataError, match="launch/prepare_data.py") as error:
    load_splits(_config(empty))
  assert time.monotonic() - start < 5
  assert "'mnist' is not prepared in " + empty in str(error.value)
  assert prepare_command("mnist", empty) in str(error.value)


def _damage(path, how):
  if how == "truncated":
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
  elif how == "altered":   # one flipped byte fails the record's CRC
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
  else:
    path.unlink()


@pytest.mark.parametrize("split,how", [("test", "truncated"), ("train", "altered"),
                                       ("test", "missing")])
def test_corrupt_prepared_file_is_named_with_the_commands_that_rebuild_it(
    data_dir, tmp_path, split, how):
  copy = tmp_path / "tfds"
  shutil.copytree(data_dir, copy)
  version = copy / "mnist" / "3.0.1"
  shard = next(version.glob(f"mnist-{split}.tfrecord-*"))
  _damage(shard, how)
  with pytest.raises(DataError) as error:
    load_splits(_config(str(copy)))
  message = str(error.value)
  assert f"The prepared 'mnist' is corrupt: cannot read {shard} (" in message
  assert message.endswith(f"rm -r {version} && {prepare_command('mnist', str(copy))}")
  # One line for the launch scripts, without TensorFlow's op names.
  assert "\n" not in message and "function_node" not in message and "[Op:" not in message


def test_reachability_check_is_bounded():
  start = time.monotonic()
  pipeline._tfds_reachable(timeout=1.0)
  assert time.monotonic() - start < 2


def test_train_batches(data_dir):
  config = _config(data_dir)
  ds = train_dataset(load_splits(config), config)
  assert ds.element_spec == {
      "images": tf.TensorSpec([32, 28, 28, 1], tf.float32),
      "labeled_images": tf.TensorSpec([16, 28, 28, 1], tf.float32),
      "labels": tf.TensorSpec([16], tf.int32)}
  batches = list(ds.take(40))  # more than one epoch of the 500 images
  for batch in batches:
    assert set(np.unique(batch["images"])) <= {0.0, 1.0}
    assert set(np.unique(batch["labeled_images"])) <= {0.0, 1.0}
    assert 0 <= batch["labels"].numpy().min() and batch["labels"].numpy().max() < 10


def test_train_batches_are_seeded_and_binarized_afresh(data_dir):
  config = _config(data_dir)
  splits = load_splits(config)
  first = [b["images"].numpy() for b in train_dataset(splits, config).take(3)]
  second = [b["images"].numpy() for b in train_dataset(splits, config).take(3)]
  np.testing.assert_array_equal(first, second)
  # One image drawn in two epochs gets two binarizations.
  one = DataConfig(data_dir=data_dir, labels=0, batch_size=1, binarize=True)
  single = dataclasses.replace(splits, train_images=splits.train_images[:1])
  draws = [b["images"].numpy() for b in train_dataset(single, one).take(2)]
  assert not np.array_equal(draws[0], draws[1])


def test_train_batches_without_binarization_are_pixel_values(data_dir):
  config = _config(data_dir, binarize=False)
  splits = load_splits(config)
  batch = next(iter(train_dataset(splits, config)))
  images = batch["images"].numpy()
  assert images.max() > 1 and images.max() <= 255
  np.testing.assert_array_equal(images, np.round(images))
  assert _rows(images.astype(np.uint8)) <= _rows(splits.train_images)


def test_eval_dataset_is_fixed_and_complete(data_dir):
  config = _config(data_dir)
  splits = load_splits(config)
  ds = eval_dataset(splits.validation_images, splits.validation_labels, config)
  passes = [list(ds), list(eval_dataset(splits.validation_images, splits.validation_labels,
                                        config))]
  assert [len(b["labels"]) for b in passes[0]] == [32, 32, 32, 4]
  for a, b in zip(*passes):
    np.testing.assert_array_equal(a["images"], b["images"])
  labels = np.concatenate([b["labels"] for b in passes[0]])
  np.testing.assert_array_equal(labels, splits.validation_labels)
  binarized = np.concatenate([b["images"] for b in passes[0]])
  assert set(np.unique(binarized)) == {0.0, 1.0}
  # Each pixel is 1 with probability value / 255.
  np.testing.assert_allclose(binarized.mean(), (splits.validation_images / 255.0).mean(),
                             atol=0.005)


def test_eval_dataset_without_binarization(data_dir):
  config = _config(data_dir, binarize=False)
  splits = load_splits(config)
  ds = eval_dataset(splits.test_images, splits.test_labels, config)
  images = np.concatenate([b["images"] for b in ds])
  np.testing.assert_array_equal(images, splits.test_images.astype(np.float32))


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
