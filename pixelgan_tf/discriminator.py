"""The adversarial network on the code."""

from typing import Sequence

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class CodeDiscriminator(keras.Model):
  """An MLP telling prior samples from codes of the data.

  Args:
    hidden_units: widths of the ReLU layers (the paper's default 2 x 1000).
    batch_mean: append to each code the mean code of its batch (a minibatch
      feature, not in the paper). A per-code discriminator cannot tell that a
      categorical code leaves some categories unused: such codes never reach
      it, so the encoder gets no gradient towards them. The batch mean shows
      each category's share, and its gradient reaches every code of the
      batch. Real and fake codes must therefore come in separate calls. Under
      `MirroredStrategy` the mean is over the replica's own batch.

  Call args:
    code: [batch, dim], all drawn from one source (the prior, or the encoder).

  Returns:
    [batch] float32 logits: positive means "drawn from the prior".
  """

  def __init__(self, hidden_units: Sequence[int] = (1000, 1000), batch_mean: bool = False,
               **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = tuple(int(u) for u in hidden_units)
    self.batch_mean = bool(batch_mean)
    policy = self.dtype_policy
    self.hidden_layers = [
        keras.layers.Dense(units, activation="relu", dtype=policy, name=f"hidden_{i}")
        for i, units in enumerate(self.hidden_units)]
    self.logit = keras.layers.Dense(1, dtype=policy, name="logit")

  def call(self, code):
    x = tf.cast(code, self.compute_dtype)
    if self.batch_mean:
      mean = tf.reduce_mean(x, axis=0, keepdims=True)
      x = tf.concat([x, tf.broadcast_to(mean, tf.shape(x))], axis=-1)
    for layer in self.hidden_layers:
      x = layer(x)
    return tf.cast(self.logit(x)[:, 0], tf.float32)

  def get_config(self):
    config = super().get_config()
    config.update({"hidden_units": self.hidden_units, "batch_mean": self.batch_mean})
    return config
