"""The paper's evaluation protocols, as functions of predicted probabilities."""

import numpy as np


def classification_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
  """Fraction of [N] labels that differ from the argmax of [N, K] probabilities."""
  return float(np.mean(np.argmax(probabilities, axis=-1) != labels))


def cluster_labels(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """Labels each cluster with the label of its most confident example.

  Makhzani & Frey 2017, Section 5 (and the adversarial autoencoder's
  protocol): for each cluster i, the validation example x_n that maximises
  q(z_i | x_n) gives its label to the whole cluster.

  Args:
    probabilities: [N, K] cluster probabilities q(z | x) of validation images.
    labels: [N] their labels.

  Returns:
    [K] the label given to each cluster.
  """
  return labels[np.argmax(probabilities, axis=0)]


def clustering_error(probabilities: np.ndarray, labels: np.ndarray,
                     labels_of_clusters: np.ndarray) -> float:
  """Test error when every image gets the label of its most probable cluster.

  Args:
    probabilities: [N, K] cluster probabilities of test images.
    labels: [N] their labels.
    labels_of_clusters: [K] from `cluster_labels`.
  """
  predicted = labels_of_clusters[np.argmax(probabilities, axis=-1)]
  return float(np.mean(predicted != labels))
