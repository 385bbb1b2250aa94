"""User-facing errors.

Everything a user can cause (a missing data file, a wrong shape, an incompatible checkpoint,
a bad option) raises a subclass of :class:`DlbookError` whose message names the thing and the
fix. The CLI prints such errors as one line, without a traceback unless ``--debug`` is given.
"""


class DlbookError(Exception):
    """Base class of the errors a user can cause and fix."""

    # Let the error leave a tf.function as itself, not wrapped in autograph's StagingError.
    ag_pass_through = True


class DataError(DlbookError):
    """A data file is missing, truncated, corrupt, or inconsistent."""


class ShapeError(DlbookError, ValueError):
    """An input has the wrong shape or dtype for the model or function it is given to."""


class CheckpointError(DlbookError):
    """A weights file or checkpoint cannot be read or does not fit the model."""


class UsageError(DlbookError):
    """A bad command-line option or argument value."""


class SaveError(DlbookError):
    """A file of a run cannot be written (disk full, read-only file system, no permission)."""
