"""Frozen configuration dataclasses and named presets.

Library classes take their own sub-config or plain arguments; presets are
named here so that a refactor cannot silently change what a name means
(their parameter counts are pinned by tests). Setting fields from strings, and
the command line's path to a config, are in `pixelgan_tf.config_overrides`.
"""

import dataclasses
import typing
from typing import Literal, Optional, Tuple

# The choices of a field are its Literal type: `config_overrides.override` checks
# them, and the library's own checks use the tuples.
Likelihood = Literal["bernoulli", "categorical", "logistic_mixture"]
Conditioning = Literal["none", "location_invariant", "location_dependent", "both"]
PriorKind = Literal["gaussian", "categorical", "gaussian_categorical", "mixture_of_gaussians"]
ModelKind = Literal["pixelgan", "pixelcnn", "aae"]
NoisePosition = Literal["input", "hidden"]
Strategy = Literal["auto", "one_device", "mirrored", "multi_worker"]
Dataset = Literal["mnist", "fashion_mnist", "svhn_cropped", "cifar10", "smallnorb"]
JitCompile = Literal["auto", "on", "off"]
AdversarialOptimizer = Literal["adam", "sgd"]
SupervisedVariables = Literal["encoder", "head"]
LabeledReconstructionCode = Literal["labels", "encoder"]
MixedPrecision = Literal["off", "float16", "bfloat16"]

LIKELIHOODS = typing.get_args(Likelihood)
CONDITIONING_MODES = typing.get_args(Conditioning)
PRIOR_KINDS = typing.get_args(PriorKind)
MODEL_KINDS = typing.get_args(ModelKind)
NOISE_POSITIONS = typing.get_args(NoisePosition)
STRATEGIES = typing.get_args(Strategy)
DATASETS = typing.get_args(Dataset)


@dataclasses.dataclass(frozen=True)
class DecoderConfig:
  """The conditional gated PixelCNN p(x | z).

  Attributes:
    num_layers: gated blocks after the type-A stem.
    filters: channels of both stacks.
    vertical_kernel_size: taps of each vertical convolution (rows, odd cols).
    horizontal_kernel_size: taps of each horizontal convolution.
    head_units: hidden width of the output head (None: `filters`).
    likelihood: 'bernoulli', 'categorical' or 'logistic_mixture'.
    num_mixtures: logistic components per sub-pixel ('logistic_mixture').
    conditioning: 'none', 'location_invariant', 'location_dependent' or 'both'.
    conditioning_map_channels: channels of the map m(z) (location-dependent).
    coordinate_channels: feed the stem each pixel's row and column (scaled to
      [-1, 1]) beside the image, so that a decoder whose field is smaller than
      the digit knows where it draws (CoordConv, Liu et al. 2018; not in the
      paper), meant to let a location-invariant code pick a shape, not only a
      stroke texture. Positions are no pixel values, so the decoder stays
      causal. Measured at step 500 (RESULTS.md, "Round twenty-nine"): a
      likelihood 4.5-8 nats better, and less pure categories with 50 and 100
      labels, so it is off in every preset.
  """
  num_layers: int = 4
  filters: int = 32
  vertical_kernel_size: Tuple[int, int] = (2, 3)
  horizontal_kernel_size: Tuple[int, int] = (1, 2)
  head_units: Optional[int] = None
  likelihood: Likelihood = "bernoulli"
  num_mixtures: int = 5
  conditioning: Conditioning = "none"
  conditioning_map_channels: int = 16
  coordinate_channels: bool = False


