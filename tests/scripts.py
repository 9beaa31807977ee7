"""The repository's absl scripts run in the test process, without a TensorFlow import per run.

A subprocess that imports TensorFlow costs seconds before it does anything; the
flag parsing, error lines and exit statuses of `launch/main.py` and the report
scripts are the same in this process. Tests where a fresh process is the point
(a SavedModel read without pixelgan_tf, a killed process, the CLI's own exit
status) still start one.
"""

import ast
import importlib.util
import os
import subprocess
import sys
from typing import Callable, Sequence, Union

from absl import flags

# Defines --workdir before launch/main.py does (see `launch_main`).
from experiments import trained_run  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MAIN_MODULE = "launch_main"


def launch_main():
  """launch/main.py as a module, loaded once.

  launch/main.py shares flag names with report scripts that take the same
  values (--workdir with experiments/trained_run.py; --dataset, --data_dir and
  --labels with experiments/labelled_images.py). They never share a process
  outside the tests, where those modules are imported first. Every FlagHolder
  reads its flag by name, so launch/main.py's definitions replace theirs here;
  the tests run those scripts' `main` only with the shared flags set.
  """
  if _MAIN_MODULE not in sys.modules:
    path = os.path.join(ROOT, "launch", "main.py")
    for name in _flags_defined_in(path):
      if name in flags.FLAGS:
        delattr(flags.FLAGS, name)
    spec = importlib.util.spec_from_file_location(_MAIN_MODULE, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[_MAIN_MODULE] = module
    spec.loader.exec_module(module)
  return sys.modules[_MAIN_MODULE]


def _flags_defined_in(path: str) -> list:
  """The names of the flags a script defines with `flags.DEFINE_*("name", ...)`."""
  with open(path) as file:
    tree = ast.parse(file.read())
  return [call.args[0].value for call in ast.walk(tree)
          if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
          and call.func.attr.startswith("DEFINE") and call.args
          and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)]


def run(main: Callable[[Sequence[str]], None], *args: str) -> int:
  """Runs an absl `main` on the command line `args` as `absl.app.run` would; its exit status.

  A refused flag value prints absl's parsing error and gives 1, as `app.run`
  does; `sys.exit("message")` prints the message and gives 1, as Python does.
  Every flag not in `args` is at its default. Log records reach pytest's
  `caplog`, not stderr.
  """
  flags.FLAGS.unparse_flags()
  try:
    try:
      flags.FLAGS(["script", *args])
    except flags.Error as error:
      print(f"FATAL Flags parsing error: {error}", file=sys.stderr)
      return 1
    if flags.FLAGS["verbosity"].using_default_value:
      flags.FLAGS.verbosity = 0   # app.run shows INFO lines unless told otherwise
    main(["script"])
  except SystemExit as exit_:
    code: Union[int, str, None] = exit_.code
    if isinstance(code, str):
      print(code, file=sys.stderr)
      return 1
    return code or 0
  finally:
    flags.FLAGS.unparse_flags()   # the next test starts from the defaults
  return 0


def python_process(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
  """Runs this interpreter on `args` from the repository root, in a fresh process."""
  return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                        timeout=timeout, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def main_process(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
  """launch/main.py on the command line `args`, in a fresh process."""
  return python_process(os.path.join(ROOT, "launch", "main.py"), *args, timeout=timeout)


def in_process(capsys, main: Callable[[Sequence[str]], None],
               *args: str) -> subprocess.CompletedProcess:
  """`main` run in this process on the command line `args`, as a finished process."""
  capsys.readouterr()
  returncode = run(main, *args)
  stdout, stderr = capsys.readouterr()
  return subprocess.CompletedProcess(args, returncode, stdout, stderr)


def main_here(capsys, *args: str) -> subprocess.CompletedProcess:
  """launch/main.py's `main` run in this process on the command line `args`."""
  return in_process(capsys, launch_main().main, *args)
