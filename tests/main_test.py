"""End to end: launch/main.py on the tiny preset over a few hundred real MNIST images.

The command line runs in a fresh process where that is what a test proves (the
CLI's exit status, a SavedModel read without pixelgan_tf, a killed run); the
other modes, reports and refusals run in this process (tests/scripts.py).
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf

from experiments import class_report, cluster_report
from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides
from tests import scripts

ROOT = scripts.ROOT


def _cluster_report(capsys, workdir, *flags):
  return scripts.in_process(capsys, cluster_report.main, f"--workdir={workdir}", *flags)


def _class_report(capsys, workdir, *flags):
  return scripts.in_process(capsys, class_report.main, f"--workdir={workdir}", *flags)


def _tensorboard_tags(directory):
  tags = set()
  for path in glob.glob(os.path.join(directory, "**", "events.out.tfevents.*"), recursive=True):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        tags.add(value.tag)
  return tags


_RELOAD = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    loaded = tf.saved_model.load(sys.argv[1])
    raw = tf.random.stateless_uniform([3, 28, 28, 1], seed=[1, 2], maxval=256, dtype=tf.int32)
    images = loaded.prepare(tf.cast(raw, tf.uint8), tf.constant([5, 6]))["images"]
    assert set(np.unique(images.numpy())) <= {0.0, 1.0}   # binarized, as the run's data
    probabilities = loaded.classify(images)["probabilities"].numpy()
    log_prob = loaded.log_prob(images)["log_prob"].numpy()
    samples = loaded.sample_classes(tf.constant([0, 1], tf.int32), tf.constant([1, 2]))
    samples = samples["images"].numpy()
    assert "pixelgan_tf" not in sys.modules
    outputs = {name: sorted(s.structured_outputs) for name, s in loaded.signatures.items()}
    assert outputs == {"serving_default": ["log_prob"], "prepare": ["images"],
                       "log_prob": ["log_prob"],
                       "encode": ["code"], "classify": ["probabilities"],
                       "sample": ["images"], "sample_classes": ["images"]}, outputs
    assert probabilities.shape == (3, 10) and np.allclose(probabilities.sum(-1), 1, atol=1e-5)
    assert log_prob.shape == (3,) and np.all(log_prob < 0)
    assert samples.shape == (2, 28, 28, 1) and set(np.unique(samples)) <= {0.0, 1.0}
    print("reloaded")
""")