DECODER_PRESETS = {
    # Default for MNIST on a CPU: the code carries the global structure, so a
    # local receptive field (6 rows above, 5 columns either side) suffices. A
    # smaller, wider or deeper field did not separate the 20-label classes
    # better (RESULTS.md, "The 20-label proxy at 500 steps: receptive field and
    # normalized logits").
    "mnist_cpu": DecoderConfig(num_layers=4, filters=32),
    # The same with wider kernels (11 rows above, 10 columns either side), for
    # 1.3x the step time: far lower MNIST-100 error in the first half hour
    # (docs/experiment_log.md, "Second round: how much the decoder uses the
    # code, and its receptive field").
    "mnist_cpu_wide": DecoderConfig(num_layers=4, filters=32, vertical_kernel_size=(3, 5),
                                    horizontal_kernel_size=(1, 3)),
    # Twice the blocks of mnist_cpu_wide: the field covers most of a 28x28 digit (19 rows
    # above, 18 columns either side, 19 pixels to the left), for 2.6x mnist_cpu's step
    # time. A PixelCNN that can draw a digit's style by itself leaves the 30-way code
    # its content: purer clusters at equal steps (RESULTS.md, "Round seven").
    "mnist_cpu_deep": DecoderConfig(num_layers=8, filters=32, vertical_kernel_size=(3, 5),
                                    horizontal_kernel_size=(1, 3)),
    # Sized like the paper's PixelCNNs, for GPUs.
    "mnist_gpu": DecoderConfig(num_layers=12, filters=64, vertical_kernel_size=(3, 5),
                               horizontal_kernel_size=(1, 3)),
    "color_gpu": DecoderConfig(num_layers=12, filters=128, vertical_kernel_size=(3, 5),
                               horizontal_kernel_size=(1, 3),
                               likelihood="logistic_mixture", num_mixtures=5),
    # For tests: a few filters, 8x8 images.
    "tiny": DecoderConfig(num_layers=2, filters=8),
}


def decoder_preset(name: str, **overrides) -> DecoderConfig:
  """Returns the named decoder preset with fields overridden."""
  if name not in DECODER_PRESETS:
    raise ValueError(f"Unknown decoder preset {name!r}; choose one of {sorted(DECODER_PRESETS)}.")
  return dataclasses.replace(DECODER_PRESETS[name], **overrides)


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
  """The recognition network z = f(x, n) with noise n ~ N(0, noise_std^2 I).

  Attributes:
    filters: channels of the stride-2 5x5 convolutions, in order; () gives a
      fully connected encoder.
    hidden_units: width of each dense layer after them.
    hidden_layers: dense ReLU layers after them (the adversarial autoencoder
      paper's MNIST encoders are fully connected, two layers).
    noise_position: 'hidden' concatenates noise_dim noise values to the
      flattened features; 'input' adds noise to every normalized pixel.
    noise_dim: noise values concatenated ('hidden' only).
    noise_std: standard deviation of the noise; 0 gives a deterministic encoder.
      `mnist_semi`'s 0.5 on the input pixels (at -1 and 1): 1.0 named the
      20-label categories better at step 500 but spoiled the 50-label clusters and
      did not help 100 labels; 0 and 2.0 were worse with 20 labels (RESULTS.md,
      "Round twelve").
    normalize_logits: batch-normalize the categorical head's logits (learnt
      scale, no offset), so that no category can take every image: without it
      the 30-way code of `mnist_cluster` fell onto one category, whatever the
      learning rates (docs/experiment_log.md, "Normalized categorical logits
      (`model.encoder.normalize_logits`)"). With 20 labels, plain logits made
      the code one-hot before the classes separated (RESULTS.md, "The 20-label
      proxy at 500 steps: receptive field and normalized logits").
    normalize_hidden: batch-normalize every hidden layer's pre-activations
      (a candidate remedy of RESULTS.md's "Round three"; off in every preset).
    logit_scale: with `normalize_logits`, None learns one scale per category
      (the presets); a number fixes every normalized logit's scale to it, so
      that the code can turn one-hot only by separating the images, not by
      raising its scales (a candidate remedy of RESULTS.md's "Round five").
    dropout: share of the dense layers' outputs dropped in training, a noise
      the encoder cannot learn to ignore (a candidate remedy of RESULTS.md's
      "Round six"; 0, off, in every preset).
    zero_categorical_head: start the categorical head's kernel at zero
      instead of its random draw (which is still made, so every other weight
      starts as without the option). The paper does not state its
      initialization. A 20-label seed can put a whole class in another class's
      category from the first ten steps, as the random head projects it, and
      keep it (RESULTS.md, "Round thirty-six"); at zero, the first steps'
      gradients draw the categories instead, but the first of them is the
      reconstruction phase's full-size Adam step along a random decoder's
      gradient: with 20 labels its clusters were worse on all four seeds tried
      at step 500 ("Round thirty-six"). Off in every preset.
  """
  filters: Tuple[int, ...] = (32, 64)
  hidden_units: int = 512
  hidden_layers: int = 1
  noise_position: NoisePosition = "hidden"
  noise_dim: int = 16
  noise_std: float = 1.0
  normalize_logits: bool = False
  normalize_hidden: bool = False
  logit_scale: Optional[float] = None
  dropout: float = 0.0
  zero_categorical_head: bool = False


