"""The README's quick-start test command is exactly what CI runs."""

import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _ci_command():
  lines = [l for l in (ROOT / ".ci" / "run").read_text().splitlines()
           if l.strip() and not l.startswith("#")]
  return lines[-1].strip()


def test_ci_runs_the_readme_test_command():
  command = _ci_command()
  assert "pytest" in command
  assert f"\n{command}\n" in (ROOT / "README.md").read_text()


def test_readme_main_command_installs_the_runtime_requirements():
  readme = (ROOT / "README.md").read_text()
  assert "pip install -r requirements.txt -e ." in readme


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
