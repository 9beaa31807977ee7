"""The datasets other than MNIST, through TFDS's own builders on mocked examples.

`tfds.testing.mock_data` replaces the stored examples with random ones drawn
from each builder's real feature spec (smallNORB's two 96x96 cameras and five
label fields, SVHN's and CIFAR-10's RGB images with ids), so these specs go
through `load_splits`, the pipelines, a training step and an evaluation
without the datasets or a network. The metadata files the pipeline checks
(`is_prepared`, the split sizes) are written from the builders' code, as
`mock_data`'s `USE_FILES` policy expects: the pipeline takes its ordinary
prepared-dataset path, and its offline check stays as users meet it.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow_datasets as tfds

from pixelgan_tf import config as config_lib
from pixelgan_tf import train
from pixelgan_tf.data import is_prepared, load_splits, pipeline, train_dataset

EXAMPLES = 60     # per split; the mock draws the same examples for both
VALIDATION = 10

# dataset -> (image shape after the pipeline, classes, decoder likelihood)
DATASETS = {
    "fashion_mnist": ((28, 28, 1), 10, "bernoulli"),
    "svhn_cropped": ((32, 32, 3), 10, "logistic_mixture"),
    "cifar10": ((32, 32, 3), 10, "logistic_mixture"),
    "smallnorb": ((32, 32, 1), 5, "logistic_mixture"),   # area-resized from 96x96
}


@pytest.fixture(params=sorted(DATASETS))
def dataset(request, tmp_path):
  """A dataset name, mocked with EXAMPLES examples per split in tmp_path; yields data_dir."""
  name = request.param
  builder = tfds.builder(name, data_dir=str(tmp_path))
  builder.info.set_splits(tfds.core.SplitDict([
      tfds.core.SplitInfo(name=split, shard_lengths=[EXAMPLES], num_bytes=0,
                          filename_template=None)
      for split in ("train", "test")]))
  builder.data_path.mkdir(parents=True)
  builder.info.write_to_directory(builder.data_path)
  with tfds.testing.mock_data(num_examples=EXAMPLES, policy=tfds.testing.MockPolicy.USE_FILES,
                              data_dir=str(tmp_path)):
    yield name, str(tmp_path)


def _experiment(name, data_dir):
  """The `tiny` preset on `name`: one labelled image per class, a tiny decoder."""
  shape, classes, likelihood = DATASETS[name]
  base = config_lib.experiment("tiny")
  data = dataclasses.replace(base.data, dataset=name, data_dir=data_dir, labels=classes,
                             validation_size=VALIDATION, batch_size=10, labeled_batch_size=5)
  decoder = dataclasses.replace(base.model.decoder, likelihood=likelihood, num_mixtures=2)
  prior = dataclasses.replace(base.model.prior, categories=classes)   # one per class
  return dataclasses.replace(base, data=data, model=dataclasses.replace(
      base.model, decoder=decoder, prior=prior))


def test_splits_have_the_pipeline_shapes_and_a_balanced_labelled_subset(dataset):
  name, data_dir = dataset
  shape, classes, _ = DATASETS[name]
  assert is_prepared(name, data_dir)
  splits = load_splits(_experiment(name, data_dir).data)
  assert splits.image_shape == shape and splits.num_classes == classes
  assert splits.train_images.shape == (EXAMPLES - VALIDATION,) + shape
  assert splits.validation_images.shape == (VALIDATION,) + shape
  assert splits.test_images.shape == (EXAMPLES,) + shape
  assert splits.train_images.dtype == np.uint8
  # One image of each class, each with its own label.
  assert splits.labeled_images.shape == (classes,) + shape
  assert sorted(splits.labeled_labels) == list(range(classes))
  for labels in (splits.validation_labels, splits.test_labels):
    assert labels.dtype == np.int64 and 0 <= labels.min() and labels.max() < classes
  train_rows = [image.tobytes() for image in splits.train_images]
  assert all(image.tobytes() in train_rows for image in splits.labeled_images)


def test_one_training_step_and_an_evaluation(dataset):
  name, data_dir = dataset
  shape, classes, likelihood = DATASETS[name]
  splits = load_splits(_experiment(name, data_dir).data)
  config = train.resolve(_experiment(name, data_dir), splits)
  assert config.model.image_shape == shape and config.model.num_classes == classes
  assert config.data.binarize == (likelihood == "bernoulli")
  model = train.build_model(config)
  batch = next(iter(train_dataset(splits, config.data)))
  assert batch["images"].shape == (10,) + shape and batch["labeled_images"].shape == (5,) + shape
  metrics = model.train_on_batch(batch, return_dict=True)
  assert {"nll", "supervised_loss"} <= set(metrics)
  assert all(np.isfinite(value) for value in metrics.values()), metrics
  results = train.evaluate_run(model, splits, config)
  for split in ("validation", "test"):
    assert np.isfinite(results[split]["nll"]) and results[split]["nll"] > 0
    assert 0 <= results[split]["error"] <= 1


def test_every_other_dataset_is_covered():
  assert set(DATASETS) == set(config_lib.DATASETS) - {"mnist"}
  for name, (shape, classes, _) in DATASETS.items():
    assert pipeline._FACTS[name].image_shape == shape
    assert pipeline._FACTS[name].num_classes == classes


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
