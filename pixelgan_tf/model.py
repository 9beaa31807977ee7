"""The PixelGAN autoencoder and its multi-phase training step."""

import dataclasses
import math
from typing import Dict, Optional

import keras
import tensorflow as tf

from pixelgan_tf import augment, evaluation, losses, priors, random
from pixelgan_tf.config import MODEL_KINDS, ModelConfig, PhaseConfig
from pixelgan_tf.decoder import PixelCNNDecoder
from pixelgan_tf.discriminator import CodeDiscriminator
from pixelgan_tf.encoder import CATEGORICAL_LOGITS, Encoder
from pixelgan_tf.factorized_decoder import FactorizedDecoder
from pixelgan_tf.likelihoods import bits_per_dim

# Phase ids, used to give every phase its own noise stream (and the labelled
# images' shifts, the discriminators' input noise in either adversarial phase and
# the labelled reconstruction streams of their own, so that the encoder's noise in
# the other phases does not depend on them). `phase_seed` allows 8.
(RECONSTRUCTION, DISCRIMINATOR, GENERATOR, SUPERVISED, SUPERVISED_SHIFT,
 DISCRIMINATOR_INPUT_NOISE, GENERATOR_INPUT_NOISE, LABELED_RECONSTRUCTION) = range(8)
# The phases of the adversarial game on the code.
ADVERSARIAL_PHASES = ("discriminator", "generator")
# The phase the labels train, the one a supervised lead lets learn alone.
SUPERVISED_PHASE = "supervised"
# The phase of the decoder's likelihood, the one a decoder lead lets learn alone.
RECONSTRUCTION_PHASE = "reconstruction"
# The `PhaseConfig` fields that set the encoder's noise level in some phases alone.
PHASE_NOISE_FIELDS = ("supervised_noise_std", "adversarial_noise_std")


