"""The exported SavedModel reloads in a process that does not import pixelgan_tf."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import PixelGANAutoencoder, model_preset
from pixelgan_tf.data import deskew
from pixelgan_tf.data.pipeline import pixels
from pixelgan_tf.export import export_saved_model

# Each signature's one output, by the name serving clients read it under.
OUTPUT_NAMES = {"prepare": "images", "log_prob": "log_prob", "encode": "code",
                "classify": "probabilities", "sample": "images", "sample_classes": "images"}

# Reloads each export named on the command line (directory, inputs, outputs, names),
# all in one process: its TensorFlow import costs more than the calls.
_RELOAD = textwrap.dedent("""
    import json
    import sys
    import numpy as np
    import tensorflow as tf

    def reload(directory, inputs, outputs, names):
      loaded = tf.saved_model.load(directory)
      data = np.load(inputs)
      images, seed = tf.constant(data["images"]), tf.constant([3, 4])
      calls = {"prepare": (tf.constant(data["raw_images"]), seed), "log_prob": (images,)}
      if "code" in data:
        calls["encode"] = (images,)
        calls["sample"] = (tf.constant(data["code"]), seed)
      else:
        calls["sample"] = (tf.constant(2), seed)
      if "class_ids" in data:
        calls["classify"] = (images,)
        calls["sample_classes"] = (tf.constant(data["class_ids"]), seed)
      results = {name: getattr(loaded, name)(*args) for name, args in calls.items()}
      np.savez(outputs, **{f"{name}/{key}": value.numpy()
                           for name, result in results.items() for key, value in result.items()})
      with open(names, "w") as f:
        json.dump({name: sorted(signature.structured_outputs)
                   for name, signature in loaded.signatures.items()}, f)

    arguments = sys.argv[1:]
    for i in range(0, len(arguments), 4):
      reload(*arguments[i:i + 4])
    assert "pixelgan_tf" not in sys.modules
""")

# Each kind's export, with the data preparation (deskew, binarize, resize) of its run.
KINDS = {"pixelgan": (True, True, False), "pixelcnn": (False, False, True)}


def _raw_images() -> np.ndarray:
  """uint8 [4, 8, 8, 1]: bars whose tops lean right, and noise."""
  bars = np.zeros([2, 8, 8, 1], np.uint8)
  for row in range(8):
    bars[:, row, 4 + (7 - row) // 3, 0] = 255
  noise = tf.random.stateless_uniform([2, 8, 8, 1], seed=[5, 6], maxval=256, dtype=tf.int32)
  return np.concatenate([bars, tf.cast(noise, tf.uint8).numpy()])


def _full_size_images() -> np.ndarray:
  """uint8 [2, 16, 16, 1] noise whose 2x2 blocks are the model's 8x8 pixels once resized."""
  noise = tf.random.stateless_uniform([2, 16, 16, 1], seed=[7, 8], maxval=256, dtype=tf.int32)
  return tf.cast(noise, tf.uint8).numpy()


def _block_means(images: np.ndarray) -> np.ndarray:
  """uint8 [N, h/2, w/2, C]: each 2x2 block's mean, rounded half to even (the loader's area
  resize, computed without TensorFlow)."""
  n, h, w, c = images.shape
  return np.round(images.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))).astype(np.uint8)


def _export(kind, directory):
  """Writes a once-trained tiny model of `kind` to `directory`/export and the inputs to
  call it with to `directory`/inputs.npz; returns {signature: its expected output}."""
  deskew_images, binarize, resize = KINDS[kind]
  config = dataclasses.replace(model_preset("tiny"), kind=kind, num_classes=0)
  model = PixelGANAutoencoder(config)
  model.compile()
  images = tf.cast(tf.random.stateless_uniform([4, 8, 8, 1], seed=[1, 2]) < 0.3, tf.float32)
  model.train_on_batch(images)
  export_saved_model(model, str(directory / "export"), deskew=deskew_images, binarize=binarize,
                     resize=resize)
  seed = tf.constant([3, 4])
  if resize:
    raw_images = _full_size_images()
    prepared = _block_means(raw_images)
  else:
    raw_images = _raw_images()
    upright = deskew.deskew(raw_images)
    assert not np.array_equal(upright, raw_images)   # else the deskew would go unseen
    prepared = upright if deskew_images else raw_images
  inputs = {"images": images.numpy(), "raw_images": raw_images}
  expected = {"prepare": pixels(prepared, seed, binarize).numpy(),
              "log_prob": -model(images).numpy()}   # the model call gives the NLL
  if model.has_code:
    code = model.encoder.code(model.encoder_outputs(images))
    inputs["code"] = code.numpy()
    expected["encode"] = code.numpy()
    from pixelgan_tf.export import class_code
    from pixelgan_tf.sampling import sample_naive
    expected["sample"] = tf.function(sample_naive)(model.decoder, code, seed).numpy()
    class_ids = np.array([0, 2], np.int32)
    inputs["class_ids"] = class_ids
    expected["classify"] = model.classify(images).numpy()
    expected["sample_classes"] = tf.function(sample_naive)(
        model.decoder, class_code(model, tf.constant(class_ids)), seed).numpy()
  else:
    from pixelgan_tf.sampling import sample_naive
    expected["sample"] = tf.function(sample_naive)(model.decoder, None, seed, 2).numpy()
  np.savez(directory / "inputs.npz", **inputs)
  return expected


@pytest.fixture(scope="module")
def reloaded(tmp_path_factory):
  """{kind: (expected outputs, reloaded outputs, signature output names)}."""
  directories = {kind: tmp_path_factory.mktemp(kind) for kind in KINDS}
  expected = {kind: _export(kind, directory) for kind, directory in directories.items()}
  arguments = [str(directory / name) for directory in directories.values()
               for name in ("export", "inputs.npz", "outputs.npz", "names.json")]
  result = subprocess.run(
      [sys.executable, "-c", _RELOAD, *arguments],
      capture_output=True, text=True, timeout=300, cwd=str(tmp_path_factory.getbasetemp()),
      env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ""})
  assert result.returncode == 0, result.stderr[-3000:]
  return {kind: (expected[kind], np.load(directory / "outputs.npz"),
                 json.load(open(directory / "names.json")))
          for kind, directory in directories.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_saved_model_matches_the_model_in_another_process(reloaded, kind):
  expected, outputs, names = reloaded[kind]
  # Keras also serves the first endpoint, log_prob, as the default signature.
  assert names == {"serving_default": ["log_prob"],
                   **{name: [OUTPUT_NAMES[name]] for name in expected}}
  assert set(outputs.files) == {f"{name}/{OUTPUT_NAMES[name]}" for name in expected}
  for name, value in expected.items():
    np.testing.assert_allclose(outputs[f"{name}/{OUTPUT_NAMES[name]}"], value, rtol=1e-5,
                               atol=1e-5, err_msg=name)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