def test_train_evaluate_export_and_reload(data_dir, tmp_path, capsys):
  workdir = str(tmp_path / "run")
  result = scripts.main_process("--preset=tiny", f"--data_dir={data_dir}", f"--workdir={workdir}")
  assert result.returncode == 0, result.stderr[-3000:]
  # The run's own lines, one per evaluation, without the libraries' INFO lines and warnings.
  assert "] step 10: {" in result.stderr and "] step 20: {" in result.stderr
  for noise in ("dataset_info.py", "reader.py", "signature_serialization.py", "shuffle=True",
                "differ on disk"):
    assert noise not in result.stderr, noise
  config = json.load(open(os.path.join(workdir, "config.json")))
  assert config["model"]["image_shape"] == [28, 28, 1] and config["model"]["num_classes"] == 10
  assert config["data"]["labels"] == 20
  assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("ckpt-20")
  results = json.load(open(os.path.join(workdir, "results.json")))
  assert results["step"] == 20 and [h["step"] for h in results["history"]] == [10, 20]
  test = results["final"]["test"]
  assert np.isfinite(test["nll"]) and test["nll"] > 0 and 0 <= test["error"] <= 1
  tags = _tensorboard_tags(os.path.join(workdir, "tensorboard"))
  assert {"nll", "discriminator_loss", "generator_loss", "supervised_loss",
          "learning_rate/reconstruction", "test/error", "validation/bits_per_dim",
          "code/categorical", "inputs_and_samples", "samples_per_category"} <= tags
  reload = subprocess.run([sys.executable, "-c", _RELOAD, os.path.join(workdir, "export")],
                          capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert reload.returncode == 0 and "reloaded" in reload.stdout, reload.stderr[-3000:]

  # The other modes on the trained run: evaluation reproduces the final test metrics,
  # sampling writes PNG grids.
  run_flags = ["--preset=tiny", f"--data_dir={data_dir}", f"--workdir={workdir}"]
  evaluated = scripts.main_here(capsys, "--mode=eval", *run_flags)
  assert evaluated.returncode == 0, evaluated.stderr[-3000:]
  again = json.load(open(os.path.join(workdir, "results.json")))["final"]["test"]
  np.testing.assert_allclose(again["error"], test["error"])
  np.testing.assert_allclose(again["nll"], test["nll"], rtol=1e-4)
  sampled = scripts.main_here(capsys, "--mode=sample", *run_flags)
  assert sampled.returncode == 0, sampled.stderr[-3000:]
  pngs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(workdir, "samples", "*.png")))
  assert pngs == ["inputs_and_samples_step20.png", "samples_per_category_step20.png"]
  grid = tf.io.decode_png(tf.io.read_file(os.path.join(workdir, "samples", pngs[1])))
  assert grid.shape == (10 * 28, 2 * 28, 1)     # one row per class, two samples each

  # A semi-supervised run has classes, not clusters: the cluster report refuses it.
  refused = _cluster_report(capsys, workdir)
  assert refused.returncode != 0
  assert "is not an unsupervised run" in refused.stderr, refused.stderr[-2000:]
  # The class report restores it, repeats its test error and draws a pair's groups.
  figure = str(tmp_path / "pair.png")
  report = _class_report(capsys, workdir, "--pair=4,9", f"--figure={figure}", "--noise_draws=2")
  assert report.returncode == 0, report.stderr[-3000:]
  lines = report.stdout.splitlines()
  assert lines[0].endswith(f"test error {100 * test['error']:.2f} %"), lines[0]
  noise = [line for line in lines if "averaged over 2 noise draws" in line]
  assert len(noise) == 1, lines
  images = int(lines[0].split(",")[1].split()[0])
  errors = [int(e) for e in lines[1].split(":")[1].split(",")]
  assert len(errors) == 10 and sum(errors) == round(test["error"] * images)
  labeled = [line for line in lines if line.startswith("labelled training images classified")]
  assert len(labeled) == 1 and labeled[0].endswith(" of 20"), lines   # the preset's 20 labels
  right = int(labeled[0].split(":")[1].split()[0])
  assert 0 <= right <= 20
  # Each labelled image read wrong is named once, as "class as predicted class".
  misread = [line.split(": ")[1].split(", ") for line in lines
             if line.startswith("labelled training images read wrong: ")]
  assert [len(names) for names in misread] == ([20 - right] if right < 20 else []), lines
  assert tf.io.decode_png(tf.io.read_file(figure)).shape == (4 * 28, 13 * 28, 1)
  bad_pair = _class_report(capsys, workdir, "--pair=4,4", f"--figure={figure}")
  assert bad_pair.returncode != 0 and "two different classes" in bad_pair.stderr

  # Another configuration in the same directory is refused, and nothing is overwritten.
  before = open(os.path.join(workdir, "config.json")).read()
  other = scripts.main_here(capsys, *run_flags, "--set=model.decoder.filters=16")
  assert other.returncode == 1
  assert "holds a run of another configuration" in other.stderr
  assert "model.decoder" in other.stderr
  assert open(os.path.join(workdir, "config.json")).read() == before


def test_cluster_report_restores_an_unsupervised_run_and_repeats_its_clustering_error(
    data_dir, tmp_path, capsys):
  workdir = str(tmp_path / "run")
  trained = scripts.main_here(capsys, "--preset=tiny", "--labels=0", "--categories=6",
                              f"--data_dir={data_dir}", f"--workdir={workdir}",
                              "--set=train.sample_every=100")
  assert trained.returncode == 0, trained.stderr[-3000:]
  final = json.load(open(os.path.join(workdir, "results.json")))["final"]["test"]
  report = _cluster_report(capsys, workdir, "--binarizations=3", "--noise_draws=2", "--styles")
  assert report.returncode == 0, report.stderr[-3000:]
  refused = _class_report(capsys, workdir)
  assert refused.returncode != 0 and "use experiments.cluster_report" in refused.stderr
  lines = report.stdout.splitlines()
  errors = {line.split(":")[0].strip(): float(line.split(":")[1].split()[0])
            for line in lines if line.strip().endswith("%") and ":" in line}
  # The restored weights and the script's own batching give the training run's number.
  assert errors["protocol_error"] == pytest.approx(100 * final["clustering_error"], abs=0.006)
  assert errors["purity_error"] <= errors["validation_majority_error"] + 1e-9
  assert errors["purity_error"] <= errors["protocol_error"] + 1e-9
  averaged = {name: value for name, value in errors.items() if name.startswith("averaged_")}
  assert set(averaged) == {"averaged_protocol_error (3 binarizations)",
                           "averaged_purity_error (3 binarizations)"}
  assert (averaged["averaged_purity_error (3 binarizations)"]
          <= averaged["averaged_protocol_error (3 binarizations)"] + 1e-9)
  noisy = {name: value for name, value in errors.items() if name.startswith("noise_averaged_")}
  assert set(noisy) == {"noise_averaged_protocol_error (2 noise draws)",
                        "noise_averaged_purity_error (2 noise draws)"}
  assert 0 <= errors["test images a noise draw moves to another cluster"] <= 100
  table_rows = [line.split("|") for line in lines if line.startswith("| ") and line[2].isdigit()]
  rows = [row for row in table_rows if len(row) == 7]          # one per cluster, five columns
  assert 1 <= len(rows) <= 6
  assert sum(int(row[2]) for row in rows) == int(lines[0].split(",")[1].split()[0])
  # --styles: one row per class, each share of the lean's and the ink's spread in [0, 1]
  # (nan where the class's images all fall in one value).
  styles = [row for row in table_rows if len(row) == 6]
  assert [int(row[1]) for row in styles] == list(range(10))
  shares = np.array([[float(row[3]), float(row[4])] for row in styles])
  assert np.all((shares[~np.isnan(shares)] >= 0) & (shares[~np.isnan(shares)] <= 1)), shares
  assert 1 <= min(int(row[2]) for row in styles) <= max(int(row[2]) for row in styles) <= 6


