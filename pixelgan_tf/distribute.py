"""tf.distribute strategies, the cluster of a multi-worker job, and who writes what.

`make_strategy` turns `TrainConfig.strategy` into a strategy: 'auto' (every
local GPU when there are several, else the default), 'one_device',
'mirrored' (every local GPU, or `TrainConfig.devices`) or 'multi_worker'
(`MultiWorkerMirroredStrategy` over the cluster that `TF_CONFIG` or SLURM
describes). Create it before any other TensorFlow op: the collective ops of
a multi-worker job and the logical CPU devices of a mirrored run are
configured when the runtime starts.

Global-batch semantics: `DataConfig.batch_size` and `labeled_batch_size` are
the batch of one step over all replicas. `distribute_train_dataset` feeds
global replica r a stream that depends only on r and the replica count: the
r-th shard of the unlabelled images and its own seeds. Two workers with one
replica each therefore train on exactly the batches that one process with two
replicas trains on.

The chief (worker 0) writes the run directory. The other workers read it
(config check, resume) but write their checkpoints, summaries, results and
export to a temporary directory that they remove at the end, the
tf.distribute pattern: every worker takes part in saving.
"""

import contextlib
import dataclasses
import os
import re
import shutil
import tempfile
from typing import List, Optional, Tuple

import tensorflow as tf
from tensorflow.python.distribute.cluster_resolver import slurm_cluster_resolver

from pixelgan_tf import data as data_lib
from pixelgan_tf.config import STRATEGIES, DataConfig, TrainConfig
from pixelgan_tf.run_directory import RunDirectory, write_json_atomically

# Unlabelled and labelled streams of replica r use the seed `seed + r * _REPLICA_SEED_STRIDE`;
# a resumed run adds its step to the seed, which stays far below the stride.
_REPLICA_SEED_STRIDE = 1 << 32


class WorkerLostError(RuntimeError):
  """A worker of a multi-worker job stopped answering; restart every worker to resume."""


# What the survivors of a dead worker get from their next collective (the
# coordination service stops hearing the dead one's heartbeats, or the
# collective times out).
_LOST_WORKER_ERRORS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
                       tf.errors.AbortedError, tf.errors.CancelledError)


def devices(config: TrainConfig) -> List[str]:
  """The configured device names, in order."""
  return [d.strip() for d in config.devices.split(",") if d.strip()]


def validate(config: TrainConfig) -> None:
  """Checks the distribution fields that need no runtime."""
  if config.strategy not in STRATEGIES:
    raise ValueError(f"strategy must be one of {STRATEGIES}, got {config.strategy!r}.")
  if config.strategy == "one_device" and len(devices(config)) > 1:
    raise ValueError(f"one_device takes at most one device, got {config.devices!r}.")
  if config.strategy == "multi_worker" and config.time_budget_s is not None:
    # Each worker would measure its own seconds and stop at another step, leaving
    # the others waiting in a collective.
    raise ValueError("A time budget cannot stop every worker at the same step; use "
                     "train.steps with the multi_worker strategy.")
  if config.collective_timeout_s <= 0:
    raise ValueError(f"collective_timeout_s must be positive, got {config.collective_timeout_s}.")


def slurm_resolver(port_base: int) -> tf.distribute.cluster_resolver.SlurmClusterResolver:
  """The cluster of the current SLURM job step: one worker per task.

  Reads SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_STEP_NODELIST and
  SLURM_STEP_TASKS_PER_NODE; the tasks of a node listen on `port_base`,
  `port_base + 1`, ... On GPU nodes each task gets its share of the node's
  GPUs through CUDA_VISIBLE_DEVICES.
  """
  if tf.config.list_physical_devices("GPU"):
    return tf.distribute.cluster_resolver.SlurmClusterResolver(port_base=port_base)
  # Without GPUs the resolver would divide the node's GPUs (none) among its
  # tasks; give every task one slot instead and leave CUDA_VISIBLE_DEVICES alone.
  per_node = max(slurm_cluster_resolver.expand_tasks_per_node(
      os.environ["SLURM_STEP_TASKS_PER_NODE"]))
  return tf.distribute.cluster_resolver.SlurmClusterResolver(
      port_base=port_base, gpus_per_node=per_node, gpus_per_task=1, auto_set_gpu=False)


def cluster_resolver(port_base: int = 8888) -> tf.distribute.cluster_resolver.ClusterResolver:
  """The job's cluster: from TF_CONFIG when it is set, else from SLURM.

  Raises:
    ValueError: neither describes a cluster.
  """
  if os.environ.get("TF_CONFIG"):
    return tf.distribute.cluster_resolver.TFConfigClusterResolver()
  if "SLURM_PROCID" in os.environ and "SLURM_STEP_NODELIST" in os.environ:
    return slurm_resolver(port_base)
  raise ValueError("The multi_worker strategy needs a cluster: set TF_CONFIG, or start the "
                   "workers with srun inside a SLURM job.")


