"""The phases' learning rates over a run: the decay over its end, measured in steps or
training time, the adversarial and supervised warm-ups, and the supervised and decoder leads.

A run stopped by a time budget does not know its step count in advance, so
its progress is the larger of the fraction of steps done and the fraction of
the budget spent; the decay then ends where the run does, however fast the
machine.
"""

from typing import Callable, Optional

import keras

from pixelgan_tf.callbacks import completed_steps
from pixelgan_tf.model import ADVERSARIAL_PHASES, RECONSTRUCTION_PHASE, SUPERVISED_PHASE


def progress(step: int, steps: int, train_seconds: float,
             time_budget_s: Optional[float]) -> float:
  """Fraction of the run done, in [0, 1]: of its steps or of its time budget."""
  done = step / steps
  if time_budget_s is not None:
    done = max(done, train_seconds / time_budget_s)
  return min(max(done, 0.0), 1.0)


def decay_scale(done: float, decay_fraction: float) -> float:
  """Factor on the base learning rates: 1, then linear to 0 over the last `decay_fraction`."""
  if decay_fraction <= 0.0:
    return 1.0
  return min(1.0, (1.0 - done) / decay_fraction)


def lead_scale(phase: str, step: int, lead_steps: int,
               leading_phase: str = SUPERVISED_PHASE) -> float:
  """Factor on a phase's rate during a lead: 0 for every phase but `leading_phase` until it ends.

  The supervised lead lets the 'supervised' phase learn alone, the decoder
  lead the 'reconstruction' one.
  """
  if phase == leading_phase or step >= lead_steps:
    return 1.0
  return 0.0


def warmup_scale(step: int, warmup_steps: int) -> float:
  """Factor on a warmed-up phase's rate: linear from 0 at step 0 to 1 at `warmup_steps`."""
  if warmup_steps <= 0:
    return 1.0
  return min(1.0, step / warmup_steps)


class LearningRateDecay(keras.callbacks.Callback):
  """Sets every phase optimizer's learning rate when training begins and before each step.

  The rate is the base rate times the decay's factor, for the adversarial
  phases their warm-up's, for the supervised phase its own warm-up's, and for
  every phase but the supervised one the lead's (0 while it lasts).

  The base rates are `model.base_learning_rates`, recorded by `compile`
  before any checkpoint is restored: a resumed run's optimizers hold decayed
  rates.

  Args:
    model: a compiled `PixelGANAutoencoder` (its `phase_optimizers`).
    steps: the run's total steps.
    time_budget_s: the run's time budget, or None.
    decay_fraction: the final fraction of the run over which rates fall to 0;
      0 keeps them constant.
    train_seconds: returns the seconds spent in training steps so far.
    adversarial_warmup_steps: steps over which the adversarial phases' rates
      rise linearly from 0 (`warmup_scale`); 0: none.
    supervised_lead_steps: steps at the start during which only the
      supervised phase learns (`lead_scale`); 0: none. The other phases'
      optimizers still see their gradients then, at a rate of 0, so their
      moments are warm when the lead ends.
    supervised_warmup_steps: steps over which the supervised phase's rate
      rises linearly from 0 (`warmup_scale`); 0: none.
    decoder_lead_steps: steps at the start during which only the
      reconstruction phase learns (`lead_scale` of 'reconstruction'; the model hides the
      code from the decoder then, `PixelGANAutoencoder.lead_code`); 0: none.
  """

  def __init__(self, model, steps: int, time_budget_s: Optional[float],
               decay_fraction: float, train_seconds: Callable[[], float],
               adversarial_warmup_steps: int = 0, supervised_lead_steps: int = 0,
               supervised_warmup_steps: int = 0, decoder_lead_steps: int = 0):
    super().__init__()
    self._optimizers = model.phase_optimizers
    self._base = dict(model.base_learning_rates)
    self._model = model
    self._steps, self._time_budget_s = steps, time_budget_s
    self._decay_fraction = decay_fraction
    self._train_seconds = train_seconds
    self._adversarial_warmup_steps = adversarial_warmup_steps
    self._lead_steps = supervised_lead_steps
    self._supervised_warmup_steps = supervised_warmup_steps
    self._decoder_lead_steps = decoder_lead_steps

  def phase_scales(self) -> dict:
    """{phase: factor on its base rate} at the current step."""
    step = completed_steps(self._model)   # one read of the (possibly mirrored) counter
    done = progress(step, self._steps, self._train_seconds(), self._time_budget_s)
    decay = decay_scale(done, self._decay_fraction)
    warmup = {phase: warmup_scale(step, self._adversarial_warmup_steps)
              for phase in ADVERSARIAL_PHASES}
    warmup[SUPERVISED_PHASE] = warmup_scale(step, self._supervised_warmup_steps)
    return {phase: (decay * warmup.get(phase, 1.0) * lead_scale(phase, step, self._lead_steps)
                    * lead_scale(phase, step, self._decoder_lead_steps, RECONSTRUCTION_PHASE))
            for phase in self._optimizers}

  def _set_rates(self):
    for phase, scale in self.phase_scales().items():
      self._optimizers[phase].learning_rate = self._base[phase] * scale

  def on_train_begin(self, logs=None):
    # Always, decay or not: a restored checkpoint holds the rates its run last
    # used (decayed, perhaps to 0), and a run resumed without the decay must
    # train at the configured rates, not at those.
    self._set_rates()

  def on_train_batch_begin(self, batch, logs=None):
    if (self._decay_fraction <= 0.0 and self._adversarial_warmup_steps <= 0
        and self._lead_steps <= 0 and self._supervised_warmup_steps <= 0
        and self._decoder_lead_steps <= 0):
      return
    self._set_rates()
