"""Which trainable variables a piece of training moved: the tests' phase-by-phase checks."""

from typing import Dict, Iterable, Set

import numpy as np


def snapshot(variables: Iterable) -> Dict[str, np.ndarray]:
  """{path: a copy of the value} of each variable."""
  return {v.path: v.numpy().copy() for v in variables}


def changed_paths(variables: Iterable, before: Dict[str, np.ndarray]) -> Set[str]:
  """Paths of the variables whose value differs from `before` (a `snapshot`)."""
  return {v.path for v in variables if not np.array_equal(v.numpy(), before[v.path])}
