"""Tests of the evaluation protocols on hand-made probabilities."""

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import evaluation


def test_classification_error_of_probabilities_is_exact_in_float64():
  probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
  error = evaluation.classification_error(probabilities, np.array([0, 1, 1]))
  assert error.dtype == tf.float64 and float(error) == 1 / 3


def test_classification_error_of_logits_in_a_graph():
  error = tf.function(evaluation.classification_error)(
      tf.constant([[2.0, 0.0, 0.0], [0.0, 0.0, 5.0]]), tf.constant([0, 1]))
  assert float(error) == pytest.approx(0.5)


def test_each_cluster_takes_the_label_of_its_most_confident_validation_example():
  # Three clusters; cluster 2 is most confident on example 3 (label 7).
  probabilities = np.array([[0.8, 0.1, 0.1],
                            [0.1, 0.7, 0.2],
                            [0.6, 0.2, 0.2],
                            [0.1, 0.1, 0.8],
                            [0.3, 0.3, 0.4]])
  labels = np.array([4, 1, 9, 7, 1])
  np.testing.assert_array_equal(evaluation.cluster_labels(probabilities, labels), [4, 1, 7])


def test_clustering_error_uses_the_cluster_labels():
  labels_of_clusters = np.array([4, 1, 7, 4])      # two clusters may share a label
  probabilities = np.array([[0.9, 0.0, 0.1, 0.0],  # -> cluster 0 -> 4
                            [0.0, 0.1, 0.0, 0.9],  # -> cluster 3 -> 4
                            [0.1, 0.8, 0.1, 0.0],  # -> cluster 1 -> 1
                            [0.0, 0.0, 1.0, 0.0]])  # -> cluster 2 -> 7
  labels = np.array([4, 4, 2, 7])
  assert evaluation.clustering_error(probabilities, labels, labels_of_clusters) == pytest.approx(0.25)


def test_majority_labels_take_each_clusters_commonest_label_and_keep_the_fallback_if_empty():
  probabilities = np.array([[0.9, 0.1, 0.0],   # cluster 0: labels 3, 3, 5
                            [0.6, 0.4, 0.0],
                            [0.5, 0.2, 0.3],
                            [0.1, 0.9, 0.0]])  # cluster 1: label 8; cluster 2 wins none
  labels = np.array([3, 3, 5, 8])
  np.testing.assert_array_equal(
      evaluation.majority_cluster_labels(probabilities, labels, np.array([0, 0, 6])), [3, 8, 6])


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
