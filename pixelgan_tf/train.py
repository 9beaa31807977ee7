"""Training runs: train_and_evaluate, evaluate, sample and export a run directory."""

import dataclasses
import math
import os
import time
from typing import Dict, Optional

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from pixelgan_tf import data as data_lib
from pixelgan_tf import diagnostics, distribute, evaluation, priors, schedule
from pixelgan_tf.config import ExperimentConfig
from pixelgan_tf.export import class_code, export_saved_model
from pixelgan_tf.model import PixelGANAutoencoder
from pixelgan_tf.model import validate as validate_model
from pixelgan_tf.sampling import image_grid
from pixelgan_tf.sampling import sample as draw_samples

_POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


class TrainingDivergedError(RuntimeError):
  """A loss became NaN or infinite; the last good checkpoint is kept."""


def validate(config: ExperimentConfig) -> None:
  """Checks what can be checked before any data is read."""
  train = config.train
  if train.steps < 1 or train.eval_every < 1 or train.log_every < 1:
    raise ValueError(f"steps, eval_every and log_every must be positive, got {train.steps}, "
                     f"{train.eval_every}, {train.log_every}.")
  if train.time_budget_s is not None and train.time_budget_s <= 0:
    raise ValueError(f"time_budget_s must be positive or None, got {train.time_budget_s}.")
  if not 0.0 <= train.decay_fraction <= 1.0:
    raise ValueError(f"decay_fraction must be in [0, 1], got {train.decay_fraction}.")
  if train.jit_compile not in ("auto", "on", "off"):
    raise ValueError(f"jit_compile must be auto, on or off, got {train.jit_compile!r}.")
  if train.mixed_precision not in _POLICIES:
    raise ValueError(f"mixed_precision must be one of {sorted(_POLICIES)}, "
                     f"got {train.mixed_precision!r}.")
  if train.steps_per_execution < 1 or train.eval_every % train.steps_per_execution:
    raise ValueError(f"steps_per_execution must be positive and divide eval_every, got "
                     f"{train.steps_per_execution} and {train.eval_every}.")
  if train.diagnose_every < 0 or train.diagnose_every % train.steps_per_execution:
    raise ValueError(f"diagnose_every must be 0 or a positive multiple of steps_per_execution, "
                     f"got {train.diagnose_every} and {train.steps_per_execution}.")
  if config.model.phases.adversarial_warmup_steps < 0:
    raise ValueError(f"model.phases.adversarial_warmup_steps must be >= 0, got "
                     f"{config.model.phases.adversarial_warmup_steps}.")
  if train.log_every % train.steps_per_execution:
    # Keras calls the callbacks once per execution: other steps are never seen.
    raise ValueError(f"steps_per_execution must divide log_every, got "
                     f"{train.steps_per_execution} and {train.log_every}.")
  distribute.validate(train)


def resolve(config: ExperimentConfig, splits) -> ExperimentConfig:
  """Fills in what the data decides and the user left unset (None).

  `model.image_shape` becomes the data's; `model.num_classes` the data's
  classes for semi-supervised training (labels > 0, a model with a code), else
  0; `data.binarize` what the likelihood needs. A value the user set is kept
  if it agrees and refused if it does not. A prior with another number of
  categories than the classes is refused by `model.validate`, not changed.

  Raises:
    ValueError: an explicit setting does not fit the data or the likelihood.
  """
  model = dataclasses.replace(config.model, image_shape=_image_shape(config, splits),
                              num_classes=_num_classes(config, splits))
  validate_model(model)   # before anything is written to the run directory
  return dataclasses.replace(config, model=model,
                             data=dataclasses.replace(config.data,
                                                      binarize=_binarize(config)))


def _image_shape(config: ExperimentConfig, splits) -> tuple:
  """The data's image shape, or the user's matching one."""
  shape, data_shape = config.model.image_shape, tuple(splits.image_shape)
  if shape is not None and tuple(shape) != data_shape:
    raise ValueError(f"model.image_shape={tuple(shape)}, but the {config.data.dataset} images "
                     f"are {data_shape}: leave model.image_shape unset (none) to follow the data.")
  return data_shape


