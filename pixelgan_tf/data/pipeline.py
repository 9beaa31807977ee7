"""TFDS datasets as numpy splits, and the tf.data pipelines fed to training and evaluation.

`load_splits` turns a `DataConfig` into `Splits`: the TFDS train split minus
its last `validation_size` images (the validation set, never trained on), a
class-balanced seeded labelled subset of those training images, and the test
split. `train_dataset` and `eval_dataset` batch them into float32 pixels:
0..255, or binarized (each pixel 1 with probability value / 255) for the
Bernoulli likelihood.
"""

import dataclasses
import os
import re
import shlex
import socket
import threading
from typing import Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from pixelgan_tf.config import DATASETS, DataConfig
from pixelgan_tf.data.errors import DataError
from pixelgan_tf.data import deskew

# TFDS downloads from here; one short connection attempt tells us whether it
# could, before TFDS spends minutes retrying.
_TFDS_HOST = ("storage.googleapis.com", 443)
_CONNECT_TIMEOUT_S = 3.0

# Binarization streams: each pipeline draws its own noise from the same seed.
_UNLABELED, _LABELED, _EVAL = 0, 1, 2

# Resizing many 96x96 images at once would need gigabytes of float32.
_RESIZE_CHUNK = 1024


@dataclasses.dataclass(frozen=True)
class _DatasetFacts:
  """What differs between datasets: where the label is, how many classes, the image size."""
  label_key: str
  num_classes: int
  image_shape: Tuple[int, int, int]  # after `resize`
  resize: bool = False               # area-resize to image_shape's height and width


_FACTS = {
    "mnist": _DatasetFacts("label", 10, (28, 28, 1)),
    "fashion_mnist": _DatasetFacts("label", 10, (28, 28, 1)),
    "cifar10": _DatasetFacts("label", 10, (32, 32, 3)),
    "svhn_cropped": _DatasetFacts("label", 10, (32, 32, 3)),
    # 96x96 object photographs, 5 categories; downsampled to 32x32 with area
    # interpolation as in the semi-supervised literature. Only the first of the
    # two stereo images is used.
    "smallnorb": _DatasetFacts("label_category", 5, (32, 32, 1), resize=True),
}


@dataclasses.dataclass(frozen=True, eq=False)
class Splits:
  """A dataset divided for (semi-)supervised training. Images are uint8 [N, H, W, C].

  Attributes:
    train_images: every training image except the validation ones.
    train_labels: [len(train_images)] int64, their classes. Training reads only
      the labelled subset's; these serve reports on the training images.
    labeled_images: [labels, H, W, C], a class-balanced subset of train_images.
    labeled_labels: [labels] int64.
    validation_images: the last `validation_size` images of the TFDS train split.
    validation_labels: [validation_size] int64.
    test_images: the TFDS test split.
    test_labels: int64.
    num_classes: classes of the labels.
    image_shape: (H, W, C).
  """
  train_images: np.ndarray
  train_labels: np.ndarray
  labeled_images: np.ndarray
  labeled_labels: np.ndarray
  validation_images: np.ndarray
  validation_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray
  num_classes: int
  image_shape: Tuple[int, int, int]


def _default_data_dir() -> str:
  return tfds.core.constants.DATA_DIR


def is_prepared(dataset: str, data_dir: Optional[str] = None) -> bool:
  """Whether TFDS has `dataset` prepared in `data_dir` (None: TFDS's default). No network."""
  try:
    return tfds.builder(dataset, data_dir=data_dir).is_prepared()
  except tfds.core.DatasetNotFoundError as e:
    raise DataError(f"TFDS has no dataset {dataset!r}.") from e


def prepare_command(dataset: str, data_dir: Optional[str] = None) -> str:
  """The shell command, run from the repository root, that prepares `dataset` in `data_dir`.

  Only mnist can be prepared offline (from `shared/data/mnist`); the others
  need `tfds build` on a machine with internet access.
  """
  data_dir = shlex.quote(data_dir or _default_data_dir())
  if dataset == "mnist":
    return ("python launch/prepare_data.py --dataset=mnist --source=../shared/data/mnist "
            f"--data_dir={data_dir}")
  return f"tfds build {shlex.quote(dataset)} --data_dir={data_dir}"