def validate(config: ModelConfig) -> None:
  """Raises ValueError naming the problem with a model configuration."""
  if config.kind not in MODEL_KINDS:
    raise ValueError(f"Unknown model kind {config.kind!r}; choose one of {MODEL_KINDS}.")
  if config.image_shape is None:
    raise ValueError("model.image_shape is unset: set it, or let train.resolve take it from "
                     "the data.")
  shape = tuple(config.image_shape)
  if len(shape) != 3 or shape[0] < 4 or shape[1] < 4 or shape[2] < 1:
    raise ValueError(
        f"image_shape must be (height, width, channels) with height, width >= 4, "
        f"got {config.image_shape}.")
  if config.kind == "pixelcnn":
    if config.num_classes:
      raise ValueError("The plain PixelCNN baseline has no code to classify with: "
                       "set num_classes=0.")
    if config.encoder.zero_categorical_head:
      raise ValueError("The plain PixelCNN baseline has no encoder: leave "
                       "model.encoder.zero_categorical_head false.")
    if config.phases.decoder_lead_steps:
      raise ValueError(f"model.phases.decoder_lead_steps={config.phases.decoder_lead_steps} "
                       f"holds back the code, but model.kind='pixelcnn' has none: leave it 0.")
    return
  priors.validate(config.prior)
  if config.kind == "aae" and config.encoder.noise_std != 0:
    raise ValueError(
        f"The adversarial autoencoder's encoder is deterministic: model.kind=aae needs "
        f"model.encoder.noise_std=0, got {config.encoder.noise_std}.")
  if config.kind == "pixelgan" and config.decoder.conditioning == "none":
    raise ValueError("A PixelGAN decoder must be conditioned on the code: set "
                     "decoder.conditioning to 'location_invariant', "
                     "'location_dependent' or 'both'.")
  if config.num_classes:
    sizes = priors.code_sizes(config.prior)
    if priors.CATEGORICAL not in sizes:
      raise ValueError(
          f"Semi-supervised training (num_classes={config.num_classes}) needs a "
          f"categorical code; the {config.prior.kind!r} prior has none.")
    if sizes[priors.CATEGORICAL] != config.num_classes:
      raise ValueError(
          f"Semi-supervised training uses one category per class: the prior has "
          f"{sizes[priors.CATEGORICAL]} categories but the data has {config.num_classes} "
          f"classes. Set model.prior.categories={config.num_classes} (--categories), or "
          f"train without labels (--labels=0).")
  if config.encoder.logit_scale is not None and not config.encoder.normalize_logits:
    raise ValueError(f"model.encoder.logit_scale={config.encoder.logit_scale} scales the "
                     f"normalized logits: set model.encoder.normalize_logits=true, or leave "
                     f"logit_scale unset (none).")
  if not 0.0 <= config.encoder.dropout < 1.0:
    raise ValueError(f"model.encoder.dropout must be in [0, 1), got {config.encoder.dropout}.")
  if (config.encoder.zero_categorical_head
      and priors.CATEGORICAL not in priors.code_sizes(config.prior)):
    raise ValueError(f"model.encoder.zero_categorical_head starts the categorical head at "
                     f"zero, but the {config.prior.kind!r} prior has no categorical code: "
                     f"leave it false.")
  shift = config.phases.supervised_max_shift
  if not 0 <= shift < min(shape[:2]):
    raise ValueError(f"model.phases.supervised_max_shift must be in [0, {min(shape[:2])}) "
                     f"pixels for {shape[0]}x{shape[1]} images, got {shift}.")
  rotation = config.phases.supervised_max_rotation
  if not 0 <= rotation <= 180:
    raise ValueError(f"model.phases.supervised_max_rotation must be in [0, 180] degrees, got "
                     f"{rotation}.")
  for field in PHASE_NOISE_FIELDS:
    _validate_phase_noise(config, field)
  if config.phases.labeled_reconstruction_weight < 0:
    raise ValueError(f"model.phases.labeled_reconstruction_weight must be >= 0, got "
                     f"{config.phases.labeled_reconstruction_weight}.")
  if config.phases.labeled_reconstruction_weight > 0 and not config.num_classes:
    raise ValueError(f"model.phases.labeled_reconstruction_weight="
                     f"{config.phases.labeled_reconstruction_weight} decodes labelled images "
                     f"from their labels, but the model trains without labels "
                     f"(num_classes=0): leave it 0.")
  if config.phases.supervised_lead_steps and not config.num_classes:
    raise ValueError(f"model.phases.supervised_lead_steps={config.phases.supervised_lead_steps} "
                     f"lets only the supervised phase learn at first, but the model trains "
                     f"without labels (num_classes=0): leave it 0.")
  if config.phases.supervised_warmup_steps and not config.num_classes:
    raise ValueError(f"model.phases.supervised_warmup_steps="
                     f"{config.phases.supervised_warmup_steps} ramps the supervised phase's "
                     f"rate, but the model trains without labels (num_classes=0): leave it 0.")
  if config.phases.decoder_lead_steps and config.phases.supervised_lead_steps:
    raise ValueError(f"model.phases.decoder_lead_steps={config.phases.decoder_lead_steps} and "
                     f"supervised_lead_steps={config.phases.supervised_lead_steps} each let one "
                     f"phase learn alone at first: set one of them.")
  if config.phases.decoder_lead_steps and config.phases.labeled_reconstruction_weight:
    raise ValueError(f"model.phases.decoder_lead_steps={config.phases.decoder_lead_steps} hides "
                     f"the code from the decoder, but model.phases.labeled_reconstruction_weight="
                     f"{config.phases.labeled_reconstruction_weight} decodes labelled images "
                     f"from theirs: set one of them.")
  if (config.phases.labeled_reconstruction_code != "labels"
      and not config.phases.labeled_reconstruction_weight):
    raise ValueError(f"model.phases.labeled_reconstruction_code="
                     f"{config.phases.labeled_reconstruction_code!r} has no effect while "
                     f"model.phases.labeled_reconstruction_weight is 0: set the weight, or "
                     f"leave the code 'labels'.")
  if not 0.0 < config.phases.adversarial_batch_fraction <= 1.0:
    raise ValueError(f"model.phases.adversarial_batch_fraction must be in (0, 1], got "
                     f"{config.phases.adversarial_batch_fraction}.")
  if config.discriminator.input_noise_std < 0:
    raise ValueError(f"model.discriminator.input_noise_std must be >= 0, got "
                     f"{config.discriminator.input_noise_std}.")
  if not 0.0 <= config.phases.sgd_momentum < 1.0:
    raise ValueError(f"model.phases.sgd_momentum must be in [0, 1), got "
                     f"{config.phases.sgd_momentum}.")


