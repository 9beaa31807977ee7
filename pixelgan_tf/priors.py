"""Priors p(z) on the code, as TFP distributions, one per code component."""

import math
from typing import Dict

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from pixelgan_tf import random
from pixelgan_tf.config import PRIOR_KINDS, PriorConfig

tfd = tfp.distributions

GAUSSIAN = "gaussian"
CATEGORICAL = "categorical"


def _mixture_means(components: int, dim: int, radius: float) -> np.ndarray:
  """Well-separated means: on a circle in 2-D, on scaled basis vectors otherwise."""
  if dim == 2:
    angles = 2 * math.pi * np.arange(components) / components
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
  if components > dim:
    raise ValueError(
        f"A mixture-of-Gaussians prior with {components} components needs dim >= "
        f"{components} (or dim == 2, where means lie on a circle); got dim={dim}.")
  return radius * np.eye(components, dim)


def validate(config: PriorConfig) -> None:
  """Raises ValueError naming the problem with a prior configuration."""
  if config.kind not in PRIOR_KINDS:
    raise ValueError(f"Unknown prior {config.kind!r}; choose one of {PRIOR_KINDS}.")
  if config.kind in ("gaussian", "gaussian_categorical", "mixture_of_gaussians"):
    if config.dim < 1:
      raise ValueError(f"A {config.kind} prior needs a code dimension dim >= 1, got "
                       f"{config.dim}: set model.prior.dim (--dim), or choose a preset "
                       f"that sets it (e.g. mnist_gaussian).")
  if config.kind in ("categorical", "gaussian_categorical", "mixture_of_gaussians"):
    if config.categories < 2:
      raise ValueError(
          f"A {config.kind} prior needs at least 2 categories, got {config.categories}.")
  if config.kind == "mixture_of_gaussians":
    _mixture_means(config.categories, config.dim, config.mixture_radius)


def code_sizes(config: PriorConfig) -> Dict[str, int]:
  """Size of each code component, e.g. {'gaussian': 8, 'categorical': 10}."""
  validate(config)
  sizes = {}
  if config.kind in ("gaussian", "gaussian_categorical", "mixture_of_gaussians"):
    sizes[GAUSSIAN] = config.dim
  if config.kind in ("categorical", "gaussian_categorical"):
    sizes[CATEGORICAL] = config.categories
  return sizes


class CodePrior:
  """The prior p(z): independent components, each a distribution over [size] vectors.

  - 'gaussian': N(0, I), or for 'mixture_of_gaussians' a uniform mixture of
    N(mu_k, mixture_scale^2 I);
  - 'categorical': a uniform OneHotCategorical, sampled as float one-hot vectors.

  `components` holds the TFP distributions (the math: log_prob, moments).
  `sample` draws with `pixelgan_tf.random`, so a seeded step samples the same
  prior codes with and without XLA. The adversarial phases match each
  component with its own discriminator.

  Args:
    config: a `PriorConfig`.
  """

  def __init__(self, config: PriorConfig):
    self.sizes = code_sizes(config)
    self.config = config
    self.components = {}
    if config.kind == "mixture_of_gaussians":
      self._means = tf.constant(
          _mixture_means(config.categories, config.dim, config.mixture_radius), tf.float32)
      self.components[GAUSSIAN] = tfd.MixtureSameFamily(
          mixture_distribution=tfd.Categorical(logits=tf.zeros([config.categories])),
          components_distribution=tfd.MultivariateNormalDiag(
              loc=self._means,
              scale_diag=tf.fill([config.categories, config.dim], config.mixture_scale)))
    elif GAUSSIAN in self.sizes:
      self.components[GAUSSIAN] = tfd.MultivariateNormalDiag(
          loc=tf.zeros([self.sizes[GAUSSIAN]]), scale_diag=tf.ones([self.sizes[GAUSSIAN]]))
    if CATEGORICAL in self.sizes:
      self.components[CATEGORICAL] = tfd.OneHotCategorical(
          logits=tf.zeros([self.sizes[CATEGORICAL]]), dtype=tf.float32)

  @property
  def names(self):
    return sorted(self.components)

  def sample(self, batch_size, seed) -> Dict[str, tf.Tensor]:
    """Draws [batch_size, size] float32 samples of every component.

    Args:
      batch_size: number of samples (int or scalar tensor).
      seed: shape [2] integer tensor; each component gets its own stream.
    """
    samples = {}
    for i, name in enumerate(self.names):
      component_seed = random.split(seed, i)
      size = self.sizes[name]
      if name == CATEGORICAL:
        index = random.categorical([batch_size], component_seed, size)
        samples[name] = tf.one_hot(index, size, dtype=tf.float32)
      elif self.config.kind == "mixture_of_gaussians":
        index = random.categorical([batch_size], random.split(component_seed, 0),
                                   self.config.categories)
        noise = random.normal([batch_size, size], random.split(component_seed, 1))
        samples[name] = tf.gather(self._means, index) + self.config.mixture_scale * noise
      else:
        samples[name] = random.normal([batch_size, size], component_seed)
    return samples
