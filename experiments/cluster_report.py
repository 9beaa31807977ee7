r"""What the clusters of an unsupervised run hold, and what their labelling costs.

  python -m experiments.cluster_report --workdir=runs/table1/mnist_unsupervised/seed0

The paper's protocol labels each cluster with its most confident validation
image (`evaluation.cluster_labels`). This prints, for the test split, that
clustering error beside two diagnostics: the error when each cluster takes the
commonest validation label among the images it wins (a labelling by more than
one example), and when it takes the commonest test label (the best any
labelling of these clusters can do: their impurity alone). It also shows how
many validation images tie for a cluster's largest probability (float32
saturates at 1) and the error when each cluster is named by the exact
maximiser instead, the image of the largest log-odds. Then one line per
cluster: test images, the protocol's label, the commonest label, its share.

With --binarizations=K > 1 it also gives the protocol's and the purity error
when q(z|x) is averaged over K binarizations of each validation and test
image: how much of the protocol's error is the draw of one binarization.
With --noise_draws=K it gives them with q(z|x) averaged over K draws of the
encoder's noise n (the paper's implicit posterior; the protocol uses n = 0),
and the share of test images whose cluster changes from n = 0 to a draw.
With --styles it also gives, for each class, how much of its test images'
variance in lean (`ink_lean`) and in ink (their summed pixel values) lies
between the clusters that win them: near 1 when the clusters cut the class by
that style, near 0 when each cluster holds the class's whole range. A run on
deskewed images (`data.deskew`) has its leans read off the images as they were
before deskewing.
"""

import dataclasses
import sys
from typing import Optional

from absl import app, flags
import numpy as np

from experiments import ink_lean, trained_run
from pixelgan_tf import data as data_lib
from pixelgan_tf import evaluation

_BINARIZATIONS = flags.DEFINE_integer(
    "binarizations", 1, "Also report the errors with q(z|x) averaged over this many "
    "binarizations of each image (1: only the protocol's one binarization).", lower_bound=1)

_STYLES = flags.DEFINE_bool(
    "styles", False, "Also report, per class, the share of its test images' lean and ink "
    "variance that lies between the clusters they fall in.")


def log_odds(logits: np.ndarray) -> np.ndarray:
  """[N, K] log(q_k / (1 - q_k)) of q = softmax(logits [N, K]), in float64.

  Monotone in q_k like the probability, but it keeps ordering the images whose
  float32 probability has saturated at 1.
  """
  logits = np.asarray(logits, np.float64)
  others = [np.logaddexp.reduce(np.delete(logits, k, axis=-1), axis=-1)
            for k in range(logits.shape[-1])]
  return logits - np.stack(others, axis=-1)


def cluster_report(val_probs: np.ndarray, val_labels: np.ndarray, test_probs: np.ndarray,
                   test_labels: np.ndarray, val_logits: Optional[np.ndarray] = None) -> dict:
  """Clustering errors under three (or four) labellings, and each cluster's contents.

  Args:
    val_probs: [N_val, K] cluster probabilities of the validation images.
    val_labels: [N_val] their labels.
    test_probs: [N_test, K] cluster probabilities of the test images.
    test_labels: [N_test] their labels.
    val_logits: [N_val, K] the logits behind `val_probs`, or None.

  Returns:
    dict with 'protocol_error', 'validation_majority_error', 'purity_error'
    (fractions of the test images), 'most_ties' (the most validation images
    that share a cluster's largest probability) and 'clusters': one dict per
    cluster that wins a test image ('cluster', 'images', 'protocol_label',
    'majority_label', 'purity'), the largest first. With `val_logits`, also
    'exact_maximiser_error': each cluster named by its image of largest
    log-odds.
  """
  protocol = evaluation.cluster_labels(val_probs, val_labels)
  by_validation = evaluation.majority_cluster_labels(val_probs, val_labels, protocol)
  by_test = evaluation.majority_cluster_labels(test_probs, test_labels, protocol)
  winners = np.argmax(test_probs, axis=-1)
  sizes = np.bincount(winners, minlength=test_probs.shape[-1])
  clusters = []
  for cluster in np.argsort(-sizes, kind="stable"):
    if sizes[cluster] == 0:
      break
    members = test_labels[winners == cluster]
    clusters.append({
        "cluster": int(cluster), "images": int(sizes[cluster]),
        "protocol_label": int(protocol[cluster]), "majority_label": int(by_test[cluster]),
        "purity": float(np.mean(members == by_test[cluster]))})
  error = lambda labels_of_clusters: evaluation.clustering_error(
      test_probs, test_labels, labels_of_clusters)
  report = {"protocol_error": error(protocol), "validation_majority_error": error(by_validation),
            "purity_error": error(by_test), "clusters": clusters,
            "most_ties": int(np.max(np.sum(val_probs == val_probs.max(axis=0), axis=0)))}
  if val_logits is not None:
    report["exact_maximiser_error"] = error(
        evaluation.cluster_labels(log_odds(val_logits), val_labels))
  return report


