"""train.deterministic: one-thread pools, op determinism and no Grappler, set before the
runtime starts."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap

import pytest
import tensorflow as tf
# Its public API only enables op determinism; the test reads the switch here.
from tensorflow.python.framework.config import is_op_determinism_enabled

from experiments import trained_run
from pixelgan_tf import config as config_lib
from pixelgan_tf import determinism, train
from pixelgan_tf.run_directory import RunDirectory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_FRESH_PROCESS = textwrap.dedent("""
    import json
    import tensorflow as tf
    from tensorflow.python.framework.config import is_op_determinism_enabled
    from pixelgan_tf import determinism
    determinism.configure(True)
    print(json.dumps([tf.config.threading.get_intra_op_parallelism_threads(),
                      tf.config.threading.get_inter_op_parallelism_threads(),
                      is_op_determinism_enabled(),
                      tf.config.optimizer.get_experimental_options().get(
                          "disable_meta_optimizer", False),
                      float(tf.reduce_sum(tf.ones([1000])))]))
""")


def _start_runtime():
  tf.constant(1.0) + 1.0   # an eager op starts the runtime and fixes its thread pools


def test_a_fresh_process_gets_one_thread_pools_op_determinism_and_no_grappler():
  output = subprocess.run([sys.executable, "-c", _FRESH_PROCESS], capture_output=True,
                          text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert output.returncode == 0, output.stderr[-3000:]
  assert json.loads(output.stdout.strip().splitlines()[-1]) == [1, 1, True, True, 1000.0]


def test_off_changes_nothing_in_a_running_runtime():
  _start_runtime()
  before = tf.config.threading.get_intra_op_parallelism_threads()
  determinism.configure(False)
  assert tf.config.threading.get_intra_op_parallelism_threads() == before
  assert not is_op_determinism_enabled()
  assert not tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer")


def test_on_in_a_running_runtime_is_refused_in_one_line():
  _start_runtime()
  with pytest.raises(ValueError, match="train.deterministic=true .* fresh process") as error:
    determinism.configure(True)
  assert "\n" not in str(error.value)
  assert not is_op_determinism_enabled()
  assert not tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer")


def test_open_run_applies_the_flag_before_reading_data(tmp_path):
  _start_runtime()
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(
      config, train=dataclasses.replace(config.train, deterministic=True),
      data=dataclasses.replace(config.data, data_dir=str(tmp_path / "no_data")))
  # The refusal comes first: no data directory is looked at, no run directory written.
  with pytest.raises(ValueError, match="train.deterministic"):
    train.open_run(config, str(tmp_path / "run"))
  assert not (tmp_path / "run").exists()


def test_the_analysis_scripts_apply_the_flag_of_the_run_they_load(tmp_path):
  _start_runtime()
  config = config_lib.experiment("tiny")
  config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                 deterministic=True))
  RunDirectory(str(tmp_path)).check_and_write_config(config)
  # A repeatable run is analysed in one-thread pools, which this running runtime cannot
  # take: the refusal comes before any model is built or checkpoint looked for.
  with pytest.raises(ValueError, match="train.deterministic=true .* fresh process"):
    trained_run.load_run(str(tmp_path))
