"""train.resolve: the fields the data decides follow it when unset and are checked when set."""

import dataclasses
import types

import pytest

from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides
from pixelgan_tf import train
from pixelgan_tf.model import validate as validate_model

THREE_CLASSES_8X8 = types.SimpleNamespace(image_shape=(8, 8, 1), num_classes=3)


def _tiny(labels=6, **model_fields):
  """The tiny experiment on 8x8 images of three classes, with a code of three categories."""
  base = config_lib.experiment("tiny")
  model = dataclasses.replace(base.model, prior=config_lib.PriorConfig(categories=3),
                              **model_fields)
  return dataclasses.replace(base, model=model, data=dataclasses.replace(base.data,
                                                                         labels=labels))


def test_unset_shape_and_classes_follow_the_data():
  config = _tiny()
  assert config.model.image_shape is None and config.model.num_classes is None
  resolved = train.resolve(config, THREE_CLASSES_8X8)
  assert resolved.model.image_shape == (8, 8, 1) and resolved.model.num_classes == 3
  assert train.resolve(_tiny(labels=0), THREE_CLASSES_8X8).model.num_classes == 0
  pixelcnn = _tiny(kind="pixelcnn")   # no code: the labels are not learnt from
  assert train.resolve(pixelcnn, THREE_CLASSES_8X8).model.num_classes == 0


def test_set_shape_and_classes_that_agree_with_the_data_are_kept():
  resolved = train.resolve(_tiny(image_shape=(8, 8, 1), num_classes=3), THREE_CLASSES_8X8)
  assert resolved.model.image_shape == (8, 8, 1) and resolved.model.num_classes == 3
  assert train.resolve(_tiny(labels=0, num_classes=0), THREE_CLASSES_8X8).model.num_classes == 0


@pytest.mark.parametrize("config,message", [
    (_tiny(image_shape=(28, 28, 1)),
     r"model.image_shape=\(28, 28, 1\), but the mnist images are \(8, 8, 1\): leave "
     r"model.image_shape unset \(none\)"),
    (_tiny(num_classes=10), "model.num_classes=10, but the mnist labels have 3 classes"),
    (_tiny(num_classes=0), "model.num_classes=0, but the mnist labels have 3 classes"),
    (_tiny(labels=0, num_classes=3), "model.num_classes=3, but this run trains without labels"),
    (_tiny(kind="pixelcnn", num_classes=3),
     "model.num_classes=3, but the plain PixelCNN has no code to classify with"),
])
def test_set_shape_and_classes_that_contradict_the_data_are_refused(config, message):
  with pytest.raises(ValueError, match=message):
    train.resolve(config, THREE_CLASSES_8X8)


def test_a_model_without_an_image_shape_asks_for_one():
  with pytest.raises(ValueError, match="model.image_shape is unset: set it, or let "
                                       "train.resolve take it from the data"):
    validate_model(config_lib.experiment("tiny").model)


def test_the_command_line_can_set_and_unset_the_data_derived_fields():
  config, _ = config_overrides.from_command_line("tiny", {}, ["model.image_shape=8,8,1",
                                                        "model.num_classes=3"])
  assert config.model.image_shape == (8, 8, 1) and config.model.num_classes == 3
  config, _ = config_overrides.from_command_line("tiny", {}, ["model.image_shape=none"])
  assert config.model.image_shape is None
