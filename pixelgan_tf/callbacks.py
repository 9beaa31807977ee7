"""The training loop's callbacks, one job each.

A round is `eval_every` steps: one Keras epoch. `train_and_evaluate` lists
the callbacks in the order their jobs must run at a round's end: the clock
stops before the evaluation reads it, and the evaluation is written to
results.json before the checkpoint is saved, so that a run killed in between
resumes from the previous checkpoint and evaluates the step again instead of
resuming past a step with no evaluation.

The callbacks that run something at a round's end are given it as a function
(`evaluate`, `write_grids`, ...): they decide when, the training module what.
"""

import time
from typing import Callable, Dict, List, Optional

from absl import logging
import keras
import tensorflow as tf

from pixelgan_tf.run_directory import RunDirectory


class TrainingDivergedError(RuntimeError):
  """A loss became NaN or infinite; the last good checkpoint is kept.

  Args:
    step: the training step at which it was seen.
    last_checkpoint: the latest checkpoint's path, or None.
  """

  def __init__(self, step: int, last_checkpoint: Optional[str]):
    super().__init__(
        f"A loss became NaN or infinite at step {step}; stopped. The last good checkpoint is "
        f"{last_checkpoint or 'none (no round finished)'}. Lower the learning rates or try "
        f"another seed.")
    self.step = step


def completed_steps(model: keras.Model) -> int:
  """The model's step counter (through numpy: int() fails on a MirroredStrategy's variables)."""
  return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


class TerminateOnNonFiniteLoss(keras.callbacks.TerminateOnNaN):
  """Keras's `TerminateOnNaN` over every loss and metric the step reports.

  Keras's own watches only `logs['loss']`, which this model does not report
  (each phase has its own loss). It raises `TrainingDivergedError` instead of
  setting `stop_training`: a stopped round still ends, and the round's
  evaluation and checkpoint would then keep the non-finite weights.

  Args:
    last_checkpoint: returns the latest checkpoint's path, or None; named in
      the error.
  """

  def __init__(self, last_checkpoint: Callable[[], Optional[str]]):
    super().__init__(raise_error=True)
    self._last_checkpoint = last_checkpoint

  def on_batch_end(self, batch, logs=None):
    for value in (logs or {}).values():
      try:
        super().on_batch_end(batch, {"loss": value})
      except RuntimeError:
        raise TrainingDivergedError(completed_steps(self.model), self._last_checkpoint()) from None


class TrainingClock(keras.callbacks.Callback):
  """Counts the seconds spent in training steps, carried over a resume.

  What runs at a round's end (evaluation, checkpoints, sampling) is not
  counted: these seconds are the x-axis of learning curves and what a time
  budget measures. Put it before the callbacks that read it at a round's end.

  Args:
    seconds: the seconds a previous run of the same directory recorded.
  """

  def __init__(self, seconds: float = 0.0):
    super().__init__()
    self._finished_rounds = seconds   # seconds of the rounds that ended
    self._round_start: Optional[float] = None

  def seconds(self) -> float:
    """Training seconds so far, the current round's included."""
    if self._round_start is None:
      return self._finished_rounds
    return self._finished_rounds + time.perf_counter() - self._round_start

  def on_epoch_begin(self, epoch, logs=None):
    self._round_start = time.perf_counter()

  def on_epoch_end(self, epoch, logs=None):
    self._finished_rounds = self.seconds()
    self._round_start = None


class StopAtTimeBudget(keras.callbacks.Callback):
  """Stops training once the clock reaches the budget; Keras still ends the round.

  Args:
    clock: the run's `TrainingClock`.
    budget_s: training seconds allowed, or None for no budget.
  """

  def __init__(self, clock: TrainingClock, budget_s: Optional[float]):
    super().__init__()
    self._clock, self._budget_s = clock, budget_s

  @property
  def spent(self) -> bool:
    return self._budget_s is not None and self._clock.seconds() >= self._budget_s

  def on_train_batch_end(self, batch, logs=None):
    if self.spent:
      self.model.stop_training = True


class StopAtSteps(keras.callbacks.Callback):
  """Stops training once the model has taken `steps` steps; Keras still ends the round.

  `fit` runs whole rounds of `train.eval_every` steps (a resumed run first trains
  the rest of its round), so without this a run whose steps are not a
  multiple of eval_every would train past the steps it was given. The
  round's end then evaluates and saves at `steps` exactly.

  Args:
    steps: the run's `train.steps` (a multiple of `train.steps_per_execution`).
  """

  def __init__(self, steps: int):
    super().__init__()
    self._steps = steps
    self._left = steps

  def on_epoch_begin(self, epoch, logs=None):
    self._left = self._steps - completed_steps(self.model)   # one read a round

  def on_train_batch_end(self, batch, logs=None):
    # Keras passes the round's index of the call's last step.
    if batch + 1 >= self._left:
      self.model.stop_training = True


