"""Tests of the Table 1 tools: rows, commands, launching, aggregation over seeds, learning curves."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from experiments import (aggregate, class_report, cluster_report, code_usage,
                         labelled_images, launcher, learning_curves, plot_curves, rows,
                         seed_statistics, table1_markdown, trained_run)
from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides
from pixelgan_tf import train
from pixelgan_tf.data import Splits
from pixelgan_tf.model import PixelGANAutoencoder
from tests import stand_in_splits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _write_run(root, row, seed, error, metric="error", step=1000, seconds=600.0, final=True,
               config=None):
  directory = rows.run_directory(str(root), row, seed)
  os.makedirs(directory)
  if config is not None:
    with open(os.path.join(directory, "config.json"), "w") as f:
      json.dump(config, f)
  test = {"nll": 90.0, metric: error}
  entry = {"step": step, "train_seconds": seconds, "validation": dict(test), "test": test}
  results = {"step": step, "history": [entry]}
  if final:
    results["final"] = {"validation": test, "test": test}
  with open(os.path.join(directory, "results.json"), "w") as f:
    json.dump(results, f)


@pytest.mark.parametrize("entry", [*rows.ROWS.values(), *rows.FIGURES.values()])
def test_every_row_and_figure_names_an_existing_preset(entry):
  assert entry.preset in config_lib.EXPERIMENTS
  assert [f for f in entry.flags if f.startswith("--preset=")] == [f"--preset={entry.preset}"]


def test_a_rows_overrides_become_set_flags_that_parse_back_to_the_same_values():
  overrides = {"train.time_budget_s": 900.0, "model.encoder.filters": (16, 32),
               "data.binarize": False, "model.decoder.head_units": None, "data.labels": 20}
  flags = rows.preset_flags("mnist_semi", overrides)
  assert flags == ["--preset=mnist_semi", "--set=train.time_budget_s=900.0",
                   "--set=model.encoder.filters=16,32", "--set=data.binarize=false",
                   "--set=model.decoder.head_units=none", "--set=data.labels=20"]
  config, _ = config_overrides.from_command_line(
      "mnist_semi", {}, [f.split("=", 1)[1] for f in flags[1:]])
  for path, value in overrides.items():
    section, field = path.rsplit(".", 1)
    holder = config
    for part in section.split("."):
      holder = getattr(holder, part)
    assert getattr(holder, field) == value, path


@pytest.mark.parametrize("preset,shape,classes", [
    ("svhn_semi", (32, 32, 3), 10), ("norb_semi", (32, 32, 1), 5)])
def test_gpu_presets_build_and_take_a_training_step(preset, shape, classes):
  """Their data cannot be downloaded here: the networks are checked on stand-in images."""
  rng = np.random.default_rng(0)
  images = lambda n: rng.integers(0, 256, (n,) + shape).astype(np.uint8)
  splits = Splits(train_images=images(4), train_labels=np.arange(4) % classes,
                  labeled_images=images(classes),
                  labeled_labels=np.arange(classes), validation_images=images(2),
                  validation_labels=np.zeros(2, np.int64), test_images=images(2),
                  test_labels=np.zeros(2, np.int64), num_classes=classes, image_shape=shape)
  config = train.resolve(config_lib.experiment(preset), splits)
  assert config.model.num_classes == classes and not config.data.binarize
  model = train.build_model(config)
  batch = {"images": images(2).astype(np.float32), "labeled_images": images(2).astype(np.float32),
           "labels": np.arange(2)}
  logs = model.train_on_batch(batch, return_dict=True)
  assert np.isfinite(logs["nll"]) and np.isfinite(logs["supervised_loss"])


def test_commands_give_each_seed_its_own_run_directory():
  first = rows.command("mnist_100", 0, "runs/t")
  second = rows.command("mnist_100", 1, "runs/t", extra=["--steps=5"])
  assert first[0] == "launch/main.py"
  assert "--seed=0" in first and "--workdir=runs/t/mnist_100/seed0" in first
  assert "--seed=1" in second and second[-1] == "--steps=5"
  assert first[1:3] == ["--preset=mnist_semi", "--set=data.labels=100"]
  with pytest.raises(ValueError, match="Unknown row 'mnist_7'"):
    rows.command("mnist_7", 0, "runs/t")


def test_launch_prints_the_command_and_returns_its_exit_status(tmp_path, capsys):
  marker = tmp_path / "ran"
  script = f"import pathlib, sys; pathlib.Path({str(marker)!r}).touch(); sys.exit(3)"
  assert launcher.run_python(["-c", script], dry_run=True) == 0 and not marker.exists()
  assert launcher.run_python(["-c", script]) == 3 and marker.exists()
  assert capsys.readouterr().out.splitlines()[0].startswith("python -c ")


def test_launch_many_runs_commands_at_once_each_logging_to_its_own_file(tmp_path):
  # Each run waits for the other's marker: only runs started together both see it.
  def command(name, other):
    script = (f"import pathlib, sys, time; pathlib.Path({str(tmp_path / name)!r}).touch(); "
              f"print('run', {name!r}); end = time.time() + 30\n"
              f"while not pathlib.Path({str(tmp_path / other)!r}).exists():\n"
              f"  time.sleep(0.05)\n  sys.exit(4) if time.time() > end else None")
    return ["-c", script, f"--workdir={tmp_path / 'runs' / name}"]

  commands = [command("a", "b"), command("b", "a")]
  assert launcher.run_python_many(commands, parallel=2) == [0, 0]
  assert "run a" in (tmp_path / "runs" / "a.log").read_text()
  assert "run b" in (tmp_path / "runs" / "b.log").read_text()
  with pytest.raises(ValueError, match="parallel must be >= 1"):
    launcher.run_python_many(commands, parallel=0)
  with pytest.raises(ValueError, match="No --workdir"):
    launcher.run_python_many([["-c", "pass"], ["-c", "pass"]], parallel=2)


def test_recorded_runs_are_finished_seeds_of_table1_rows():
  # RESULTS.md tabulates results/<machine>/ with experiments.aggregate: a renamed row or a
  # record of an unfinished run would silently drop out of its table.
  results = os.path.join(ROOT, "results")
  for machine in sorted(os.listdir(results)):
    root = os.path.join(results, machine)
    for row in sorted(os.listdir(root)):
      assert row in rows.ROWS, f"{machine}/{row} is not a row of rows.ROWS"
      seeds = [name for name in os.listdir(os.path.join(root, row)) if name.startswith("seed")]
      result = seed_statistics.collect(root, row)
      assert result is not None and len(result.errors) == len(seeds), f"{machine}/{row}"


def test_opt_in_rows_are_shown_after_the_protocol_rows_only_where_they_have_runs(tmp_path):
  assert rows.rows_to_show(str(tmp_path)) == rows.PROTOCOL_ROWS
  assert not any(name.endswith("_deskewed") for name in rows.PROTOCOL_ROWS)
  (tmp_path / "mnist_50_deskewed").mkdir()
  assert rows.rows_to_show(str(tmp_path)) == rows.PROTOCOL_ROWS + ["mnist_50_deskewed"]
  assert not rows.ROWS["mnist_50_deskewed"].protocol


def test_seeds_aggregate_to_mean_and_sample_std(tmp_path):
  _write_run(tmp_path, "mnist_100", 0, 0.01, seconds=3600)
  _write_run(tmp_path, "mnist_100", 1, 0.03, seconds=1800)
  _write_run(tmp_path, "mnist_100", 2, 0.5, final=False)   # still training: left out
  result = seed_statistics.collect(str(tmp_path), "mnist_100")
  assert result.errors == pytest.approx((1.0, 3.0))
  assert result.mean == pytest.approx(2.0) and result.std == pytest.approx(2 ** 0.5)
  table = table1_markdown.markdown_table(str(tmp_path), ["mnist_100", "svhn_1000"])
  lines = table.splitlines()
  assert "| MNIST 100 | 1.08 ± 0.15 | 2.00 ± 1.41 | 2 | 1000 | 0.50–1.00 |" in lines[2]
  assert "| SVHN 1000 | 6.96 ± 0.55 | not run | 0 |" in lines[3]


def _config_json(seed, data_dir="/data", normalize_logits=True):
  return {"data": {"seed": seed, "data_dir": data_dir, "labels": 100},
          "model": {"encoder": {"normalize_logits": normalize_logits}}}


def test_seeds_of_one_recipe_aggregate_whatever_their_seed_and_data_directory(tmp_path):
  _write_run(tmp_path, "mnist_100", 0, 0.01, config=_config_json(0, "/a"))
  _write_run(tmp_path, "mnist_100", 1, 0.03, config=_config_json(1, "/b"))
  assert seed_statistics.collect(str(tmp_path), "mnist_100").errors == pytest.approx((1.0, 3.0))


def test_seeds_spread_differently_over_devices_aggregate(tmp_path):
  # An older record lacks the distribution fields; a newer one ran on two workers.
  distributed = _config_json(1)
  distributed["train"] = {"strategy": "multi_worker", "steps_per_execution": 10}
  _write_run(tmp_path, "mnist_100", 0, 0.01, config=_config_json(0))
  _write_run(tmp_path, "mnist_100", 1, 0.03, config=distributed)
  assert seed_statistics.collect(str(tmp_path), "mnist_100").errors == pytest.approx((1.0, 3.0))


def test_seeds_of_different_recipes_are_not_averaged(tmp_path):
  _write_run(tmp_path, "mnist_100", 0, 0.07, config=_config_json(0, normalize_logits=False))
  _write_run(tmp_path, "mnist_100", 1, 0.03, config=_config_json(1))
  with pytest.raises(ValueError, match="differ in model.encoder.normalize_logits"):
    seed_statistics.collect(str(tmp_path), "mnist_100")
  # A field that one configuration lacks (an older version's) counts as a difference.
  _write_run(tmp_path, "mnist_50", 0, 0.07, config={"data": {"seed": 0}})
  _write_run(tmp_path, "mnist_50", 1, 0.03, config=_config_json(1))
  with pytest.raises(ValueError, match="data.labels, model.encoder.normalize_logits"):
    seed_statistics.collect(str(tmp_path), "mnist_50")


def test_a_record_older_than_a_field_aggregates_with_that_fields_default_only(tmp_path):
  # The older record lacks model.discriminator.batch_mean: it ran as if false.
  newer = lambda seed, batch_mean: {**_config_json(seed),
                                    "model": {"encoder": {"normalize_logits": True},
                                              "discriminator": {"batch_mean": batch_mean}}}
  _write_run(tmp_path, "mnist_100", 0, 0.01, config=_config_json(0))
  _write_run(tmp_path, "mnist_100", 1, 0.03, config=newer(1, False))
  assert seed_statistics.collect(str(tmp_path), "mnist_100").errors == pytest.approx((1.0, 3.0))
  _write_run(tmp_path, "mnist_50", 0, 0.01, config=_config_json(0))
  _write_run(tmp_path, "mnist_50", 1, 0.03, config=newer(1, True))
  with pytest.raises(ValueError, match="differ in model.discriminator.batch_mean"):
    seed_statistics.collect(str(tmp_path), "mnist_50")


def test_unsupervised_rows_read_the_clustering_error(tmp_path):
  _write_run(tmp_path, "mnist_unsupervised", 0, 0.05, metric="clustering_error")
  assert seed_statistics.collect(str(tmp_path), "mnist_unsupervised").errors == pytest.approx((5.0,))
  _write_run(tmp_path, "mnist_20", 0, 0.05, metric="clustering_error")
  with pytest.raises(ValueError, match="no test 'error'"):
    seed_statistics.collect(str(tmp_path), "mnist_20")


def test_learning_curve_reads_step_time_and_errors(tmp_path):
  _write_run(tmp_path, "mnist_100", 0, 0.04, step=2000, seconds=90.0)
  curve = learning_curves.learning_curve(
      os.path.join(rows.run_directory(str(tmp_path), "mnist_100", 0), "results.json"))
  assert curve == [pytest.approx((2000, 1.5, 4.0, 4.0))]


def test_learning_curve_of_an_unsupervised_row_reads_its_clustering_error(tmp_path):
  _write_run(tmp_path, "mnist_unsupervised", 0, 0.25, metric="clustering_error")
  run = rows.run_directory(str(tmp_path), "mnist_unsupervised", 0)
  assert learning_curves.metric_of_run(run) == "clustering_error"
  assert learning_curves.metric_of_run(str(tmp_path / "my_run")) == "error"
  path = os.path.join(run, "results.json")
  with open(path) as f:
    results = json.load(f)
  del results["history"][0]["validation"]["clustering_error"]   # scored on test only
  with open(path, "w") as f:
    json.dump(results, f)
  assert learning_curves.learning_curve(path) == []
  [(step, minutes, validation, test)] = learning_curves.learning_curve(path, "clustering_error")
  assert (step, test) == (1000, pytest.approx(25.0)) and minutes == pytest.approx(10.0)
  assert np.isnan(validation)
  # The printed table drops the validation column that no evaluation filled.
  assert aggregate.curve_table(run).splitlines() == [
      "| step | training min | test clustering error % |", "|---|---|---|",
      "| 1000 | 10.0 | 25.00 |"]


def test_plot_curves_draws_a_png_with_every_seed_of_a_row(tmp_path):
  for seed, error in enumerate([0.03, 0.02]):
    _write_run(tmp_path, "mnist_100", seed, error)
  out = tmp_path / "figures" / "curve.png"
  assert plot_curves.plot_row(str(tmp_path / "mnist_100"), str(out), goal=2.0) == 2
  from matplotlib import pyplot
  image = pyplot.imread(str(out))
  assert image.shape[:2] == (480, 720) and image.std() > 0


def test_plot_curves_names_a_row_without_runs_or_without_classification_errors(tmp_path):
  with pytest.raises(FileNotFoundError, match="No seed"):
    plot_curves.plot_row(str(tmp_path / "mnist_100"), str(tmp_path / "curve.png"))
  _write_run(tmp_path, "mnist_gaussian", 0, 90.0, metric="nll_only")
  with pytest.raises(ValueError, match="no evaluation with a test 'error'"):
    plot_curves.plot_row(str(tmp_path / "mnist_gaussian"), str(tmp_path / "curve.png"))


def _tiny_images(count, seed=0):
  rng = np.random.default_rng(seed)
  return [rng.integers(0, 2, (count, 8, 8, 1)).astype(np.float32) for _ in range(2)]


def test_code_usage_is_zero_for_a_decoder_deaf_to_the_code_and_positive_otherwise():
  model = PixelGANAutoencoder(config_lib.model_preset("tiny"))
  model.build()
  heard = code_usage.code_usage(model, _tiny_images(6))
  assert heard["gain"] != pytest.approx(0.0, abs=1e-4)
  assert heard["other"] == pytest.approx(heard["own"] + heard["gain"])
  for variable in model.decoder.weights:
    if "invariant_bias" in variable.path:
      variable.assign(np.zeros(variable.shape))
  deaf = code_usage.code_usage(model, _tiny_images(6))
  assert deaf["gain"] == pytest.approx(0.0, abs=1e-4)
  assert deaf["one_hot"] == pytest.approx(deaf["own"], abs=1e-4)


def test_code_usage_needs_a_code_and_two_images_a_batch():
  with pytest.raises(ValueError, match="no code"):
    code_usage.code_usage(PixelGANAutoencoder(config_lib.model_preset("tiny", kind="pixelcnn")),
                          _tiny_images(4))
  model = PixelGANAutoencoder(config_lib.model_preset("tiny"))
  model.build()
  with pytest.raises(ValueError, match="two or more"):
    code_usage.code_usage(model, _tiny_images(1))


def test_share_between_clusters_is_one_when_the_clusters_cut_a_class_by_the_value():
  # Class 0 falls in two clusters by its value; class 1 has its range in each cluster.
  values = np.array([-10.0, -10.0, 10.0, 10.0, -5.0, 5.0, -5.0, 5.0])
  labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
  winners = np.array([3, 3, 7, 7, 3, 3, 7, 7])
  shares = cluster_report.share_between_clusters(values, labels, winners, num_classes=3)
  assert shares[0] == pytest.approx(1.0)
  assert shares[1] == pytest.approx(0.0)
  assert np.isnan(shares[2])                       # no images of class 2


def test_share_between_clusters_weighs_each_cluster_by_its_images():
  # Class 0: values 0, 0, 6 in cluster 1 (mean 2) and 2 in cluster 2; class mean 2,
  # so nothing lies between the clusters.
  labels = np.zeros(4, np.int64)
  winners = np.array([1, 1, 1, 2])
  assert cluster_report.share_between_clusters(
      np.array([0.0, 0.0, 6.0, 2.0]), labels, winners, 1)[0] == pytest.approx(0.0)
  # Values 0, 0, 3, 1: mean 1, squares 1 + 1 + 4 + 0 = 6; cluster 1's mean is 1 too.
  assert cluster_report.share_between_clusters(
      np.array([0.0, 0.0, 3.0, 1.0]), labels, winners, 1)[0] == pytest.approx(0.0)
  # Values 0, 0, 0, 2: mean 0.5, squares 3 * 0.25 + 2.25 = 3; between, cluster 1
  # (3 images at 0) gives 3 * 0.25 and cluster 2 (one at 2) 2.25: all of it.
  assert cluster_report.share_between_clusters(
      np.array([0.0, 0.0, 0.0, 2.0]), labels, winners, 1)[0] == pytest.approx(1.0)
  # Values 0, 2, 0, 2: mean 1, squares 4; cluster 1's mean 2/3 (3 images), cluster 2's 2.
  assert cluster_report.share_between_clusters(
      np.array([0.0, 2.0, 0.0, 2.0]), labels, winners, 1)[0] == pytest.approx(
          (3 * (1 / 3) ** 2 + 1 * 1.0) / 4.0)


def test_share_between_clusters_leaves_a_class_without_spread_undefined():
  shares = cluster_report.share_between_clusters(
      np.array([2.0, 2.0, 1.0]), np.array([0, 0, 1]), np.array([0, 1, 0]), 2)
  assert np.isnan(shares).all()


def test_cluster_report_compares_the_protocols_labels_with_the_commonest_ones():
  # Two clusters. Cluster 0's most confident validation image is a 7 among 1s, so
  # the protocol calls it 7; the commonest validation label is 1.
  val_probs = np.array([[0.99, 0.01], [0.8, 0.2], [0.7, 0.3], [0.1, 0.9]])
  val_labels = np.array([7, 1, 1, 4])
  test_probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]])
  test_labels = np.array([1, 1, 7, 4, 9])
  report = cluster_report.cluster_report(val_probs, val_labels, test_probs, test_labels)
  assert report["protocol_error"] == pytest.approx(3 / 5)       # 1, 1 -> 7 and 9 -> 4
  assert report["validation_majority_error"] == pytest.approx(2 / 5)
  assert report["purity_error"] == pytest.approx(2 / 5)
  assert report["clusters"] == [
      {"cluster": 0, "images": 3, "protocol_label": 7, "majority_label": 1,
       "purity": pytest.approx(2 / 3)},
      {"cluster": 1, "images": 2, "protocol_label": 4, "majority_label": 4,
       "purity": pytest.approx(1 / 2)}]


class _IntensityEncoder:
  """A stand-in model whose two-cluster q(z|x) is (share of 1-bits, the rest) of an image.

  With a noise seed the share moves by up to 0.1, uniformly.
  """

  def encoder_outputs(self, images, seed=None, training=False):
    del training   # nothing normalized
    share = tf.reduce_mean(images, axis=[1, 2, 3])
    if seed is not None:
      share = share + tf.random.stateless_uniform(tf.shape(share), seed, -0.1, 0.1)
    probabilities = tf.stack([share, 1.0 - share], axis=-1)
    return {"categorical": probabilities, "categorical_logits": tf.math.log(probabilities)}


def test_mean_class_probabilities_average_binarizations_of_the_intensities():
  model = _IntensityEncoder()
  images = np.full([5, 4, 4, 1], 64, np.uint8)   # each bit 1 with probability 1/4
  labels = np.zeros(5, np.int64)
  data = config_lib.DataConfig(binarize=True, seed=3, batch_size=2)
  draws = [trained_run.class_probabilities(model, images, labels,
                                           trained_run.binarization_config(data, d))
           for d in range(6)]
  np.testing.assert_array_equal(
      trained_run.class_probabilities(model, images, labels, data), draws[0])
  assert not np.array_equal(draws[0], draws[1])          # another draw of the bits
  np.testing.assert_array_equal(
      trained_run.mean_class_probabilities(model, images, labels, data, 1), draws[0])
  averaged = trained_run.mean_class_probabilities(model, images, labels, data, 6)
  np.testing.assert_allclose(averaged, np.mean(draws, axis=0), rtol=1e-6)
  # Draw 0 given by the caller is used as it is, not computed again.
  np.testing.assert_allclose(
      trained_run.mean_class_probabilities(model, images, labels, data, 6,
                                           protocol_draw=np.zeros_like(draws[0])),
      np.sum(draws[1:], axis=0) / 6, rtol=1e-6)
  # Six draws of 16 bits: closer to the intensity's 1/4 than one draw, on average.
  assert np.abs(averaged[:, 0] - 0.25).mean() < np.abs(draws[0][:, 0] - 0.25).mean()
  # Unbinarized pixels have one draw only.
  gray = dataclasses.replace(data, binarize=False)
  np.testing.assert_array_equal(trained_run.mean_class_probabilities(model, images, labels,
                                                                     gray, 3),
                                trained_run.class_probabilities(model, images, labels, gray))
  with pytest.raises(ValueError, match="at least one"):
    trained_run.mean_class_probabilities(model, images, labels, data, 0)
  with pytest.raises(ValueError, match="count from 0"):
    trained_run.binarization_config(data, -1)


def test_noise_class_probabilities_draw_the_encoders_noise_per_draw_and_batch():
  model = _IntensityEncoder()
  images = np.full([5, 4, 4, 1], 128, np.uint8)
  labels = np.zeros(5, np.int64)
  data = config_lib.DataConfig(binarize=False, batch_size=2)   # every image the same
  draws = trained_run.noise_class_probabilities(model, images, labels, data, 3)
  assert draws.shape == (3, 5, 2)
  np.testing.assert_allclose(draws.sum(-1), 1.0, rtol=1e-6)
  np.testing.assert_array_equal(
      draws[1], trained_run.class_probabilities(model, images, labels, data, noise_draw=1))
  assert not np.allclose(draws[0], draws[1])                   # another draw
  assert len(np.unique(draws[0, :, 0])) == 5                   # another seed per batch too
  # Without a draw the encoder is deterministic: one value for the five equal images.
  assert len(np.unique(trained_run.class_probabilities(model, images, labels, data))) == 2
  with pytest.raises(ValueError, match="at least once"):
    trained_run.noise_class_probabilities(model, images, labels, data, 0)


def test_batch_statistics_normalize_each_batch_and_keep_the_moving_averages():
  tiny = config_lib.model_preset("tiny")
  model = PixelGANAutoencoder(dataclasses.replace(
      tiny, encoder=dataclasses.replace(tiny.encoder, normalize_logits=True)))
  model.build()
  norm = model.encoder.logit_norm
  norm.moving_mean.assign(np.array([50.0, -50.0, 0.0], np.float32))   # far from any batch's
  images = np.random.default_rng(0).integers(0, 256, (8, 8, 8, 1)).astype(np.uint8)
  labels = np.zeros(8, np.int64)
  data = config_lib.DataConfig(binarize=True, batch_size=4)
  kept = [variable.numpy() for variable in model.encoder.non_trainable_variables]
  _, moving = trained_run.class_probabilities_and_logits(model, images, labels, data)
  probabilities, batch = trained_run.class_probabilities_and_logits(
      model, images, labels, data, batch_statistics=True)
  # Normalized without an offset: each batch of 4 averages 0 in every category.
  np.testing.assert_allclose(batch.reshape(2, 4, 3).mean(1), 0.0, atol=1e-4)
  assert np.abs(moving.reshape(2, 4, 3).mean(1)).max() > 1.0
  np.testing.assert_allclose(probabilities, tf.nn.softmax(batch).numpy(), rtol=1e-5)
  for variable, value in zip(model.encoder.non_trainable_variables, kept):
    np.testing.assert_array_equal(variable.numpy(), value)


def test_log_odds_keep_ordering_probabilities_that_saturate():
  logits = np.array([[40.0, 0.0, 0.0], [30.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
  odds = cluster_report.log_odds(logits)
  assert odds[0, 0] > odds[1, 0] > odds[2, 0]
  # log(q / (1 - q)) with q = (1, e, 1) / (2 + e).
  np.testing.assert_allclose(odds[2], [-np.log1p(np.e), 1 - np.log(2), -np.log1p(np.e)],
                             atol=1e-12)


def test_cluster_report_names_tied_clusters_by_the_first_image_or_the_exact_maximiser():
  # Both validation images of cluster 0 have probability 1 in float32; the
  # protocol takes the first (a 7), the exact maximiser the second (a 1).
  val_logits = np.array([[30.0, 0.0], [40.0, 0.0], [0.0, 5.0]], np.float32)
  val_probs = np.exp(val_logits) / np.exp(val_logits).sum(-1, keepdims=True)
  assert val_probs[0, 0] == val_probs[1, 0] == 1.0
  val_labels = np.array([7, 1, 4])
  test_probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8]])
  test_labels = np.array([1, 1, 4])
  report = cluster_report.cluster_report(val_probs, val_labels, test_probs, test_labels,
                                         val_logits)
  assert report["most_ties"] == 2
  assert report["protocol_error"] == pytest.approx(2 / 3)
  assert report["exact_maximiser_error"] == 0.0


def test_class_report_counts_errors_per_class_and_the_commonest_confusions():
  labels = np.array([0, 0, 1, 1, 1, 2, 2, 2, 2])
  predicted = np.array([0, 1, 1, 2, 2, 2, 1, 0, 2])
  confusion = class_report.confusion_matrix(labels, predicted, 4)
  np.testing.assert_array_equal(
      confusion, [[1, 1, 0, 0], [0, 1, 2, 0], [1, 1, 2, 0], [0, 0, 0, 0]])
  assert class_report.commonest_confusions(confusion, 2) == [(1, 2, 2), (0, 1, 1)]
  # Only the four confusions there are, however many are asked for.
  assert len(class_report.commonest_confusions(confusion, 10)) == 4


def test_noise_draw_errors_average_the_draws_before_the_argmax():
  labels = np.array([0, 1, 1])
  deterministic = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
  # Image 2 is wrong at n = 0 and in the first draw, right in the second by a wide
  # margin: the mean of the draws classifies it right, a majority vote could not.
  noisy = np.array([[[0.8, 0.2], [0.3, 0.7], [0.55, 0.45]],
                    [[0.6, 0.4], [0.4, 0.6], [0.1, 0.9]]])
  errors = class_report.noise_draw_errors(noisy, labels, deterministic)
  assert errors["averaged_error"] == 0.0
  np.testing.assert_allclose(errors["draw_errors"], [1 / 3, 0.0])
  assert errors["moved"] == pytest.approx(1 / 6)    # one (draw, image) pair of six


def test_class_report_names_the_labelled_images_it_misreads():
  labels = np.array([1, 1, 3, 6])
  assert class_report.misread_labelled(labels, np.array([6, 1, 7, 6])) == "1 as 6, 3 as 7"
  assert class_report.misread_labelled(labels, labels) == ""


def test_class_report_draws_the_four_groups_of_a_pair_with_their_mean_first():
  # Class 4 images are filled with 10 (as 4) or 30 (as 9), class 9 images with 50 or 70.
  labels = np.array([4, 4, 4, 9, 9, 9, 1])
  predicted = np.array([4, 9, 9, 4, 9, 9, 9])
  fills = np.array([10, 30, 30, 50, 70, 70, 200], np.uint8)
  images = np.broadcast_to(fills[:, None, None, None], (7, 2, 3, 1)).copy()
  images[2] += 2                                  # the two "4 as 9" images differ
  grid = class_report.pair_groups(images, labels, predicted, (4, 9), examples=3)
  assert grid.shape == (4 * 2, 4 * 3, 1) and grid.dtype == np.uint8
  tiles = grid.reshape(4, 2, 4, 3).transpose(0, 2, 1, 3)[..., 0, 0]   # [row, column]
  np.testing.assert_array_equal(tiles[:, 0], [10, 31, 50, 70])       # means (30 and 32 -> 31)
  np.testing.assert_array_equal(tiles[0], [10, 10, 0, 0])            # one image, then black
  assert sorted(tiles[1, 1:3]) == [30, 32] and tiles[1, 3] == 0
  assert 200 not in grid                                             # the 1 is in no group


def test_class_report_gives_each_group_of_a_pair_the_median_lean_of_its_strokes():
  upright = np.zeros([9, 9, 1]); upright[1:8, 4] = 255
  top_right = np.zeros([9, 9, 1]); top_right[np.arange(9), 8 - np.arange(9)] = 255
  top_left = top_right[:, ::-1]
  images = np.stack([upright, top_right, top_right, top_left, upright])
  labels = np.array([4, 4, 4, 9, 9])
  predicted = np.array([4, 9, 9, 9, 9])        # no 9 is read as a 4
  leans = class_report.pair_group_leans(images, labels, predicted, (4, 9))
  assert leans[0] == pytest.approx(0.0) and leans[1] == pytest.approx(45.0)
  assert np.isnan(leans[2]) and leans[3] == pytest.approx(-22.5)   # median of -45 and 0


def test_scripts_print_commands_and_tables(tmp_path):
  run = lambda *args: subprocess.run([sys.executable, "-m", *args], capture_output=True,
                                     text=True, cwd=ROOT, timeout=120)
  dry = run("experiments.run_table1", "--rows=mnist_50,norb_1000", "--seeds=3",
            f"--root={tmp_path}", "--dry_run")
  assert dry.returncode == 0, dry.stderr
  assert dry.stdout.splitlines() == [
      f"python launch/main.py --preset=mnist_semi --set=data.labels=50 --seed=3 "
      f"--workdir={tmp_path}/mnist_50/seed3",
      f"python launch/main.py --preset=norb_semi --set=data.labels=1000 --seed=3 "
      f"--workdir={tmp_path}/norb_1000/seed3"]
  every_row = run("experiments.run_table1", "--rows=all", "--seeds=0", f"--root={tmp_path}",
                  "--dry_run")
  assert every_row.returncode == 0, every_row.stderr
  assert [line.split("--workdir=")[1].split("/")[-2] for line in every_row.stdout.splitlines()
          ] == sorted(rows.PROTOCOL_ROWS)   # 'all' leaves the opt-in rows out
  own_seeds = run("experiments.run_table1", "--rows=mnist_100_cpu_hour", f"--root={tmp_path}",
                  "--dry_run")
  assert own_seeds.returncode == 0, own_seeds.stderr
  assert [line.split()[-2] for line in own_seeds.stdout.splitlines()] == [
      f"--seed={seed}" for seed in rows.ROWS["mnist_100_cpu_hour"].seeds]
  bad = run("experiments.run_table1", "--rows=mnist_7", "--dry_run")
  assert bad.returncode != 0 and "Unknown row 'mnist_7'" in bad.stderr
  _write_run(tmp_path, "mnist_50", 0, 0.02)
  table = run("experiments.aggregate", f"--root={tmp_path}", "--rows=mnist_50")
  assert table.returncode == 0, table.stderr
  assert "| MNIST 50 | 1.16 ± 0.17 | 2.00 (one seed) | 1 |" in table.stdout
  curve = run("experiments.aggregate", f"--curve={tmp_path}/mnist_50/seed0")
  assert curve.returncode == 0 and "| 1000 | 10.0 | 2.00 | 2.00 |" in curve.stdout
  _write_run(tmp_path, "mnist_20_deskewed", 0, 0.05)
  every = run("experiments.aggregate", f"--root={tmp_path}")
  assert every.returncode == 0, every.stderr
  assert every.stdout.splitlines()[-1].startswith(
      "| MNIST 20, deskewed, outside the protocol | 12.08 ± 5.50 | 5.00 (one seed) | 1 |")
  clusters = run("experiments.cluster_report", f"--workdir={tmp_path}/empty")
  assert clusters.returncode != 0 and "holds no run" in clusters.stderr
  classes = run("experiments.class_report", f"--workdir={tmp_path}/empty")
  assert classes.returncode != 0 and "holds no run" in classes.stderr
  half = run("experiments.class_report", f"--workdir={tmp_path}/empty", "--pair=4,9")
  assert half.returncode != 0 and "--pair and --figure go together" in half.stderr


def test_labelled_images_tiles_each_seeds_chosen_classes_in_class_order():
  def splits(offset):
    images = (np.arange(6, dtype=np.uint8) + offset)[:, None, None, None] * np.ones(
        [6, 2, 2, 1], np.uint8)
    return dataclasses.replace(stand_in_splits.three_class_splits(), labeled_images=images,
                               labeled_labels=np.array([2, 0, 1, 0, 2, 1]))
  grid = labelled_images.labelled_rows({5: splits(0), 7: splits(100)}, classes=[2, 0])
  assert grid.shape == (4, 8, 1)
  # Row by seed, then the class-2 images and the class-0 images in their order.
  assert grid[0, ::2, 0].tolist() == [0, 4, 1, 3]
  assert grid[2, ::2, 0].tolist() == [100, 104, 101, 103]


def test_labelled_images_draws_named_training_images_in_the_given_order():
  images = np.arange(5, dtype=np.uint8)[:, None, None, None] * np.ones([5, 2, 2, 1], np.uint8)
  row = labelled_images.named_row(images, [3, 0, 4])
  assert row.shape == (2, 6, 1)
  assert row[0, ::2, 0].tolist() == [3, 0, 4]


def test_labelled_images_names_a_subset_as_the_training_flags_read_it():
  setting = labelled_images.subset_setting(np.array([3, 17, 40], np.int64))
  assert setting == "--set=data.labeled_indices=3,17,40"
  config, _ = config_overrides.from_command_line(
      "mnist_semi", {}, [setting[len("--set="):], "data.labels=3"])
  assert config.data.labeled_indices == (3, 17, 40)


@pytest.mark.parametrize("positions", [[5], [-1]])
def test_labelled_images_refuses_positions_outside_the_training_images(positions):
  images = np.zeros([5, 2, 2, 1], np.uint8)
  with pytest.raises(ValueError,
                     match=r"--training_images \[-?\d\] are not among the 5 training images"):
    labelled_images.named_row(images, positions)


@pytest.mark.parametrize("values,message", [
    (["4", "10"], r"--classes \[10\] are not classes of the dataset \(0 to 9\)"),
    (["four"], "--classes takes class numbers, got four"),
])
def test_labelled_images_refuses_classes_the_dataset_lacks(values, message):
  with pytest.raises(ValueError, match=message):
    labelled_images._classes(values, 10)


@pytest.mark.parametrize("values,message", [
    (["0", "x"], "--seeds takes whole numbers, got 0,x"),
    (["1", "-2"], "--seeds takes one or more whole numbers >= 0, got 1,-2"),
])
def test_labelled_images_refuses_seeds_that_are_not_seeds(values, message):
  with pytest.raises(ValueError, match=message):
    labelled_images._seeds(values)


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