@dataclasses.dataclass(frozen=True)
class PriorConfig:
  """The prior p(z) that the adversarial phases impose on the aggregated code.

  Attributes:
    kind: 'gaussian' (N(0, I) of dimension `dim`), 'categorical' (uniform
      one-hot over `categories`), 'gaussian_categorical' (both, independent),
      or 'mixture_of_gaussians' (`categories` Gaussians of scale
      `mixture_scale` on a circle or simplex of radius `mixture_radius`, `dim`
      dimensions).
  """
  kind: PriorKind = "categorical"
  dim: int = 0
  categories: int = 10
  mixture_radius: float = 2.0
  mixture_scale: float = 0.5


@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig:
  """MLP on the code, one per prior component: hidden ReLU layers, one logit.

  Attributes:
    hidden_units: widths of the hidden layers. 2 x 1000, the AAE paper's, named
      the 20-label categories better than 2 x 256 or 2 x 2000 (RESULTS.md,
      "Round twenty-eight").
    batch_mean: also show it each batch's mean code, so that it sees how the
      batch uses the categories (opt-in, not in the paper; RESULTS.md "Round
      three").
    input_noise_std: standard deviation of Gaussian noise added to the prior
      samples and to the data codes it sees in training (instance noise, opt-in,
      not in the paper; 0: none). It blurs the difference between a one-hot
      sample and a nearly one-hot softmax, so the game rewards the codes'
      spread over the categories more than their sharpness. At 0.3 the 20-label
      code stayed softer and separated the classes worse on four seeds of five
      (RESULTS.md, "Round twenty-five").
  """
  hidden_units: Tuple[int, ...] = (1000, 1000)
  batch_mean: bool = False
  input_noise_std: float = 0.0


