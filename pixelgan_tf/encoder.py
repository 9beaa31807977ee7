"""The recognition network q(z|x): z = f(x, n) with injected noise n."""

from typing import Dict, Optional, Sequence

import keras
import tensorflow as tf

from pixelgan_tf import random
from pixelgan_tf.config import NOISE_POSITIONS
from pixelgan_tf.priors import CATEGORICAL

CATEGORICAL_LOGITS = "categorical_logits"


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class Encoder(keras.Model):
  """A convolutional encoder whose output is a deterministic function of (x, n).

  q(z|x) is implicit (Makhzani & Frey 2017, Section 2): sampling it means
  evaluating f for a fresh n ~ N(0, noise_std^2 I). The noise is stateless,
  drawn from a `seed`, so a step is reproducible, XLA-compilable and
  different on every replica. Without a seed the encoder is deterministic
  (n = 0), which is how it classifies at test time.

  Layout: stride-2 5x5 convolutions (leaky ReLU), flatten, `hidden_layers`
  dense ReLU layers, one linear head per code component; the categorical head's logits go
  through a softmax, after batch normalization without a learnt offset when
  `normalize_logits` is set. `normalize_hidden` batch-normalizes every
  convolution's and dense layer's pre-activations too.

  Args:
    code_sizes: size of each code component, e.g. {'gaussian': 8} or
      {'categorical': 10} or both.
    filters: channels of the convolutions; () flattens the image straight
      into the dense layers (the adversarial autoencoder paper's layout).
    hidden_units: width of each dense layer.
    hidden_layers: dense ReLU layers (at least 1).
    noise_position: 'hidden' concatenates `noise_dim` noise values to the
      flattened features; 'input' adds noise to every normalized pixel.
    noise_dim: noise values for 'hidden'.
    noise_std: noise standard deviation; 0 makes f ignore n.
    normalize_logits: batch-normalize the categorical logits (learnt scale,
      no offset). Every category's logit then has mean 0 over a batch, so no
      category can win every image: without it an unsupervised categorical
      code collapses onto one category early in training. Under
      `MirroredStrategy` each replica normalizes with its own batch.
    normalize_hidden: batch-normalize the pre-activations of every hidden
      layer (the convolutions and the dense layers); their biases are
      dropped, the normalization's learnt offset takes their place.
    logit_scale: None learns the normalized logits' scale, one per category;
      a positive number fixes it for every category. A learnt scale lets the
      softmax turn one-hot by growing, whatever the features; a fixed one
      leaves the code as confident as its images are separated. Needs
      `normalize_logits`.
    dropout: the share of each dense layer's outputs dropped in training
      (inverted dropout, a mask drawn from the call's seed). Unlike the noise
      n, which the encoder can learn to ignore, dropout keeps q(z|x)
      stochastic in training; 0 (the presets) turns it off.
    zero_categorical_head: start the categorical head's kernel at zero
      (`zero_categorical_kernel`), so that every image's code starts uniform
      and the first steps' gradients, not a random projection of the
      features, draw the categories.

  Call args:
    images: [batch, height, width, channels], normalized to about [-1, 1].
    seed: shape [2] integer tensor for the noise, or None for n = 0.
    noise_std: this call's noise standard deviation in place of the layer's
      (a phase's own level, `PhaseConfig.supervised_noise_std` or
      `adversarial_noise_std`); None keeps the layer's.
    training: normalize with the batch's statistics (and update the moving
      ones) instead of the moving statistics, and drop out (with a seed).

  Returns:
    dict with [batch, size] float32 tensors: each component of `code_sizes`
    (the categorical one as softmax probabilities) and 'categorical_logits'.
  """

  def __init__(self,
               code_sizes: Dict[str, int],
               filters: Sequence[int] = (32, 64),
               hidden_units: int = 512,
               hidden_layers: int = 1,
               noise_position: str = "hidden",
               noise_dim: int = 16,
               noise_std: float = 1.0,
               normalize_logits: bool = False,
               normalize_hidden: bool = False,
               logit_scale: Optional[float] = None,
               dropout: float = 0.0,
               zero_categorical_head: bool = False,
               **kwargs):
    super().__init__(**kwargs)
    if noise_position not in NOISE_POSITIONS:
      raise ValueError(f"noise_position must be one of {NOISE_POSITIONS}, got {noise_position!r}.")
    if noise_std < 0 or noise_dim < 0:
      raise ValueError(f"noise_std and noise_dim must be >= 0, got {noise_std}, {noise_dim}.")
    if hidden_layers < 1:
      raise ValueError(f"hidden_layers must be >= 1, got {hidden_layers}.")
    if not code_sizes:
      raise ValueError("An encoder needs at least one code component.")
    if logit_scale is not None and not logit_scale > 0:
      raise ValueError(f"logit_scale must be positive (or None: learnt), got {logit_scale}.")
    if logit_scale is not None and not normalize_logits:
      raise ValueError(f"logit_scale={logit_scale} scales the normalized logits: it needs "
                       f"normalize_logits=True.")
    if not 0.0 <= dropout < 1.0:
      raise ValueError(f"dropout must be in [0, 1), got {dropout}.")
    if zero_categorical_head and CATEGORICAL not in code_sizes:
      raise ValueError(f"zero_categorical_head starts the categorical head at zero, but the "
                       f"code has no categorical component ({sorted(code_sizes)}).")
    self.code_sizes = dict(sorted(code_sizes.items()))
    self.filters = tuple(int(f) for f in filters)
    self.hidden_units = int(hidden_units)
    self.hidden_layers = int(hidden_layers)
    self.noise_position = noise_position
    self.noise_dim = int(noise_dim)
    self.noise_std = float(noise_std)
    self.normalize_logits = bool(normalize_logits)
    self.normalize_hidden = bool(normalize_hidden)
    self.logit_scale = None if logit_scale is None else float(logit_scale)
    self.dropout = float(dropout)
    self.zero_categorical_head = bool(zero_categorical_head)
    policy = self.dtype_policy
    # Without normalization the layers keep their biases and (dense) built-in
    # ReLU and names, so that checkpoints made before `normalize_hidden` load.
    bias = not self.normalize_hidden
    relu = None if self.normalize_hidden else "relu"
    self.convolutions = [
        keras.layers.Conv2D(f, 5, strides=2, padding="same", use_bias=bias, dtype=policy,
                            name=f"conv_{i}")
        for i, f in enumerate(self.filters)]
    self.hidden = keras.layers.Dense(self.hidden_units, activation=relu, use_bias=bias,
                                     dtype=policy, name="hidden")
    # Apart from `hidden`, so that checkpoints of one-layer encoders still load.
    self.deeper_hidden = [
        keras.layers.Dense(self.hidden_units, activation=relu, use_bias=bias, dtype=policy,
                           name=f"hidden_{i}")
        for i in range(1, self.hidden_layers)]
    # One normalization per convolution, then one per dense layer, in order.
    self.hidden_norms = ([keras.layers.BatchNormalization(dtype=policy, name=f"hidden_norm_{i}")
                          for i in range(len(self.filters) + self.hidden_layers)]
                         if self.normalize_hidden else [])
    normalize = self.normalize_logits and CATEGORICAL in self.code_sizes
    # A bias before the normalization would be subtracted right away: it would
    # get no gradient but Adam's noise.
    self.heads = {name: keras.layers.Dense(size, use_bias=not (normalize and name == CATEGORICAL),
                                           dtype=policy, name=f"{name}_head")
                  for name, size in self.code_sizes.items()}
    self.logit_norm = (keras.layers.BatchNormalization(
        center=False, scale=self.logit_scale is None, dtype=policy, name="logit_norm")
                       if normalize else None)

  @property
  def code_dim(self) -> int:
    return sum(self.code_sizes.values())

  def _noise(self, shape, seed, stddev: float):
    if seed is None or stddev == 0:
      return tf.zeros(shape, self.compute_dtype)
    return random.normal(shape, seed, stddev=stddev, dtype=self.compute_dtype)

  def _drop_out(self, x, seed, training, index: int):
    """x [batch, units] with a `dropout` share zeroed and the rest scaled up."""
    if not training or seed is None or self.dropout == 0:
      return x
    # Children 0 and 1 of the seed draw the noise (`random.normal`).
    keep = random.uniform(tf.shape(x), random.split(seed, 2 + index)) >= self.dropout
    return tf.where(keep, x / (1.0 - self.dropout), tf.zeros_like(x))

  def call(self, images, seed=None, training=False, noise_std=None):
    stddev = self.noise_std if noise_std is None else float(noise_std)
    x = tf.cast(images, self.compute_dtype)
    batch = tf.shape(x)[0]
    if self.noise_position == "input":
      x = x + self._noise(tf.shape(x), seed, stddev)
    norms = iter(self.hidden_norms)
    for convolution in self.convolutions:
      x = convolution(x)
      if self.normalize_hidden:
        x = next(norms)(x, training=training)
      x = tf.nn.leaky_relu(x, alpha=0.2)
    x = tf.reshape(x, [batch, -1])
    if self.noise_position == "hidden" and self.noise_dim > 0:
      x = tf.concat([x, self._noise([batch, self.noise_dim], seed, stddev)], axis=-1)
    for index, layer in enumerate([self.hidden, *self.deeper_hidden]):
      x = layer(x)
      if self.normalize_hidden:
        x = tf.nn.relu(next(norms)(x, training=training))
      x = self._drop_out(x, seed, training, index)
    outputs = {}
    for name, head in self.heads.items():
      value = head(x)
      if name == CATEGORICAL and self.logit_norm is not None:
        value = self.logit_norm(value, training=training)
        if self.logit_scale is not None:
          value = value * self.logit_scale
      value = tf.cast(value, tf.float32)
      if name == CATEGORICAL:
        outputs[CATEGORICAL_LOGITS] = value
        value = tf.nn.softmax(value)
      outputs[name] = value
    return outputs

  def zero_categorical_kernel(self) -> None:
    """Sets the built categorical head's kernel to zero, if `zero_categorical_head`.

    Called once, when the weights are created and before any checkpoint is
    restored. The kernel is drawn as usual and then overwritten, rather than
    made by a zeros initializer, so that every other weight takes the same
    random draw as without the option. With `normalize_logits` the logits are
    then 0 for every image, and the normalization turns the first step's change
    to the kernel, whatever its size, into logits of unit spread.
    """
    if self.zero_categorical_head:
      kernel = self.heads[CATEGORICAL].kernel
      kernel.assign(tf.zeros_like(kernel))

  def categorical_head_variables(self) -> list:
    """The categorical head's trainable variables: its dense layer and the logits' scale."""
    if CATEGORICAL not in self.heads:
      raise ValueError("This encoder has no categorical head.")
    norm = self.logit_norm.trainable_variables if self.logit_norm is not None else []
    return list(self.heads[CATEGORICAL].trainable_variables) + list(norm)

  def code(self, outputs: Dict[str, tf.Tensor]) -> tf.Tensor:
    """Concatenates the components into the code vector [batch, code_dim]."""
    return tf.concat([outputs[name] for name in self.code_sizes], axis=-1)

  def get_config(self):
    config = super().get_config()
    config.update({
        "code_sizes": self.code_sizes,
        "filters": self.filters,
        "hidden_units": self.hidden_units,
        "hidden_layers": self.hidden_layers,
        "noise_position": self.noise_position,
        "noise_dim": self.noise_dim,
        "noise_std": self.noise_std,
        "normalize_logits": self.normalize_logits,
        "normalize_hidden": self.normalize_hidden,
        "logit_scale": self.logit_scale,
        "dropout": self.dropout,
        "zero_categorical_head": self.zero_categorical_head,
    })
    return config