def _num_classes(config: ExperimentConfig, splits) -> int:
  """The classes the model learns from labels (0 without), or the user's matching number."""
  supervised = config.data.labels > 0 and config.model.kind != "pixelcnn"
  from_data = splits.num_classes if supervised else 0
  classes = config.model.num_classes
  if classes is not None and classes != from_data:
    why = (f"the {config.data.dataset} labels have {splits.num_classes} classes" if supervised
           else "this run trains without labels" if config.model.kind != "pixelcnn"
           else "the plain PixelCNN has no code to classify with")
    raise ValueError(f"model.num_classes={classes}, but {why}: leave model.num_classes unset "
                     f"(none) to follow the data.")
  return from_data


def _binarize(config: ExperimentConfig) -> bool:
  """Whether to binarize pixels: what the likelihood needs, or the user's matching choice."""
  likelihood = config.model.decoder.likelihood
  bernoulli = likelihood == "bernoulli"
  binarize = config.data.binarize
  if binarize is None or binarize == bernoulli:
    return bernoulli
  if bernoulli:
    raise ValueError("data.binarize=false, but the Bernoulli likelihood needs binarized "
                     "images: set model.decoder.likelihood=categorical (or "
                     "logistic_mixture) for 8-bit pixels.")
  raise ValueError(f"data.binarize=true, but the {likelihood} likelihood models 8-bit pixels: "
                   f"set model.decoder.likelihood=bernoulli for binarized images.")


def _strategy(config: ExperimentConfig) -> tf.distribute.Strategy:
  return distribute.make_strategy(config.train)


def build_model(config: ExperimentConfig, strategy=None) -> PixelGANAutoencoder:
  """Builds and compiles the model (with every optimizer) under the strategy's scope."""
  keras.mixed_precision.set_dtype_policy(_POLICIES[config.train.mixed_precision])
  strategy = strategy or _strategy(config)
  jit = {"auto": "auto", "on": True, "off": False}[config.train.jit_compile]
  keras.utils.set_random_seed(config.data.seed)   # the weights' initialization
  with strategy.scope():
    model = PixelGANAutoencoder(config.model)
    model.compile(jit_compile=jit, steps_per_execution=config.train.steps_per_execution)
  return model


def training_step(model) -> int:
  """The model's step counter (through numpy: int() fails on a MirroredStrategy's variables)."""
  return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def restore_latest(model, manager: tf.train.CheckpointManager) -> int:
  """Restores the latest checkpoint, if any; returns the training step.

  Raises:
    ValueError: the checkpoint holds another configuration's weights.
  """
  if manager.latest_checkpoint:
    try:
      # Through the manager's own checkpoint, so that its save counter is restored too and
      # every value in the file must find its variable: a checkpoint with extra phases
      # (another configuration) is refused, not partly loaded.
      manager.checkpoint.restore(manager.latest_checkpoint).assert_consumed()
    except (AssertionError, ValueError, tf.errors.OpError) as error:
      raise ValueError(f"The checkpoint {manager.latest_checkpoint} does not fit this model "
                       f"({error.__class__.__name__}: {str(error)[:300]}). Use a new --workdir.")
    logging.info("Resumed from %s", manager.latest_checkpoint)
  return training_step(model)


def _predict_function(model):
  @tf.function
  def predict(images):
    nll, outputs = model.score(images)   # one encoder pass for both
    probabilities = outputs[priors.CATEGORICAL] if model.can_classify else tf.zeros([0])
    return nll, probabilities
  return predict


