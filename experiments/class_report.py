r"""Where a semi-supervised run's test errors fall: per class, per confusion, as images.

  python -m experiments.class_report --workdir=runs/table1/mnist_50/seed2
  python -m experiments.class_report --workdir=runs/table1/mnist_50/seed2 \
      --pair=4,9 --figure=docs/figures/mnist_50_seed2_4_9.png

Restores the run's latest checkpoint and classifies the test split with the
deterministic encoder, as the run's own evaluation does. Prints the test error,
the errors per true class, the commonest confusions, the test error again with
each test batch normalized by its own statistics (as the training phases
normalize; evaluation uses the moving averages) and how many of the labelled
training images the encoder classifies right. With --noise_draws=K, also the
test error with q(z|x) averaged over K draws of the encoder's noise n (the
paper's implicit posterior; the protocol classifies at n = 0), the range of
the K single draws' errors, and the share of test images a draw moves to
another class. With --pair=A,B and
--figure, also writes a PNG with one row per (true, predicted) group of the two
classes (A as A, A as B, B as A, B as B): the group's mean image, then examples;
it prints how far each group's strokes lean at the median (`ink_lean`) and how far
the labelled images of the two classes lean, since such a split often follows the
slant.
The semi-supervised counterpart of `experiments.cluster_report`.
"""

import sys
from typing import List, Tuple

from absl import app, flags
import numpy as np
import tensorflow as tf

from experiments import ink_lean, trained_run
from pixelgan_tf import sampling

_PAIR = flags.DEFINE_list("pair", None, "Two classes whose mix-up to draw, e.g. 4,9.")
_FIGURE = flags.DEFINE_string("figure", None, "PNG to write the --pair groups to.")
_EXAMPLES = flags.DEFINE_integer("examples", 12, "Examples drawn per group.")
_TOP = flags.DEFINE_integer("top", 5, "How many of the commonest confusions to print.")


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
  """[C, C] counts: row = true class, column = predicted class.

  Args:
    labels: [N] true classes in [0, C).
    predicted: [N] predicted classes in [0, C).
    num_classes: C.
  """
  confusion = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(confusion, (labels, predicted), 1)
  return confusion


def commonest_confusions(confusion: np.ndarray, top: int) -> List[Tuple[int, int, int]]:
  """Up to `top` (true, predicted, count) off the diagonal, the largest first; no zeros."""
  off_diagonal = confusion * (1 - np.eye(len(confusion), dtype=confusion.dtype))
  order = np.argsort(-off_diagonal, axis=None, kind="stable")[:top]
  pairs = [(int(t), int(p), int(off_diagonal[t, p]))
           for t, p in zip(*np.unravel_index(order, confusion.shape))]
  return [pair for pair in pairs if pair[2] > 0]


def noise_draw_errors(noisy: np.ndarray, labels: np.ndarray,
                      deterministic: np.ndarray) -> dict:
  """Test errors under draws of the encoder's noise.

  Args:
    noisy: [K, N, C] class probabilities under K draws of the noise.
    labels: [N] true classes.
    deterministic: [N, C] class probabilities at n = 0 (the protocol's).

  Returns:
    averaged_error: the error of the mean over the K draws (q(z|x) itself);
    draw_errors: [K] the error of each single draw;
    moved: the share of (draw, image) pairs whose class differs from n = 0's.
  """
  return {"averaged_error": float(np.mean(noisy.mean(axis=0).argmax(-1) != labels)),
          "draw_errors": np.mean(noisy.argmax(-1) != labels, axis=1),
          "moved": trained_run.share_moved_by_noise(noisy, deterministic)}