def share_between_clusters(values: np.ndarray, labels: np.ndarray, winners: np.ndarray,
                           num_classes: int) -> np.ndarray:
  """Per class, the share of a value's variance that lies between clusters (eta squared).

  For the images of class c, split by the cluster each falls in: the sum over
  clusters of size times (cluster mean - class mean)^2, over the sum of squared
  deviations from the class mean.

  Args:
    values: [N] one number per image (a lean, an amount of ink).
    labels: [N] classes in [0, num_classes).
    winners: [N] the cluster of each image.
    num_classes: C.

  Returns:
    [C] shares in [0, 1]; NaN for a class with under two images or no spread.
  """
  values = np.asarray(values, np.float64)
  shares = np.full(num_classes, np.nan)
  for c in range(num_classes):
    mine = labels == c
    deviations = values[mine] - values[mine].mean() if mine.sum() > 1 else None
    if deviations is None or not np.any(deviations):
      continue
    clusters, which = np.unique(winners[mine], return_inverse=True)
    sizes = np.bincount(which, minlength=len(clusters))
    cluster_means = np.bincount(which, weights=deviations, minlength=len(clusters)) / sizes
    shares[c] = float((sizes * cluster_means ** 2).sum() / (deviations ** 2).sum())
  return shares


def _print_style_shares(test_images: np.ndarray, leaning_images: np.ndarray,
                        test_labels: np.ndarray, test_probs: np.ndarray) -> None:
  """How far the clusters cut each class by lean and by ink.

  Args:
    test_images: [N, H, W, C] the test images the run was evaluated on.
    leaning_images: [N, H, W, C] the same images before any deskewing.
    test_labels: [N] their classes.
    test_probs: [N, K] their cluster probabilities.
  """
  winners = np.argmax(test_probs, axis=-1)
  num_classes = int(test_labels.max()) + 1
  styles = {"lean": ink_lean.leans_degrees(leaning_images),
            "ink": np.asarray(test_images, np.float64).reshape(len(test_images), -1).sum(-1)}
  shares = {name: share_between_clusters(values, test_labels, winners, num_classes)
            for name, values in styles.items()}
  print("| class | clusters holding 5 % of it or more | lean: share between clusters "
        "| ink: share between clusters |")
  print("|---|---|---|---|")
  for c in range(num_classes):
    counts = np.bincount(winners[test_labels == c], minlength=test_probs.shape[-1])
    holding = int(((counts > 0) & (counts >= 0.05 * counts.sum())).sum())
    print(f"| {c} | {holding} | {shares['lean'][c]:.2f} | {shares['ink'][c]:.2f} |")
  print(f"| mean | | {np.nanmean(shares['lean']):.2f} | {np.nanmean(shares['ink']):.2f} |")


def _print_averaged_errors(splits, val_probs: np.ndarray, test_probs: np.ndarray,
                           prefix: str, draws: str) -> None:
  """The protocol's and the purity error of an averaged q(z|x) ([N_val, K], [N_test, K])."""
  averaged = cluster_report(val_probs, splits.validation_labels, test_probs, splits.test_labels)
  for name in ("protocol_error", "purity_error"):
    print(f"  {prefix}{name} ({draws}): {100 * averaged[name]:.2f} %")


