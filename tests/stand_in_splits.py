"""Stand-in data for tests of the training machinery: random 8x8 images, three classes."""

import numpy as np

from pixelgan_tf.data import Splits


def three_class_splits(n: int = 40) -> Splits:
  """`Splits` of random uint8 [8, 8, 1] images: n unlabelled, two labelled per class.

  The same images every call (seed 0), so that two runs see the same data.
  """
  rng = np.random.default_rng(0)
  images = lambda count: rng.integers(0, 256, [count, 8, 8, 1]).astype(np.uint8)
  return Splits(train_images=images(n), train_labels=np.arange(n) % 3, labeled_images=images(6),
                labeled_labels=np.repeat(np.arange(3), 2),
                validation_images=images(4), validation_labels=np.zeros(4, np.int64),
                test_images=images(4), test_labels=np.zeros(4, np.int64), num_classes=3,
                image_shape=(8, 8, 1))