def evaluate_split(model, images, labels, config: ExperimentConfig, predict=None):
  """NLL, bits/dim and (with a categorical code) error and probabilities on one split."""
  predict = predict or _predict_function(model)
  nlls, probabilities = [], []
  for batch in data_lib.eval_dataset(images, labels, config.data):
    nll, probs = predict(batch["images"])
    nlls.append(nll.numpy())
    probabilities.append(probs.numpy())
  nll = float(np.mean(np.concatenate(nlls)))
  results = {"nll": nll, "bits_per_dim": nll / (math.prod(model.image_shape) * math.log(2))}
  if model.can_classify:
    probabilities = np.concatenate(probabilities)
    results["error"] = evaluation.classification_error(probabilities, labels)
    return results, probabilities
  return results, None


def evaluate_run(model, splits, config: ExperimentConfig, predict=None) -> Dict[str, dict]:
  """Validation and test metrics; the clustering protocol for unsupervised codes."""
  predict = predict or _predict_function(model)
  validation, val_probs = evaluate_split(model, splits.validation_images,
                                         splits.validation_labels, config, predict)
  test, test_probs = evaluate_split(model, splits.test_images, splits.test_labels, config,
                                    predict)
  if model.is_clustering:
    # Unsupervised: argmax error is meaningless; label clusters on validation.
    validation.pop("error"), test.pop("error")
    labels_of_clusters = evaluation.cluster_labels(val_probs, splits.validation_labels)
    test["clustering_error"] = evaluation.clustering_error(
        test_probs, splits.test_labels, labels_of_clusters)
  return {"validation": validation, "test": test}


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
    step = training_step(self._model)
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


class _RoundEnd(keras.callbacks.Callback):
  """After every `eval_every` steps: NaN guard, evaluation, checkpoint, summaries."""

  def __init__(self, model, splits, config, run, manager):
    super().__init__()
    self._model, self._splits, self._config, self._run = model, splits, config, run
    self._manager = manager
    self._predict = _predict_function(model)
    self._sampler = tf.function(draw_samples, jit_compile=True)   # compiled once per run
    self._writer = tf.summary.create_file_writer(os.path.join(run.tensorboard, "validation"))
    self.diverged_at: Optional[int] = None
    self.history = run.read_history(training_step(model))
    # Seconds spent in training steps (evaluation, checkpoints and sampling
    # excluded), carried over a resume: the x-axis of learning curves.
    self.train_seconds = self.history[-1].get("train_seconds", 0.0) if self.history else 0.0
    self._round_start = None

  def on_epoch_begin(self, epoch, logs=None):
    self._round_start = time.perf_counter()

  def _over_budget(self, seconds: float) -> bool:
    budget = self._config.train.time_budget_s
    return budget is not None and seconds >= budget

  @property
  def budget_spent(self) -> bool:
    return self._over_budget(self.train_seconds)

  def seconds_so_far(self) -> float:
    """Training seconds, the current round's included."""
    if self._round_start is None:
      return self.train_seconds
    return self.train_seconds + time.perf_counter() - self._round_start

  def on_train_batch_end(self, batch, logs=None):
    if logs and not all(np.isfinite(v) for v in logs.values()):
      self.diverged_at = training_step(self._model)
      self._model.stop_training = True
    if self._over_budget(self.seconds_so_far()):
      self._model.stop_training = True   # Keras still ends the round: evaluation, checkpoint

  def on_epoch_end(self, epoch, logs=None):
    if self.diverged_at is not None:
      return
    step = training_step(self._model)
    self.train_seconds += time.perf_counter() - self._round_start
    # Recorded before the checkpoint: a run killed in between resumes from the
    # previous checkpoint (its history is cut there) and evaluates this step again,
    # instead of resuming past a step that has no evaluation.
    results = evaluate_run(self._model, self._splits, self._config, self._predict)
    self.history.append({"step": step, "train_seconds": round(self.train_seconds, 1),
                         **results})
    self._run.write_results({"step": step, "latest": results, "history": self.history})
    self._manager.save(checkpoint_number=step)
    with self._writer.as_default(step=step):
      for split, metrics in results.items():
        for name, value in metrics.items():
          tf.summary.scalar(f"{split}/{name}", value)
      write_code_histograms(self._model, self._splits.validation_images[:500], self._config)
      if (epoch + 1) % self._config.train.sample_every == 0:
        write_sample_grids(self._model, self._splits, self._config, seed=step,
                           sampler=self._sampler)
    logging.info("step %d: %s", step, results)


