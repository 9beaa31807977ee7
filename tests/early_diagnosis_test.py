"""Tests of the early-diagnosis table and figure."""

import json
import os

import pytest

from experiments import early_diagnosis


def _write(row_dir, seed, records):
  directory = os.path.join(row_dir, f"seed{seed}")
  os.makedirs(directory)
  with open(os.path.join(directory, "diagnostics.jsonl"), "w") as stream:
    stream.write("\n".join(json.dumps(record) for record in records))


def _record(step, error):
  return {"step": step, "validation/error": error, "validation/separation_error": error / 2,
          "validation/entropy": 1.5, "validation/confident": 0.25,
          "validation/categories_used": 10, "discriminator_accuracy": 0.6,
          "labeled/error": 0.0}


def test_the_table_has_a_line_per_seed_and_step_and_can_keep_some_steps(tmp_path):
  row = str(tmp_path / "mnist_20")
  _write(row, 0, [_record(100, 0.5), _record(200, 0.25)])
  _write(row, 1, [_record(100, 0.4)])
  rows = {row: early_diagnosis.read_row(row)}
  lines = early_diagnosis.table(rows).splitlines()
  assert len(lines) == 2 + 3
  assert f"| {row} | 0 | 200 | 25.0 | 12.5 | 1.50 | 25.0 | 10 | 60.0 | 0.0 |" in lines
  assert len(early_diagnosis.table(rows, steps=[100]).splitlines()) == 2 + 2


def test_a_row_without_diagnostics_is_named(tmp_path):
  with pytest.raises(FileNotFoundError, match="diagnostics.jsonl"):
    early_diagnosis.read_row(str(tmp_path))


def test_the_figure_is_written(tmp_path):
  pytest.importorskip("matplotlib")
  row = str(tmp_path / "mnist_20")
  _write(row, 0, [_record(100, 0.5), _record(200, 0.25)])
  out = str(tmp_path / "figure.png")
  early_diagnosis.plot({row: early_diagnosis.read_row(row)}, out)
  assert os.path.getsize(out) > 1000