def _split_cpu(count: int) -> None:
  """Splits the host CPU into `count` logical devices (a mirrored run without GPUs).

  Raises:
    ValueError: TensorFlow started with fewer CPU devices; they cannot change now.
  """
  cpu = tf.config.list_physical_devices("CPU")[0]
  try:
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * count)
  except RuntimeError:   # the runtime is already up: its devices are final
    if len(tf.config.list_logical_devices("CPU")) < count:
      raise ValueError(f"{count} CPU devices were asked for after TensorFlow started with "
                       f"fewer; create the strategy first.") from None


def _cpu_index(device: str) -> Optional[int]:
  spec = tf.DeviceSpec.from_string(device)
  return spec.device_index if (spec.device_type or "").upper() == "CPU" else None


def make_strategy(config: TrainConfig) -> tf.distribute.Strategy:
  """The configured strategy; call before any other TensorFlow op.

  Raises:
    ValueError: an unknown strategy, or multi_worker without a cluster.
  """
  validate(config)
  gpus = tf.config.list_physical_devices("GPU")
  if config.strategy == "auto":
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
  names = devices(config)
  if config.strategy == "one_device":
    return tf.distribute.OneDeviceStrategy(names[0] if names else
                                           ("/gpu:0" if gpus else "/cpu:0"))
  if config.strategy == "mirrored":
    cpus = [i for i in map(_cpu_index, names) if i is not None]
    if cpus:
      _split_cpu(max(cpus) + 1)
    return tf.distribute.MirroredStrategy(names or None)
  implementation = (tf.distribute.experimental.CommunicationImplementation.NCCL if gpus else
                    tf.distribute.experimental.CommunicationImplementation.RING)
  # Without a timeout, the survivors of a dead worker would wait in their next
  # all-reduce for ever.
  options = tf.distribute.experimental.CommunicationOptions(
      implementation=implementation, timeout_seconds=config.collective_timeout_s)
  return tf.distribute.MultiWorkerMirroredStrategy(
      cluster_resolver=cluster_resolver(config.slurm_port_base), communication_options=options)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
  """Whether this process writes the run's outputs (always, outside multi-worker jobs)."""
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.cluster_spec().as_dict():
    return True
  task_type, task_id = resolver.task_type, resolver.task_id
  return task_type == "chief" or (task_type == "worker" and task_id == 0 and
                                  "chief" not in resolver.cluster_spec().jobs)


def worker_id(strategy: tf.distribute.Strategy) -> int:
  resolver = getattr(strategy, "cluster_resolver", None)
  return int(resolver.task_id or 0) if resolver is not None else 0


class WorkerRunDirectory(RunDirectory):
  """A non-chief worker's view of the run directory.

  It checks and reads the chief's config, results and checkpoints, but
  writes its own checkpoints, summaries, results and export under a
  temporary directory, which `remove` deletes.

  Args:
    path: the run directory (the chief's).
    worker: this worker's task id.
  """

  def __init__(self, path: str, worker: int):
    super().__init__(path)
    self.scratch = tempfile.mkdtemp(prefix=f"pixelgan_worker{worker}_")
    self.read_checkpoints = self.checkpoints
    self.checkpoints = os.path.join(self.scratch, "checkpoints")
    self.tensorboard = os.path.join(self.scratch, "tensorboard")
    self.samples = os.path.join(self.scratch, "samples")
    self.export = os.path.join(self.scratch, "export")
    self._results_out = os.path.join(self.scratch, "results.json")

  def check_and_write_config(self, config) -> None:
    """Checks `config` against the chief's, writing nothing."""
    self.check(config)

  def write_results(self, results: dict) -> None:
    write_json_atomically(self._results_out, results)

  def remove(self) -> None:
    shutil.rmtree(self.scratch, ignore_errors=True)


def run_directory(path: str, strategy: tf.distribute.Strategy) -> RunDirectory:
  """The chief's `RunDirectory`, or a `WorkerRunDirectory` on the other workers."""
  return RunDirectory(path) if is_chief(strategy) else WorkerRunDirectory(
      path, worker_id(strategy))


class WorkerCheckpointManager:
  """Saves like the chief (every worker takes part), into a directory it then removes.

  Restores from the chief's checkpoints.

  Args:
    checkpoint: the `tf.train.Checkpoint`.
    read_directory: the chief's checkpoint directory.
    write_directory: this worker's temporary directory.
  """

  def __init__(self, checkpoint: tf.train.Checkpoint, read_directory: str, write_directory: str):
    self._writer = tf.train.CheckpointManager(checkpoint, write_directory, max_to_keep=1)
    self._read = read_directory

  @property
  def checkpoint(self) -> tf.train.Checkpoint:
    return self._writer.checkpoint

  @property
  def latest_checkpoint(self) -> Optional[str]:
    return tf.train.latest_checkpoint(self._read)

  def save(self, checkpoint_number=None) -> str:
    path = self._writer.save(checkpoint_number=checkpoint_number)
    tf.io.gfile.rmtree(self._writer.directory)
    return path