def pair_groups(images: np.ndarray, labels: np.ndarray, predicted: np.ndarray,
                pair: Tuple[int, int], examples: int, seed: int = 0) -> np.ndarray:
  """A grid of the four (true, predicted) groups of two classes, one row each.

  Args:
    images: [N, H, W, C] uint8 test images.
    labels: [N] true classes.
    predicted: [N] predicted classes.
    pair: classes (A, B); the rows are A as A, A as B, B as A, B as B.
    examples: images drawn at random from each group after its mean image.
    seed: of that draw.

  Returns:
    [4 * H, (1 + examples) * W, C] uint8. A group with fewer images than
    `examples` leaves the rest of its row black; an empty group is all black.
  """
  tiles = np.zeros((4, 1 + examples) + images.shape[1:], np.float32)   # black by default
  rng = np.random.default_rng(seed)
  for row, (true, guess) in enumerate(pair_group_names(pair)):
    members = np.flatnonzero((labels == true) & (predicted == guess))
    if not len(members):
      continue
    tiles[row, 0] = np.round(images[members].mean(0))
    drawn = rng.choice(members, min(examples, len(members)), replace=False)
    tiles[row, 1:1 + len(drawn)] = images[drawn]
  tiles = tiles.reshape((-1,) + images.shape[1:])
  return sampling.image_grid(tiles, rows=4, max_value=255.0)[0].numpy()


def pair_group_names(pair: Tuple[int, int]) -> List[Tuple[int, int]]:
  """The (true, predicted) groups of classes (A, B): A as A, A as B, B as A, B as B."""
  a, b = pair
  return [(a, a), (a, b), (b, a), (b, b)]


def pair_group_leans(images: np.ndarray, labels: np.ndarray, predicted: np.ndarray,
                     pair: Tuple[int, int]) -> List[float]:
  """The median `ink_lean.lean_degrees` of each group of `pair_group_names`, nan if empty.

  Args:
    images: [N, H, W, C] test images.
    labels: [N] true classes.
    predicted: [N] predicted classes.
    pair: classes (A, B).
  """
  leans = []
  for true, guess in pair_group_names(pair):
    members = (labels == true) & (predicted == guess)
    leans.append(float(np.median(ink_lean.leans_degrees(images[members])))
                 if members.any() else float("nan"))
  return leans


def _parse_pair(values, num_classes: int) -> Tuple[int, int]:
  try:
    pair = tuple(int(v) for v in values)
  except ValueError:
    pair = ()
  if len(pair) != 2 or pair[0] == pair[1] or not all(0 <= c < num_classes for c in pair):
    raise ValueError(f"--pair={','.join(values)} must name two different classes in "
                     f"[0, {num_classes}), e.g. --pair=4,9.")
  return pair


def _print_noise_draw_errors(model, splits, config, probabilities: np.ndarray,
                             labels: np.ndarray, draws: int) -> None:
  """The test error of q(z|x) averaged over `draws` noise draws; `probabilities` [N, C] at n = 0."""
  noisy = trained_run.noise_class_probabilities(model, splits.test_images, splits.test_labels,
                                                config.data, draws)
  errors = noise_draw_errors(noisy, labels, probabilities)
  print(f"test error with q(z|x) averaged over {draws} noise draws: "
        f"{100 * errors['averaged_error']:.2f} % (single draws "
        f"{100 * errors['draw_errors'].min():.2f}-{100 * errors['draw_errors'].max():.2f} %; "
        f"a draw moves {100 * errors['moved']:.2f} % of the test images to another class)")


def _print_pair_leans(splits, test_images: np.ndarray, labels: np.ndarray,
                      predicted: np.ndarray, pair: Tuple[int, int]) -> None:
  """How far the strokes of each --pair group and of the pair's labelled images lean."""
  leans = pair_group_leans(test_images, labels, predicted, pair)
  print("median lean of each row (degrees, + when the top is right): " + ", ".join(
      f"{t} as {p} {lean:+.1f}" for (t, p), lean in zip(pair_group_names(pair), leans)))
  for label in pair:
    labelled = ink_lean.leans_degrees(splits.labeled_images[splits.labeled_labels == label])
    print(f"labelled {label}s lean " + ", ".join(f"{lean:+.1f}" for lean in labelled))


