"""The adversarial network on the code."""

from typing import Sequence

import keras
import tensorflow as tf

from pixelgan_tf import random


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
    input_noise_std: standard deviation of Gaussian noise added to every code
      it sees in a call with a seed (instance noise, not in the paper; 0: none).
      A one-hot prior sample and a softmax code that is nearly one-hot then
      look alike, so the discriminator cannot reward sharpness alone and has to
      judge how the codes spread over the categories.

  Call args:
    code: [batch, dim], all drawn from one source (the prior, or the encoder).
    seed: [2] integer seed of the input noise; None (evaluation, diagnostics)
      judges the codes as they are.

  Returns:
    [batch] float32 logits: positive means "drawn from the prior".
  """

  def __init__(self, hidden_units: Sequence[int] = (1000, 1000), batch_mean: bool = False,
               input_noise_std: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    if input_noise_std < 0:
      raise ValueError(f"The discriminator's input_noise_std must be >= 0, got "
                       f"{input_noise_std}.")
    self.hidden_units = tuple(int(u) for u in hidden_units)
    self.batch_mean = bool(batch_mean)
    self.input_noise_std = float(input_noise_std)
    policy = self.dtype_policy
    self.hidden_layers = [
        keras.layers.Dense(units, activation="relu", dtype=policy, name=f"hidden_{i}")
        for i, units in enumerate(self.hidden_units)]
    self.logit = keras.layers.Dense(1, dtype=policy, name="logit")

  def call(self, code, seed=None):
    x = tf.cast(code, self.compute_dtype)
    if seed is not None and self.input_noise_std > 0:
      x = x + random.normal(tf.shape(x), seed, stddev=self.input_noise_std,
                            dtype=self.compute_dtype)
    if self.batch_mean:
      mean = tf.reduce_mean(x, axis=0, keepdims=True)
      x = tf.concat([x, tf.broadcast_to(mean, tf.shape(x))], axis=-1)
    for layer in self.hidden_layers:
      x = layer(x)
    return tf.cast(self.logit(x)[:, 0], tf.float32)

  def get_config(self):
    config = super().get_config()
    config.update({"hidden_units": self.hidden_units, "batch_mean": self.batch_mean,
                   "input_noise_std": self.input_noise_std})
    return config
