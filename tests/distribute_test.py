"""Tests of the strategy settings, the cluster resolvers, per-replica data and worker outputs.

The multi-worker runs themselves (subprocesses on localhost) are in
multi_worker_test.py.
"""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from pixelgan_tf import config as config_lib
from pixelgan_tf import config_overrides
from pixelgan_tf import distribute
from pixelgan_tf.data import train_dataset
from pixelgan_tf.run_directory import IncompatibleRunError, RunDirectory
from tests.stand_in_splits import three_class_splits


def _data(**overrides):
  fields = dict(labels=6, batch_size=8, labeled_batch_size=4, binarize=False, seed=3)
  fields.update(overrides)
  return config_lib.DataConfig(**fields)


def _batches(dataset, count=3):
  return [{k: v.numpy() for k, v in batch.items()} for batch in dataset.take(count)]


def _rows(images):
  return {image.tobytes() for image in images}


def test_each_replica_takes_its_share_of_the_global_batch_and_its_own_seed():
  config = _data()
  replica = distribute.per_replica_config(config, 1, 2)
  assert (replica.batch_size, replica.labeled_batch_size) == (4, 2)
  assert replica.seed != config.seed
  assert distribute.per_replica_config(config, 0, 1) == config


@pytest.mark.parametrize("field", ["batch_size", "labeled_batch_size"])
def test_a_global_batch_that_does_not_divide_is_refused(field):
  with pytest.raises(ValueError, match=f"data.{field}=.*divide among the 3 replicas"):
    distribute.per_replica_config(_data(**{"batch_size": 6, "labeled_batch_size": 6,
                                           field: 4}), 0, 3)


def test_one_replica_reads_the_single_process_stream():
  splits, config = three_class_splits(), _data()
  ours, theirs = (_batches(distribute.replica_dataset(splits, config, 0, 1)),
                  _batches(train_dataset(splits, config)))
  for a, b in zip(ours, theirs):
    for key in a:
      np.testing.assert_array_equal(a[key], b[key])


def test_replicas_read_disjoint_shards_and_draw_their_own_labelled_batches():
  splits, config = three_class_splits(), _data()
  streams = [_batches(distribute.replica_dataset(splits, config, r, 2), count=5)
             for r in range(2)]
  for replica, batches in enumerate(streams):
    shard = _rows(splits.train_images[replica::2])
    seen = set().union(*(_rows(batch["images"].astype(np.uint8)) for batch in batches))
    assert seen <= shard and len(seen) == len(shard)   # 5 batches of 4: the whole shard
    assert all(batch["images"].shape[0] == 4 and batch["labels"].shape[0] == 2
               for batch in batches)
  labelled = [np.concatenate([b["labeled_images"] for b in batches]) for batches in streams]
  assert not np.array_equal(labelled[0], labelled[1])


def test_a_worker_pipeline_feeds_its_replicas_in_device_order():
  assert distribute.replica_ids(0, 1, 2) == (0, 1)
  assert distribute.replica_ids(1, 2, 2) == (1,)
  assert distribute.replica_ids(1, 2, 4) == (2, 3)


def _clear_cluster_environment(monkeypatch):
  for name in list(os.environ):
    if name.startswith("SLURM_") or name == "TF_CONFIG":
      monkeypatch.delenv(name)


def test_a_slurm_job_step_resolves_to_one_worker_per_task(monkeypatch):
  _clear_cluster_environment(monkeypatch)
  # Four tasks on two nodes, as `srun --nodes=2 --ntasks-per-node=2` starts them.
  monkeypatch.setenv("SLURM_PROCID", "3")
  monkeypatch.setenv("SLURM_STEP_NUM_TASKS", "4")
  monkeypatch.setenv("SLURM_STEP_NODELIST", "gpu-node[07-08]")
  monkeypatch.setenv("SLURM_STEP_TASKS_PER_NODE", "2(x2)")
  monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
  resolver = distribute.cluster_resolver(port_base=23456)
  assert isinstance(resolver, tf.distribute.cluster_resolver.SlurmClusterResolver)
  assert resolver.cluster_spec().as_dict() == {"worker": [
      "gpu-node07:23456", "gpu-node07:23457", "gpu-node08:23456", "gpu-node08:23457"]}
  assert resolver.get_task_info() == ("worker", 3)


def test_tf_config_describes_the_cluster_when_set(monkeypatch):
  _clear_cluster_environment(monkeypatch)
  monkeypatch.setenv("SLURM_PROCID", "0")
  monkeypatch.setenv("SLURM_STEP_NODELIST", "node1")
  monkeypatch.setenv("TF_CONFIG", json.dumps({
      "cluster": {"worker": ["host-a:2222", "host-b:2222"]}, "task": {"type": "worker",
                                                                      "index": 1}}))
  resolver = distribute.cluster_resolver()
  assert resolver.cluster_spec().as_dict() == {"worker": ["host-a:2222", "host-b:2222"]}
  assert (resolver.task_type, resolver.task_id) == ("worker", 1)


def test_multi_worker_without_a_cluster_says_how_to_describe_one(monkeypatch):
  _clear_cluster_environment(monkeypatch)
  with pytest.raises(ValueError, match="set TF_CONFIG, or start the workers with srun"):
    distribute.cluster_resolver()


@pytest.mark.parametrize("overrides,message", [
    ({"strategy": "horovod"}, "strategy must be one of"),
    ({"strategy": "one_device", "devices": "/cpu:0,/cpu:1"}, "at most one device"),
    ({"strategy": "multi_worker", "time_budget_s": 60.0}, "cannot stop every worker"),
    ({"collective_timeout_s": 0.0}, "collective_timeout_s must be positive"),
])
def test_bad_distribution_settings(overrides, message):
  with pytest.raises(ValueError, match=message):
    distribute.validate(dataclasses.replace(config_lib.TrainConfig(), **overrides))


def test_outside_a_multi_worker_job_this_process_is_the_chief():
  strategy = tf.distribute.get_strategy()
  assert distribute.is_chief(strategy)
  assert type(distribute.run_directory("/tmp/unused", strategy)) is RunDirectory


def test_a_worker_checks_the_chiefs_config_but_writes_outside_the_run_directory(tmp_path):
  config = config_lib.experiment("tiny")
  chief = RunDirectory(str(tmp_path / "run"))
  chief.check_and_write_config(config)
  before = sorted(os.listdir(chief.path))
  worker = distribute.WorkerRunDirectory(chief.path, worker=1)
  worker.check_and_write_config(config)
  with pytest.raises(IncompatibleRunError):
    worker.check_and_write_config(config_overrides.override(config, "model.decoder.filters", "4"))
  worker.write_results({"step": 1})
  for path in (worker.checkpoints, worker.tensorboard, worker.samples, worker.export):
    assert not path.startswith(chief.path)
  assert sorted(os.listdir(chief.path)) == before
  worker.remove()
  assert not os.path.exists(worker.scratch)


def test_a_worker_restores_the_chiefs_checkpoint_and_removes_its_own(tmp_path):
  value = tf.Variable(1.0)
  chief = tf.train.CheckpointManager(tf.train.Checkpoint(value=value), str(tmp_path / "chief"),
                                     max_to_keep=1)
  chief.save(checkpoint_number=5)
  scratch = str(tmp_path / "worker")
  worker = distribute.WorkerCheckpointManager(tf.train.Checkpoint(value=value),
                                              chief.directory, scratch)
  assert worker.latest_checkpoint == chief.latest_checkpoint
  worker.save(checkpoint_number=7)
  assert not os.path.exists(scratch)
  assert chief.latest_checkpoint.endswith("ckpt-5")