@dataclasses.dataclass(frozen=True)
class PhaseConfig:
  """Learning rates (Adam) and loss weights of the training phases.

  The generator's rate matches the reconstruction's: at 1e-4 the encoder's
  adversarial step was drowned by the other phases' steps on the same weights
  and the discriminator won; at 1e-3 the game balanced (bench/RESULTS.md,
  "First MNIST-100 runs (`launch/main.py`, the `mnist_semi` preset)").
  The window is narrow: at 3e-4 the discriminator won the unsupervised
  game, at 3e-3 the 20-label code committed worse, and a discriminator at
  1e-3 clustered no better over five seeds (RESULTS.md, "The shared parts on
  a 3000-step AAE proxy" and "Early diagnosis: when the 20-label code commits").

  Each phase has its own Adam, whose step does not depend on the scale of
  the gradient (once it is well above Adam's epsilon): `generator_weight`
  and `supervised_weight` therefore change almost nothing, and a phase's
  learning rate is what sets how far it moves the shared encoder.

  `adversarial_warmup_steps` (not in the paper; 0 keeps the paper's joint
  training) ramps the discriminator's and the generator's learning rates
  linearly from 0 over the first that many steps, so that reconstruction and
  labels shape the code before the prior's pressure makes it one-hot. On the
  20-label proxy it separated the classes worse (RESULTS.md, "Early diagnosis:
  when the 20-label code commits"): it stays off in every preset.

  `supervised_lead_steps` (not in the paper; 0 keeps its joint training)
  holds every phase's learning rate but the supervised one at 0 over the
  first that many steps, so that the labels, not the first steps along a
  random decoder's gradient, draw the categories (RESULTS.md, "Round
  thirty-six": a swap of whole classes is there by step 10). The held
  phases still run, so their Adam moments are warm when the lead ends. With
  20 labels, 100 such steps were no remedy over seven seeds, and the labels
  alone drew a seed's swap ("Round thirty-seven"): it stays off everywhere.

  `supervised_warmup_steps` (not in the paper; 0 keeps its constant rates)
  ramps the supervised phase's learning rate linearly from 0 over the first
  that many steps, the converse of the lead: the labels act slowly at first,
  so that no single labelled image draws the categories before
  reconstruction and the game shape the code (RESULTS.md, "Round
  thirty-eight": one atypical labelled 9 of fifty splits the 4s and 9s by
  step 100). Over 300 steps it was far worse on every setup tried: the code
  commits without the labels, and they then fit their own images as
  exceptions instead of naming the categories ("Round thirty-nine"). It is
  off in every preset.

  `decoder_lead_steps` (not in the paper; 0 keeps its joint training) lets
  only the reconstruction phase learn over the first that many steps, and
  the decoder sees each image there with its batch's mean code, not its own:
  no image's information reaches the decoder through the code, and the
  encoder does not move. The decoder so learns to draw the digits,
  slant included, before the code can carry anything, so that the code need
  not carry what the decoder can draw (RESULTS.md, "Round forty-four": with
  few labels our code commits by step 100, while the decoder is still
  untrained, to categories cut by the digits' slant). The held phases still
  run at a rate of 0, as in the supervised lead, and the reconstruction
  optimizer sees the encoder's gradient under its own code but the encoder's
  weights are put back after each step, so that every Adam moment is warm
  when the lead ends (`PixelGANAutoencoder._decoder_lead_reconstruction_phase`).
  With 20 labels, 200 such steps were worse on every seed of five: after the
  lead the code commits within 100 steps and the labels cannot name it; and
  without labels the code then carries more of the slant, not less ("Round
  forty-four"). It is off in every preset.

  `adversarial_optimizer='sgd'` trains the discriminator and the generator
  with SGD and momentum `sgd_momentum` instead of Adam, as the adversarial
  autoencoder paper did: an SGD step shrinks with its gradient, so a softmax
  code that saturates stops being pushed towards one-hot, where Adam's
  scale-free step keeps pushing it. SGD's rates are on another scale than
  Adam's. On the AAE proxy of the 30-cluster row no rate worked: 1e-1 and
  1e-2 diverged within 60 steps, and at 1e-3 the generator lost the game (the
  code stayed soft; RESULTS.md, "Round two on the proxies"). Adam stays the
  default.

  `supervised_variables='head'` (not in the paper, which trains the whole
  q(y|x): 'encoder') lets the labels train only the categorical head (its
  dense layer, and the logits' normalization scale), so that a label can name
  a category only through the features that reconstruction and the game
  shaped, not carve its few labelled images out of their clusters.
  `supervised_max_shift` (not in the paper, which has no augmentation; 0
  keeps the protocol) translates each labelled image by a random whole
  number of pixels, up to that many in each direction, before the supervised
  phase sees it. Both are candidate remedies of RESULTS.md's "Round nine";
  a shift of 1 is the one measured to help 20 labels without hurting 50
  ("Round eleven"). `supervised_max_rotation` (not in the paper; 0 keeps
  the protocol) turns each labelled image about its centre by a random angle
  of up to that many degrees either way, before the shift: one labelled 1
  that leans far over drew seed 4's 20-label 1/6 swap (RESULTS.md, "Round
  thirty-nine"), and a turned copy of it covers the upright 1s too.
  `supervised_noise_std` (not in the paper, whose encoder
  has one noise level; None keeps it) is the encoder's noise level in the
  supervised phase alone: a noise of 1.0 in every phase named the 20-label
  categories better and made the 50-label clusters less pure ("Round
  twelve"), and this level tests whether the two effects come from
  different phases ("Round fourteen"). `adversarial_noise_std` (not in the
  paper either; None keeps the encoder's level) is the level in the game
  alone (the discriminator's data codes and the generator's step): with
  both levels set, the noise outside the supervised phase is parted into
  that of reconstruction and that of the game ("Round fifteen").

  `labeled_reconstruction_weight` (not in the paper, whose reconstruction
  phase sees only the unlabelled batch; 0 keeps it) adds to the reconstruction
  loss that weight times the mean NLL of the labelled batch decoded from its
  true labels as one-hot categories (its other code components from the
  encoder), as the generative semi-supervised models do with observed labels.
  The decoder then learns what each category looks like from the labels, and
  an unlabelled image whose code names the wrong category reconstructs worse,
  so the conditioning path's gradient pulls its code towards its class. At 1
  it put the 20-label map right on two seeds of five by step 300 (RESULTS.md,
  "Round twenty-five"), the same two on another machine; 0.3 did nearly as
  much and 3 less ("Round twenty-seven", "Round twenty-eight").
  `labeled_reconstruction_code` is the code the labelled batch is decoded
  from: 'labels' (the one-hot labels, as above) or 'encoder' (the encoder's
  own code, as for the unlabelled batch), the control that
  keeps the extra images and drops the one-hot codes. It did as well as
  'labels' on 20 and 50 labels: the supervised phase makes the encoder's code
  right on the labelled images, so what repairs a map is that the decoder
  sees them with their right category ("Round twenty-six").

  `adversarial_batch_fraction` (not in the paper, whose phases share one
  batch; 1 keeps it) gives the discriminator and the generator phases only
  the first that fraction of each replica's unlabelled batch, which must make
  a whole number of images. With `data.batch_size` doubled and a fraction of
  0.5, reconstruction sees twice the images while the game sees as many as
  before: the control that tells whether the labelled reconstruction helps
  through the images it adds or through reconstructing more of any images.
  It repaired no map with 20 or 50 labels (RESULTS.md, "Round twenty-seven").
  """
  reconstruction_learning_rate: float = 1e-3
  discriminator_learning_rate: float = 1e-4
  generator_learning_rate: float = 1e-3
  supervised_learning_rate: float = 1e-3
  adam_beta_1: float = 0.5
  generator_weight: float = 1.0
  supervised_weight: float = 1.0
  adversarial_warmup_steps: int = 0
  supervised_lead_steps: int = 0
  supervised_warmup_steps: int = 0
  decoder_lead_steps: int = 0
  adversarial_optimizer: AdversarialOptimizer = "adam"
  sgd_momentum: float = 0.9
  supervised_variables: SupervisedVariables = "encoder"
  supervised_max_shift: int = 0
  supervised_max_rotation: float = 0.0
  supervised_noise_std: Optional[float] = None
  adversarial_noise_std: Optional[float] = None
  labeled_reconstruction_weight: float = 0.0
  labeled_reconstruction_code: LabeledReconstructionCode = "labels"
  adversarial_batch_fraction: float = 1.0


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """A PixelGAN autoencoder or one of the paper's baselines (Figure 2).

  Attributes:
    kind: 'pixelgan'; 'pixelcnn' (the decoder alone, no code); 'aae' (an
      adversarial autoencoder: deterministic encoder, so `encoder.noise_std`
      must be 0, and a factorized, non-autoregressive decoder).
    image_shape: (height, width, channels); None: the data's, filled in by
      `train.resolve`, which refuses a value that contradicts the data.
    num_classes: classes of the labels for semi-supervised training (equal to
      the prior's categories); 0 for unsupervised training. None: the data's
      classes when it has labels (and the model a code), else 0; filled in by
      `train.resolve`, which refuses a value that contradicts that.
  """
  kind: ModelKind = "pixelgan"
  image_shape: Optional[Tuple[int, int, int]] = None
  num_classes: Optional[int] = None
  encoder: EncoderConfig = EncoderConfig()
  decoder: DecoderConfig = DecoderConfig(conditioning="location_invariant")
  prior: PriorConfig = PriorConfig()
  discriminator: DiscriminatorConfig = DiscriminatorConfig()
  phases: PhaseConfig = PhaseConfig()



