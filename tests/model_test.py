"""Tests of PixelGANAutoencoder: phases, adversarial matching, supervision, XLA, checkpoints."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import augment, losses, random
from pixelgan_tf import model as model_module
from pixelgan_tf import (DecoderConfig, DiscriminatorConfig, EncoderConfig,
                         FactorizedDecoder, PhaseConfig, PixelGANAutoencoder, PriorConfig,
                         model_preset)
from pixelgan_tf.encoder import CATEGORICAL_LOGITS
from tests import trained_variables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(**overrides):
  return dataclasses.replace(model_preset("tiny"), **overrides)


def _model(config=None, jit_compile=False, **compile_kwargs):
  model = PixelGANAutoencoder(config or _config())
  model.compile(jit_compile=jit_compile, **compile_kwargs)
  return model


def _images(batch=16, seed=0, size=8):
  return tf.cast(tf.random.stateless_uniform([batch, size, size, 1], seed=[seed, 1]) < 0.3,
                 tf.float32)


def _changed(model, before):
  return trained_variables.changed_paths(model.trainable_variables, before)


def _paths(variables):
  return {v.path for v in variables}


@pytest.mark.parametrize("phase", ["reconstruction", "discriminator", "generator", "supervised"])
def test_each_phase_changes_only_its_variables(phase):
  model = _model(_config(num_classes=3))
  images, labels = _images(), tf.constant([0, 1, 2, 0] * 4)
  before = trained_variables.snapshot(model.trainable_variables)
  run = {"reconstruction": lambda: model.reconstruction_phase(images),
         "discriminator": lambda: model.discriminator_phase(images),
         "generator": lambda: model.generator_phase(images),
         "supervised": lambda: model.supervised_phase(images, labels)}[phase]
  run()
  expected = {
      "reconstruction": _paths(model.encoder.trainable_variables)
                        | _paths(model.decoder.trainable_variables),
      "discriminator": _paths(model.discriminators["categorical"].trainable_variables),
      "generator": _paths(model.encoder.trainable_variables),
      "supervised": _paths(model.encoder.trainable_variables),
  }[phase]
  assert _changed(model, before) == expected


def test_the_batch_mean_code_gives_every_image_the_batch_s_mean():
  code = tf.constant([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
  np.testing.assert_allclose(PixelGANAutoencoder.batch_mean_code(code), [[0.5, 0.25, 0.25]] * 2)


def test_the_decoder_lead_keeps_the_encoder_still_but_its_adam_moments_warm():
  model = _model(_config(phases=dataclasses.replace(_config().phases, decoder_lead_steps=10)))
  optimizer = model.phase_optimizers["reconstruction"]
  before = trained_variables.snapshot(model.trainable_variables)
  model.reconstruction_phase(_images())
  assert _changed(model, before) == _paths(model.decoder.trainable_variables)
  # Adam's first moments of the encoder's weights hold its gradient: not all zero.
  encoder = _paths(model.encoder.trainable_variables)
  moments = [m for m in optimizer.variables
             if any(m.path.endswith(p.replace("/", "_") + "_momentum") for p in encoder)]
  assert len(moments) == len(encoder)
  assert all(np.any(m.numpy() != 0) for m in moments)
  model.optimizer.iterations.assign(10)
  model.reconstruction_phase(_images())
  assert _changed(model, before) == encoder | _paths(model.decoder.trainable_variables)


def _adversarial_model(prior):
  """A tiny model whose discriminator is strong enough to shape its code."""
  config = _config(
      prior=prior,
      encoder=EncoderConfig(filters=(8,), hidden_units=64, noise_dim=4),
      discriminator=DiscriminatorConfig(hidden_units=(64, 64)),
      phases=dataclasses.replace(_config().phases, discriminator_learning_rate=1e-3,
                                 generator_learning_rate=1e-3))
  return _model(config)


def _late_mean_distance(model, images, distance, steps=1000):
  """Runs discriminator + generator phases; returns the mean distance over
  the last third of the steps (a GAN oscillates, an end point is noisy)."""
  step = tf.function(lambda x: (model.discriminator_phase(x), model.generator_phase(x)))
  late = []
  for i in range(steps):
    # The phases draw their noise and prior samples from the step counter, which only
    # the reconstruction phase advances: advance it, as `train_step` does.
    model.optimizer.iterations.assign_add(1)
    step(tf.random.shuffle(images, seed=i))
    if i >= 2 * steps // 3 and i % 10 == 9:
      late.append(distance())
  return float(np.mean(late))


def test_adversarial_phases_move_gaussian_code_moments_to_the_prior():
  model = _adversarial_model(PriorConfig(kind="gaussian", dim=2))
  images = _images(batch=256, seed=3)

  def distance():
    z = model.encoder_outputs(images, seed=tf.constant([5, 5]))["gaussian"].numpy()
    return np.abs(z.mean(0)).sum() + np.abs(z.std(0) - 1.0).sum()

  before = distance()
  assert before > 1.0       # freshly initialized codes are far too narrow
  assert _late_mean_distance(model, images, distance) < 0.3 * before


def test_adversarial_phases_move_categorical_code_to_the_prior():
  model = _adversarial_model(PriorConfig(categories=3))
  images, _ = _separable(256, seed=1)

  def distance():
    """KL(marginal || uniform) + mean entropy of q(y|x): 0 only for the prior's
    confident one-hot codes used equally often."""
    q = model.classify(images).numpy()
    marginal = q.mean(0)
    return float(np.sum(marginal * np.log(marginal * 3))
                 - np.mean(np.sum(q * np.log(q + 1e-12), axis=-1)))

  before = distance()
  assert before > 1.0       # fresh codes are soft, near-uniform per image
  assert _late_mean_distance(model, images, distance) < 0.3 * before


def _separable(batch, seed):
  """Three classes of 8x8 images: bright top, bright bottom, bright left half."""
  labels = tf.random.stateless_uniform([batch], seed=[seed, 2], maxval=3, dtype=tf.int32)
  rows = tf.range(8)[:, None] + tf.zeros([8, 8], tf.int32)
  cols = tf.transpose(rows)
  masks = tf.stack([rows < 4, rows >= 4, cols < 4])
  probability = tf.where(tf.gather(masks, labels), 0.8, 0.1)[..., None]
  noise = tf.random.stateless_uniform([batch, 8, 8, 1], seed=[seed, 3])
  return tf.cast(noise < probability, tf.float32), labels


def test_supervised_phase_learns_a_separable_labelling():
  model = _model(_config(num_classes=3))
  images, labels = _separable(64, seed=1)
  test_images, test_labels = _separable(200, seed=2)
  step = tf.function(model.supervised_phase)
  error = lambda: float(np.mean(np.argmax(model.classify(test_images), -1) != test_labels))
  before = error()
  for _ in range(60):
    step(images, labels)
  assert before > 0.25
  assert error() < 0.05


def _semi_config(normalize_logits=False):
  return _config(num_classes=3, encoder=dataclasses.replace(
      _config().encoder, normalize_logits=normalize_logits))


def _train_once(jit_compile, run_eagerly=False, normalize_logits=False):
  keras.utils.set_random_seed(7)
  model = _model(_semi_config(normalize_logits), jit_compile=jit_compile,
                 run_eagerly=run_eagerly)
  images, labels = _images(seed=5), tf.constant([0, 1, 2, 0] * 4)
  batch = {"images": images, "labeled_images": images, "labels": labels}
  metrics = model.train_on_batch(batch, return_dict=True)
  return model, metrics


@pytest.mark.parametrize("normalize_logits", [False, True])
def test_xla_and_eager_train_steps_agree(normalize_logits):
  eager_model, eager = _train_once(jit_compile=False, run_eagerly=True,
                                   normalize_logits=normalize_logits)
  xla_model, xla = _train_once(jit_compile=True, normalize_logits=normalize_logits)
  assert set(eager) == {"nll", "bits_per_dim", "discriminator_loss", "discriminator_accuracy",
                        "generator_loss", "supervised_loss", "supervised_accuracy"}
  for name in eager:
    np.testing.assert_allclose(xla[name], eager[name], rtol=1e-4, atol=1e-5, err_msg=name)
  for a, b in zip(eager_model.trainable_variables, xla_model.trainable_variables):
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5, err_msg=a.path)


@pytest.mark.parametrize("normalize_logits", [False, True])
def test_checkpoint_restore_gives_identical_outputs(tmp_path, normalize_logits):
  model, _ = _train_once(jit_compile=False, normalize_logits=normalize_logits)
  images = _images(seed=9)
  path = model.checkpoint().write(str(tmp_path / "ckpt"))
  keras.utils.set_random_seed(123)       # different initial weights
  fresh = _model(_semi_config(normalize_logits))
  assert not np.allclose(fresh(images).numpy(), model(images).numpy())
  fresh.checkpoint().read(path).assert_consumed()
  for a, b in zip(model.variables, fresh.variables):
    np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
  np.testing.assert_array_equal(fresh(images).numpy(), model(images).numpy())
  np.testing.assert_array_equal(fresh.classify(images).numpy(), model.classify(images).numpy())
  assert int(fresh.optimizer.iterations) == int(model.optimizer.iterations) == 1
  for phase, optimizer in model.phase_optimizers.items():
    assert int(fresh.phase_optimizers[phase].iterations) == int(optimizer.iterations)


def test_a_zero_categorical_head_starts_at_zero_and_a_restore_overwrites_it(tmp_path):
  trained, _ = _train_once(jit_compile=False)
  path = trained.checkpoint().write(str(tmp_path / "ckpt"))
  config = _semi_config()
  zeroed = _model(dataclasses.replace(config, encoder=dataclasses.replace(
      config.encoder, zero_categorical_head=True)))
  zeroed.build_networks()
  kernel = zeroed.encoder.heads["categorical"].kernel
  np.testing.assert_array_equal(kernel.numpy(), 0.0)
  np.testing.assert_allclose(zeroed.encoder_outputs(_images())["categorical"], 1 / 3,
                             atol=1e-6)
  # A resumed or warm-started run gets its checkpoint's head, not zeros.
  zeroed.checkpoint().read(path).assert_consumed()
  np.testing.assert_array_equal(kernel.numpy(),
                                trained.encoder.heads["categorical"].kernel.numpy())
  assert np.abs(kernel.numpy()).max() > 0


def test_checkpoint_of_another_configuration_does_not_restore(tmp_path):
  model, _ = _train_once(jit_compile=False)
  path = model.checkpoint().write(str(tmp_path / "ckpt"))
  other = _model(_config(num_classes=3, decoder=DecoderConfig(
      num_layers=3, filters=8, conditioning="location_invariant")))
  with pytest.raises((AssertionError, ValueError)):   # unmatched names or shapes
    other.checkpoint().read(path).assert_consumed()


def test_evaluate_reports_nll_and_error():
  model = _model(_config(num_classes=3))
  images, labels = _separable(32, seed=6)
  results = model.evaluate(tf.data.Dataset.from_tensor_slices(
      {"images": images, "labels": labels}).batch(16), return_dict=True, verbose=0)
  assert set(results) == {"nll", "bits_per_dim", "error"}
  assert results["nll"] > 0 and 0 <= results["error"] <= 1
  np.testing.assert_allclose(results["bits_per_dim"], results["nll"] / (64 * np.log(2)), rtol=1e-5)


def test_fit_on_a_dataset_trains_every_phase():
  model = _model(_config(num_classes=3))
  images, labels = _separable(64, seed=7)
  data = tf.data.Dataset.from_tensor_slices(
      {"images": images, "labeled_images": images, "labels": labels}).batch(16)
  history = model.fit(data, epochs=2, verbose=0, shuffle=False).history
  assert np.isfinite(history["nll"]).all()
  assert history["nll"][-1] < history["nll"][0]
  assert int(model.phase_optimizers["supervised"].iterations) == 8


def test_only_a_categorical_code_without_classes_is_clustering():
  assert PixelGANAutoencoder(_config()).is_clustering
  assert not PixelGANAutoencoder(_semi_config()).is_clustering
  assert not PixelGANAutoencoder(_config(prior=PriorConfig(kind="gaussian", dim=2))).is_clustering
  assert not PixelGANAutoencoder(_config(kind="pixelcnn")).is_clustering


def test_pixelcnn_baseline_has_no_code():
  model = _model(_config(kind="pixelcnn"))
  assert model.encoder is None and model.discriminators == {}
  assert set(model.phase_optimizers) == {"reconstruction"}
  metrics = model.train_on_batch(_images(), return_dict=True)
  assert set(metrics) == {"nll", "bits_per_dim"}
  assert not model.decoder.is_conditional


def test_aae_baseline_is_deterministic_and_factorized():
  model = _model(_config(kind="aae", encoder=dataclasses.replace(
      model_preset("tiny").encoder, noise_std=0.0)))
  assert isinstance(model.decoder, FactorizedDecoder)
  images = _images()
  a = model.encoder_outputs(images, seed=tf.constant([1, 1]))["categorical"]
  b = model.encoder_outputs(images, seed=tf.constant([2, 2]))["categorical"]
  np.testing.assert_array_equal(a.numpy(), b.numpy())
  assert np.isfinite(model.train_on_batch(images, return_dict=True)["nll"])


def test_aae_with_encoder_noise_is_refused_not_silenced():
  with pytest.raises(ValueError, match=r"model.kind=aae needs model.encoder.noise_std=0, got 1.0"):
    PixelGANAutoencoder(_config(kind="aae"))


@pytest.mark.parametrize("phase", ["reconstruction", "discriminator", "generator", "supervised"])
def test_each_phase_encodes_in_training_mode(phase):
  model = _model(_semi_config(normalize_logits=True))
  norm = model.encoder.logit_norm
  moving = norm.moving_variance.numpy().copy()
  images, labels = _images(), tf.constant([0, 1, 2, 0] * 4)
  {"reconstruction": lambda: model.reconstruction_phase(images),
   "discriminator": lambda: model.discriminator_phase(images),
   "generator": lambda: model.generator_phase(images),
   "supervised": lambda: model.supervised_phase(images, labels)}[phase]()
  # Only a training-mode pass moves the moving statistics.
  assert not np.allclose(norm.moving_variance.numpy(), moving)


def test_training_phases_normalize_logits_with_batch_statistics():
  model = _model(_semi_config(normalize_logits=True))
  norm = model.encoder.logit_norm
  moving = norm.moving_variance.numpy().copy()
  images, labels = _images(), tf.constant([0, 1, 2, 0] * 4)
  model.train_on_batch({"images": images, "labeled_images": images, "labels": labels})
  # The traced train_step's encoder passes ran in training mode.
  assert not np.allclose(norm.moving_variance.numpy(), moving)
  assert "logit_norm/gamma" in "".join(v.path for v in model.phase_variables()["supervised"])
  # Evaluation uses the moving statistics: an image's class does not depend on its batch.
  np.testing.assert_allclose(model.classify(images[:1]), model.classify(images)[:1],
                             rtol=1e-5, atol=1e-6)


def test_encoder_noise_makes_q_z_given_x_stochastic():
  model = _model()
  images = _images()
  a = model.encoder_outputs(images, seed=tf.constant([1, 1]))["categorical"].numpy()
  b = model.encoder_outputs(images, seed=tf.constant([2, 2]))["categorical"].numpy()
  c = model.encoder_outputs(images, seed=tf.constant([1, 1]))["categorical"].numpy()
  assert not np.allclose(a, b)
  np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("normalize_logits", [False, True])
def test_mixed_precision_training_step(normalize_logits):
  keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
  try:
    model = _model(_semi_config(normalize_logits))
    images = _images()
    metrics = model.train_on_batch(
        {"images": images, "labeled_images": images, "labels": tf.constant([0, 1, 2, 0] * 4)},
        return_dict=True)
    assert all(np.isfinite(v) for v in metrics.values())
    assert all(v.dtype == "float32" for v in model.trainable_variables)
  finally:
    keras.mixed_precision.set_dtype_policy("float32")


def test_float16_policy_wraps_optimizers_in_loss_scaling():
  keras.mixed_precision.set_dtype_policy("mixed_float16")
  try:
    model = _model()
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer)
               for o in model.phase_optimizers.values())
  finally:
    keras.mixed_precision.set_dtype_policy("float32")


def test_sgd_adversarial_optimizer_trains_only_the_game_with_sgd():
  phases = PhaseConfig(adversarial_optimizer="sgd", sgd_momentum=0.8,
                       discriminator_learning_rate=0.05, generator_learning_rate=0.02)
  model = _model(_config(phases=phases))
  optimizers = model.phase_optimizers
  assert isinstance(optimizers["reconstruction"], keras.optimizers.Adam)
  for phase, rate in (("discriminator", 0.05), ("generator", 0.02)):
    assert isinstance(optimizers[phase], keras.optimizers.SGD), phase
    assert optimizers[phase].momentum == 0.8
    assert model.base_learning_rates[phase] == pytest.approx(rate)
  before = trained_variables.snapshot(model.trainable_variables)
  model.train_on_batch(_images())
  assert _changed(model, before) >= _paths(model.discriminators["categorical"].trainable_variables)


# Both mirrored runs in one process: its two logical CPUs must be set before TensorFlow
# starts, which this process did long ago.
_MIRRORED_SCRIPT = textwrap.dedent("""
    import dataclasses, json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, numpy as np
    from pixelgan_tf import PixelGANAutoencoder, model_preset
    images = tf.cast(tf.random.stateless_uniform([16, 8, 8, 1], seed=[0, 1]) < 0.3, tf.float32)

    def against_a_single_device():
      config = model_preset("tiny")
      config = dataclasses.replace(config, encoder=dataclasses.replace(config.encoder,
                                                                       noise_std=0.0))
      results = {}
      for name, strategy in [("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])),
                             ("single", tf.distribute.get_strategy())]:
        keras.utils.set_random_seed(3)
        with strategy.scope():
          model = PixelGANAutoencoder(config)
          model.compile(jit_compile=False)
        history = model.fit(tf.data.Dataset.from_tensors(images), epochs=1, verbose=0).history
        results[name] = {"nll": history["nll"][0],
                         "decoder": [v.numpy().ravel().tolist()
                                     for v in model.decoder.trainable_variables]}
      return results

    def normalized_logits():
      config = model_preset("tiny", num_classes=3)
      config = dataclasses.replace(
          config, encoder=dataclasses.replace(config.encoder, normalize_logits=True))
      batch = {"images": images, "labeled_images": images,
               "labels": tf.constant([0, 1, 2, 0] * 4)}
      strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
      with strategy.scope():
        model = PixelGANAutoencoder(config)
        model.compile(jit_compile=False)
      history = model.fit(tf.data.Dataset.from_tensors(batch), epochs=2, verbose=0).history
      return {"nll": history["nll"],
              "moving_variance": model.encoder.logit_norm.moving_variance.numpy().tolist()}

    print(json.dumps({"single_device": against_a_single_device(),
                      "normalized_logits": normalized_logits()}))
""")


@pytest.fixture(scope="module")
def mirrored_runs():
  output = subprocess.run([sys.executable, "-c", _MIRRORED_SCRIPT], capture_output=True,
                          text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert output.returncode == 0, output.stderr[-3000:]
  return json.loads(output.stdout.strip().splitlines()[-1])


def test_mirrored_strategy_matches_a_single_device(mirrored_runs):
  results = mirrored_runs["single_device"]
  np.testing.assert_allclose(results["mirrored"]["nll"], results["single"]["nll"], rtol=1e-5)
  # With a deterministic encoder, the reconstruction phase's summed per-replica
  # gradients equal the single-device gradient: the decoder moves identically.
  for a, b in zip(results["mirrored"]["decoder"], results["single"]["decoder"]):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_mirrored_strategy_trains_normalized_logits(mirrored_runs):
  results = mirrored_runs["normalized_logits"]
  assert all(np.isfinite(results["nll"]))
  # The replicas' updates of the moving statistics reached the variables.
  assert not np.allclose(results["moving_variance"], 1.0)


@pytest.mark.parametrize("overrides,message", [
    ({"prior": PriorConfig(categories=1)}, "at least 2 categories"),
    ({"prior": PriorConfig(kind="gaussian", dim=0)}, "dim >= 1"),
    ({"prior": PriorConfig(kind="gaussian", dim=4), "num_classes": 3}, "needs a categorical code"),
    ({"num_classes": 5}, "one category per class"),
    ({"image_shape": (2, 2, 1)}, "image_shape"),
    ({"image_shape": (8, 8)}, "image_shape"),
    ({"kind": "vae"}, "Unknown model kind"),
    ({"decoder": DecoderConfig(num_layers=2, filters=8)}, "must be conditioned"),
    ({"kind": "pixelcnn", "num_classes": 3}, "num_classes=0"),
    ({"phases": PhaseConfig(sgd_momentum=1.0)}, "sgd_momentum must be in"),
    ({"encoder": EncoderConfig(logit_scale=2.0)}, "set model.encoder.normalize_logits=true"),
    ({"encoder": EncoderConfig(dropout=1.0)}, "dropout must be in"),
    ({"phases": PhaseConfig(adversarial_batch_fraction=0.0)},
     "adversarial_batch_fraction must be in \\(0, 1\\]"),
    ({"phases": PhaseConfig(adversarial_batch_fraction=1.5)},
     "adversarial_batch_fraction must be in \\(0, 1\\]"),
    ({"discriminator": DiscriminatorConfig(input_noise_std=-1.0)},
     "model.discriminator.input_noise_std must be >= 0"),
    ({"num_classes": 3, "phases": PhaseConfig(labeled_reconstruction_weight=-1.0)},
     "labeled_reconstruction_weight must be >= 0"),
    ({"phases": PhaseConfig(labeled_reconstruction_weight=1.0)}, "trains without labels"),
    ({"phases": PhaseConfig(supervised_lead_steps=10)}, "supervised_lead_steps=10 lets only"),
    ({"kind": "pixelcnn", "phases": PhaseConfig(decoder_lead_steps=10)},
     "decoder_lead_steps=10 holds back the code, but model.kind='pixelcnn' has none"),
    ({"num_classes": 3, "phases": PhaseConfig(decoder_lead_steps=10, supervised_lead_steps=10)},
     "each let one phase learn alone at first: set one of them"),
    ({"num_classes": 3,
      "phases": PhaseConfig(decoder_lead_steps=10, labeled_reconstruction_weight=1.0)},
     "decoder_lead_steps=10 hides the code from the decoder"),
    ({"phases": PhaseConfig(supervised_warmup_steps=10)},
     "supervised_warmup_steps=10 ramps the supervised phase's rate, but the model trains without"),
    ({"num_classes": 3, "phases": PhaseConfig(labeled_reconstruction_code="encoder")},
     "has no effect while model.phases.labeled_reconstruction_weight is 0"),
    ({"prior": PriorConfig(kind="gaussian", dim=2),
      "encoder": EncoderConfig(zero_categorical_head=True)}, "has no categorical code"),
    ({"kind": "pixelcnn", "encoder": EncoderConfig(zero_categorical_head=True)},
     "has no encoder"),
])
def test_invalid_configurations(overrides, message):
  with pytest.raises(ValueError, match=message):
    PixelGANAutoencoder(_config(**overrides))


def test_labels_without_num_classes_are_an_error():
  model = _model()
  images = _images()
  with pytest.raises(ValueError, match="num_classes=0"):
    model.train_on_batch({"images": images, "labeled_images": images,
                          "labels": tf.zeros([16], tf.int32)})


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))


def test_the_config_reaches_the_hidden_normalization_and_the_batch_mean_feature():
  config = _config(encoder=dataclasses.replace(_config().encoder, normalize_hidden=True),
                   discriminator=DiscriminatorConfig(hidden_units=(8,), batch_mean=True))
  model = _model(config)
  assert model.encoder.normalize_hidden and model.encoder.hidden_norms
  assert all(d.batch_mean for d in model.discriminators.values())
  values = model.train_step(_images())
  assert all(np.isfinite(float(v)) for v in values.values())


def test_encoder_dropout_acts_inside_the_training_step():
  def first_step_losses(dropout):
    keras.utils.set_random_seed(2)   # the same weights for both rates
    config = _config(encoder=dataclasses.replace(_config().encoder, dropout=dropout))
    model = _model(config)
    assert model.encoder.dropout == dropout
    return {name: float(value) for name, value in model.train_step(_images()).items()}

  plain, dropped = first_step_losses(0.0), first_step_losses(0.5)
  assert all(np.isfinite(value) for value in dropped.values())
  assert plain["nll"] != dropped["nll"]


def test_the_discriminators_input_noise_acts_in_both_adversarial_phases():
  def first_step_losses(input_noise_std):
    keras.utils.set_random_seed(2)   # the same weights for both levels
    config = _config(discriminator=DiscriminatorConfig(hidden_units=(8,),
                                                       input_noise_std=input_noise_std))
    model = _model(config)
    assert all(d.input_noise_std == input_noise_std for d in model.discriminators.values())
    return {name: float(value) for name, value in model.train_step(_images()).items()}

  plain, noisy = first_step_losses(0.0), first_step_losses(0.5)
  assert all(np.isfinite(value) for value in noisy.values())
  # Reconstruction comes first and draws no discriminator noise.
  assert plain["nll"] == noisy["nll"]
  assert plain["discriminator_loss"] != noisy["discriminator_loss"]
  assert plain["generator_loss"] != noisy["generator_loss"]


def _labeled_batch(labels=(0, 1, 2, 0) * 4):
  return {"images": _images(), "labeled_images": _images(seed=1),
          "labels": tf.constant(labels, tf.int32)}


def test_the_labeled_reconstruction_decodes_labelled_images_from_their_labels():
  model = _model(_semi_config())
  batch = _labeled_batch()
  expected = -model.decoder.log_prob(batch["labeled_images"], tf.one_hot(batch["labels"], 3))
  np.testing.assert_allclose(model.labeled_nll(batch["labeled_images"], batch["labels"]),
                             expected, rtol=1e-6)
  # The code is the label's, not the encoder's: another label, another NLL.
  other = model.labeled_nll(batch["labeled_images"], (batch["labels"] + 1) % 3)
  assert np.abs(other.numpy() - expected.numpy()).max() > 1e-4


def test_the_labeled_reconstruction_keeps_the_encoders_other_code_components():
  config = _config(num_classes=3, prior=PriorConfig(kind="gaussian_categorical", dim=2,
                                                    categories=3))
  model = _model(config)
  batch = _labeled_batch()
  images, labels = batch["labeled_images"], batch["labels"]
  with_style = model.labeled_nll(images, labels)
  without_style = -model.decoder.log_prob(
      images, tf.concat([tf.one_hot(labels, 3), tf.zeros([16, 2])], axis=-1))
  assert np.isfinite(with_style.numpy()).all()
  assert np.abs(with_style.numpy() - without_style.numpy()).max() > 1e-4


def test_the_labeled_reconstruction_control_decodes_from_the_encoders_code():
  config = dataclasses.replace(_semi_config(), phases=PhaseConfig(
      labeled_reconstruction_weight=1.0, labeled_reconstruction_code="encoder"))
  model = _model(config)
  batch = _labeled_batch()
  images, labels = batch["labeled_images"], batch["labels"]
  seed = model._seed(model_module.LABELED_RECONSTRUCTION)
  _, code = model.encoder_outputs_and_code(images, seed, training=True)
  from_encoder = model.labeled_nll(images, labels)
  np.testing.assert_allclose(from_encoder, -model.decoder.log_prob(images, code), rtol=1e-6)
  # The labels are unused: other labels give the same NLL, and the one-hot code another.
  np.testing.assert_array_equal(from_encoder, model.labeled_nll(images, (labels + 1) % 3))
  from_labels = -model.decoder.log_prob(images, tf.one_hot(labels, 3))
  assert np.abs(from_encoder.numpy() - from_labels.numpy()).max() > 1e-4


def test_the_labeled_reconstruction_weight_reaches_the_reconstruction_loss():
  def first_step(weight):
    keras.utils.set_random_seed(2)   # the same weights for both
    config = dataclasses.replace(_semi_config(),
                                 phases=PhaseConfig(labeled_reconstruction_weight=weight))
    model = _model(config)
    values = {k: float(v) for k, v in model.train_step(_labeled_batch()).items()}
    return values, trained_variables.snapshot(model.decoder.trainable_variables)

  (plain, plain_decoder), (weighted, weighted_decoder) = first_step(0.0), first_step(1.0)
  assert "labeled_nll" not in plain and np.isfinite(weighted["labeled_nll"])
  # The unlabelled NLL is measured before the step, so it is the same in both.
  assert plain["nll"] == weighted["nll"]
  assert any(np.abs(plain_decoder[k] - weighted_decoder[k]).max() > 0 for k in plain_decoder)


def _game_batches(fraction, batch):
  """The images train_step hands each phase of a model with that game fraction."""
  model = _model(_config(phases=PhaseConfig(adversarial_batch_fraction=fraction)))
  seen = {}

  def spy(phase):
    run = getattr(model, phase)

    def record(images, *args):
      seen[phase] = images.numpy()
      return run(images, *args)
    setattr(model, phase, record)

  for phase in ("reconstruction_phase", "discriminator_phase", "generator_phase"):
    spy(phase)
  model.train_step(batch)
  return seen


def test_the_game_sees_the_first_fraction_of_the_unlabelled_batch():
  images = _images(batch=16)
  seen = _game_batches(0.25, images)
  np.testing.assert_array_equal(seen["reconstruction_phase"], images)
  np.testing.assert_array_equal(seen["discriminator_phase"], images[:4])
  np.testing.assert_array_equal(seen["generator_phase"], images[:4])
  whole = _game_batches(1.0, images)
  np.testing.assert_array_equal(whole["discriminator_phase"], images)


def test_a_game_fraction_that_is_not_a_whole_number_of_images_is_refused():
  with pytest.raises(ValueError, match="batch of 16 images is not a whole number"):
    _game_batches(0.3, _images(batch=16))


def _normalized_semi_config(**phases):
  return dataclasses.replace(_semi_config(normalize_logits=True), phases=PhaseConfig(**phases))


def test_head_only_supervision_trains_only_the_categorical_head():
  model = _model(_normalized_semi_config(supervised_variables="head"))
  before = trained_variables.snapshot(model.trainable_variables)
  model.supervised_phase(_images(), tf.constant([0, 1, 2, 0] * 4))
  head = _paths(model.encoder.heads["categorical"].trainable_variables)
  scale = _paths(model.encoder.logit_norm.trainable_variables)
  assert scale and _changed(model, before) == head | scale


def test_the_supervised_phase_classifies_shifted_labelled_images():
  model = _model(_normalized_semi_config(supervised_max_shift=2))
  images = _images()
  seen = []
  encoder_outputs = model.encoder_outputs
  model.encoder_outputs = lambda x, *args, **kwargs: (
      seen.append(x), encoder_outputs(x, *args, **kwargs))[1]
  expected = augment.random_shift(images, 2, model._seed(model_module.SUPERVISED_SHIFT))
  model.supervised_phase(images, tf.constant([0, 1, 2, 0] * 4))
  assert not np.array_equal(seen[0], images)
  np.testing.assert_array_equal(seen[0], expected)


def test_the_supervised_phase_classifies_turned_then_shifted_labelled_images():
  model = _model(_normalized_semi_config(supervised_max_rotation=30.0, supervised_max_shift=1))
  images = _images()
  seen = []
  encoder_outputs = model.encoder_outputs
  model.encoder_outputs = lambda x, *args, **kwargs: (
      seen.append(x), encoder_outputs(x, *args, **kwargs))[1]
  seed = model._seed(model_module.SUPERVISED_SHIFT)
  # The shift keeps its own seed, so that a run without the rotation shifts as before.
  expected = augment.random_shift(
      augment.random_rotation(images, 30.0, random.split(seed, 0)), 1, seed)
  model.supervised_phase(images, tf.constant([0, 1, 2, 0] * 4))
  np.testing.assert_array_equal(seen[0], expected)


def test_the_supervised_phase_draws_the_encoder_noise_at_its_own_level():
  images, labels = _images(), tf.constant([0, 1, 2, 0] * 4)

  def supervised_and_clean_losses(level):
    """(the phase's loss, the loss of the same weights at n = 0) for one noise level."""
    keras.utils.set_random_seed(3)   # the same weights for every level
    model = _model(_normalized_semi_config(supervised_noise_std=level))
    clean = model.encoder_outputs(images, None, training=True)[CATEGORICAL_LOGITS]
    phase = model.supervised_phase(images, labels)["supervised_loss"]
    return float(phase), float(losses.supervised_loss(clean, labels))

  silent, clean = supervised_and_clean_losses(0.0)
  np.testing.assert_allclose(silent, clean, rtol=1e-6)
  own, clean_again = supervised_and_clean_losses(None)   # the tiny encoder's noise of 1.0
  assert clean_again == clean and own != clean
  loud, _ = supervised_and_clean_losses(3.0)
  assert loud not in (own, clean)


def test_the_adversarial_phases_draw_the_encoder_noise_at_their_own_level():
  images = _images()

  def logits_seen(level, phase):
    """(the logits a phase's first encoder call gives, the n = 0 logits of the same weights)."""
    keras.utils.set_random_seed(3)   # the same weights for every level
    model = _model(_normalized_semi_config(adversarial_noise_std=level))
    clean = model.encoder_outputs(images, None, training=True)[CATEGORICAL_LOGITS]
    seen = []
    encoder_outputs = model.encoder_outputs
    model.encoder_outputs = lambda x, *args, **kwargs: (
        seen.append(encoder_outputs(x, *args, **kwargs)), seen[-1])[1]
    getattr(model, phase)(images)
    return seen[0][CATEGORICAL_LOGITS].numpy(), clean.numpy()

  for phase in ("discriminator_phase", "generator_phase"):
    silent, clean = logits_seen(0.0, phase)
    np.testing.assert_allclose(silent, clean, rtol=1e-6)
    own, _ = logits_seen(None, phase)   # the tiny encoder's noise of 1.0
    loud, _ = logits_seen(3.0, phase)
    assert not np.allclose(own, clean) and not np.allclose(loud, own)
  # Reconstruction keeps the encoder's own level.
  silent, clean = logits_seen(0.0, "reconstruction_phase")
  assert not np.allclose(silent, clean)


@pytest.mark.parametrize("field", model_module.PHASE_NOISE_FIELDS)
@pytest.mark.parametrize("kind, noise_dim, level, problem", [
    ("pixelgan", 4, -0.5, "must be >= 0"),
    ("aae", 4, 1.0, "this encoder has none"),
    ("pixelgan", 0, 1.0, "this encoder has none"),   # hidden noise of no values
])
def test_a_phase_noise_the_encoder_cannot_take_is_refused(field, kind, noise_dim, level,
                                                          problem):
  encoder = dataclasses.replace(_config().encoder, normalize_logits=True, noise_dim=noise_dim,
                                noise_std=0.0 if kind == "aae" else 1.0)
  config = _config(kind=kind, num_classes=3, encoder=encoder,
                   phases=PhaseConfig(**{field: level}))
  with pytest.raises(ValueError, match=f"{field}.*{problem}"):
    PixelGANAutoencoder(config)


@pytest.mark.parametrize("degrees", [-5.0, 200.0])
def test_a_supervised_rotation_beyond_a_half_turn_is_refused(degrees):
  with pytest.raises(ValueError, match="supervised_max_rotation must be in \\[0, 180\\] degrees"):
    PixelGANAutoencoder(_normalized_semi_config(supervised_max_rotation=degrees))


def test_a_supervised_shift_as_large_as_the_image_is_refused():
  with pytest.raises(ValueError, match="supervised_max_shift must be in"):
    PixelGANAutoencoder(_normalized_semi_config(supervised_max_shift=8))