def write_code_histograms(model, images, config) -> None:
  """Histograms of each code component on some validation images."""
  if not model.has_code:
    return
  batch = next(iter(data_lib.eval_dataset(images, np.zeros(len(images), np.int64),
                                          dataclasses.replace(config.data,
                                                              batch_size=len(images)))))
  for name, value in model.encode(batch["images"]).items():
    tf.summary.histogram(f"code/{name}", value)


def sample_grids(model, splits, config, seed: int, sampler=None) -> Dict[str, tf.Tensor]:
  """Image grids of the run's model.

  - 'inputs_and_samples': validation images above samples conditioned on
    their inferred codes;
  - 'samples_per_category' (categorical code): one row per class or cluster;
  - 'samples_per_code' (other codes): each row keeps the code of one
    validation image and redraws the PixelCNN (global vs local structure);
  - 'samples' (plain PixelCNN);
  - 'inputs_and_means' (adversarial-autoencoder baseline): validation images
    above the factorized decoder's mean image for their codes.
  """
  per_row = config.train.samples_per_row
  max_value = 1.0 if config.data.binarize else 255.0
  sampler = sampler or tf.function(draw_samples, jit_compile=True)
  seed = tf.constant([seed % (1 << 30), 17], tf.int32)
  grids = {}
  if not model.has_code:
    samples = sampler(model.decoder, None, seed, per_row * 2)
    return {"samples": image_grid(samples, 2, max_value)}
  batch = next(iter(data_lib.eval_dataset(
      splits.validation_images[:per_row], splits.validation_labels[:per_row],
      dataclasses.replace(config.data, batch_size=per_row))))
  _, code = model.code_of(batch["images"])
  if config.model.kind == "aae":
    means = model.decoder.pixel_likelihood.mean(model.decoder(batch["images"], code))
    grids["inputs_and_means"] = image_grid(tf.concat([batch["images"], means], 0), 2,
                                           max_value)
  samples = sampler(model.decoder, code, seed)
  grids["inputs_and_samples"] = image_grid(tf.concat([batch["images"], samples], 0), 2,
                                           max_value)
  if model.can_classify:
    categories = model.encoder.code_sizes["categorical"]
    class_ids = tf.repeat(tf.range(categories), per_row)
    samples = sampler(model.decoder, class_code(model, class_ids), seed)
    grids["samples_per_category"] = image_grid(samples, categories, max_value)
  else:
    samples = sampler(model.decoder, tf.repeat(code, per_row, axis=0), seed)
    grids["samples_per_code"] = image_grid(samples, per_row, max_value)
  return grids


def write_sample_grids(model, splits, config, seed: int, sampler=None) -> Dict[str, tf.Tensor]:
  grids = sample_grids(model, splits, config, seed, sampler)
  for name, grid in grids.items():
    tf.summary.image(name, grid)
  return grids


def _prepare(config: ExperimentConfig, workdir: str):
  """Data, resolved config (checked against the run directory), model, checkpoints."""
  validate(config)
  strategy = _strategy(config)   # before any other op: it may configure the runtime
  # A global batch that the replicas cannot share is refused before any work.
  distribute.per_replica_config(config.data, 0, strategy.num_replicas_in_sync)
  splits = data_lib.load_splits(config.data)
  config = resolve(config, splits)
  run = distribute.run_directory(workdir, strategy)
  run.claim(config)
  model = build_model(config, strategy)
  manager = distribute.checkpoint_manager(model.checkpoint(), run,
                                          config.train.keep_checkpoints)
  step = restore_latest(model, manager)
  return splits, config, run, model, manager, step