@dataclasses.dataclass(frozen=True)
class DataConfig:
  """Where the images come from and how they are batched.

  Attributes:
    dataset: a TFDS name from `DATASETS`.
    data_dir: the TFDS data directory (None: TFDS's default).
    labels: labelled training examples, class-balanced and seeded; 0 for
      unsupervised training.
    validation_size: training images kept aside for validation.
    batch_size: unlabelled images per step.
    labeled_batch_size: labelled images per step (drawn with replacement).
    binarize: dynamically binarize pixels; None: exactly when the decoder's
      likelihood is Bernoulli (which needs binarized pixels). Filled in by
      `train.resolve`; a value that contradicts the likelihood is refused.
    seed: seed of the labelled subset, shuffling and binarization (and, in
      `train.build_model`, of the weights' initialization).
    labels_seed: seed of the labelled subset alone; None: `seed`. Setting it
      parts which images are labelled from the rest of what a seed draws
      (the weights, the order of the batches), so that a seed's fate can be
      traced to its labelled images or to its training (RESULTS.md, "Round
      eighteen").
    labeled_indices: the labelled images named by their positions in the
      training images (the train split before the validation images are set
      aside), `labels` of them; None: the class-balanced draw of
      `labels_seed`. Names a subset that another run or implementation used,
      or a drawn one with one image exchanged, so that a seed's fate can be
      traced to one labelled image (RESULTS.md, "Round thirty-eight").
      Refused beside `labels_seed`, which it would override.
    max_train_examples: use only this many training images (smoke tests).
    deskew: shear every image (training, labelled, validation and test) so
      that its ink stands upright (`pixelgan_tf.data.deskew`). Not in the
      paper's protocol: it changes the data, so errors and likelihoods are
      not comparable with Table 1. It tests whether the code's categories
      cut the classes by their slant (RESULTS.md, "Round forty-one"). A
      model trained so expects deskewed images: `pixelgan_tf.data.deskew.deskew`
      makes them, and the exported SavedModel's `prepare` signature does it
      for the images it is given.
  """
  dataset: Dataset = "mnist"
  data_dir: Optional[str] = None
  labels: int = 100
  validation_size: int = 10000
  batch_size: int = 100
  labeled_batch_size: int = 100
  binarize: Optional[bool] = None
  seed: int = 0
  labels_seed: Optional[int] = None
  labeled_indices: Optional[Tuple[int, ...]] = None
  max_train_examples: Optional[int] = None
  deskew: bool = False


