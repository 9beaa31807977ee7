"""What a run prints: its own INFO lines, everyone's warnings and errors."""

import logging
import os

from absl import logging as absl_logging

# Files whose INFO lines a user wants: this package and the repository's scripts.
_OWN_DIRECTORIES = tuple(
    os.path.join(os.path.abspath(path), "")
    for path in (os.path.dirname(__file__),
                 os.path.join(os.path.dirname(__file__), "..", "launch"),
                 os.path.join(os.path.dirname(__file__), "..", "experiments")))


class OwnInfoOnly(logging.Filter):
  """Passes warnings and errors, and INFO records only from our own files.

  TensorFlow Datasets and TensorFlow log through absl too, a dozen INFO lines
  a run (dataset info loaded, readers created, SavedModel inputs renamed),
  which bury the run's own progress.
  """

  def filter(self, record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
      return True
    return os.path.abspath(record.pathname).startswith(_OWN_DIRECTORIES)


def show_only_own_info() -> None:
  """Installs `OwnInfoOnly` on absl's handler (the one `absl.app.run` logs through)."""
  handler = absl_logging.get_absl_handler()
  if not any(isinstance(f, OwnInfoOnly) for f in handler.filters):
    handler.addFilter(OwnInfoOnly())
