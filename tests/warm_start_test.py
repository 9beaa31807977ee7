"""train.warm_start: a new run that starts from another run's checkpoint.

Bit-for-bit comparisons need `train.deterministic`, which only a fresh process
can set, so the test that a warm start continues its source as a copy would
runs launch/main.py in processes of its own; the others run in this one.
"""

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides
from pixelgan_tf import warm_start
from pixelgan_tf.run_directory import IncompatibleRunError, RunDirectory
from tests import scripts


def _tiny(data_dir, workdir, steps, *more):
  return ["--preset=tiny", f"--data_dir={data_dir}", f"--workdir={workdir}", f"--steps={steps}",
          "--set=train.sample_every=100", *more]


def _values(checkpoint_path):
  """{name: array} of every variable in a checkpoint but its save counter."""
  reader = tf.train.load_checkpoint(checkpoint_path)
  return {name: reader.get_tensor(name) for name, _ in tf.train.list_variables(checkpoint_path)
          if not name.startswith(("save_counter", "_CHECKPOINTABLE_OBJECT_GRAPH"))}


def _history_steps(workdir):
  with open(os.path.join(workdir, "results.json")) as f:
    return [entry["step"] for entry in json.load(f)["history"]]


def test_a_warm_start_of_the_same_config_trains_as_continuing_a_copy(data_dir, tmp_path):
  source, copy, warm = (str(tmp_path / name) for name in ("source", "copy", "warm"))
  repeatable = "--set=train.deterministic=true"
  first = scripts.main_process(*_tiny(data_dir, source, 10, repeatable))
  assert first.returncode == 0, first.stderr[-3000:]
  shutil.copytree(source, copy)
  continued = scripts.main_process(*_tiny(data_dir, copy, 20, repeatable))
  assert continued.returncode == 0, continued.stderr[-3000:]
  started = scripts.main_process(*_tiny(data_dir, warm, 20, repeatable,
                                 f"--set=train.warm_start={source}"))
  assert started.returncode == 0, started.stderr[-3000:]
  expected = _values(os.path.join(copy, "checkpoints", "ckpt-20"))
  got = _values(os.path.join(warm, "checkpoints", "ckpt-20"))
  assert sorted(got) == sorted(expected)
  # Weights, optimizer slots and the step counter: not one value parted.
  for name, value in expected.items():
    np.testing.assert_array_equal(got[name], value, err_msg=name)
  # The source's weights moved in those ten steps, so equality is not trivial.
  before = _values(os.path.join(source, "checkpoints", "ckpt-10"))
  assert any(not np.array_equal(before[name], value) for name, value in expected.items())
  # The new run records its own evaluations, from the step it started at.
  assert _history_steps(warm) == [20]
  assert _history_steps(copy) == [10, 20]


def test_a_warm_start_trains_with_its_own_knobs_and_keeps_its_source(data_dir, tmp_path, capsys,
                                                                      caplog):
  source, warm = str(tmp_path / "source"), str(tmp_path / "warm")
  assert scripts.main_here(capsys, *_tiny(data_dir, source, 10)).returncode == 0
  rate = config_lib.experiment("tiny").model.phases.reconstruction_learning_rate / 4
  args = _tiny(data_dir, warm, 20, f"--set=train.warm_start={source}",
               f"--set=model.phases.reconstruction_learning_rate={rate}",
               "--set=model.phases.labeled_reconstruction_weight=1")
  started = scripts.main_here(capsys, *args)
  assert started.returncode == 0, started.stderr[-3000:]
  assert f"Warm start from {os.path.join(source, 'checkpoints', 'ckpt-10')} at step 10" in (
      caplog.text)
  # The configured rate, not the one the source's optimizer state held.
  saved = tf.train.load_checkpoint(os.path.join(warm, "checkpoints", "ckpt-20")).get_tensor(
      "optimizers/reconstruction/1/.ATTRIBUTES/VARIABLE_VALUE")
  assert saved == pytest.approx(rate, rel=1e-6)
  with open(os.path.join(warm, "config.json")) as f:
    stored = json.load(f)
  assert stored["train"]["warm_start"] == source
  assert stored["model"]["phases"]["labeled_reconstruction_weight"] == 1.0
  # Resumed, the run continues from its own checkpoint with the warm start it began with...
  args[3] = "--steps=30"
  assert scripts.main_here(capsys, *args).returncode == 0
  assert _history_steps(warm) == [20, 30]
  # ...and refuses another one.
  other = scripts.main_here(capsys, *args[:-3], f"--set=train.warm_start={warm}", *args[-2:])
  assert other.returncode == 1
  assert "train.warm_start" in other.stderr and other.stderr.count("\n") == 1


def test_a_warm_start_without_a_checkpoint_is_refused_before_any_work(data_dir, tmp_path,
                                                                      capsys):
  warm = str(tmp_path / "warm")
  result = scripts.main_here(capsys, *_tiny(data_dir, warm, 20,
                                     f"--set=train.warm_start={tmp_path / 'nothing'}"))
  assert result.returncode == 1
  assert "holds no checkpoint" in result.stderr and result.stderr.count("\n") == 1
  assert not os.path.exists(warm)


