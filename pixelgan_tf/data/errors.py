"""The one exception the data package raises for problems a user can fix."""


class DataError(ValueError):
  """A dataset is missing, corrupt or asked for in a way it cannot serve.

  Messages name the file, directory or config field at fault and, where
  there is one, the command that fixes it; the launch scripts print them as
  one line without a traceback.
  """
