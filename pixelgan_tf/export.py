"""SavedModel export with explicit signatures, loadable without this package."""

import keras
import tensorflow as tf

from pixelgan_tf import priors
from pixelgan_tf.data.deskew import deskew_tensor
from pixelgan_tf.data.pipeline import area_resize, pixels
from pixelgan_tf.sampling import sample


def export_saved_model(model, directory: str, *, deskew: bool, binarize: bool,
                       resize: bool) -> str:
  """Writes a SavedModel of a trained `PixelGANAutoencoder`.

  Endpoints (images are float32 in the likelihood's data space, as `prepare`
  gives them), each returning a dict whose key names the signature's one
  output:
    prepare(images uint8 [N, H, W, C], seed [2] int32) -> {'images'}: the
      pixels the run's data pipeline made of such images: area-resized to the
      model's height and width if the run's loader resized its dataset (the
      input then takes any H and W; otherwise it must be the model's),
      sheared upright if the run deskewed its data (`data.deskew`), then
      binarized under `seed` (each pixel 1 with probability value / 255) or
      kept at 0..255. The other endpoints read slanted or full-size images
      wrongly, so raw images go through `prepare` first;
    log_prob(images [N, H, W, C]) -> {'log_prob': [N]} nats per image, with
      the deterministic encoder's code;
    encode(images) -> {'code': [N, code_dim]} (n = 0);           if it has a code
    classify(images) -> {'probabilities': [N, K]} class or cluster
      probabilities;                                              if categorical
    sample(code [N, code_dim], seed [2] int32) -> {'images': [N, H, W, C]};
                                                                  if it has a code
    sample_classes(class_ids [N] int32, seed) -> {'images'};     if categorical
      (the Gaussian part of a joint code is set to the prior mean, 0)
    sample(num_images [] int32, seed [2] int32) -> {'images'};   plain PixelCNN

  `tf.saved_model.load(directory)` gives an object with these methods, and
  its `signatures[name]` list the outputs under these names (what
  `saved_model_cli show` and TF Serving print) instead of `output_0`.

  Args:
    model: the model.
    directory: where to write.
    deskew: whether the run deskewed its images (its `data.deskew`).
    binarize: whether the run binarized its pixels (its `data.binarize`).
    resize: whether the run's loader area-resized its images
      (`pixelgan_tf.data.resizes` of its dataset).

  Returns:
    The directory.
  """
  archive = keras.export.ExportArchive()
  archive.track(model)
  shape = (None,) + tuple(model.image_shape)
  images_spec = tf.TensorSpec(shape, tf.float32, name="images")
  seed_spec = tf.TensorSpec([2], tf.int32, name="seed")

  def prepare(images, seed):
    if resize:
      images = area_resize(images, model.image_shape[:2])
    if deskew:
      images = deskew_tensor(images)
    return {"images": pixels(images, seed, binarize)}

  raw_shape = (None, None, None, model.image_shape[-1]) if resize else shape

  archive.add_endpoint(
      "log_prob", tf.function(
          lambda images: {"log_prob": -model.nll_and_encoder_outputs(images)[0]},
          input_signature=[images_spec]))
  archive.add_endpoint("prepare", tf.function(
      prepare, input_signature=[tf.TensorSpec(raw_shape, tf.uint8, name="images"), seed_spec]))
  if model.has_code:
    code_dim = model.encoder.code_dim
    archive.add_endpoint(
        "encode", tf.function(lambda images: {"code": model.encoder_outputs_and_code(images)[1]},
                              input_signature=[images_spec]))
    archive.add_endpoint(
        "sample", tf.function(lambda code, seed: {"images": sample(model.decoder, code, seed)},
                              input_signature=[tf.TensorSpec([None, code_dim], tf.float32,
                                                             name="code"), seed_spec]))
  else:
    archive.add_endpoint(
        "sample", tf.function(
            lambda num_images, seed: {"images": sample(model.decoder, None, seed, num_images)},
            input_signature=[tf.TensorSpec([], tf.int32, name="num_images"), seed_spec]))
  if model.can_classify:
    archive.add_endpoint(
        "classify", tf.function(lambda images: {"probabilities": model.classify(images)},
                                input_signature=[images_spec]))
    archive.add_endpoint(
        "sample_classes", tf.function(
            lambda class_ids, seed: {
                "images": sample(model.decoder, class_code(model, class_ids), seed)},
            input_signature=[tf.TensorSpec([None], tf.int32, name="class_ids"), seed_spec]))
  archive.write_out(directory, verbose=False)
  return directory


def class_code(model, class_ids: tf.Tensor) -> tf.Tensor:
  """The code of given classes: one-hot categories, the Gaussian part at 0."""
  parts = []
  for name, size in model.encoder.code_sizes.items():
    if name == priors.CATEGORICAL:
      parts.append(tf.one_hot(class_ids, size, dtype=tf.float32))
    else:
      parts.append(tf.zeros(tf.stack([tf.shape(class_ids)[0], size])))
  return tf.concat(parts, axis=-1)