def checkpoint_manager(checkpoint: tf.train.Checkpoint, run: RunDirectory, keep: int):
  """The chief's `tf.train.CheckpointManager`, or a `WorkerCheckpointManager`."""
  if isinstance(run, WorkerRunDirectory):
    return WorkerCheckpointManager(checkpoint, run.read_checkpoints, run.checkpoints)
  return tf.train.CheckpointManager(checkpoint, run.checkpoints, max_to_keep=keep)


def per_replica_config(config: DataConfig, replica: int, num_replicas: int) -> DataConfig:
  """The batch sizes and seed of global replica `replica`'s stream.

  Raises:
    ValueError: a global batch that the replicas cannot share equally.
  """
  for name in ("batch_size", "labeled_batch_size"):
    if getattr(config, name) % num_replicas:
      raise ValueError(f"data.{name}={getattr(config, name)} is the global batch and must "
                       f"divide among the {num_replicas} replicas.")
  return dataclasses.replace(config, batch_size=config.batch_size // num_replicas,
                             labeled_batch_size=config.labeled_batch_size // num_replicas,
                             seed=config.seed + replica * _REPLICA_SEED_STRIDE)


def replica_dataset(splits: data_lib.Splits, config: DataConfig, replica: int,
                    num_replicas: int) -> tf.data.Dataset:
  """Global replica `replica`'s endless stream: its shard of the unlabelled images.

  With one replica this is `data.train_dataset(splits, config)` itself.
  """
  shard = dataclasses.replace(splits, train_images=splits.train_images[replica::num_replicas],
                              train_labels=splits.train_labels[replica::num_replicas])
  return data_lib.train_dataset(shard, per_replica_config(config, replica, num_replicas))


def replica_ids(input_pipeline_id: int, num_input_pipelines: int,
                num_replicas: int) -> Tuple[int, ...]:
  """The global replica ids that one worker's input pipeline feeds, in device order."""
  local = num_replicas // num_input_pipelines
  return tuple(range(input_pipeline_id * local, (input_pipeline_id + 1) * local))


def distribute_train_dataset(strategy: tf.distribute.Strategy, splits: data_lib.Splits,
                             config: DataConfig):
  """The training stream of every replica, as a distributed dataset for `fit`.

  Each worker builds the streams of its own replicas and interleaves them in
  device order (the order in which the strategy hands elements to its
  devices), so that global replica r always trains on `replica_dataset(r)`.

  Raises:
    ValueError: a global batch that does not divide among the replicas.
  """
  num_replicas = strategy.num_replicas_in_sync
  per_replica_config(config, 0, num_replicas)   # fail here, not inside tf.data

  def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
    replicas = replica_ids(context.input_pipeline_id, context.num_input_pipelines, num_replicas)
    streams = [replica_dataset(splits, config, r, num_replicas) for r in replicas]
    if len(streams) == 1:
      return streams[0]
    order = tf.data.Dataset.range(len(streams)).repeat()
    return tf.data.Dataset.choose_from_datasets(streams, order)

  return strategy.distribute_datasets_from_function(dataset_fn)


@contextlib.contextmanager
def stop_on_lost_worker(strategy: tf.distribute.Strategy, checkpoints: str):
  """Turns the collective errors of a lost worker into a `WorkerLostError` that says what to do.

  Args:
    strategy: the run's strategy; other strategies' errors pass unchanged.
    checkpoints: the chief's checkpoint directory, named in the message.
  """
  try:
    yield
  except _LOST_WORKER_ERRORS as error:
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
      raise
    latest = tf.train.latest_checkpoint(checkpoints)
    # TensorFlow's message names the lost task, after the failing op's name.
    reason = " ".join(re.sub(r"\{\{[^}]*\}\}", "", str(error)).split())[:300]
    raise WorkerLostError(
        f"A worker of the multi-worker job stopped ({error.__class__.__name__}: {reason}). "
        f"Restart every worker with the same command to resume from "
        f"{latest or 'the start (no checkpoint yet)'}.") from None


def finish(run: RunDirectory, strategy: tf.distribute.Strategy) -> None:
  """Waits for every worker, then removes a non-chief worker's temporary outputs.

  The chief leads the job's coordination: if it left first, the others
  could lose it in the middle of their last save.
  """
  if is_chief(strategy) and not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
    return
  ones = strategy.run(lambda: tf.ones([]))
  strategy.reduce(tf.distribute.ReduceOp.SUM, ones, axis=None)   # a barrier
  if isinstance(run, WorkerRunDirectory):
    run.remove()
