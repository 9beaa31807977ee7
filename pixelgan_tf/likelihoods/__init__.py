"""Pixel likelihoods p(x | params): TFP distributions used as math."""

from pixelgan_tf.likelihoods.base import Likelihood, bits_per_dim
from pixelgan_tf.likelihoods.bernoulli import BernoulliLikelihood
from pixelgan_tf.likelihoods.categorical import CategoricalLikelihood
from pixelgan_tf.likelihoods.logistic_mixture import LogisticMixtureLikelihood

_BY_NAME = {
    BernoulliLikelihood.name: BernoulliLikelihood,
    CategoricalLikelihood.name: CategoricalLikelihood,
    LogisticMixtureLikelihood.name: LogisticMixtureLikelihood,
}


def get(name: str, num_mixtures: int = 5) -> Likelihood:
  """Builds a likelihood by name: 'bernoulli', 'categorical' or 'logistic_mixture'.

  `num_mixtures` applies to the logistic mixture only.
  """
  if name not in _BY_NAME:
    raise ValueError(f"Unknown likelihood {name!r}; choose one of {sorted(_BY_NAME)}.")
  if name == LogisticMixtureLikelihood.name:
    return LogisticMixtureLikelihood(num_mixtures)
  return _BY_NAME[name]()
