"""Test-wide settings: quiet TensorFlow, float32, fresh Keras state per test; shared data."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402  (after the environment above)
import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist")
MNIST_EXAMPLES = 600  # per split: enough for the tiny preset's 20 labels and 100 validation images


@pytest.fixture(autouse=True)
def _fresh_keras_state():
  # Names, settings and seeds start afresh. Without free_memory=False every test
  # would also run a full garbage collection over TensorFlow's heap (about a
  # second each on 2 busy cores); Python's own collector frees the same memory.
  keras.utils.clear_session(free_memory=False)
  keras.utils.set_random_seed(0)
  yield


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
  """A TFDS directory holding the first MNIST_EXAMPLES of each split; tests only read it."""
  if not os.path.isdir(SHARED_MNIST):
    pytest.skip(f"the original MNIST files are not at {SHARED_MNIST}")
  from pixelgan_tf.data import prepare_mnist
  directory = str(tmp_path_factory.mktemp("tfds"))
  prepare_mnist(SHARED_MNIST, directory, max_examples_per_split=MNIST_EXAMPLES)
  return directory
