"""Training runs: train_and_evaluate, evaluate, sample and export a run directory."""

import dataclasses
import functools
import math
import os
from typing import Dict

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from pixelgan_tf import callbacks as callbacks_lib
from pixelgan_tf import data as data_lib
from pixelgan_tf import determinism, diagnostics, distribute, evaluation, priors, schedule
from pixelgan_tf import warm_start
from pixelgan_tf.callbacks import completed_steps
from pixelgan_tf.callbacks import TrainingDivergedError  # noqa: F401  (launch/main.py's)
from pixelgan_tf.config import ExperimentConfig
from pixelgan_tf.export import class_code, export_saved_model
from pixelgan_tf.likelihoods import bits_per_dim
from pixelgan_tf.model import PixelGANAutoencoder
from pixelgan_tf.model import validate as validate_model
from pixelgan_tf.run_directory import RunDirectory
from pixelgan_tf.sampling import image_grid
from pixelgan_tf.sampling import sample as draw_samples

# train.mixed_precision -> the Keras dtype policy it sets.
_DTYPE_POLICIES = {"off": "float32", "float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


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
  if train.mixed_precision not in _DTYPE_POLICIES:
    raise ValueError(f"mixed_precision must be one of {sorted(_DTYPE_POLICIES)}, "
                     f"got {train.mixed_precision!r}.")
  if train.steps_per_execution < 1 or train.eval_every % train.steps_per_execution:
    raise ValueError(f"steps_per_execution must be positive and divide eval_every, got "
                     f"{train.steps_per_execution} and {train.eval_every}.")
  if train.steps % train.steps_per_execution:
    # A call runs that many steps: the run could stop only past its steps.
    raise ValueError(f"steps_per_execution must divide steps, got "
                     f"{train.steps_per_execution} and {train.steps}: set train.steps to a "
                     f"multiple of {train.steps_per_execution} or "
                     f"train.steps_per_execution=1.")
  if train.diagnose_every < 0 or train.diagnose_every % train.steps_per_execution:
    raise ValueError(f"diagnose_every must be 0 or a positive multiple of steps_per_execution, "
                     f"got {train.diagnose_every} and {train.steps_per_execution}.")
  for warmup in ("adversarial_warmup_steps", "supervised_warmup_steps"):
    steps = getattr(config.model.phases, warmup)
    if steps < 0:
      raise ValueError(f"model.phases.{warmup} must be >= 0, got {steps}.")
  for lead_field in ("supervised_lead_steps", "decoder_lead_steps"):
    lead = getattr(config.model.phases, lead_field)
    if lead < 0 or lead % train.steps_per_execution:
      # The rates are set once per call of steps_per_execution steps.
      raise ValueError(f"model.phases.{lead_field} must be 0 or a positive multiple of "
                       f"steps_per_execution ({train.steps_per_execution}), got {lead}.")
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
  keras.mixed_precision.set_dtype_policy(_DTYPE_POLICIES[config.train.mixed_precision])
  strategy = strategy or _strategy(config)
  jit = {"auto": "auto", "on": True, "off": False}[config.train.jit_compile]
  keras.utils.set_random_seed(config.data.seed)   # the weights' initialization
  with strategy.scope():
    model = PixelGANAutoencoder(config.model)
    model.compile(jit_compile=jit, steps_per_execution=config.train.steps_per_execution)
  return model


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
  return completed_steps(model)


def _predict_function(model):
  """A tf.function: images [B, H, W, C] -> (NLL [B], class probabilities [B, K] or [0])."""
  @tf.function
  def predict(images):
    nll, outputs = model.nll_and_encoder_outputs(images)   # one encoder pass for both
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
  results = {"nll": nll, "bits_per_dim": bits_per_dim(nll, model.num_dims)}
  if model.can_classify:
    probabilities = np.concatenate(probabilities)
    results["error"] = float(evaluation.classification_error(probabilities, labels))
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


def write_code_histograms(model, images, config) -> None:
  """Histograms of each code component on some validation images."""
  if not model.has_code:
    return
  batch = next(iter(data_lib.eval_dataset(images, np.zeros(len(images), np.int64),
                                          dataclasses.replace(config.data,
                                                              batch_size=len(images)))))
  for name, value in model.encoder_outputs(batch["images"]).items():
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
  _, code = model.encoder_outputs_and_code(batch["images"])
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


@dataclasses.dataclass(frozen=True)
class OpenedRun:
  """What every mode (train, eval, sample, export) starts from; made by `open_run`.

  Attributes:
    splits: the data (`data.Splits`).
    config: the config resolved against the data, as written to the run directory.
    run_directory: the `RunDirectory` (a worker's stand-in on non-chief workers).
    model: the compiled `PixelGANAutoencoder`, restored from the latest checkpoint.
    checkpoints: the run's checkpoint manager.
    step: the restored training step; 0 for a new run.
  """
  splits: data_lib.Splits
  config: ExperimentConfig
  run_directory: RunDirectory
  model: PixelGANAutoencoder
  checkpoints: tf.train.CheckpointManager
  step: int


def open_run(config: ExperimentConfig, workdir: str) -> OpenedRun:
  """Data, resolved config (checked against the run directory), model, checkpoints."""
  validate(config)
  determinism.configure(config.train.deterministic)   # before any op: it sets thread pools
  strategy = _strategy(config)   # before any other op: it may configure the runtime
  # A global batch that the replicas cannot share is refused before any work.
  distribute.per_replica_config(config.data, 0, strategy.num_replicas_in_sync)
  start_from = _warm_start_checkpoint(config, workdir)   # before the data: fail fast
  splits = data_lib.load_splits(config.data)
  config = resolve(config, splits)
  run = distribute.run_directory(workdir, strategy)
  run.check(config)
  model = build_model(config, strategy)
  checkpoints = distribute.checkpoint_manager(model.checkpoint(), run,
                                              config.train.keep_checkpoints)
  step = restore_latest(model, checkpoints)
  if start_from:   # None when the run has checkpoints of its own
    warm_start.restore(checkpoints.checkpoint, start_from, config)
    step = completed_steps(model)
    logging.info("Warm start from %s at step %d", start_from, step)
  # Written once the weights are in place: a warm start that does not fit leaves no
  # config behind that would refuse the corrected command.
  run.check_and_write_config(config)
  return OpenedRun(splits, config, run, model, checkpoints, step)


def _warm_start_checkpoint(config: ExperimentConfig, workdir: str):
  """The checkpoint a new run warm-starts from; None without one or when resuming."""
  if not config.train.warm_start:
    return None
  if tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")):
    return None   # the run's own checkpoints continue it; the warm start is behind it
  return warm_start.source_checkpoint(config.train.warm_start)


def _round_callbacks(opened: OpenedRun, clock: callbacks_lib.TrainingClock,
                     history: list) -> list:
  """The callbacks of a round's end, in the order their jobs must run (see `callbacks`)."""
  model, splits, config = opened.model, opened.splits, opened.config
  predict = _predict_function(model)
  sampler = tf.function(draw_samples, jit_compile=True)   # compiled once per run
  writer = tf.summary.create_file_writer(
      os.path.join(opened.run_directory.tensorboard, "validation"))
  evaluate = functools.partial(evaluate_run, model, splits, config, predict)
  histograms = functools.partial(write_code_histograms, model, splits.validation_images[:500],
                                 config)
  grids = functools.partial(write_sample_grids, model, splits, config, sampler=sampler)
  return [callbacks_lib.EvaluateEachRound(evaluate, clock, history),
          callbacks_lib.WriteResultsEachRound(opened.run_directory, history),
          callbacks_lib.SaveCheckpointEachRound(opened.checkpoints),
          callbacks_lib.EvaluationSummaries(writer, history),
          callbacks_lib.CodeHistograms(writer, histograms),
          callbacks_lib.SampleGridsEveryRounds(writer, grids, config.train.sample_every)]


def _diagnostics_callbacks(opened: OpenedRun) -> list:
  """The code diagnostics every `train.diagnose_every` steps, if asked for and possible."""
  every, model = opened.config.train.diagnose_every, opened.model
  if not every or not model.can_classify:
    return []
  directory = (opened.run_directory.path if distribute.is_chief(model.distribute_strategy)
               else None)   # one writer: the chief
  return [diagnostics.CodeDiagnostics(model, opened.splits, opened.config.data, directory,
                                      every)]


def training_rounds(step: int, steps: int, eval_every: int) -> list:
  """The `fit` calls that take a run from `step` to `steps`: (first step, round length).

  A run resumed mid-round (after a time budget, or with more steps than it
  stopped at) first finishes that round, so that its evaluations stay on the
  multiples of `eval_every` that other runs of the row are read at.

  Returns:
    [] when `step >= steps`; else at most two calls, the round's remainder and
    then whole rounds (`StopAtSteps` ends the last one at `steps`).
  """
  if step >= steps:
    return []
  calls = []
  if step % eval_every:
    calls.append((step, eval_every - step % eval_every))
    step += eval_every - step % eval_every
  if step < steps:
    calls.append((step, eval_every))
  return calls


def _fit_rounds(opened: OpenedRun, callbacks: list, start: int, round_steps: int,
                verbose: int) -> None:
  """One `fit` from step `start` in rounds of `round_steps`, up to `train.steps`."""
  model, config = opened.model, opened.config
  every = config.train.eval_every
  # A resumed run draws a fresh data stream rather than repeating the first batches.
  data_config = dataclasses.replace(config.data, seed=config.data.seed + start)
  strategy = model.distribute_strategy
  dataset = distribute.distribute_train_dataset(strategy, opened.splits, data_config)
  first_round = start // every   # rounds count from the run's start (sample grids' cadence)
  last_round = (first_round + 1 if round_steps < every
                else math.ceil(config.train.steps / every))
  # The chief's checkpoints (a worker's run directory saves its own under a scratch folder).
  chief_checkpoints = os.path.join(opened.run_directory.path, "checkpoints")
  with distribute.stop_on_lost_worker(strategy, chief_checkpoints):
    model.fit(dataset, epochs=last_round, initial_epoch=first_round,
              steps_per_epoch=round_steps, callbacks=callbacks, verbose=verbose,
              shuffle=False)   # the dataset shuffles itself


def train_and_evaluate(config: ExperimentConfig, workdir: str, verbose: int = 1) -> dict:
  """Trains (resuming from the run directory's latest checkpoint), evaluates, exports.

  Args:
    config: the experiment.
    workdir: the run directory.
    verbose: Keras progress output (1: a progress bar with ETA per round).

  Returns:
    The final results, also written to `workdir/results.json`.

  Raises:
    TrainingDivergedError: a loss became NaN or infinite.
  """
  opened = open_run(config, workdir)
  model, splits, config, step = opened.model, opened.splits, opened.config, opened.step
  train = config.train
  history = opened.run_directory.read_history(step)
  clock = callbacks_lib.TrainingClock(history[-1].get("train_seconds", 0.0) if history else 0.0)
  budget = callbacks_lib.StopAtTimeBudget(clock, train.time_budget_s)
  callbacks = [
      schedule.LearningRateDecay(
          model, train.steps, train.time_budget_s, train.decay_fraction, clock.seconds,
          adversarial_warmup_steps=config.model.phases.adversarial_warmup_steps,
          supervised_lead_steps=config.model.phases.supervised_lead_steps,
          supervised_warmup_steps=config.model.phases.supervised_warmup_steps,
          decoder_lead_steps=config.model.phases.decoder_lead_steps),
      callbacks_lib.TrainingSummaries(model, os.path.join(opened.run_directory.tensorboard,
                                                          "train"), train.log_every),
      callbacks_lib.TerminateOnNonFiniteLoss(lambda: opened.checkpoints.latest_checkpoint),
      clock, budget, callbacks_lib.StopAtSteps(train.steps), *_diagnostics_callbacks(opened),
      *_round_callbacks(opened, clock, history)]
  for start, round_steps in training_rounds(step, train.steps, train.eval_every):
    if budget.spent or completed_steps(model) >= train.steps:
      break
    _fit_rounds(opened, callbacks, start, round_steps, verbose)
  step = completed_steps(model)
  last = history[-1] if history else {}
  if last.get("step") == step:   # the last round already evaluated this step
    results = {split: last[split] for split in ("validation", "test")}
  else:
    results = evaluate_run(model, splits, config)
  final = {"step": step, "final": results, "history": history}
  opened.run_directory.write_results(final)
  export_run(opened)
  distribute.finish(opened.run_directory, model.distribute_strategy)
  return final


def evaluate(config: ExperimentConfig, workdir: str) -> dict:
  """Evaluates the run's latest checkpoint on validation and test."""
  opened = open_run(config, workdir)
  if opened.step == 0:
    raise ValueError(f"{workdir} has no checkpoint to evaluate; train first.")
  results = {"step": opened.step,
             "final": evaluate_run(opened.model, opened.splits, opened.config)}
  opened.run_directory.write_results(results)
  return results


def sample(config: ExperimentConfig, workdir: str) -> Dict[str, str]:
  """Writes the sample grids of the run's latest checkpoint as PNG and to TensorBoard."""
  opened = open_run(config, workdir)
  run, step = opened.run_directory, opened.step
  tf.io.gfile.makedirs(run.samples)
  writer = tf.summary.create_file_writer(os.path.join(run.tensorboard, "samples"))
  paths = {}
  with writer.as_default(step=step):
    grids = write_sample_grids(opened.model, opened.splits, opened.config, seed=step)
    for name, grid in grids.items():
      paths[name] = os.path.join(run.samples, f"{name}_step{step}.png")
      tf.io.write_file(paths[name], tf.io.encode_png(grid[0]))
  return paths


def export(config: ExperimentConfig, workdir: str) -> str:
  """Exports the run's latest checkpoint as a SavedModel."""
  return export_run(open_run(config, workdir))


def export_run(opened: OpenedRun) -> str:
  """Writes the opened run's model to its export directory, with its data's preparation."""
  return export_saved_model(opened.model, opened.run_directory.export,
                            deskew=opened.config.data.deskew,
                            binarize=opened.config.data.binarize,
                            resize=data_lib.resizes(opened.config.data.dataset))