def _validate_phase_noise(config: ModelConfig, field: str) -> None:
  """Refuses a negative `phases.<field>`, or one for an encoder without noise."""
  level = getattr(config.phases, field)
  if level is None:
    return
  if level < 0:
    raise ValueError(f"model.phases.{field} must be >= 0 (or none), got {level}.")
  encoder = config.encoder
  if config.kind == "aae" or (encoder.noise_position == "hidden" and encoder.noise_dim == 0):
    raise ValueError(f"model.phases.{field}={level} sets the level of the "
                     f"encoder's noise, but this encoder has none (model.kind={config.kind}, "
                     f"noise_position={encoder.noise_position}, noise_dim="
                     f"{encoder.noise_dim}): leave it unset (none).")


def phase_seed(step, replica_id, phase: int) -> tf.Tensor:
  """The [2] int32 root seed of one training step's phase on one replica.

  Distinct for every (step, replica, phase) with phase < 8; every stream of
  the phase is drawn from it or from its `random.split` children, which are
  hashes and so never the root seed of another step, replica or phase.
  """
  step = tf.cast(step, tf.int32)
  return tf.stack([step, tf.cast(replica_id, tf.int32) * 8 + phase], axis=-1)


@keras.saving.register_keras_serializable(package="pixelgan_tf")
class PixelGANAutoencoder(keras.Model):
  """A PixelGAN autoencoder (Makhzani & Frey 2017), or one of its baselines.

  Sub-networks: an `Encoder` z = f(x, n), a decoder p(x|z) (`PixelCNNDecoder`,
  or `FactorizedDecoder` for the 'aae' baseline), one `CodeDiscriminator` per
  prior component. The 'pixelcnn' baseline has only an unconditional decoder.

  `train_step` runs, per batch and in one traced graph, the paper's phases in
  order, each with its own tape and Adam optimizer:
    1. reconstruction: encoder and decoder minimise -log p(x | f(x, n));
    2. discriminator: learns prior samples (label 1) from codes of the data (0);
    3. generator: the encoder learns to make its codes pass for prior samples;
    4. supervised (when the batch has labelled images): cross-entropy of the
       encoder's categorical head.
  Every loss is divided by the number of replicas inside its tape, so the
  summed gradients of `MirroredStrategy` are those of the global batch.

  A batch is a tensor of images or a dict with 'images' and, for the
  supervised phase, 'labeled_images' and 'labels'. `test_step` takes
  'images' and optionally 'labels' and reports the NLL of the deterministic
  encoder's code (n = 0) and the classification error.

  Args:
    config: the `ModelConfig`.
  """

  def __init__(self, config: ModelConfig, **kwargs):
    kwargs.setdefault("name", "pixelgan")
    super().__init__(**kwargs)
    validate(config)
    self.config = config
    self.image_shape = tuple(config.image_shape)
    self.num_dims = math.prod(self.image_shape)
    policy = self.dtype_policy
    if config.kind == "pixelcnn":
      self.prior, self.encoder, self.discriminators = None, None, {}
      self.decoder = PixelCNNDecoder.from_decoder_config(
          _unconditional(config.decoder), self.image_shape, dtype=policy, name="decoder")
    else:
      self.prior = priors.CodePrior(config.prior)
      encoder = config.encoder
      self.encoder = Encoder(
          priors.code_sizes(config.prior), encoder.filters, encoder.hidden_units,
          encoder.hidden_layers, encoder.noise_position, encoder.noise_dim,
          encoder.noise_std,
          normalize_logits=encoder.normalize_logits,
          normalize_hidden=encoder.normalize_hidden, logit_scale=encoder.logit_scale,
          dropout=encoder.dropout, zero_categorical_head=encoder.zero_categorical_head,
          dtype=policy, name="encoder")
      code_dim = self.encoder.code_dim
      if config.kind == "aae":
        self.decoder = FactorizedDecoder(
            self.image_shape, code_dim, config.decoder.likelihood,
            config.decoder.num_mixtures, dtype=policy, name="decoder")
      else:
        self.decoder = PixelCNNDecoder.from_decoder_config(
            config.decoder, self.image_shape, conditioning_dim=code_dim,
            dtype=policy, name="decoder")
      self.discriminators = {
          name: CodeDiscriminator(config.discriminator.hidden_units,
                                  config.discriminator.batch_mean,
                                  config.discriminator.input_noise_std, dtype=policy,
                                  name=f"{name}_discriminator")
          for name in self.prior.names}
    self.trackers = {name: keras.metrics.Mean(name=name) for name in (
        "nll", "bits_per_dim", "discriminator_loss", "discriminator_accuracy",
        "generator_loss", "supervised_loss", "supervised_accuracy", "labeled_nll",
        "error")}

  # --- building ---------------------------------------------------------------

  @property
  def has_code(self) -> bool:
    return self.encoder is not None

  @property
  def can_classify(self) -> bool:
    return self.has_code and priors.CATEGORICAL in self.encoder.code_sizes

  @property
  def is_clustering(self) -> bool:
    """A categorical code trained without labels: its categories are clusters, not classes."""
    return self.can_classify and not self.config.num_classes

  def build(self, images_shape=None):
    """Creates every sub-network's weights from the configured image shape."""
    images = tf.zeros((1,) + self.image_shape)
    outputs, code = self.encoder_outputs_and_code(images)
    if self.has_code:
      self.encoder.zero_categorical_kernel()
    for name, discriminator in self.discriminators.items():
      discriminator(outputs[name])
    self.decoder(images, code)
    self.built = True

  def build_networks(self) -> None:
    """Creates every sub-network's weights (call under the strategy's scope)."""
    if not self.built:
      self.build()

  def normalize(self, images: tf.Tensor) -> tf.Tensor:
    return self.decoder.pixel_likelihood.normalize(images)

  def phase_variables(self) -> Dict[str, list]:
    """The trainable variables each phase updates."""
    encoder = self.encoder.trainable_variables if self.has_code else []
    phases = {"reconstruction": encoder + self.decoder.trainable_variables}
    if self.discriminators:
      phases["discriminator"] = [v for name in sorted(self.discriminators)
                                 for v in self.discriminators[name].trainable_variables]
      phases["generator"] = list(encoder)
    if self.config.num_classes:
      phases["supervised"] = (self.encoder.categorical_head_variables()
                              if self.config.phases.supervised_variables == "head"
                              else list(encoder))
    return phases

  def compile(self, optimizers: Optional[Dict[str, keras.optimizers.Optimizer]] = None,
              jit_compile="auto", **kwargs):
    """Builds the networks and one optimizer per phase.

    Args:
      optimizers: optional {phase: optimizer}; by default Adam with the
        learning rates of `config.phases` (SGD with momentum for the
        adversarial phases when `config.phases.adversarial_optimizer` is
        'sgd'). Under a mixed_float16 policy each is wrapped in a
        `LossScaleOptimizer`.
      jit_compile: passed to `keras.Model.compile`.
    """
    self.build_networks()
    phases = self.config.phases
    rates = {"reconstruction": phases.reconstruction_learning_rate,
             "discriminator": phases.discriminator_learning_rate,
             "generator": phases.generator_learning_rate,
             "supervised": phases.supervised_learning_rate}
    variables = self.phase_variables()
    optimizers = dict(optimizers or {})
    self.phase_optimizers = {}
    for phase, phase_variables in variables.items():
      optimizer = optimizers.pop(phase, None) or _default_optimizer(phase, rates[phase], phases)
      if self.dtype_policy.name == "mixed_float16" and not isinstance(
          optimizer, keras.optimizers.LossScaleOptimizer):
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
      optimizer.build(phase_variables)
      self.phase_optimizers[phase] = optimizer
    # Before any checkpoint restores (possibly decayed) rates into the optimizers.
    # (Through numpy: float() fails on a MirroredStrategy's variables.)
    self.base_learning_rates = {
        phase: float(keras.ops.convert_to_numpy(optimizer.learning_rate))
        for phase, optimizer in self.phase_optimizers.items()}
    if optimizers:
      raise ValueError(f"Optimizers for unknown phases: {sorted(optimizers)}; this model "
                       f"trains {sorted(variables)}.")
    # Keras' own `optimizer` is the reconstruction one: its step counter is the model's.
    super().compile(optimizer=self.phase_optimizers["reconstruction"],
                    jit_compile=jit_compile, **kwargs)

  def checkpoint(self, **extra) -> tf.train.Checkpoint:
    """A `tf.train.Checkpoint` of every weight and every phase optimizer's state.

    Weights are keyed by their path inside the model, so that a checkpoint
    from another configuration fails to restore by name and shape instead of
    loading into the wrong variables; optimizer slots by position (their
    names embed the model's name, which Keras may have made unique). TF's
    object graph does not see Keras 3's lists and dicts of layers, so
    `tf.train.Checkpoint(model=model)` would miss weights.

    Args:
      **extra: more trackables to save alongside (e.g. a step counter).
    """
    prefix = self.name + "/"
    weights = {v.path[len(prefix):] if v.path.startswith(prefix) else v.path: v
               for v in self.variables}
    if len(weights) != len(self.variables):
      raise ValueError("Variable paths are not unique; cannot key a checkpoint by them.")
    optimizers = {phase: {str(i): v for i, v in enumerate(optimizer.variables)}
                  for phase, optimizer in getattr(self, "phase_optimizers", {}).items()}
    return tf.train.Checkpoint(weights=weights, optimizers=optimizers, **extra)

  # --- phases -----------------------------------------------------------------

  def _seed(self, phase: int) -> tf.Tensor:
    """The step's [2] stateless seed of `phase` on this replica (`phase_seed`)."""
    replica = tf.distribute.get_replica_context()
    replica_id = replica.replica_id_in_sync_group if replica is not None else 0
    return phase_seed(self.optimizer.iterations, replica_id, phase)

  def _apply_gradients(self, phase: str, tape: tf.GradientTape, loss: tf.Tensor) -> None:
    optimizer = self.phase_optimizers[phase]
    variables = self.phase_variables()[phase]
    gradients = tape.gradient(loss, variables)
    # A head the phase's loss does not reach (the Gaussian head in the
    # supervised phase) has no gradient and keeps its value.
    pairs = [(g, v) for g, v in zip(gradients, variables) if g is not None]
    optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])

  def _num_replicas(self) -> float:
    return float(tf.distribute.get_strategy().num_replicas_in_sync)

  def encoder_outputs(self, images: tf.Tensor, seed=None, training=False,
                      noise_std: Optional[float] = None) -> Dict[str, tf.Tensor]:
    """The encoder's heads for images [B, H, W, C] in data space; seed None means n = 0.

    Returns {component: [B, size]} (a categorical component as probabilities,
    with its logits under `CATEGORICAL_LOGITS` too). `training` (set by the
    training phases) normalizes with batch statistics; `noise_std` replaces
    the encoder's noise level for this call (None keeps it).
    """
    return self.encoder(self.normalize(images), seed=seed, training=training,
                        noise_std=noise_std)

  def encoder_outputs_and_code(self, images: tf.Tensor, seed=None, training=False):
    """(`encoder_outputs`, the code [B, code_dim] the decoder is conditioned on).

    (None, None) for the plain PixelCNN, which has no code.
    """
    if not self.has_code:
      return None, None
    outputs = self.encoder_outputs(images, seed, training)
    return outputs, self.encoder.code(outputs)

  def nll_and_encoder_outputs(self, images: tf.Tensor, seed=None, training=False):
    """(NLL [B] in nats of images [B, H, W, C] under their code, `encoder_outputs` or None).

    The code is the deterministic one by default (seed None), as evaluation
    wants; the training phases pass their noise seed and `training`. One
    encoder pass serves both, for evaluations that also classify.
    """
    outputs, code = self.encoder_outputs_and_code(images, seed, training)
    return -self.decoder.log_prob(images, code), outputs

  def reconstruction_phase(self, images: tf.Tensor, labeled_images: Optional[tf.Tensor] = None,
                           labels: Optional[tf.Tensor] = None) -> Dict[str, tf.Tensor]:
    """Phase 1: one step on -log p(x | z = f(x, n)). Returns per-image NLL [B].

    With `phases.labeled_reconstruction_weight` > 0 and a labelled batch
    (images [L, H, W, C], int labels [L]), the loss also has that weight times
    the labelled batch's mean NLL under the code `phases.labeled_reconstruction_code`
    names (`labeled_nll`); its mean is returned as 'labeled_nll'.
    """
    if self.config.phases.decoder_lead_steps:
      return self._decoder_lead_reconstruction_phase(images)
    optimizer = self.phase_optimizers["reconstruction"]
    seed = self._seed(RECONSTRUCTION)
    weight = self.config.phases.labeled_reconstruction_weight
    values = {}
    with tf.GradientTape() as tape:
      nll, _ = self.nll_and_encoder_outputs(images, seed, training=True)
      loss = tf.reduce_mean(nll)
      if weight > 0 and labeled_images is not None:
        values["labeled_nll"] = tf.reduce_mean(self.labeled_nll(labeled_images, labels))
        loss += weight * values["labeled_nll"]
      scaled = optimizer.scale_loss(loss / self._num_replicas())
    self._apply_gradients("reconstruction", tape, scaled)
    return {"nll": nll, **values}

  def _decoder_lead_reconstruction_phase(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Phase 1 with `phases.decoder_lead_steps`. Returns {'nll': [B] the NLL the decoder learns}.

    While the step is under the lead, the decoder learns from every image of
    the batch decoded with the batch's mean code (`batch_mean_code`), so no
    image's information reaches it through the code. The encoder's gradient
    is that of the NLL under its own code, so that the reconstruction
    optimizer's moments for the encoder follow its real gradient (Adam moments
    that start from 0 at the end of the lead would take steps several times
    the rate), but its weights are put back after the step: it does not move.
    After the lead, the plain phase.
    """
    optimizer = self.phase_optimizers["reconstruction"]
    seed = self._seed(RECONSTRUCTION)
    in_lead = self.optimizer.iterations < self.config.phases.decoder_lead_steps
    encoder_variables = self.encoder.trainable_variables
    decoder_variables = self.decoder.trainable_variables
    variables = encoder_variables + decoder_variables
    scale = lambda nll: optimizer.scale_loss(tf.reduce_mean(nll) / self._num_replicas())

    def during_lead():
      with tf.GradientTape(persistent=True) as tape:
        _, code = self.encoder_outputs_and_code(images, seed, training=True)
        own_loss = scale(-self.decoder.log_prob(images, code))
        decoder_nll = -self.decoder.log_prob(images, self.batch_mean_code(code))
        decoder_loss = scale(decoder_nll)
      gradients = (tape.gradient(own_loss, encoder_variables)
                   + tape.gradient(decoder_loss, decoder_variables))
      return gradients, decoder_nll

    def after_lead():
      # The plain phase, in one backward pass.
      with tf.GradientTape() as tape:
        nll, _ = self.nll_and_encoder_outputs(images, seed, training=True)
        loss = scale(nll)
      return tape.gradient(loss, variables), nll

    gradients, nll = tf.cond(in_lead, during_lead, after_lead)
    encoder_before = [tf.identity(tf.convert_to_tensor(v)) for v in encoder_variables]
    optimizer.apply(gradients, variables)

    def put_encoder_back():
      for variable, before in zip(encoder_variables, encoder_before):
        variable.assign(before)
      return tf.constant(True)

    # Only while the lead lasts: after it, a step writes no weight twice.
    tf.cond(in_lead, put_encoder_back, lambda: tf.constant(False))
    return {"nll": nll}

  @staticmethod
  def batch_mean_code(code: tf.Tensor) -> tf.Tensor:
    """Every image's code [B, code_dim] replaced by the batch's mean code, without a gradient."""
    mean = tf.stop_gradient(tf.reduce_mean(code, axis=0, keepdims=True))
    return tf.broadcast_to(mean, tf.shape(code))

  def labeled_nll(self, images: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """-log p(x | z) [L] of labelled images [L, H, W, C].

    With `phases.labeled_reconstruction_code` 'labels', the categorical code is
    the labels [L] as one-hot vectors and any other component is the encoder's;
    with 'encoder', the whole code is the encoder's, the labels unused. The
    encoder runs with its training noise, seeded apart from the unlabelled batch's.
    """
    seed = self._seed(LABELED_RECONSTRUCTION)
    if self.config.phases.labeled_reconstruction_code == "encoder":
      return self.nll_and_encoder_outputs(images, seed, training=True)[0]
    outputs = {priors.CATEGORICAL: tf.one_hot(labels, self.config.num_classes)}
    others = [name for name in self.encoder.code_sizes if name != priors.CATEGORICAL]
    if others:
      encoded = self.encoder_outputs(images, seed, training=True)
      outputs.update({name: encoded[name] for name in others})
    code = tf.cast(self.encoder.code(outputs), self.compute_dtype)
    return -self.decoder.log_prob(images, code)

  def discriminator_phase(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Phase 2: one step of every discriminator, prior samples vs data codes.

    The data codes draw the encoder's noise at `phases.adversarial_noise_std`
    when that is set; the k-th discriminator (in name order) sees its prior
    samples and data codes through input noise of seeds 2k and 2k + 1.
    """
    optimizer = self.phase_optimizers["discriminator"]
    seed = self._seed(DISCRIMINATOR)
    input_seed = self._seed(DISCRIMINATOR_INPUT_NOISE)
    outputs = self.encoder_outputs(images, random.split(seed, 0), training=True,
                                   noise_std=self.config.phases.adversarial_noise_std)
    samples = self.prior.sample(tf.shape(images)[0], random.split(seed, 1))
    with tf.GradientTape() as tape:
      loss, accuracy = 0.0, 0.0
      for k, (name, discriminator) in enumerate(sorted(self.discriminators.items())):
        real_logits = discriminator(samples[name], seed=random.split(input_seed, 2 * k))
        fake_logits = discriminator(tf.stop_gradient(outputs[name]),
                                    seed=random.split(input_seed, 2 * k + 1))
        loss += losses.discriminator_loss(real_logits, fake_logits)
        accuracy += losses.discriminator_accuracy(real_logits, fake_logits)
      count = float(len(self.discriminators))
      scaled = optimizer.scale_loss(loss / count / self._num_replicas())
    self._apply_gradients("discriminator", tape, scaled)
    return {"discriminator_loss": loss / count, "discriminator_accuracy": accuracy / count}

  def generator_phase(self, images: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Phase 3: one step of the encoder towards codes the discriminators call prior.

    The encoder's noise has the level `phases.adversarial_noise_std` when that
    is set; the k-th discriminator sees the codes through input noise of seed k.
    """
    optimizer = self.phase_optimizers["generator"]
    seed = self._seed(GENERATOR)
    input_seed = self._seed(GENERATOR_INPUT_NOISE)
    with tf.GradientTape() as tape:
      outputs = self.encoder_outputs(images, seed, training=True,
                                     noise_std=self.config.phases.adversarial_noise_std)
      loss = tf.add_n([
          losses.generator_loss(discriminator(outputs[name], seed=random.split(input_seed, k)))
          for k, (name, discriminator) in enumerate(sorted(self.discriminators.items()))])
      weighted = self.config.phases.generator_weight * loss / self._num_replicas()
      scaled = optimizer.scale_loss(weighted)
    self._apply_gradients("generator", tape, scaled)
    return {"generator_loss": loss}

  def adversarial_images(self, images: tf.Tensor) -> tf.Tensor:
    """The game's batch: the first `phases.adversarial_batch_fraction` of images [B, H, W, C].

    Returns images [B * fraction, H, W, C] (the batch itself at fraction 1).

    Raises:
      ValueError: if the batch's size is not static or the fraction of it is
        not a whole number of images, at least one.
    """
    fraction = self.config.phases.adversarial_batch_fraction
    if fraction == 1.0:
      return images
    batch = images.shape[0]
    count = None if batch is None else round(fraction * batch)
    if count is None or count < 1 or abs(count - fraction * batch) > 1e-6:
      raise ValueError(f"model.phases.adversarial_batch_fraction={fraction} of a batch of "
                       f"{batch} images is not a whole number of images: choose a fraction "
                       f"that divides each replica's data.batch_size.")
    return images[:count]

  def supervised_phase(self, images: tf.Tensor, labels: tf.Tensor) -> Dict[str, tf.Tensor]:
    """Phase 4: one step of the categorical head's cross-entropy on labelled images.

    The images [B, H, W, C] are first turned when `phases.supervised_max_rotation`
    is set, then shifted when `phases.supervised_max_shift` is set, and the
    encoder's noise has the level `phases.supervised_noise_std` when that is
    set; the step trains the variables of `phases.supervised_variables`.
    """
    optimizer = self.phase_optimizers["supervised"]
    seed = self._seed(SUPERVISED)
    augment_seed = self._seed(SUPERVISED_SHIFT)
    # The rotation draws from a child of the shift's seed, so that a run without it
    # shifts exactly as before it existed.
    images = augment.random_rotation(images, self.config.phases.supervised_max_rotation,
                                     random.split(augment_seed, 0))
    images = augment.random_shift(images, self.config.phases.supervised_max_shift, augment_seed)
    with tf.GradientTape() as tape:
      logits = self.encoder_outputs(images, seed, training=True,
                                    noise_std=self.config.phases.supervised_noise_std
                                    )[CATEGORICAL_LOGITS]
      loss = losses.supervised_loss(logits, labels)
      weighted = self.config.phases.supervised_weight * loss / self._num_replicas()
      scaled = optimizer.scale_loss(weighted)
    self._apply_gradients("supervised", tape, scaled)
    return {"supervised_loss": loss,
            "supervised_accuracy": 1.0 - evaluation.classification_error(logits, labels)}

  # --- Keras entry points -------------------------------------------------------

  def _update_trackers(self, values: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    for name, value in values.items():
      self.trackers[name].update_state(value)
    results = {name: self.trackers[name].result() for name in values}
    if _across_workers():
      # Keras averages a multi-worker step's outputs along their first axis
      # (`reduce_per_replica` in its TensorFlow trainer), which a scalar lacks:
      # give each a length-1 axis, which that mean removes.
      results = {name: value[None] for name, value in results.items()}
    return results

  @staticmethod
  def _as_batch(data) -> Dict[str, tf.Tensor]:
    """A batch as a dict, from `fit`'s dict or `train_on_batch`'s (x, y, w) tuple."""
    x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
    return x if isinstance(x, dict) else {"images": x}

  def train_step(self, data):
    data = self._as_batch(data)
    images = data["images"]
    values = self.reconstruction_phase(images, data.get("labeled_images"), data.get("labels"))
    values["bits_per_dim"] = bits_per_dim(values["nll"], self.num_dims)
    if self.discriminators:
      game_images = self.adversarial_images(images)
      values.update(self.discriminator_phase(game_images))
      values.update(self.generator_phase(game_images))
    if "labels" in data:
      if not self.config.num_classes:
        raise ValueError("Got labels, but the model was configured with num_classes=0.")
      values.update(self.supervised_phase(data["labeled_images"], data["labels"]))
    return self._update_trackers(values)

  def test_step(self, data):
    data = self._as_batch(data)
    images = data["images"]
    nll, outputs = self.nll_and_encoder_outputs(images)
    values = {"nll": nll, "bits_per_dim": bits_per_dim(nll, self.num_dims)}
    if "labels" in data and self.can_classify:
      values["error"] = evaluation.classification_error(outputs[CATEGORICAL_LOGITS], data["labels"])
    return self._update_trackers(values)

  def classify(self, images: tf.Tensor) -> tf.Tensor:
    """Class (or cluster) probabilities [B, K] of the deterministic encoder."""
    if not self.can_classify:
      raise ValueError("This model has no categorical code to classify with.")
    return self.encoder_outputs(images)[priors.CATEGORICAL]

  def call(self, images, training=False):
    """The NLL in nats per image [B] under the deterministic encoder's code."""
    return self.nll_and_encoder_outputs(images)[0]

  @property
  def metrics(self):
    return list(self.trackers.values())

  def _maybe_symbolic_build(self, iterator=None, data_batch=None):
    # `compile` builds every network and optimizer. Keras' symbolic build would
    # first all-reduce a whole batch, which MultiWorkerMirroredStrategy cannot
    # do for a dict of per-replica images.
    del iterator, data_batch


def _across_workers() -> bool:
  """Whether the current strategy is a MultiWorkerMirroredStrategy over several workers."""
  strategy = tf.distribute.get_strategy()
  return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
          and strategy.extended._in_multi_worker_mode())   # Keras' own test


def _default_optimizer(phase: str, learning_rate: float,
                       phases: PhaseConfig) -> keras.optimizers.Optimizer:
  """The optimizer `config.phases` gives `phase`: Adam, or SGD for an adversarial phase."""
  if phase in ADVERSARIAL_PHASES and phases.adversarial_optimizer == "sgd":
    return keras.optimizers.SGD(learning_rate, momentum=phases.sgd_momentum,
                                name=f"{phase}_sgd")
  return keras.optimizers.Adam(learning_rate, beta_1=phases.adam_beta_1, name=f"{phase}_adam")


def _unconditional(decoder_config):
  return dataclasses.replace(decoder_config, conditioning="none")
