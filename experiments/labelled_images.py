r"""The images a seed labels, one row a seed, as a PNG.

  python -m experiments.labelled_images --data_dir=/tmp/tfds --labels=50 --seeds=0,1,2 \
      --classes=4,7,9 --labelled_png=docs/figures/mnist_50_labelled_4_7_9.png

Draws each seed's labelled subset as training does (`pixelgan_tf.data.load_splits`
with `data.seed`, or with `data.labels_seed`, the seed of the subset alone) and
tiles the labelled images of the chosen classes, in class order, one row a seed.
Where a seed's test errors gather on a pair of classes (`experiments.class_report`),
this shows whether the images that named those classes look like their class.
It also prints each seed's subset as positions among the training images, in the
form `data.labeled_indices` takes, so that a run can name the same subset with
some of its images exchanged.

With `--training_images`, it draws the named training images instead, in one row in
the given order (positions as `data.labeled_indices` counts them): a subset's
images beside those exchanged for them. It prints each one's class and how far it
leans (`ink_lean.lean_degrees`), and how many training images of its class lean further.

  python -m experiments.labelled_images --data_dir=/tmp/tfds --training_images=47028,45245 \
      --labelled_png=/tmp/exchanged.png
"""

import sys
from typing import Dict, Sequence

from absl import app, flags
import numpy as np
import tensorflow as tf

from experiments import ink_lean
from pixelgan_tf import sampling
from pixelgan_tf.config import DATASETS, DataConfig
from pixelgan_tf.data import DataError, Splits, labeled_positions, load_splits

_DATASET = flags.DEFINE_enum("dataset", "mnist", DATASETS, "TFDS dataset.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")
_LABELS = flags.DEFINE_integer("labels", 50, "Labelled images, as `data.labels`.")
_SEEDS = flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the labelled subsets, one row "
                           "each (`data.labels_seed`, which is `data.seed` when unset).")
_CLASSES = flags.DEFINE_list("classes", None, "Classes whose labelled images to draw "
                             "(default: every class).")
_TRAINING_IMAGES = flags.DEFINE_list(
    "training_images", None, "Training images to draw instead of the seeds' subsets, one row "
    "in this order, by their positions in the training images (as `data.labeled_indices`).")
_PNG = flags.DEFINE_string("labelled_png", None, "PNG to write the grid to.")


def labelled_rows(subsets: Dict[int, Splits], classes: Sequence[int]) -> np.ndarray:
  """One row per seed of the labelled images of `classes`, in class order.

  Args:
    subsets: {seed: its `Splits`}, each with the same number of labelled
      images per class (as `load_splits` draws them).
    classes: the classes to draw, in order.

  Returns:
    [len(subsets) * H, images per row * W, C] uint8, the rows in the order of
    `subsets`.
  """
  rows = []
  for splits in subsets.values():
    chosen = [splits.labeled_images[splits.labeled_labels == label] for label in classes]
    rows.append(np.concatenate(chosen))
  tiles = np.concatenate(rows).astype(np.float32)
  return sampling.image_grid(tiles, rows=len(rows), max_value=255.0)[0].numpy()


def named_row(train_images: np.ndarray, positions: Sequence[int]) -> np.ndarray:
  """The training images at `positions`, in that order, as one row.

  Args:
    train_images: [N, H, W, C] uint8, the training images (`Splits.train_images`).
    positions: indices into them.

  Returns:
    [H, len(positions) * W, C] uint8.

  Raises:
    ValueError: a position is not one of the N.
  """
  outside = [p for p in positions if not 0 <= p < len(train_images)]
  if outside:
    raise ValueError(f"--training_images {outside} are not among the {len(train_images)} "
                     f"training images (0 to {len(train_images) - 1}).")
  tiles = train_images[list(positions)].astype(np.float32)
  return sampling.image_grid(tiles, rows=1, max_value=255.0)[0].numpy()


