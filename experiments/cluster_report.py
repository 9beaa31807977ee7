r"""What the clusters of an unsupervised run hold, and what their labelling costs.

  python -m experiments.cluster_report --workdir=runs/table1/mnist_unsupervised/seed0

The paper's protocol labels each cluster with its most confident validation
image (`evaluation.cluster_labels`). This prints, for the test split, that
clustering error beside two diagnostics: the error when each cluster takes the
commonest validation label among the images it wins (a labelling by more than
one example), and when it takes the commonest test label (the best any
labelling of these clusters can do: their impurity alone). Then one line per
cluster: test images, the protocol's label, the commonest label, its share.
"""

import sys

from absl import app, flags
import numpy as np

from experiments import trained_run
from pixelgan_tf import evaluation


def cluster_report(val_probs: np.ndarray, val_labels: np.ndarray, test_probs: np.ndarray,
                   test_labels: np.ndarray) -> dict:
  """Clustering errors under three labellings, and each cluster's contents.

  Args:
    val_probs: [N_val, K] cluster probabilities of the validation images.
    val_labels: [N_val] their labels.
    test_probs: [N_test, K] cluster probabilities of the test images.
    test_labels: [N_test] their labels.

  Returns:
    dict with 'protocol_error', 'validation_majority_error', 'purity_error'
    (fractions of the test images) and 'clusters': one dict per cluster that
    wins a test image ('cluster', 'images', 'protocol_label', 'majority_label',
    'purity'), the largest first.
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
  return {"protocol_error": error(protocol), "validation_majority_error": error(by_validation),
          "purity_error": error(by_test), "clusters": clusters}


def main(argv):
  del argv
  workdir = trained_run.WORKDIR.value
  try:
    model, splits, config = trained_run.load_run(workdir)
    if not model.is_clustering:
      raise ValueError(f"{workdir} is not an unsupervised run with a categorical code.")
  except (ValueError, OSError) as error:
    sys.exit(f"error: {error}")
  probabilities = lambda images, labels: trained_run.class_probabilities(
      model, images, labels, config.data)
  report = cluster_report(
      probabilities(splits.validation_images, splits.validation_labels),
      splits.validation_labels,
      probabilities(splits.test_images, splits.test_labels), splits.test_labels)
  print(f"step {int(model.optimizer.iterations)}, {len(splits.test_labels)} test images, "
        f"{len(report['clusters'])} clusters win at least one")
  for name in ("protocol_error", "validation_majority_error", "purity_error"):
    print(f"  {name}: {100 * report[name]:.2f} %")
  print("| cluster | test images | protocol's label | commonest label | its share |")
  print("|---|---|---|---|---|")
  for c in report["clusters"]:
    print(f"| {c['cluster']} | {c['images']} | {c['protocol_label']} | {c['majority_label']} "
          f"| {100 * c['purity']:.1f} % |")


if __name__ == "__main__":
  flags.mark_flag_as_required("workdir")
  app.run(main)
