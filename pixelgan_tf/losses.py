"""The training objectives as pure functions of network outputs."""

import tensorflow as tf


def discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
  """Cross-entropy of telling prior samples (label 1) from data codes (label 0).

  Args:
    real_logits: [B] discriminator logits of prior samples.
    fake_logits: [B] discriminator logits of codes of the data.

  Returns:
    Scalar: mean over both halves.
  """
  real = tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(real_logits), real_logits)
  fake = tf.nn.sigmoid_cross_entropy_with_logits(tf.zeros_like(fake_logits), fake_logits)
  return 0.5 * (tf.reduce_mean(real) + tf.reduce_mean(fake))


def discriminator_accuracy(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
  """Fraction of prior samples and data codes the discriminator gets right."""
  correct = tf.concat([tf.cast(real_logits > 0, tf.float32),
                       tf.cast(fake_logits <= 0, tf.float32)], axis=0)
  return tf.reduce_mean(correct)


def generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
  """Non-saturating generator loss: -log D(f(x, n)), mean over [B] logits."""
  return tf.reduce_mean(
      tf.nn.sigmoid_cross_entropy_with_logits(tf.ones_like(fake_logits), fake_logits))


def supervised_loss(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
  """Mean cross-entropy of [B, K] categorical logits against [B] integer labels."""
  return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=tf.cast(labels, tf.int32), logits=tf.cast(logits, tf.float32)))