def subset_setting(positions: Sequence[int]) -> str:
  """The `--set` flag that names a labelled subset by its positions among the training images."""
  return "--set=data.labeled_indices=" + ",".join(str(int(p)) for p in positions)


def _positions(values) -> list:
  """--training_images as ints."""
  try:
    return [int(value) for value in values]
  except ValueError:
    raise ValueError(f"--training_images takes whole numbers, got "
                     f"{','.join(values)}.") from None


def _seeds(values) -> list:
  """--seeds as non-negative ints."""
  try:
    seeds = [int(value) for value in values]
  except ValueError:
    raise ValueError(f"--seeds takes whole numbers, got {','.join(values)}.") from None
  if not seeds or min(seeds) < 0:
    raise ValueError(f"--seeds takes one or more whole numbers >= 0, got {','.join(values)}.")
  return seeds


def _classes(values, num_classes: int) -> list:
  """--classes as ints, each a class of the dataset; every class when unset."""
  if values is None:
    return list(range(num_classes))
  try:
    classes = [int(value) for value in values]
  except ValueError:
    raise ValueError(f"--classes takes class numbers, got {','.join(values)}.") from None
  wrong = [c for c in classes if not 0 <= c < num_classes]
  if wrong:
    raise ValueError(f"--classes {wrong} are not classes of the dataset (0 to "
                     f"{num_classes - 1}).")
  return classes


def _draw_named_images() -> None:
  """--training_images: the named training images, one row."""
  if _SEEDS.present or _CLASSES.present:
    sys.exit("error: --training_images draws the named images alone: leave --seeds and "
             "--classes unset.")
  try:
    positions = _positions(_TRAINING_IMAGES.value)
    splits = load_splits(DataConfig(dataset=_DATASET.value, data_dir=_DATA_DIR.value,
                                    labels=0, binarize=False))
    row = named_row(splits.train_images, positions)
  except (ValueError, DataError) as error:
    sys.exit(f"error: {error}")
  tf.io.write_file(_PNG.value, tf.io.encode_png(row))
  print(f"{_PNG.value}: training images {', '.join(map(str, positions))}, in that order")
  labels = splits.train_labels[positions]
  # Each class's leans once, however many of the named images it holds.
  class_leans = {label: ink_lean.leans_degrees(splits.train_images[splits.train_labels == label])
                 for label in set(labels.tolist())}
  for position, label in zip(positions, labels.tolist()):
    lean = ink_lean.lean_degrees(splits.train_images[position])
    print(f"  {position}: class {label}, leans {lean:+.1f}° (of the training images of class "
          f"{label}, {ink_lean.lean_among_class(lean, class_leans[label])})")


def main(argv):
  del argv
  if _TRAINING_IMAGES.value is not None:
    _draw_named_images()
    return
  if _LABELS.value < 1:
    sys.exit(f"error: --labels={_LABELS.value} labels no images.")
  try:
    seeds = _seeds(_SEEDS.value)
    configs = {seed: DataConfig(dataset=_DATASET.value, data_dir=_DATA_DIR.value,
                                labels=_LABELS.value, seed=seed, binarize=False)
               for seed in seeds}
    subsets = {seed: load_splits(config) for seed, config in configs.items()}
    num_classes = subsets[seeds[0]].num_classes
    classes = _classes(_CLASSES.value, num_classes)
  except (ValueError, DataError) as error:
    sys.exit(f"error: {error}")
  tf.io.write_file(_PNG.value, tf.io.encode_png(labelled_rows(subsets, classes)))
  print(f"{_PNG.value}: one row per seed ({', '.join(map(str, seeds))}), the "
        f"{_LABELS.value // num_classes} labelled images of each class "
        f"({', '.join(map(str, classes))})")
  for seed, splits in subsets.items():
    positions = labeled_positions(configs[seed], splits.train_labels, num_classes)
    print(f"  seed {seed}: {subset_setting(positions)}")


if __name__ == "__main__":
  flags.mark_flags_as_required(["labelled_png"])
  app.run(main)
