"""Errors a user can fix, as opposed to bugs.

Everything raised as a `UserError` is reported by the tools as one line
(`error: ...`) with a non-zero exit status and no traceback; anything else is a
bug and keeps its traceback.
"""


class UserError(Exception):
    """A problem with the user's input; the message says what and how to fix it."""

    exit_code = 1


class ConfigError(UserError):
    """Bad config file, override or command-line value."""

    exit_code = 2


class DataError(UserError):
    """MNIST files missing, truncated or malformed."""


class CheckpointError(UserError):
    """A checkpoint that is missing, corrupt, unsafe or of another network."""


class ImageError(UserError):
    """A user image that cannot be read or is unreasonably large."""


class ExportError(UserError):
    """An inference model that cannot be written or does not match its source."""


class TrainingDiverged(UserError):
    """The loss became NaN, infinite or exploded; nothing was saved from it."""


class OutputLocked(UserError):
    """Another training is writing to the same output prefix."""


class StoreError(UserError):
    """A record database that cannot be opened, upgraded, reached or written."""


class UpdateRunning(UserError):
    """Another model update holds the record database's update lock."""