MODEL_PRESETS = {
    # Semi-supervised MNIST on a CPU: one category per class (the data's ten
    # classes, filled in by `train.resolve`). Noise on the encoder's input
    # regularizes the classifier that 100 labels train, and normalized logits
    # speed it up (docs/experiment_log.md, "What we tried" and "Normalized
    # categorical logits (`model.encoder.normalize_logits`)").
    "mnist_semi": ModelConfig(encoder=EncoderConfig(
        noise_position="input", noise_std=0.5, normalize_logits=True)),
    # Unsupervised clustering: 30 categories, no labels. Without normalized
    # logits the code fell onto one category. mnist_cpu_hour's input noise and
    # wider kernels alone were tried and not adopted: within the seeds' spread
    # (docs/experiment_log.md, "Unsupervised: what the semi-supervised findings
    # do to the clusters"). The deep decoder (8 blocks of wide kernels) gave
    # purer clusters than mnist_cpu's 4 at equal steps on three seeds of three
    # (RESULTS.md, "Round seven").
    "mnist_cluster": ModelConfig(
        prior=PriorConfig(categories=30), encoder=EncoderConfig(normalize_logits=True),
        decoder=decoder_preset("mnist_cpu_deep", conditioning="location_invariant")),
    # Global / local decomposition: Gaussian code, location-dependent bias.
    "mnist_gaussian": ModelConfig(
        prior=PriorConfig(kind="gaussian", dim=8),
        decoder=DecoderConfig(conditioning="location_dependent")),
    # For tests: 8x8 images, small everything.
    "tiny": ModelConfig(
        image_shape=(8, 8, 1),
        encoder=EncoderConfig(filters=(8,), hidden_units=16, noise_dim=4),
        decoder=DecoderConfig(num_layers=2, filters=8, conditioning="location_invariant"),
        prior=PriorConfig(categories=3),
        discriminator=DiscriminatorConfig(hidden_units=(16, 16))),
}