def _print_binarization_averages(model, splits, config, val_probs: np.ndarray,
                                 test_probs: np.ndarray, draws: int) -> None:
  """The errors with q(z|x) averaged over `draws` binarizations of each image.

  `val_probs` [N_val, K] and `test_probs` [N_test, K] are the protocol's draw.
  """
  mean = lambda images, labels, probs: trained_run.mean_class_probabilities(
      model, images, labels, config.data, draws, protocol_draw=probs)
  _print_averaged_errors(splits, mean(splits.validation_images, splits.validation_labels,
                                      val_probs),
                         mean(splits.test_images, splits.test_labels, test_probs), "averaged_",
                         f"{draws} binarizations")


def _print_noise_averages(model, splits, config, test_probs: np.ndarray, draws: int) -> None:
  """The errors with q(z|x) averaged over `draws` noise draws, and how often n moves an image.

  `test_probs` [N_test, K] are the protocol's, at n = 0.
  """
  noisy_val = trained_run.noise_class_probabilities(model, splits.validation_images,
                                                    splits.validation_labels, config.data, draws)
  noisy_test = trained_run.noise_class_probabilities(model, splits.test_images,
                                                     splits.test_labels, config.data, draws)
  _print_averaged_errors(splits, noisy_val.mean(axis=0), noisy_test.mean(axis=0),
                         "noise_averaged_", f"{draws} noise draws")
  moved = trained_run.share_moved_by_noise(noisy_test, test_probs)
  print(f"  test images a noise draw moves to another cluster: {100 * moved:.2f} %")


def main(argv):
  del argv
  workdir = trained_run.WORKDIR.value
  try:
    model, splits, config = trained_run.load_run(workdir)
    if not model.is_clustering:
      raise ValueError(f"{workdir} is not an unsupervised run with a categorical code.")
  except (ValueError, OSError) as error:
    sys.exit(f"error: {error}")
  val_probs, val_logits = trained_run.class_probabilities_and_logits(
      model, splits.validation_images, splits.validation_labels, config.data)
  test_probs = trained_run.class_probabilities(model, splits.test_images, splits.test_labels,
                                               config.data)
  report = cluster_report(val_probs, splits.validation_labels, test_probs, splits.test_labels,
                          val_logits)
  print(f"step {int(model.optimizer.iterations)}, {len(splits.test_labels)} test images, "
        f"{len(report['clusters'])} clusters win at least one")
  for name in ("protocol_error", "exact_maximiser_error", "validation_majority_error",
               "purity_error"):
    print(f"  {name}: {100 * report[name]:.2f} %")
  if _BINARIZATIONS.value > 1:
    _print_binarization_averages(model, splits, config, val_probs, test_probs,
                                 _BINARIZATIONS.value)
  if trained_run.NOISE_DRAWS.value > 0:
    _print_noise_averages(model, splits, config, test_probs, trained_run.NOISE_DRAWS.value)
  if _STYLES.value:
    leaning_images = splits.test_images
    if config.data.deskew:
      # Deskewed images hardly lean: read the leans off the images they were.
      leaning_images = data_lib.load_splits(
          dataclasses.replace(config.data, deskew=False)).test_images
    _print_style_shares(splits.test_images, leaning_images, splits.test_labels, test_probs)
  print(f"  most validation images tied at a cluster's largest probability: "
        f"{report['most_ties']}")
  print("| cluster | test images | protocol's label | commonest label | its share |")
  print("|---|---|---|---|---|")
  for c in report["clusters"]:
    print(f"| {c['cluster']} | {c['images']} | {c['protocol_label']} | {c['majority_label']} "
          f"| {100 * c['purity']:.1f} % |")


if __name__ == "__main__":
  flags.mark_flag_as_required("workdir")
  app.run(main)