def _tfds_reachable(timeout: float = _CONNECT_TIMEOUT_S) -> bool:
  """Whether a TCP connection to TFDS's download host opens within `timeout` seconds.

  The attempt runs in a daemon thread because name resolution ignores socket
  timeouts and can hang far longer on a machine without DNS.
  """
  reached = []

  def attempt():
    try:
      with socket.create_connection(_TFDS_HOST, timeout=timeout):
        reached.append(True)
    except OSError:
      pass

  thread = threading.Thread(target=attempt, daemon=True)
  thread.start()
  thread.join(timeout)
  return bool(reached)


def _facts(dataset: str) -> _DatasetFacts:
  if dataset not in DATASETS or dataset not in _FACTS:
    raise DataError(f"Unknown dataset {dataset!r}; choose one of {DATASETS}.")
  return _FACTS[dataset]


def _check_config(config: DataConfig, facts: _DatasetFacts) -> None:
  """Checks the fields that need no data."""
  if config.labels < 0:
    raise DataError(f"DataConfig.labels must be >= 0, got {config.labels}.")
  if config.labels % facts.num_classes:
    raise DataError(
        f"DataConfig.labels={config.labels} is not divisible by the {facts.num_classes} classes "
        f"of {config.dataset}: the labelled subset has the same number of images per class.")
  if config.validation_size < 0:
    raise DataError(f"DataConfig.validation_size must be >= 0, got {config.validation_size}.")
  if config.labels_seed is not None and config.labels_seed < 0:
    raise DataError(f"DataConfig.labels_seed must be >= 0 or None, got {config.labels_seed}.")
  if config.labels_seed is not None and not config.labels:
    raise DataError(f"DataConfig.labels_seed={config.labels_seed} chooses the labelled images, "
                    f"but labels=0 asks for none: set labels, or leave labels_seed unset.")
  if config.max_train_examples is not None and config.max_train_examples < 1:
    raise DataError(
        f"DataConfig.max_train_examples must be positive or None, got {config.max_train_examples}.")
  if config.labeled_indices is not None:
    _check_labeled_indices(config)


def _check_labeled_indices(config: DataConfig) -> None:
  """Checks `labeled_indices` against the fields beside it (the data's size comes later)."""
  indices = config.labeled_indices
  if config.labels_seed is not None:
    raise DataError(f"DataConfig.labeled_indices names the labelled images, so "
                    f"labels_seed={config.labels_seed} would draw none of them: set one of the two.")
  if len(indices) != config.labels:
    raise DataError(f"DataConfig.labeled_indices names {len(indices)} images, but "
                    f"labels={config.labels}: name as many as labels asks for.")
  if min(indices, default=0) < 0:
    raise DataError(f"DataConfig.labeled_indices must be >= 0, got {min(indices)}.")
  repeated = sorted({index for index in indices if indices.count(index) > 1})
  if repeated:
    raise DataError(f"DataConfig.labeled_indices names images {repeated} more than once.")


def _check_sizes(config: DataConfig, num_train: int) -> None:
  """Checks the fields against the size of the TFDS train split."""
  if config.validation_size >= num_train:
    raise DataError(
        f"DataConfig.validation_size={config.validation_size} must be smaller than the "
        f"{num_train} images of {config.dataset}'s train split.")
  available = num_train - config.validation_size
  if config.max_train_examples is not None:
    available = min(available, config.max_train_examples)
  if config.labels > available:
    raise DataError(
        f"DataConfig.labels={config.labels} is larger than the {available} training images of "
        f"{config.dataset} (after validation_size and max_train_examples).")


def _not_prepared_error(config: DataConfig) -> DataError:
  data_dir = config.data_dir or _default_data_dir()
  where = "Prepare it offline" if config.dataset == "mnist" else (
      "Prepare it on a machine with internet access, then copy the dataset's folder here")
  return DataError(
      f"Dataset {config.dataset!r} is not prepared in {data_dir} and TFDS cannot download it "
      f"({_TFDS_HOST[0]} is unreachable). {where}: {prepare_command(config.dataset, data_dir)}")


def resizes(dataset: str) -> bool:
  """Whether the loader area-resizes the dataset's images (`area_resize`) to the model's size."""
  return _facts(dataset).resize


