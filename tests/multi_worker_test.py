"""Multi-worker training: launch/main.py processes on localhost under MultiWorkerMirroredStrategy.

Each worker is a fresh process (what the strategy needs: its runtime is
configured before TensorFlow starts), so these tests are slow: about two
minutes each on 2 CPU cores. The worker runs of the first two tests are
shared.
"""

import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.scripts import ROOT

_MAIN = os.path.join(ROOT, "launch", "main.py")
# A deterministic encoder, and no sample grids (slow, and not what is tested).
_ARGS = ["--preset=tiny", "--set=model.encoder.noise_std=0", "--set=train.eval_every=2",
         "--set=train.sample_every=100", "--set=train.collective_timeout_s=120"]
_TIMEOUT_S = 600


def _free_ports(count: int):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("localhost", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


class _Process:
  """One launch/main.py process; its stderr goes to a file (a pipe could fill and block it)."""

  def __init__(self, args, log_path, environment=None):
    self.log_path = log_path
    with open(log_path, "w") as log:
      self.popen = subprocess.Popen(
          [sys.executable, _MAIN, *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(environment or {})})

  def wait(self, timeout=_TIMEOUT_S) -> int:
    try:
      return self.popen.wait(timeout)
    except subprocess.TimeoutExpired:
      self.popen.kill()
      raise AssertionError(f"timed out; log:\n{self.log()[-3000:]}") from None

  def log(self) -> str:
    with open(self.log_path) as f:
      return f.read()


def _workers(ports, args, directory, name):
  """Starts one worker per port, each with its own TF_CONFIG and temporary directory."""
  workers = []
  for index in range(len(ports)):
    scratch = os.path.join(directory, f"{name}_tmp{index}")
    os.makedirs(scratch, exist_ok=True)
    tf_config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]},
                 "task": {"type": "worker", "index": index}}
    workers.append(_Process([*args, "--strategy=multi_worker"],
                            os.path.join(directory, f"{name}{index}.log"),
                            {"TF_CONFIG": json.dumps(tf_config), "TMPDIR": scratch}))
  return workers


def _weights(workdir, step):
  reader = tf.train.load_checkpoint(os.path.join(workdir, "checkpoints", f"ckpt-{step}"))
  return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
          if name.startswith(("weights/", "optimizers/"))}


@pytest.fixture(scope="module")
def runs(data_dir, tmp_path_factory):
  """Two workers and, at the same time, one process with two CPU replicas: 4 steps each."""
  directory = str(tmp_path_factory.mktemp("multi_worker"))
  args = [*_ARGS, f"--data_dir={data_dir}", "--steps=4"]
  reference = _Process([*args, f"--workdir={directory}/reference", "--strategy=mirrored",
                        "--set=train.devices=/cpu:0,/cpu:1"],
                       os.path.join(directory, "reference.log"))
  workers = _workers(_free_ports(2), [*args, f"--workdir={directory}/workers"], directory,
                     "worker")
  for process in [reference, *workers]:
    assert process.wait() == 0, process.log()[-3000:]
  return directory, workers


def test_two_workers_train_the_weights_of_one_process_with_two_replicas(runs):
  directory, _ = runs
  # Global replica r reads the same data and draws the same noise (prior
  # samples here) whether it is a device of one process or a worker of its own.
  for step in (2, 4):
    ours, theirs = _weights(f"{directory}/workers", step), _weights(f"{directory}/reference",
                                                                     step)
    assert ours.keys() == theirs.keys() and len(ours) > 20
    for name in ours:
      np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-5, atol=1e-6, err_msg=name)
  moved = _weights(f"{directory}/workers", 4)
  assert any(not np.allclose(moved[n], _weights(f"{directory}/workers", 2)[n]) for n in moved)


def test_only_the_chief_writes_the_run_directory(runs):
  directory, workers = runs
  workdir = f"{directory}/workers"
  assert sorted(os.path.basename(p) for p in glob.glob(f"{workdir}/checkpoints/ckpt-*.index")) \
      == ["ckpt-2.index", "ckpt-4.index"]
  assert json.load(open(f"{workdir}/results.json"))["step"] == 4
  assert os.path.exists(f"{workdir}/export/saved_model.pb")
  # One events file per writer: the other worker's summaries went elsewhere.
  for writer in ("train", "validation"):
    assert len(glob.glob(f"{workdir}/tensorboard/{writer}/events.out.tfevents.*")) == 1
  # ... into a temporary directory that it removed at the end.
  assert "train done" in workers[1].log()
  assert os.listdir(f"{directory}/worker_tmp1") == []


def test_a_lost_worker_stops_the_job_and_restarting_every_worker_resumes_it(
    data_dir, tmp_path):
  directory = str(tmp_path)
  ports = _free_ports(2)
  args = [*_ARGS, f"--data_dir={data_dir}", f"--workdir={directory}/run", "--steps=8"]
  chief, other = _workers(ports, args, directory, "first")
  index = os.path.join(directory, "run", "checkpoints", "checkpoint")
  deadline = time.time() + _TIMEOUT_S
  while not os.path.exists(index) and time.time() < deadline and other.popen.poll() is None:
    time.sleep(0.2)
  other.popen.send_signal(signal.SIGKILL)
  other.popen.wait()
  started = time.time()
  assert chief.wait() == 1, chief.log()[-3000:]
  stopped_after = time.time() - started
  assert "A worker of the multi-worker job stopped" in chief.log(), chief.log()[-3000:]
  assert "Restart every worker with the same command" in chief.log()
  interrupted_at = int(tf.train.latest_checkpoint(os.path.dirname(index)).split("-")[-1])
  assert interrupted_at < 8

  restarted = _workers(ports, args, directory, "second")
  for process in restarted:
    assert process.wait() == 0, process.log()[-3000:]
    assert f"Resumed from {directory}/run/checkpoints/ckpt-{interrupted_at}" in process.log()
  results = json.load(open(os.path.join(directory, "run", "results.json")))
  steps = [entry["step"] for entry in results["history"]]
  assert results["step"] == 8 and steps == list(range(2, 10, 2)), steps
  print(f"the chief stopped {stopped_after:.0f} s after the other worker was killed")
