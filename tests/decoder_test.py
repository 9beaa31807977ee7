"""Tests of PixelCNNDecoder: causality of the whole network, conditioning, contract."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import PixelCNNDecoder
from tests import causality
from tests.layer_test_case import run_layer_test

CASES = [
    # (likelihood, channels, conditioning)
    ("bernoulli", 1, "none"),
    ("bernoulli", 1, "location_dependent"),
    ("categorical", 3, "location_invariant"),
    ("logistic_mixture", 3, "both"),
]


def _images(likelihood, channels, size=8, batch=2, seed=0):
  high = 2 if likelihood == "bernoulli" else 256
  ints = tf.random.stateless_uniform([batch, size, size, channels], seed=[seed, 7],
                                     maxval=high, dtype=tf.int32)
  return tf.cast(ints, tf.float32)


def _decoder(likelihood, channels, conditioning, size=8, **kwargs):
  kwargs.setdefault("num_layers", 2)
  kwargs.setdefault("filters", 8)
  return PixelCNNDecoder((size, size, channels), likelihood=likelihood, num_mixtures=2,
                         conditioning=conditioning,
                         conditioning_dim=0 if conditioning == "none" else 3, **kwargs)


def _code(conditioning, batch=2, seed=0):
  if conditioning == "none":
    return None
  return tf.random.stateless_normal([batch, 3], seed=[seed, 9])


@pytest.mark.parametrize("likelihood,channels,conditioning", CASES)
def test_layer_contract(likelihood, channels, conditioning):
  params = {"bernoulli": 1, "categorical": 256, "logistic_mixture": 6}[likelihood]
  code = _code(conditioning)
  run_layer_test(
      PixelCNNDecoder,
      {"image_shape": (8, 8, channels), "likelihood": likelihood, "num_mixtures": 2,
       "num_layers": 2, "filters": 8, "conditioning": conditioning,
       "conditioning_dim": 0 if code is None else 3},
      [_images(likelihood, channels)],
      {} if code is None else {"conditioning": code},
      expected_output_shape=(2, 8, 8, channels, params))


def _assert_decoder_causal(decoder, images, code):
  jac = causality.jacobian(lambda x: decoder(x, code), images)
  causality.assert_causal(jac, causality.raster_strict)
  return jac


@pytest.mark.parametrize("likelihood,channels,conditioning", CASES)
def test_causal_at_init_and_after_a_step(likelihood, channels, conditioning):
  decoder = _decoder(likelihood, channels, conditioning)
  images, code = _images(likelihood, channels), _code(conditioning)
  _assert_decoder_causal(decoder, images, code)
  optimizer = keras.optimizers.Adam(0.05)
  with tf.GradientTape() as tape:
    loss = -tf.reduce_mean(decoder.log_prob(images, code))
  grads = tape.gradient(loss, decoder.trainable_variables)
  assert all(g is not None for g in grads)
  optimizer.apply(grads, decoder.trainable_variables)
  _assert_decoder_causal(decoder, images, code)


def test_no_blind_spot_and_receptive_field_matches_the_formula():
  decoder = _decoder("bernoulli", 1, "none", size=14, num_layers=3)
  images = _images("bernoulli", 1, size=14, batch=1)
  jac = causality.jacobian(decoder, images)
  i, j = 10, 7
  support = np.argwhere(jac[0, i, j, 0, 0, :, :, 0] != 0)
  above = support[support[:, 0] < i]
  in_row = support[support[:, 0] == i]
  field = decoder.receptive_field()
  assert i - above[:, 0].min() == field["rows_above"]
  assert j - above[:, 1].min() == field["columns_each_side"]
  assert above[:, 1].max() - j == field["columns_each_side"]
  assert j - in_row[:, 1].min() == field["left_in_row"]
  # The blind spot of the original PixelCNN: above and to the right.
  assert jac[0, i, j, 0, 0, i - 1, j + 1, 0] != 0
  assert jac[0, i, j, 0, 0, i - 2, j + 2, 0] != 0
  # Every pixel of the field's rectangle above is seen: no holes.
  rows, cols = field["rows_above"], field["columns_each_side"]
  block = jac[0, i, j, 0, 0, i - rows:i, j - cols:j + cols + 1, 0]
  assert np.all(block != 0)


@pytest.mark.parametrize("conditioning", ["location_invariant", "location_dependent", "both"])
def test_conditional_decoder_uses_its_code(conditioning):
  decoder = _decoder("bernoulli", 1, conditioning)
  images = _images("bernoulli", 1)
  out = decoder(images, _code(conditioning, seed=1)).numpy()
  other = decoder(images, _code(conditioning, seed=2)).numpy()
  assert not np.allclose(out, other)


def test_unconditional_decoder_has_no_conditioning_weights():
  plain = _decoder("bernoulli", 1, "none")
  plain(_images("bernoulli", 1))
  conditional = _decoder("bernoulli", 1, "both")
  conditional(_images("bernoulli", 1), _code("both"))
  assert plain.upsampler is None
  conditioning_paths = ("_bias/", "conditioning_upsampler/")
  assert not [w.path for w in plain.weights if any(p in w.path for p in conditioning_paths)]
  assert [w.path for w in conditional.weights if any(p in w.path for p in conditioning_paths)]
  assert plain.count_params() < conditional.count_params()


def test_coordinate_channels_keep_the_decoder_causal():
  decoder = _decoder("bernoulli", 1, "location_invariant", size=10, coordinate_channels=True)
  _assert_decoder_causal(decoder, _images("bernoulli", 1, size=10), _code("location_invariant"))


@pytest.mark.parametrize("coordinate_channels", [False, True])
def test_coordinate_channels_tell_interior_positions_apart(coordinate_channels):
  # On a blank image, two pixels whose fields lie wholly inside the image see
  # the same inputs: only the coordinates can make their outputs differ.
  decoder = _decoder("bernoulli", 1, "location_invariant", size=16,
                     coordinate_channels=coordinate_channels)
  field = decoder.receptive_field()
  assert field["rows_above"] < 8 and field["columns_each_side"] < 5
  out = decoder(tf.zeros([1, 16, 16, 1]), _code("location_invariant", batch=1)).numpy()
  first, second = out[0, 9, 6], out[0, 11, 9]
  assert np.allclose(first, second) != coordinate_channels


def test_coordinate_channels_add_stem_weights_only():
  plain = _decoder("bernoulli", 1, "location_invariant")
  placed = _decoder("bernoulli", 1, "location_invariant", coordinate_channels=True)
  images, code = _images("bernoulli", 1), _code("location_invariant")
  plain(images, code)
  placed(images, code)
  def within(weight):
    return weight.path.split("/", 1)[1]
  shapes = {within(w): w.shape for w in plain.weights}
  assert sorted(shapes) == sorted(within(w) for w in placed.weights)
  grown = sorted(within(w) for w in placed.weights if shapes[within(w)] != w.shape)
  assert grown == ["horizontal_stem/kernel", "vertical_stem/kernel"]
  assert placed.macs_per_image() > plain.macs_per_image()


def test_log_prob_is_the_likelihood_of_the_output():
  decoder = _decoder("categorical", 3, "none")
  images = _images("categorical", 3)
  expected = decoder.pixel_likelihood.log_prob(decoder(images), images)
  np.testing.assert_allclose(decoder.log_prob(images).numpy(), expected.numpy(), rtol=1e-6)
  assert decoder.log_prob(images).shape == (2,)


def test_mixed_precision():
  keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
  try:
    decoder = _decoder("logistic_mixture", 3, "both")
    images, code = _images("logistic_mixture", 3), _code("both")
    assert decoder(images, code).dtype == tf.bfloat16
    log_p = decoder.log_prob(images, code)
    assert log_p.dtype == tf.float32 and np.isfinite(log_p.numpy()).all()
    assert all(w.dtype == "float32" for w in decoder.trainable_weights)
  finally:
    keras.mixed_precision.set_dtype_policy("float32")


def test_macs_per_image_of_the_default_preset():
  decoder = PixelCNNDecoder((28, 28, 1))
  f = 32
  stem = 2 * 3 * 2 * f + 1 * 2 * 2 * f
  block = 6 * f * 2 * f + 2 * f * 2 * f + 2 * f * f + f * f
  head = f * f + f * 1
  assert decoder.macs_per_image() == 784 * (stem + 4 * block + head)


@pytest.mark.parametrize("kwargs,message", [
    ({"image_shape": (8, 8)}, "image_shape"),
    ({"image_shape": (8, 8, 1), "conditioning": "global"}, "conditioning must be"),
    ({"image_shape": (8, 8, 1), "num_layers": 0}, "num_layers"),
    ({"image_shape": (8, 8, 1), "horizontal_kernel_size": (2, 2)}, r"\(1, k\)"),
    ({"image_shape": (8, 8, 1), "likelihood": "gaussian"}, "Unknown likelihood"),
    ({"image_shape": (8, 8, 1), "conditioning": "both"}, "conditioning_dim"),
    ({"image_shape": (8, 8, 1), "conditioning_dim": 4}, "conditioning_dim"),
])
def test_bad_construction(kwargs, message):
  with pytest.raises(ValueError, match=message):
    PixelCNNDecoder(**kwargs)


def test_bad_calls():
  conditional = _decoder("bernoulli", 1, "location_invariant")
  with pytest.raises(ValueError, match="pass `conditioning`"):
    conditional(_images("bernoulli", 1))
  plain = _decoder("bernoulli", 1, "none")
  with pytest.raises(ValueError, match="unconditional"):
    plain(_images("bernoulli", 1), _code("location_invariant"))
  with pytest.raises(ValueError, match="images of shape"):
    plain(_images("bernoulli", 1, size=6))
  with pytest.raises(ValueError, match="codes of size 3"):
    conditional(_images("bernoulli", 1), tf.zeros([2, 5]))


@pytest.mark.parametrize("conditioning,coordinate_channels",
                         [("none", False), ("both", False), ("both", True)])
def test_keras_file_round_trip(tmp_path, conditioning, coordinate_channels):
  decoder = _decoder("logistic_mixture", 3, conditioning, coordinate_channels=coordinate_channels)
  images, code = _images("logistic_mixture", 3), _code(conditioning)
  expected = decoder(images, code).numpy()
  path = str(tmp_path / "decoder.keras")
  decoder.save(path)
  restored = keras.saving.load_model(path)
  np.testing.assert_allclose(restored(images, code).numpy(), expected, atol=1e-6)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