def test_a_run_trains_its_steps_exactly_when_a_round_is_longer(data_dir, tmp_path, capsys):
  workdir = str(tmp_path / "run")
  args = ["--preset=tiny", f"--data_dir={data_dir}", f"--workdir={workdir}", "--steps=7",
          "--set=train.eval_every=5", "--set=train.sample_every=100"]
  finished = scripts.main_here(capsys, *args)
  assert finished.returncode == 0, finished.stderr[-3000:]
  results = json.load(open(os.path.join(workdir, "results.json")))
  assert results["step"] == 7 and [h["step"] for h in results["history"]] == [5, 7]
  assert tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints")).endswith("ckpt-7")
  # Given more steps, the resumed run finishes its round first: back on the grid of 5.
  args[3] = "--steps=17"
  resumed = scripts.main_here(capsys, *args)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  results = json.load(open(os.path.join(workdir, "results.json")))
  assert [h["step"] for h in results["history"]] == [5, 7, 10, 15, 17]


def test_an_interrupted_run_resumes_where_it_stopped(data_dir, tmp_path, capsys, caplog):
  workdir = str(tmp_path / "run")
  args = ["--preset=tiny", f"--data_dir={data_dir}", f"--workdir={workdir}", "--steps=30",
          "--set=train.sample_every=100", "--set=train.decay_fraction=0.5"]
  process = subprocess.Popen([sys.executable, os.path.join(ROOT, "launch", "main.py"), *args],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  index = os.path.join(workdir, "checkpoints", "checkpoint")
  deadline = time.time() + 300
  while not os.path.exists(index) and time.time() < deadline and process.poll() is None:
    time.sleep(0.2)
  process.send_signal(signal.SIGKILL)
  process.wait()
  interrupted_at = int(tf.train.latest_checkpoint(os.path.dirname(index)).split("-")[-1])
  assert interrupted_at < 30
  resumed = scripts.main_here(capsys, *args)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert f"Resumed from {os.path.join(workdir, 'checkpoints', 'ckpt-')}" in caplog.text
  results = json.load(open(os.path.join(workdir, "results.json")))
  assert results["step"] == 30
  steps = [h["step"] for h in results["history"]]
  # The next round after the restored checkpoint is recorded: no step was repeated or lost.
  assert steps == sorted(set(steps)) and steps[-1] == 30 and interrupted_at + 10 in steps
  # Training time is carried over the resume: it only grows.
  seconds = [h["train_seconds"] for h in results["history"]]
  assert seconds[0] > 0 and seconds == sorted(seconds) and len(set(seconds)) == len(seconds)
  # The rates decayed from the configured ones, not from the restored (decayed) ones:
  # the last step, 29 of 30, ran at (1 - 29/30) / 0.5 of them.
  rate = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", "ckpt-30")).get_tensor(
      "optimizers/reconstruction/1/.ATTRIBUTES/VARIABLE_VALUE")
  base = config_lib.experiment("tiny").model.phases.reconstruction_learning_rate
  assert rate == pytest.approx(base / 15, rel=1e-4)


def test_a_time_budget_stops_the_run_and_evaluates_where_it_stopped(data_dir, tmp_path,
                                                                    capsys):
  workdir = str(tmp_path / "run")
  # One round longer than the budget: the run stops inside it and evaluates once.
  args = ["--preset=tiny", f"--data_dir={data_dir}", f"--workdir={workdir}", "--steps=100000",
          "--set=train.time_budget_s=2", "--set=train.eval_every=100000",
          "--set=train.sample_every=100"]
  result = scripts.main_here(capsys, *args)
  assert result.returncode == 0, result.stderr[-3000:]
  results = json.load(open(os.path.join(workdir, "results.json")))
  step = results["step"]
  assert 0 < step < 100000
  assert results["history"][-1]["step"] == step and results["history"][-1]["train_seconds"] >= 2
  checkpoint = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
  assert checkpoint.endswith(f"ckpt-{step}")
  # Rerunning with the budget spent trains no further.
  again = scripts.main_here(capsys, *args)
  assert again.returncode == 0, again.stderr[-3000:]
  assert json.load(open(os.path.join(workdir, "results.json")))["step"] == step