def main(argv):
  del argv
  workdir = trained_run.WORKDIR.value
  if (_PAIR.value is None) != (_FIGURE.value is None):
    sys.exit("error: --pair and --figure go together.")
  try:
    model, splits, config = trained_run.load_run(workdir)
    if not model.can_classify:
      raise ValueError(f"{workdir} is a run without a categorical code: nothing classifies.")
    if model.is_clustering:
      raise ValueError(f"{workdir} has clusters, not classes: use experiments.cluster_report.")
    num_classes = model.config.num_classes
    pair = _parse_pair(_PAIR.value, num_classes) if _PAIR.value is not None else None
  except (ValueError, OSError) as error:
    sys.exit(f"error: {error}")
  probabilities = trained_run.class_probabilities(
      model, splits.test_images, splits.test_labels, config.data)
  predicted = probabilities.argmax(-1)
  labels = splits.test_labels[:len(predicted)]
  confusion = confusion_matrix(labels, predicted, num_classes)
  errors = confusion.sum(1) - np.diag(confusion)
  print(f"step {int(model.optimizer.iterations)}, {len(labels)} test images, "
        f"test error {100 * errors.sum() / len(labels):.2f} %")
  print("errors per true class: " + ", ".join(str(e) for e in errors))
  print("commonest confusions (true -> predicted: images): " + ", ".join(
      f"{t} -> {p}: {n}" for t, p, n in commonest_confusions(confusion, _TOP.value)))
  # Evaluation normalizes with moving averages, training with each batch's own
  # statistics: a large difference would mean the test sees another classifier.
  batch_normalized, _ = trained_run.class_probabilities_and_logits(
      model, splits.test_images, splits.test_labels, config.data, batch_statistics=True)
  batch_error = np.mean(batch_normalized.argmax(-1) != labels)
  print(f"test error with each batch of {config.data.batch_size} normalized by its own "
        f"statistics, as in training: {100 * batch_error:.2f} %")
  if trained_run.NOISE_DRAWS.value > 0:
    _print_noise_draw_errors(model, splits, config, probabilities, labels,
                             trained_run.NOISE_DRAWS.value)
  # High test error with every labelled image right: the labels were fitted, not carried.
  labeled_predicted = trained_run.class_probabilities(
      model, splits.labeled_images, splits.labeled_labels, config.data).argmax(-1)
  labeled_right = int((labeled_predicted == splits.labeled_labels).sum())
  print(f"labelled training images classified right: {labeled_right} of "
        f"{len(splits.labeled_labels)}")
  misread = misread_labelled(splits.labeled_labels, labeled_predicted)
  if misread:
    print(f"labelled training images read wrong: {misread}")
  if pair is not None:
    test_images = splits.test_images[:len(predicted)]
    grid = pair_groups(test_images, labels, predicted, pair, _EXAMPLES.value, seed=0)
    tf.io.write_file(_FIGURE.value, tf.io.encode_png(grid))
    groups = pair_group_names(pair)
    sizes = [int(confusion[t, p]) for t, p in groups]
    print(f"{_FIGURE.value}: rows {', '.join(f'{t} as {p}' for t, p in groups)} "
          f"({', '.join(map(str, sizes))} images); mean image first")
    _print_pair_leans(splits, test_images, labels, predicted, pair)


def misread_labelled(labels: np.ndarray, predicted: np.ndarray) -> str:
  """"1 as 6, 3 as 7" for the labelled images classified wrong, or "" when none are.

  Args:
    labels: [L] the labelled images' classes.
    predicted: [L] the classes the run gives them.
  """
  wrong = [f"{label} as {guess}" for label, guess in zip(labels.tolist(), predicted.tolist())
           if label != guess]
  return ", ".join(wrong)


if __name__ == "__main__":
  flags.mark_flag_as_required("workdir")
  app.run(main)
