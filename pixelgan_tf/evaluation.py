"""The paper's evaluation protocols, as functions of predicted probabilities."""

import numpy as np
import tensorflow as tf


def classification_error(scores, labels) -> tf.Tensor:
  """Fraction of [N] labels that differ from the argmax of [N, K] scores.

  The one definition for the training step (a graph op on logits) and the
  evaluation (NumPy probabilities); the argmax is the same for both. In
  float64, so that a split's error is its count of errors over N to the digit.

  Returns:
    A scalar float64 tensor.
  """
  predictions = tf.argmax(scores, axis=-1, output_type=tf.int32)
  return tf.reduce_mean(tf.cast(predictions != tf.cast(labels, tf.int32), tf.float64))


def cluster_labels(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
  """Labels each cluster with the label of its most confident example.

  Makhzani & Frey 2017, Section 5 (and the adversarial autoencoder's
  protocol): for each cluster i, the validation example x_n that maximises
  q(z_i | x_n) gives its label to the whole cluster.

  A confident code saturates float32 probabilities at exactly 1, so hundreds
  of images can tie for a cluster's maximum; the tie goes to the first of
  them. Breaking it by the exact maximiser (the largest log-odds) named worse
  (RESULTS.md, "The clustering protocol's ties").

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


def majority_cluster_labels(probabilities: np.ndarray, labels: np.ndarray,
                            fallback: np.ndarray) -> np.ndarray:
  """Labels each cluster with the commonest label of the images it wins.

  Not the paper's protocol (that is `cluster_labels`, one example a cluster):
  a diagnostic. Given the test split itself it gives the error of the best
  labelling of the clusters, what their impurity alone costs.

  Args:
    probabilities: [N, K] cluster probabilities of images.
    labels: [N] their labels (non-negative integers).
    fallback: [K] labels for the clusters that win no image.

  Returns:
    [K] the label given to each cluster.
  """
  winners = np.argmax(probabilities, axis=-1)
  result = np.array(fallback, copy=True)
  for cluster in np.unique(winners):
    result[cluster] = np.bincount(labels[winners == cluster]).argmax()
  return result
