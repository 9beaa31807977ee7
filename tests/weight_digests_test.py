"""experiments.weight_digests: where two runs of one config part."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from experiments import weight_digests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _lines(*parts_by_step):
  return [{"step": 10 * (i + 1), **parts} for i, parts in enumerate(parts_by_step)]


def test_first_difference_names_the_last_equal_step_and_the_parts_that_part():
  a = _lines({"encoder": "1", "decoder": "2"}, {"encoder": "3", "decoder": "4"},
             {"encoder": "5", "decoder": "6"})
  b = _lines({"encoder": "1", "decoder": "2"}, {"encoder": "9", "decoder": "4"},
             {"encoder": "8", "decoder": "7"})
  assert weight_digests.first_difference(a, b) == {
      "last_equal": 10, "first_unequal": 20, "parts": ["encoder"]}
  assert weight_digests.first_difference(a, a) == {
      "last_equal": 30, "first_unequal": None, "parts": []}


def test_first_difference_refuses_files_of_other_steps():
  a, b = _lines({"encoder": "1"}), [{"step": 20, "encoder": "1"}]
  with pytest.raises(ValueError, match="different steps"):
    weight_digests.first_difference(a, b)


def test_digest_sees_every_value_and_their_order():
  x, y = np.zeros(3, np.float32), np.ones(3, np.float32)
  assert weight_digests.digest([x, y]) == weight_digests.digest([x.copy(), y.copy()])
  assert weight_digests.digest([x, y]) != weight_digests.digest([y, x])
  z = x.copy()
  z[1] = np.nextafter(np.float32(0), np.float32(1))   # the smallest change of one value
  assert weight_digests.digest([z, y]) != weight_digests.digest([x, y])


def test_a_live_and_a_materialized_run_of_one_config_print_the_same_digests(tmp_path, data_dir):
  def trace(name, *extra):
    output = subprocess.run(
        [sys.executable, "-m", "experiments.weight_digests", "--preset=tiny", "--steps=4",
         "--every=2", f"--data_dir={data_dir}", f"--workdir={tmp_path / name}", *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert output.returncode == 0, output.stderr[-3000:]
    return [json.loads(line) for line in output.stdout.splitlines() if line.startswith("{")]

  live, ahead = trace("live"), trace("ahead", "--materialize")
  assert [line["step"] for line in live] == [2, 4]
  assert {"encoder", "decoder", "discriminator/categorical",
          "optimizer/supervised"} <= set(live[0])
  assert live[0]["encoder"] != live[1]["encoder"]   # the weights move between digests
  assert weight_digests.first_difference(live, ahead)["first_unequal"] is None


@pytest.mark.parametrize("flag, message", [
    ("--steps=5", "--steps=5 is not a multiple of --every=2"),
    ("--set=model.encoder.noise_std=loud", "model.encoder.noise_std"),
])
def test_bad_input_ends_in_one_line_that_names_it(tmp_path, flag, message):
  output = subprocess.run(
      [sys.executable, "-m", "experiments.weight_digests", "--preset=tiny", "--every=2",
       f"--workdir={tmp_path / 'run'}", flag],
      capture_output=True, text=True, cwd=ROOT, timeout=120,
      env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
  assert output.returncode != 0
  last = output.stderr.strip().splitlines()[-1]
  assert last.startswith("error: ") and message in last, output.stderr[-2000:]
  assert not (tmp_path / "run").exists()