def train_and_evaluate(config: ExperimentConfig, workdir: str, verbose: int = 1) -> dict:
  """Trains (resuming from the run directory's latest checkpoint), evaluates, exports.

  Args:
    config: the experiment.
    workdir: the run directory.
    verbose: Keras progress output (1: a progress bar with ETA per round).

  Returns:
    The final results, also written to `workdir/results.json`.
  """
  splits, config, run, model, manager, step = _prepare(config, workdir)
  train = config.train
  rounds = math.ceil(train.steps / train.eval_every)
  callback = _RoundEnd(model, splits, config, run, manager)
  summaries = TrainingSummaries(model, os.path.join(run.tensorboard, "train"), train.log_every)
  decay = schedule.LearningRateDecay(
      model, train.steps, train.time_budget_s, train.decay_fraction, callback.seconds_so_far,
      adversarial_warmup_steps=config.model.phases.adversarial_warmup_steps)
  callbacks = [decay, summaries, callback]
  if train.diagnose_every and model.can_classify:
    callbacks.insert(0, diagnostics.CodeDiagnostics(
        model, splits, config.data, run.path if distribute.is_chief(model.distribute_strategy)
        else None, train.diagnose_every))
  if step < train.steps and not callback.budget_spent:
    # A resumed run draws a fresh data stream rather than repeating the first batches.
    data_config = dataclasses.replace(config.data, seed=config.data.seed + step)
    strategy = model.distribute_strategy
    dataset = distribute.distribute_train_dataset(strategy, splits, data_config)
    with distribute.stop_on_lost_worker(strategy, os.path.join(workdir, "checkpoints")):
      model.fit(dataset, epochs=rounds,
                initial_epoch=step // train.eval_every, steps_per_epoch=train.eval_every,
                callbacks=callbacks, verbose=verbose,
                shuffle=False)   # the dataset shuffles itself
  if callback.diverged_at is not None:
    raise TrainingDivergedError(
        f"A loss became NaN or infinite at step {callback.diverged_at}; stopped. The last "
        f"good checkpoint is {manager.latest_checkpoint or 'none (no round finished)'}. "
        f"Lower the learning rates or try another seed.")
  step = training_step(model)
  last = callback.history[-1] if callback.history else {}
  if last.get("step") == step:   # the last round already evaluated this step
    results = {split: last[split] for split in ("validation", "test")}
  else:
    results = evaluate_run(model, splits, config)
  final = {"step": step, "final": results, "history": callback.history}
  run.write_results(final)
  export_saved_model(model, run.export)
  distribute.finish(run, model.distribute_strategy)
  return final


def evaluate(config: ExperimentConfig, workdir: str) -> dict:
  """Evaluates the run's latest checkpoint on validation and test."""
  splits, config, run, model, manager, step = _prepare(config, workdir)
  if step == 0:
    raise ValueError(f"{workdir} has no checkpoint to evaluate; train first.")
  results = {"step": step, "final": evaluate_run(model, splits, config)}
  run.write_results(results)
  return results


def sample(config: ExperimentConfig, workdir: str) -> Dict[str, str]:
  """Writes the sample grids of the run's latest checkpoint as PNG and to TensorBoard."""
  splits, config, run, model, manager, step = _prepare(config, workdir)
  tf.io.gfile.makedirs(run.samples)
  writer = tf.summary.create_file_writer(os.path.join(run.tensorboard, "samples"))
  paths = {}
  with writer.as_default(step=step):
    for name, grid in write_sample_grids(model, splits, config, seed=step).items():
      paths[name] = os.path.join(run.samples, f"{name}_step{step}.png")
      tf.io.write_file(paths[name], tf.io.encode_png(grid[0]))
  return paths


def export(config: ExperimentConfig, workdir: str) -> str:
  """Exports the run's latest checkpoint as a SavedModel."""
  _, _, run, model, _, _ = _prepare(config, workdir)
  return export_saved_model(model, run.export)
