"""BUILD mirrors the package: every module has a target whose deps cover its imports."""

import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
IN_REPO = ("pixelgan_tf", "tests", "launch", "bench", "experiments")
# Import name -> pip requirement name, for the third-party packages we use.
PIP_NAMES = {
    "absl": "absl-py",
    "keras": "keras",
    "matplotlib": "matplotlib",
    "numpy": "numpy",
    "pytest": "pytest",
    "tensorflow": "tensorflow",
    "tensorflow_datasets": "tensorflow-datasets",
    "tensorflow_probability": "tensorflow-probability",
}
STANDARD = sys.stdlib_module_names


def _targets():
  """Parses BUILD (Starlark is Python syntax) into {name: target dict}."""
  tree = ast.parse((ROOT / "BUILD").read_text())
  targets = {}
  for node in ast.walk(tree):
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id.startswith("py_")):
      continue
    fields = {kw.arg: kw.value for kw in node.keywords}
    deps, pip = [], []
    for dep in getattr(fields.get("deps"), "elts", []):
      if isinstance(dep, ast.Constant):
        deps.append(dep.value.lstrip(":"))
      else:  # requirement("name")
        pip.append(dep.args[0].value)
    targets[fields["name"].value] = {
        "rule": node.func.id,
        "srcs": [s.value for s in fields["srcs"].elts],
        "deps": deps,
        "pip": pip,
    }
  return targets


def _module_file(module: str):
  """pixelgan_tf.layers.gated_block -> its path, or None if not a module file."""
  base = ROOT.joinpath(*module.split("."))
  for candidate in (base.with_suffix(".py"), base / "__init__.py"):
    if candidate.is_file():
      return str(candidate.relative_to(ROOT))
  return None


def _imports(path: str):
  """(in-repo files, top-level third-party names) imported by a source file."""
  files, third_party = set(), set()
  for node in ast.walk(ast.parse((ROOT / path).read_text())):
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
      # `from pkg import sub` needs only pkg.sub when sub is a module.
      names = []
      for alias in node.names:
        full = f"{node.module}.{alias.name}"
        is_module = node.module.split(".")[0] in IN_REPO and _module_file(full)
        names.append(full if is_module else node.module)
    else:
      continue
    for name in names:
      top = name.split(".")[0]
      if top in IN_REPO:
        module_file = _module_file(name)
        if module_file:
          files.add(module_file)
      elif top not in STANDARD:
        third_party.add(top)
  return files, third_party


def _owner_of():
  owners = {}
  for name, target in _targets().items():
    for src in target["srcs"]:
      assert src not in owners, f"{src} is in both {owners[src]} and {name}"
      owners[src] = name
  return owners


def _closure(name, targets):
  seen, stack = set(), [name]
  while stack:
    current = stack.pop()
    if current not in seen:
      seen.add(current)
      stack.extend(targets[current]["deps"])
  return seen


def test_every_source_file_is_in_exactly_one_target():
  owners = _owner_of()
  sources = {str(p.relative_to(ROOT)) for d in IN_REPO for p in (ROOT / d).rglob("*.py")}
  assert sources - set(owners) == set(), "source files without a BUILD target"
  assert set(owners) - sources == set(), "BUILD names files that do not exist"


def test_one_py_test_per_test_file():
  targets = _targets()
  for path in (ROOT / "tests").glob("*_test.py"):
    name = path.stem
    assert name in targets and targets[name]["rule"] == "py_test", name
    assert targets[name]["srcs"] == [f"tests/{path.name}"]


def test_one_py_library_per_library_module():
  for name, target in _targets().items():
    if any(s.startswith("pixelgan_tf/") for s in target["srcs"]):
      assert target["rule"] == "py_library" and len(target["srcs"]) == 1, name


@pytest.mark.parametrize("name", sorted(_targets()))
def test_deps_cover_imports(name):
  targets, owners = _targets(), _owner_of()
  target = targets[name]
  reachable = _closure(name, targets)
  for src in target["srcs"]:
    files, third_party = _imports(src)
    for imported in files:
      assert owners[imported] in reachable, f"{name}: {src} imports {imported}"
    for package in third_party:
      assert package in PIP_NAMES, f"{src} imports {package}: add it to PIP_NAMES"
      pip_name = PIP_NAMES[package]
      declared = any(pip_name in targets[t]["pip"] for t in reachable)
      assert declared, f"{name}: {src} imports {package} without requirement({pip_name!r})"


def test_every_pip_requirement_is_in_requirements_files():
  listed = (ROOT / "requirements.txt").read_text() + (ROOT / "requirements-dev.txt").read_text()
  for target in _targets().values():
    for pip_name in target["pip"]:
      assert pip_name in listed, f"requirement({pip_name!r}) is not in requirements*.txt"


if __name__ == "__main__":
  raise SystemExit(pytest.main([__file__]))