def area_resize(images: tf.Tensor, height_width: Sequence[int]) -> tf.Tensor:
  """Area-resizes uint8 [N, h, w, C] images to uint8 [N, height, width, C].

  Rounds half to even, as the loader did when it made the training images.
  """
  resized = tf.image.resize(images, height_width, method="area")
  return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def _resize_area(images: np.ndarray, shape: Tuple[int, int, int]) -> np.ndarray:
  """Area-resizes uint8 [N, h, w, C] images to uint8 [N, *shape], a chunk at a time."""
  chunks = []
  for start in range(0, len(images), _RESIZE_CHUNK):
    chunks.append(area_resize(images[start:start + _RESIZE_CHUNK], shape[:2]).numpy())
  if not chunks:
    return np.zeros((0,) + tuple(shape), np.uint8)
  return np.concatenate(chunks)


def _op_error_reason(error: tf.errors.OpError) -> str:
  """The reason in a TensorFlow error's message, without its function and op names."""
  reason = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", error.message)
  reason = re.sub(r"\s*\[Op:[^\]]*\].*$", "", reason, flags=re.DOTALL)
  return " ".join(reason.split()).rstrip(".")


def _unreadable_file(paths) -> Optional[Tuple[str, str]]:
  """(path, reason) of the first TFRecord file that cannot be read to its end, or None."""
  for path in paths:
    try:
      for _ in tf.data.TFRecordDataset(path):
        pass
    except tf.errors.OpError as error:
      return path, _op_error_reason(error)
  return None


def _corrupt_error(config: DataConfig, split: str, error: tf.errors.OpError) -> DataError:
  """Names the split's broken file and the commands that prepare the dataset again."""
  builder = tfds.builder(config.dataset, data_dir=config.data_dir)
  paths = [os.fspath(p) for p in builder.info.splits[split].filepaths]
  # The files are read again, one at a time, only to say which one is at fault.
  found = _unreadable_file(paths)
  path, reason = found or (", ".join(paths), _op_error_reason(error))
  data_dir = config.data_dir or _default_data_dir()
  # prepare_data.py and `tfds build` keep a prepared version: it has to go first.
  rebuild = f"rm -r {shlex.quote(os.fspath(builder.data_dir))} && " + prepare_command(
      config.dataset, data_dir)
  return DataError(f"The prepared {config.dataset!r} is corrupt: cannot read {path} ({reason}). "
                   f"Prepare it again: {rebuild}")


def _load_arrays(config: DataConfig, facts: _DatasetFacts):
  """[(images uint8 [N, H, W, C], labels int64 [N]) for the train and test splits].

  Raises:
    DataError: a file of the prepared dataset is truncated, corrupt or missing.
  """
  arrays = []
  for split in ("train", "test"):
    try:
      loaded = tfds.as_numpy(tfds.load(config.dataset, split=split, data_dir=config.data_dir,
                                       batch_size=-1, download=True))
    except (tf.errors.DataLossError, tf.errors.NotFoundError,
            tf.errors.InvalidArgumentError) as error:
      if not tfds.builder(config.dataset, data_dir=config.data_dir).is_prepared():
        raise   # a failed download, not a damaged file
      raise _corrupt_error(config, split, error) from error
    images = loaded["image"]
    if facts.resize:
      images = _resize_area(images, facts.image_shape)
    arrays.append((images, loaded[facts.label_key].astype(np.int64)))
  return arrays


def labels_seed(config: DataConfig) -> int:
  """The seed that draws the labelled subset: `labels_seed`, or else `seed`."""
  return config.seed if config.labels_seed is None else config.labels_seed


def _balanced_subset(labels: np.ndarray, count: int, num_classes: int, seed: int) -> np.ndarray:
  """Sorted indices of `count // num_classes` images of each class, drawn with `seed`."""
  rng = np.random.default_rng(seed)
  per_class = count // num_classes
  chosen = [np.zeros([0], np.int64)]
  for label in range(num_classes):
    members = np.flatnonzero(labels == label)
    if len(members) < per_class:
      raise DataError(
          f"DataConfig.labels={count} needs {per_class} training images of class {label}, "
          f"but there are only {len(members)}.")
    chosen.append(rng.choice(members, per_class, replace=False))
  return np.sort(np.concatenate(chosen))