def model_preset(name: str, **overrides) -> ModelConfig:
  """Returns the named model preset with top-level fields overridden."""
  if name not in MODEL_PRESETS:
    raise ValueError(f"Unknown model preset {name!r}; choose one of {sorted(MODEL_PRESETS)}.")
  return dataclasses.replace(MODEL_PRESETS[name], **overrides)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """How long and how a run trains.

  Attributes:
    steps: total training steps (one step: every phase on one batch).
    eval_every: steps between evaluations, checkpoints and validation summaries.
    log_every: steps between training scalars (losses, learning rates, steps
      per second) in TensorBoard.
    keep_checkpoints: checkpoints kept in the run directory.
    jit_compile: 'auto' (Keras' choice: off on CPU), 'on' or 'off'.
    mixed_precision: 'off', 'float16' (with loss scaling) or 'bfloat16'.
    samples_per_row: images per row of the sample grids.
    sample_every: evaluations between sample grids (sampling is slow on CPU).
    time_budget_s: stop once this many seconds were spent in training steps
      (evaluations excluded; summed over resumes), even before `steps`; None
      trains for `steps`.
    decay_fraction: over this final fraction of the run (of `steps`, or of
      `time_budget_s` when that ends it first) every phase's learning rate
      falls linearly to 0; 0 keeps the rates constant.
    steps_per_execution: training steps per call of the compiled step (Keras'
      `steps_per_execution`): fewer host round trips on a GPU.
    strategy: 'auto' (every local GPU when there are several), 'one_device',
      'mirrored' (every local GPU, or `devices`) or 'multi_worker' (the cluster
      of TF_CONFIG or SLURM). Batch sizes are global: each of the N replicas
      takes 1/N of them; the learning rates stay as configured.
    devices: comma-separated devices of 'one_device' or 'mirrored' (e.g.
      '/gpu:0,/gpu:1'; '/cpu:0,/cpu:1' splits the CPU); empty: the default ones.
    collective_timeout_s: 'multi_worker': seconds an all-reduce waits for the
      other workers before the job stops with an error.
    slurm_port_base: 'multi_worker' under SLURM: the port of a node's first task.
    diagnose_every: steps between measurements of the categorical code
      (`pixelgan_tf.diagnostics`, written to diagnostics.jsonl); 0: none.
    deterministic: make a seed repeat bit for bit (`pixelgan_tf.determinism`):
      one intra-op and one inter-op thread, and TensorFlow's deterministic
      kernels, and the training step as written rather than as TensorFlow's
      Grappler rewrites it (that graph's op order races: RESULTS.md, finding
      50). On a CPU a run then uses one core, so run one per core.
    warm_start: a run directory (or checkpoint) whose latest checkpoint a new
      run starts from: every weight, optimizer state and the step
      (`pixelgan_tf.warm_start`), so that a knob without weights, such as one
      of `model.phases`, can change in the middle of a run. The networks must
      be the same. A run directory that has checkpoints of its own resumes
      from them; its config then keeps the warm start it began with. Empty:
      start from scratch.
  """
  steps: int = 20000
  eval_every: int = 1000
  log_every: int = 100
  keep_checkpoints: int = 3
  jit_compile: JitCompile = "auto"
  mixed_precision: MixedPrecision = "off"
  samples_per_row: int = 10
  sample_every: int = 4
  time_budget_s: Optional[float] = None
  decay_fraction: float = 0.0
  steps_per_execution: int = 1
  strategy: Strategy = "auto"
  devices: str = ""
  collective_timeout_s: float = 300.0
  slurm_port_base: int = 8888
  diagnose_every: int = 0
  deterministic: bool = False
  warm_start: str = ""


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
  """One run: data, model and training (Model Garden's experiment layout)."""
  data: DataConfig = DataConfig()
  model: ModelConfig = ModelConfig()
  train: TrainConfig = TrainConfig()


_TINY_MODEL = ModelConfig(
    encoder=EncoderConfig(filters=(8,), hidden_units=32, noise_dim=4),
    decoder=DecoderConfig(num_layers=1, filters=8, conditioning="location_invariant"),
    discriminator=DiscriminatorConfig(hidden_units=(32, 32)))

_GPU_ENCODER = EncoderConfig(filters=(64, 128, 256), hidden_units=1000, normalize_logits=True)

# Ten steps per compiled call: the same weights as one (tests/step_settings_test.py), fewer
# host round trips between steps (bench/RESULTS.md). A time budget and a learning-rate decay
# then act every ten steps; mnist_cpu_hour and tiny keep one step per call.
_TRAIN = TrainConfig(steps_per_execution=10)