class EvaluateEachRound(keras.callbacks.Callback):
  """At each round's end, evaluates and appends the results to `history`.

  An entry is {'step', 'train_seconds', 'validation': {...}, 'test': {...}}.

  Args:
    evaluate: returns {'validation': metrics, 'test': metrics} of the model now.
    clock: the run's `TrainingClock`.
    history: the run's evaluations so far (a resumed run's included); appended to.
  """

  def __init__(self, evaluate: Callable[[], Dict[str, dict]], clock: TrainingClock,
               history: List[dict]):
    super().__init__()
    self._evaluate, self._clock, self.history = evaluate, clock, history

  def on_epoch_end(self, epoch, logs=None):
    step = completed_steps(self.model)
    results = self._evaluate()
    self.history.append({"step": step, "train_seconds": round(self._clock.seconds(), 1),
                         **results})
    logging.info("step %d: %s", step, results)


class WriteResultsEachRound(keras.callbacks.Callback):
  """At each round's end, writes results.json: the step, its evaluation and the history.

  Args:
    run: the run directory.
    history: the list `EvaluateEachRound` appends to.
  """

  def __init__(self, run: RunDirectory, history: List[dict]):
    super().__init__()
    self._run, self._history = run, history

  def on_epoch_end(self, epoch, logs=None):
    latest = self._history[-1]
    self._run.write_results({"step": latest["step"],
                             "latest": {split: latest[split] for split in ("validation", "test")},
                             "history": self._history})


class SaveCheckpointEachRound(keras.callbacks.Callback):
  """At each round's end, saves a checkpoint numbered by the training step.

  Args:
    manager: a `tf.train.CheckpointManager` (or distribute's worker stand-in).
  """

  def __init__(self, manager):
    super().__init__()
    self._manager = manager

  def on_epoch_end(self, epoch, logs=None):
    self._manager.save(checkpoint_number=completed_steps(self.model))


class EvaluationSummaries(keras.callbacks.Callback):
  """At each round's end, the latest evaluation's metrics as `split/metric` scalars.

  Args:
    writer: the summary writer (TensorBoard's validation directory).
    history: the list `EvaluateEachRound` appends to.
  """

  def __init__(self, writer: tf.summary.SummaryWriter, history: List[dict]):
    super().__init__()
    self._writer, self._history = writer, history

  def on_epoch_end(self, epoch, logs=None):
    latest = self._history[-1]
    with self._writer.as_default(step=latest["step"]):
      for split in ("validation", "test"):
        for name, value in latest[split].items():
          tf.summary.scalar(f"{split}/{name}", value)


class CodeHistograms(keras.callbacks.Callback):
  """At each round's end, histograms of the code's components.

  Args:
    writer: the summary writer.
    write_histograms: writes them into the default writer.
  """

  def __init__(self, writer: tf.summary.SummaryWriter, write_histograms: Callable[[], None]):
    super().__init__()
    self._writer, self._write_histograms = writer, write_histograms

  def on_epoch_end(self, epoch, logs=None):
    with self._writer.as_default(step=completed_steps(self.model)):
      self._write_histograms()


class SampleGridsEveryRounds(keras.callbacks.Callback):
  """Every `every` rounds (counted from the run's start), image grids of samples.

  Args:
    writer: the summary writer.
    write_grids: given the step (the samples' seed), writes the grids into the
      default writer.
    every: rounds between grids.
  """

  def __init__(self, writer: tf.summary.SummaryWriter, write_grids: Callable[[int], object],
               every: int):
    super().__init__()
    self._writer, self._write_grids, self._every = writer, write_grids, every

  def on_epoch_end(self, epoch, logs=None):
    if (epoch + 1) % self._every:
      return
    step = completed_steps(self.model)
    with self._writer.as_default(step=step):
      self._write_grids(step)


class TrainingSummaries(keras.callbacks.Callback):
  """Every `log_every` steps: the training losses, learning rates and speed to TensorBoard.

  Keras's logs are running means since the round began; the scalars written
  are the means over the last `log_every` steps, recovered from two of them.

  Args:
    model: the `PixelGANAutoencoder` being trained.
    directory: the TensorBoard directory of the training scalars.
    log_every: steps between writes.
  """

  def __init__(self, model, directory: str, log_every: int):
    super().__init__()
    self._model, self._log_every = model, log_every
    self._writer = tf.summary.create_file_writer(directory)
    self._last = None   # (batch in round, running means, time) at the last write

  def on_epoch_begin(self, epoch, logs=None):
    self._last = (0, {}, time.perf_counter())

  def on_train_batch_end(self, batch, logs=None):
    step = completed_steps(self._model)
    if step % self._log_every or not logs:
      return
    done, now = batch + 1, time.perf_counter()
    last_done, last_means, last_time = self._last
    with self._writer.as_default(step=step):
      for name, mean in logs.items():
        total = float(mean) * done - last_means.get(name, 0.0) * last_done
        tf.summary.scalar(name, total / (done - last_done))
      for phase, optimizer in self._model.phase_optimizers.items():
        tf.summary.scalar(f"learning_rate/{phase}",
                          float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
      tf.summary.scalar("steps_per_second", (done - last_done) / (now - last_time))
    self._last = (done, {name: float(mean) for name, mean in logs.items()}, now)