def _named_subset(indices: Sequence[int], num_train: int) -> np.ndarray:
  """Sorted `indices` of the training images, each checked to name one of the `num_train`."""
  outside = [index for index in indices if index >= num_train]
  if outside:
    raise DataError(f"DataConfig.labeled_indices {outside} are not among the {num_train} "
                    f"training images (indices 0 to {num_train - 1}).")
  return np.sort(np.asarray(indices, np.int64))


def labeled_positions(config: DataConfig, train_labels: np.ndarray,
                      num_classes: int) -> np.ndarray:
  """Where the labelled subset lies among the training images, as `load_splits` chooses it.

  Args:
    config: a `DataConfig`; its `labeled_indices` where set, or else `labels`
      images drawn class-balanced with its `labels_seed` (`seed` when unset).
    train_labels: [N] int64, the classes of the training images
      (`Splits.train_labels`).
    num_classes: the dataset's classes.

  Returns:
    [labels] int64, sorted positions into the N training images: what
    `data.labeled_indices` takes to name the same subset.

  Raises:
    DataError: a named position is not among the N, or a class has fewer
      images than the balanced draw needs.
  """
  if config.labeled_indices is not None:
    return _named_subset(config.labeled_indices, len(train_labels))
  return _balanced_subset(train_labels, config.labels, num_classes, labels_seed(config))


def load_splits(config: DataConfig) -> Splits:
  """Loads `config.dataset` from TFDS into memory and divides it.

  TFDS downloads a dataset that is not prepared yet; offline, that fails
  within seconds with the command that prepares it instead.

  Args:
    config: a `DataConfig`.

  Returns:
    `Splits`; the labelled subset is `config.labeled_indices` where set, or
    else the same for the same `labels_seed` (`config.labels_seed`, or
    `config.seed` when that is None).

  Raises:
    DataError: for an unknown dataset, a dataset neither prepared nor
      downloadable, a prepared dataset with a corrupt or missing file (named,
      with the commands that prepare it again), or labels / labeled_indices /
      validation_size / max_train_examples that the dataset cannot satisfy
      (checked before loading where the prepared dataset's metadata allows).
  """
  facts = _facts(config.dataset)
  _check_config(config, facts)
  builder = tfds.builder(config.dataset, data_dir=config.data_dir)
  if builder.is_prepared():
    _check_sizes(config, builder.info.splits["train"].num_examples)
  elif not _tfds_reachable():
    raise _not_prepared_error(config)
  (images, labels), (test_images, test_labels) = _load_arrays(config, facts)
  _check_sizes(config, len(images))
  num_train = len(images) - config.validation_size
  train_images, train_labels = images[:num_train], labels[:num_train]
  validation_images = images[num_train:]
  if config.max_train_examples is not None:
    train_images = train_images[:config.max_train_examples]
    train_labels = train_labels[:config.max_train_examples]
  if config.deskew:
    # After the size checks and max_train_examples: only the images kept are sheared.
    train_images, validation_images, test_images = (
        deskew.deskew(split) for split in (train_images, validation_images, test_images))
  labeled = labeled_positions(config, train_labels, facts.num_classes)
  return Splits(
      train_images=train_images,
      train_labels=train_labels,
      labeled_images=train_images[labeled],
      labeled_labels=train_labels[labeled],
      validation_images=validation_images,
      validation_labels=labels[num_train:],
      test_images=test_images,
      test_labels=test_labels,
      num_classes=facts.num_classes,
      image_shape=facts.image_shape)


def _check_binarize(config: DataConfig) -> None:
  if config.binarize is None:
    raise ValueError("DataConfig.binarize is unset: set it, or let train.resolve choose it "
                     "from the likelihood.")


def pixels(image: tf.Tensor, seed: tf.Tensor, binarize: bool) -> tf.Tensor:
  """float32 pixels of uint8 image(s): 0..255, or 1 with probability value / 255 under `seed`.

  The data space that the model and its SavedModel's signatures take.
  """
  image = tf.cast(image, tf.float32)
  if not binarize:
    return image
  uniform = tf.random.stateless_uniform(tf.shape(image), seed)  # in [0, 1)
  return tf.cast(uniform < image / 255.0, tf.float32)