EXPERIMENTS = {
    # MNIST, semi-supervised (the paper's Table 1 protocol; --labels picks 20/50/100).
    # Its results: docs/experiment_log.md, "MNIST-100, 20k steps
    # (`--preset=mnist_semi`, Table 1's protocol)".
    "mnist_semi": ExperimentConfig(model=MODEL_PRESETS["mnist_semi"], train=_TRAIN),
    # MNIST, unsupervised clustering into 30 categories.
    "mnist_cluster": ExperimentConfig(data=DataConfig(labels=0),
                                      model=MODEL_PRESETS["mnist_cluster"], train=_TRAIN),
    # MNIST, Gaussian prior: the global / local decomposition.
    "mnist_gaussian": ExperimentConfig(data=DataConfig(labels=0),
                                       model=MODEL_PRESETS["mnist_gaussian"], train=_TRAIN),
    # MNIST-100 with one hour of training steps on 2 CPU cores. The rates decay
    # over its last 40 %, which lowered the final error, and the decoder's wider
    # kernels help most early on (docs/experiment_log.md, "MNIST-100 in one CPU
    # hour (`--preset=mnist_cpu_hour`)").
    "mnist_cpu_hour": ExperimentConfig(
        model=dataclasses.replace(
            MODEL_PRESETS["mnist_semi"],
            decoder=decoder_preset("mnist_cpu_wide", conditioning="location_invariant")),
        train=TrainConfig(steps=1_000_000, time_budget_s=3600.0, decay_fraction=0.4,
                          sample_every=20)),
    # Sized like the paper's networks, for GPUs.
    "mnist_semi_gpu": ExperimentConfig(
        model=dataclasses.replace(
            MODEL_PRESETS["mnist_semi"], encoder=_GPU_ENCODER,
            decoder=decoder_preset("mnist_gpu", conditioning="location_invariant")),
        train=TrainConfig(steps=100_000, eval_every=5000, sample_every=4,
                          steps_per_execution=10)),
    "svhn_semi": ExperimentConfig(
        data=DataConfig(dataset="svhn_cropped", labels=1000),
        model=ModelConfig(encoder=_GPU_ENCODER,
                          decoder=decoder_preset("color_gpu", conditioning="location_invariant")),
        train=TrainConfig(steps=100_000, eval_every=5000, sample_every=4,
                          steps_per_execution=10)),
    # smallNORB's 96x96 left-camera images, area-resized to 32x32; 5 classes.
    "norb_semi": ExperimentConfig(
        data=DataConfig(dataset="smallnorb", labels=1000, validation_size=4300),
        model=ModelConfig(encoder=_GPU_ENCODER, prior=PriorConfig(categories=5),
                          decoder=decoder_preset("mnist_gpu", likelihood="logistic_mixture",
                                                 conditioning="location_invariant")),
        train=TrainConfig(steps=100_000, eval_every=5000, sample_every=4,
                          steps_per_execution=10)),
    # The baselines of Figure 2.
    "mnist_pixelcnn": ExperimentConfig(data=DataConfig(labels=0),
                                       model=ModelConfig(kind="pixelcnn"), train=_TRAIN),
    # The adversarial autoencoder has mnist_gaussian's code, so the two compare.
    # Its encoder is deterministic, as in the AAE paper.
    "mnist_aae": ExperimentConfig(data=DataConfig(labels=0),
                                  model=ModelConfig(kind="aae",
                                                    encoder=EncoderConfig(noise_std=0.0),
                                                    prior=PriorConfig(kind="gaussian", dim=8)),
                                  train=_TRAIN),
    # A smoke test on a few hundred real images: seconds on a CPU.
    "tiny": ExperimentConfig(
        data=DataConfig(labels=20, validation_size=100, batch_size=20, labeled_batch_size=20,
                        max_train_examples=400),
        model=_TINY_MODEL,
        train=TrainConfig(steps=20, eval_every=10, log_every=5, samples_per_row=2,
                          sample_every=1)),
}


def experiment(name: str) -> ExperimentConfig:
  """Returns the named experiment preset."""
  if name not in EXPERIMENTS:
    raise ValueError(f"Unknown experiment preset {name!r}; choose one of {sorted(EXPERIMENTS)}.")
  return EXPERIMENTS[name]


def to_dict(config) -> dict:
  """A JSON-ready dict of a (nested) config."""
  return dataclasses.asdict(config)


def from_dict(cls, values: dict):
  """Rebuilds a (nested) config dataclass from `to_dict`'s output."""
  types = typing.get_type_hints(cls)
  kwargs = {}
  for field in dataclasses.fields(cls):
    if field.name not in values:
      continue
    value = values[field.name]
    if dataclasses.is_dataclass(types[field.name]):
      value = from_dict(types[field.name], value)
    elif isinstance(value, list):   # JSON has no tuples
      value = tuple(value)
    kwargs[field.name] = value
  return cls(**kwargs)