def test_a_diverging_run_stops_and_keeps_the_last_good_checkpoint(data_dir, tmp_path, capsys):
  workdir = str(tmp_path / "run")
  bad = scripts.main_here(capsys, "--preset=tiny", f"--data_dir={data_dir}",
                          f"--workdir={workdir}", "--steps=40", "--set=train.sample_every=100",
                          "--set=model.phases.reconstruction_learning_rate=1e30")
  assert bad.returncode == 1
  assert "NaN or infinite" in bad.stderr and "last good checkpoint" in bad.stderr
  latest = tf.train.latest_checkpoint(os.path.join(workdir, "checkpoints"))
  if latest is not None:   # a round may finish before the loss overflows
    assert int(latest.split("-")[-1]) < 40
  assert not os.path.exists(os.path.join(workdir, "export"))


@pytest.mark.parametrize("flag,message", [
    ("--labels=7", "divisible"),
    ("--labels=-1", "labels"),
    ("--dataset=imagenet", "dataset"),
    ("--set=model.decoder.widht=3", "Unknown config field"),
    ("--prior=gaussian --dim=8 --labels=100", "needs a categorical code"),
])
def test_bad_input_fails_fast_with_a_clear_message(data_dir, tmp_path, capsys, flag, message):
  workdir = str(tmp_path / "run")
  result = scripts.main_here(capsys, "--preset=tiny", f"--data_dir={data_dir}",
                             f"--workdir={workdir}", *flag.split())
  assert result.returncode != 0
  assert message in result.stderr, result.stderr[-2000:]
  assert not os.path.exists(os.path.join(workdir, "checkpoints"))   # refused before training


def test_missing_data_names_the_command(tmp_path):
  # The command line's own exit status, once, in a process of its own.
  result = scripts.main_process("--preset=tiny", f"--data_dir={tmp_path / 'empty'}",
                                f"--workdir={tmp_path / 'run'}", timeout=120)
  assert result.returncode == 1
  assert "launch/prepare_data.py" in result.stderr


class _Killed(Exception):
  """Stands for the process dying."""


def _scalar_steps(directory, tag):
  steps = set()
  for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
    for event in tf.compat.v1.train.summary_iterator(path):
      steps.update(event.step for value in event.summary.value if value.tag == tag)
  return sorted(steps)


def test_a_run_killed_in_a_round_end_resumes_with_every_evaluated_step(data_dir, tmp_path,
                                                                       monkeypatch):
  from pixelgan_tf import train
  config = config_lib.experiment("tiny")
  config = config_overrides.override(config, "data.data_dir", data_dir)
  config = config_overrides.override(config, "train.steps", "20")
  config = config_overrides.override(config, "train.sample_every", "100")
  workdir = str(tmp_path / "run")
  evaluate_run, rounds = train.evaluate_run, []

  def killed_in_the_second_round(*args, **kwargs):
    rounds.append(1)
    if len(rounds) == 2:
      raise _Killed()
    return evaluate_run(*args, **kwargs)

  monkeypatch.setattr(train, "evaluate_run", killed_in_the_second_round)
  with pytest.raises(_Killed):
    train.train_and_evaluate(config, workdir, verbose=0)
  monkeypatch.setattr(train, "evaluate_run", evaluate_run)
  results = train.train_and_evaluate(config, workdir, verbose=0)
  assert [h["step"] for h in results["history"]] == [10, 20]
  # Training scalars every log_every (5) steps, over both processes.
  train_events = os.path.join(workdir, "tensorboard", "train")
  assert _scalar_steps(train_events, "steps_per_second") == [5, 10, 15, 20]
  assert _scalar_steps(train_events, "nll") == [5, 10, 15, 20]


def test_corrupt_prepared_data_is_one_error_line_naming_the_file(data_dir, tmp_path, capsys):
  copy = str(tmp_path / "tfds")
  shutil.copytree(data_dir, copy)
  shard = glob.glob(os.path.join(copy, "mnist", "3.0.1", "mnist-test.tfrecord-*"))[0]
  with open(shard, "r+b") as f:
    f.truncate(os.path.getsize(shard) // 2)
  result = scripts.main_here(capsys, "--preset=tiny", f"--data_dir={copy}",
                             f"--workdir={tmp_path / 'run'}")
  assert result.returncode == 1
  assert "Traceback" not in result.stderr, result.stderr[-3000:]
  errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
  assert len(errors) == 1 and shard in errors[0] and "launch/prepare_data.py" in errors[0]


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
