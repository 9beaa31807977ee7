"""The training loop's callbacks, each on a stand-in model and stand-in jobs (no training)."""

import types

import keras
import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import callbacks


def _model(step: int = 10):
  """What the callbacks read of a model: the step counter and `stop_training`."""
  iterations = tf.Variable(step, dtype=tf.int64)
  return types.SimpleNamespace(optimizer=types.SimpleNamespace(iterations=iterations),
                               stop_training=False)


def _attached(callback, model):
  callback.set_model(model)
  return callback


class _FakeTime:
  """Stands for `time.perf_counter`: seconds move only when the test says so."""

  def __init__(self):
    self.now = 100.0

  def __call__(self):
    return self.now


@pytest.fixture
def fake_time(monkeypatch):
  fake = _FakeTime()
  monkeypatch.setattr(callbacks.time, "perf_counter", fake)
  return fake


def test_a_non_finite_phase_loss_stops_the_run_with_its_step_and_last_checkpoint():
  guard = _attached(callbacks.TerminateOnNonFiniteLoss(lambda: "/run/checkpoints/ckpt-20"),
                    _model(step=23))
  guard.on_train_batch_end(2, {"nll": 1.0, "generator_loss": 0.5})   # finite: nothing happens
  with pytest.raises(callbacks.TrainingDivergedError,
                     match=r"NaN or infinite at step 23.*last good checkpoint is "
                           r"/run/checkpoints/ckpt-20") as raised:
    # Keras's own TerminateOnNaN would watch logs['loss'] alone, which this model lacks.
    guard.on_train_batch_end(3, {"nll": 1.0, "discriminator_loss": np.inf})
  assert raised.value.step == 23


def test_a_run_that_diverges_before_its_first_checkpoint_says_so():
  guard = _attached(callbacks.TerminateOnNonFiniteLoss(lambda: None), _model(step=3))
  with pytest.raises(callbacks.TrainingDivergedError, match=r"none \(no round finished\)"):
    guard.on_train_batch_end(2, {"nll": np.nan})


def test_the_clock_counts_training_rounds_only_and_carries_a_resumed_runs_seconds(fake_time):
  clock = callbacks.TrainingClock(seconds=30.0)
  assert clock.seconds() == 30.0
  clock.on_epoch_begin(0)
  fake_time.now += 5.0
  assert clock.seconds() == pytest.approx(35.0)   # the current round counts
  clock.on_epoch_end(0)
  fake_time.now += 100.0                          # evaluation, checkpoint: not counted
  assert clock.seconds() == pytest.approx(35.0)
  clock.on_epoch_begin(1)
  fake_time.now += 2.0
  clock.on_epoch_end(1)
  assert clock.seconds() == pytest.approx(37.0)


@pytest.mark.parametrize("budget_s,stops", [(10.0, True), (10.5, False), (None, False)])
def test_the_time_budget_stops_training_once_the_clock_reaches_it(fake_time, budget_s, stops):
  model = _model()
  clock = callbacks.TrainingClock(seconds=4.0)
  budget = _attached(callbacks.StopAtTimeBudget(clock, budget_s), model)
  clock.on_epoch_begin(0)
  fake_time.now += 6.0
  budget.on_train_batch_end(0, {})
  assert model.stop_training is stops and budget.spent is stops


@pytest.mark.parametrize("start,steps,per_call,calls_run", [
    (0, 7, 1, 7),      # 7 steps in a round of 10: stops after the 7th
    (5, 7, 1, 2),      # resumed mid-round at step 5: two more
    (0, 8, 2, 4),      # two steps a call: four calls
    (0, 30, 1, 10),    # steps beyond the round: the round runs whole
])
def test_training_stops_at_its_steps_even_mid_round(start, steps, per_call, calls_run):
  model = _model(step=start)
  stop = _attached(callbacks.StopAtSteps(steps), model)
  stop.on_epoch_begin(0)
  calls = 0
  while calls * per_call < 10 and not model.stop_training:   # a round of 10 steps
    calls += 1
    stop.on_train_batch_end(calls * per_call - 1, {})   # Keras: the call's last step index
  assert calls == calls_run
  assert model.stop_training is (start + calls * per_call == steps)


class _Journal:
  """Stands for the run directory and the checkpoint manager; notes what they are asked."""

  def __init__(self):
    self.entries, self.results = [], []

  def write_results(self, results):
    self.entries.append("results.json")
    self.results.append(results)

  def save(self, checkpoint_number):
    self.entries.append(f"checkpoint {checkpoint_number}")


def test_a_round_writes_its_evaluation_before_its_checkpoint(fake_time):
  model, journal, history = _model(step=20), _Journal(), [{"step": 10}]
  clock = callbacks.TrainingClock(seconds=7.0)

  def evaluate():
    journal.entries.append("evaluate")
    return {"validation": {"nll": 2.0}, "test": {"nll": 3.0}}

  round_end = keras.callbacks.CallbackList(
      [clock, callbacks.EvaluateEachRound(evaluate, clock, history),
       callbacks.WriteResultsEachRound(journal, history),
       callbacks.SaveCheckpointEachRound(journal)], model=model)
  round_end.on_epoch_begin(1)
  fake_time.now += 3.0
  round_end.on_epoch_end(1)
  assert journal.entries == ["evaluate", "results.json", "checkpoint 20"]
  entry = {"step": 20, "train_seconds": 10.0, "validation": {"nll": 2.0}, "test": {"nll": 3.0}}
  assert history == [{"step": 10}, entry]
  assert journal.results == [{"step": 20, "latest": {"validation": {"nll": 2.0},
                                                     "test": {"nll": 3.0}},
                               "history": [{"step": 10}, entry]}]


def test_sample_grids_are_drawn_every_few_rounds_seeded_by_the_step(tmp_path):
  model, seeds = _model(), []
  writer = tf.summary.create_file_writer(str(tmp_path))
  grids = _attached(callbacks.SampleGridsEveryRounds(writer, seeds.append, every=2), model)
  for epoch in range(5):
    model.optimizer.iterations.assign((epoch + 1) * 10)
    grids.on_epoch_end(epoch)
  assert seeds == [20, 40]


def test_evaluation_summaries_write_each_metric_of_the_latest_round(tmp_path):
  writer = tf.summary.create_file_writer(str(tmp_path))
  history = [{"step": 30, "train_seconds": 1.0, "validation": {"nll": 2.0, "error": 0.5},
              "test": {"nll": 3.0}}]
  callbacks.EvaluationSummaries(writer, history).on_epoch_end(2)
  writer.flush()
  written = {}
  for path in tf.io.gfile.glob(str(tmp_path / "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        written[value.tag] = (event.step, float(tf.make_ndarray(value.tensor)))
  assert written == {"validation/nll": (30, 2.0), "validation/error": (30, 0.5),
                     "test/nll": (30, 3.0)}