def _element_seed(config: DataConfig, stream: int, index: tf.Tensor) -> tf.Tensor:
  """A [2] stateless seed of one element of one stream."""
  base = tf.constant([config.seed, stream], tf.int64)
  return tf.random.experimental.stateless_fold_in(base, index)


def _infinite_batches(images: np.ndarray, labels: Optional[np.ndarray], batch_size: int,
                      config: DataConfig, stream: int) -> tf.data.Dataset:
  """Endless shuffled batches (images, and labels if given), binarized anew at every draw.

  Each draw binarizes with a seed folded from the draw's position in the
  endless stream (which fixes its epoch and image), so a seed gives the same
  sequence of batches.
  """
  elements = images if labels is None else (images, labels)
  ds = tf.data.Dataset.from_tensor_slices(elements).cache()
  # The labelled subset is small: repeating before shuffling mixes epochs, so
  # its batches are drawn (nearly) with replacement.
  if stream == _LABELED:
    ds = ds.repeat().shuffle(max(len(images), batch_size), seed=config.seed + stream)
  else:
    ds = ds.shuffle(len(images), seed=config.seed + stream, reshuffle_each_iteration=True)
    ds = ds.repeat()

  def to_pixels(draw, element):
    image = element if labels is None else element[0]
    drawn = pixels(image, _element_seed(config, stream, draw), config.binarize)
    return drawn if labels is None else (drawn, tf.cast(element[1], tf.int32))

  ds = ds.enumerate().map(to_pixels, num_parallel_calls=tf.data.AUTOTUNE)
  return ds.batch(batch_size, drop_remainder=True)


def train_dataset(splits: Splits, config: DataConfig) -> tf.data.Dataset:
  """The endless training stream.

  Args:
    splits: from `load_splits`.
    config: the `DataConfig` (batch sizes, binarize, seed).

  Returns:
    A dataset of dicts: 'images' float32 [batch_size, H, W, C]; when `splits`
    has labelled images also 'labeled_images' float32
    [labeled_batch_size, H, W, C] and 'labels' int32 [labeled_batch_size].
    Pixels are 0/1 when `config.binarize`, else 0..255.
  """
  _check_binarize(config)
  if len(splits.train_images) == 0:
    raise DataError("There are no training images to make a training dataset of.")
  if config.batch_size < 1 or config.labeled_batch_size < 1:
    raise DataError(f"DataConfig.batch_size and labeled_batch_size must be positive, got "
                    f"{config.batch_size} and {config.labeled_batch_size}.")
  images = _infinite_batches(splits.train_images, None, config.batch_size, config, _UNLABELED)
  if len(splits.labeled_images) == 0:
    ds = images.map(lambda x: {"images": x})
  else:
    labeled = _infinite_batches(splits.labeled_images, splits.labeled_labels,
                                config.labeled_batch_size, config, _LABELED)
    ds = tf.data.Dataset.zip(images, labeled).map(
        lambda x, xy: {"images": x, "labeled_images": xy[0], "labels": xy[1]})
  return ds.prefetch(tf.data.AUTOTUNE)


def eval_dataset(images: np.ndarray, labels: np.ndarray, config: DataConfig) -> tf.data.Dataset:
  """One pass over `images` in order, the last batch possibly partial.

  Args:
    images: uint8 [N, H, W, C].
    labels: integer [N].
    config: the `DataConfig` (batch_size, binarize, seed).

  Returns:
    A finite dataset of dicts: 'images' float32 [<= batch_size, H, W, C] and
    'labels' int32 [<= batch_size]. Binarization depends only on the seed and
    each image's index, so every pass (and every call) sees the same pixels.
  """
  _check_binarize(config)
  if config.batch_size < 1:
    raise DataError(f"DataConfig.batch_size must be positive, got {config.batch_size}.")
  if len(images) != len(labels):
    raise DataError(f"eval_dataset got {len(images)} images but {len(labels)} labels.")

  def to_pixels(index, element):
    image, label = element
    return {"images": pixels(image, _element_seed(config, _EVAL, index), config.binarize),
            "labels": tf.cast(label, tf.int32)}

  ds = tf.data.Dataset.from_tensor_slices((images, labels)).enumerate()
  ds = ds.map(to_pixels, num_parallel_calls=tf.data.AUTOTUNE)
  return ds.batch(config.batch_size).prefetch(tf.data.AUTOTUNE)
