"""Test-wide settings: quiet TensorFlow, float32, fresh Keras state per test."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402  (after the environment above)
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
  keras.utils.clear_session()
  keras.utils.set_random_seed(0)
  yield
