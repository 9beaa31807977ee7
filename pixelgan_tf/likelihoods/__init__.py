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


def get(name: str, **kwargs) -> Likelihood:
  """Builds a likelihood by name: 'bernoulli', 'categorical' or 'logistic_mixture'.

  `kwargs` go to the likelihood's constructor (`num_mixtures` for the mixture).
  """
  if name not in _BY_NAME:
    raise ValueError(f"Unknown likelihood {name!r}; choose one of {sorted(_BY_NAME)}.")
  return _BY_NAME[name](**kwargs)
