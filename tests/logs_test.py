"""Tests of the run's log filter: our INFO lines, everyone's warnings."""

import logging
import os

import pytest

from pixelgan_tf import logs

PACKAGE = os.path.dirname(logs.__file__)


def _record(pathname, level):
  return logging.LogRecord("absl", level, pathname, 1, "message", None, None)


@pytest.mark.parametrize("pathname,level,shown", [
    (os.path.join(PACKAGE, "train.py"), logging.INFO, True),
    (os.path.join(PACKAGE, "..", "launch", "main.py"), logging.INFO, True),
    ("/site-packages/tensorflow_datasets/core/dataset_info.py", logging.INFO, False),
    ("/site-packages/tensorflow/python/saved_model/signature_serialization.py", logging.INFO,
     False),
    ("/site-packages/tensorflow_datasets/core/reader.py", logging.WARNING, True),
    (PACKAGE + "_elsewhere/train.py", logging.INFO, False),
])
def test_only_our_own_info_lines_pass(pathname, level, shown):
  assert logs.OwnInfoOnly().filter(_record(pathname, level)) is shown