def test_a_warm_start_from_other_networks_is_refused_and_leaves_no_config(data_dir, tmp_path,
                                                                         capsys):
  source, warm = str(tmp_path / "source"), str(tmp_path / "warm")
  assert scripts.main_here(capsys, *_tiny(data_dir, source, 10)).returncode == 0
  hidden = config_lib.experiment("tiny").model.encoder.hidden_units * 2
  args = _tiny(data_dir, warm, 20, f"--set=train.warm_start={source}")
  refused = scripts.main_here(capsys, *args, f"--set=model.encoder.hidden_units={hidden}")
  assert refused.returncode == 1
  assert "does not fit this model" in refused.stderr and refused.stderr.count("\n") == 1
  # The refusal names what changed, with the source's value and this run's.
  assert f"model.encoder.hidden_units ({hidden // 2} → {hidden})" in refused.stderr
  assert not os.path.exists(os.path.join(warm, "config.json"))
  # The corrected command then runs in the same directory.
  assert scripts.main_here(capsys, *args).returncode == 0
  assert _history_steps(warm) == [20]


def test_a_warm_start_that_changes_a_phases_variables_is_refused_by_name(data_dir, tmp_path,
                                                                          capsys):
  # The networks are equal, but the supervised phase's optimizer would hold states for
  # other variables: the source's states have nowhere to go.
  source, warm = str(tmp_path / "source"), str(tmp_path / "warm")
  assert scripts.main_here(capsys, *_tiny(data_dir, source, 10)).returncode == 0
  refused = scripts.main_here(capsys, *_tiny(data_dir, warm, 20,
                                             f"--set=train.warm_start={source}",
                                             "--set=model.phases.supervised_variables=head"))
  assert refused.returncode == 1 and refused.stderr.count("\n") == 1
  assert "model.phases.supervised_variables ('encoder' → 'head')" in refused.stderr
  assert "optimizer state" in refused.stderr
  assert not os.path.exists(os.path.join(warm, "config.json"))


def test_a_refusal_names_changes_only_where_the_sources_config_lies(tmp_path):
  config = config_lib.experiment("tiny")
  source = tmp_path / "source"
  saved = tf.train.Checkpoint(value=tf.Variable(1.0))
  path = tf.train.CheckpointManager(saved, str(source / "checkpoints"), None).save(10)
  other = tf.train.Checkpoint(other=tf.Variable(2.0))
  # A checkpoint without its run's config.json: the refusal cannot say what changed.
  with pytest.raises(ValueError, match="does not fit this model") as refused:
    warm_start.restore(other, path, config)
  assert "differs from its source" not in str(refused.value)
  RunDirectory(str(source)).check_and_write_config(config)
  hidden = config.model.encoder.hidden_units
  wider = config_overrides.override(config, "model.encoder.hidden_units", hidden * 2)
  with pytest.raises(ValueError) as refused:
    warm_start.restore(other, path, wider)
  assert (f"This run differs from its source in model.encoder.hidden_units ({hidden} → "
          f"{hidden * 2})." in str(refused.value))
  # Equal configs name nothing: the checkpoint itself is then what differs.
  with pytest.raises(ValueError) as refused:
    warm_start.restore(other, path, config)
  assert "differs from its source" not in str(refused.value)


def test_a_run_written_before_warm_starts_existed_resumes_without_one(tmp_path):
  config = config_lib.experiment("tiny")
  run = RunDirectory(str(tmp_path / "run"))
  run.check_and_write_config(config)
  with open(run.config_path) as f:
    stored = json.load(f)
  del stored["train"]["warm_start"]
  with open(run.config_path, "w") as f:
    json.dump(stored, f)
  run.check(config)   # the missing field reads as its default: no warm start
  warm = config_overrides.override(config, "train.warm_start", str(tmp_path / "source"))
  with pytest.raises(IncompatibleRunError, match="train.warm_start"):
    run.check(warm)


def test_source_checkpoint_takes_a_run_its_checkpoints_or_one_checkpoint(tmp_path):
  directory = tmp_path / "run" / "checkpoints"
  checkpoint = tf.train.Checkpoint(value=tf.Variable(1.0))
  manager = tf.train.CheckpointManager(checkpoint, str(directory), max_to_keep=None)
  first = manager.save(checkpoint_number=5)
  latest = manager.save(checkpoint_number=9)
  assert warm_start.source_checkpoint(str(tmp_path / "run")) == latest
  assert warm_start.source_checkpoint(str(directory)) == latest
  assert warm_start.source_checkpoint(first) == first
  with pytest.raises(ValueError, match="holds no checkpoint"):
    warm_start.source_checkpoint(str(tmp_path / "run" / "ckpt-7"))


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
