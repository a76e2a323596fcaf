"""Every error class the library raises for bad input, in one place.

All derive from :class:`Cicy4Error`, so ``except cicy4lib.errors.Cicy4Error`` catches user
errors (bad matrices, files, checkpoints, names) and lets real bugs through. Each also derives
from the builtin a caller would expect (``ValueError``, ``KeyError``, ``FileNotFoundError``).
"""


class Cicy4Error(Exception):
    """Base class of the library's user-facing errors."""


class ConfigurationError(Cicy4Error, ValueError):
    """A matrix that is not a valid CICY four-fold configuration."""


class DataError(Cicy4Error, ValueError):
    """A data file is missing, truncated, corrupt or inconsistent (the message names it)."""


class UnknownModelError(Cicy4Error, KeyError):
    """A model name that is not in the registry (the message lists close matches)."""

    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class UnknownNameError(Cicy4Error, KeyError):
    """A name (a paper ensemble, a table, ...) that the library does not know; the message lists
    the known ones."""

    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class StateDictMismatchError(Cicy4Error, ValueError):
    """A state_dict that does not fit the requested architecture."""


class CheckpointError(Cicy4Error, ValueError):
    """A checkpoint or training-state file that cannot be used (the message names it)."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """No checkpoint where one was expected."""


class CheckpointMismatchError(CheckpointError, StateDictMismatchError):
    """Weights that do not fit the architecture named in the checkpoint."""


class UntrustedCheckpointError(CheckpointError):
    """A pickled module, refused unless the caller says it trusts the file."""


class RunError(Cicy4Error, RuntimeError):
    """A run directory that cannot be trained into as asked (finished, locked, other data)."""


class RunLockedError(RunError):
    """Another trainer holds the run directory's lock."""


class RunExistsError(RunError):
    """The run directory holds a run and neither resuming nor overwriting it was asked for."""


class RunMismatchError(RunError, ValueError):
    """The saved run cannot be resumed as asked: another model, split, recipe or data."""


class UsageError(Cicy4Error, ValueError):
    """A command line that cannot be run as given (bad argument value, unknown option)."""


class CanonicalFormError(Cicy4Error, RuntimeError):
    """A configuration whose canonical form needs more search than allowed."""


class PointSetError(Cicy4Error, ValueError):
    """Points on a variety that cannot be used as given: wrong shape or dtype, non-finite or zero
    coordinates, two point sets that do not match (the message names which)."""


class KernelMemoryError(Cicy4Error, MemoryError):
    """A kernel (or distance) matrix larger than this machine's memory; the message says how much
    it would need and how to chunk it."""


class FlowStoppedError(Cicy4Error, RuntimeError):
    """A metric flow that had to stop (non-finite update, metric no longer Hermitian
    positive-definite); the message says at which step and point, ``.state`` holds the last good
    state."""

    def __init__(self, message, state=None):
        super().__init__(message)
        self.state = state


class MetricFlowError(Cicy4Error, ValueError):
    """Bad input to :mod:`cicy4lib.metricflow` (points off the variety, non-finite coordinates,
    wrong shapes, an unsupported configuration matrix); the message names the problem."""


class OutputError(Cicy4Error, OSError):
    """An output that cannot be written where asked: no space, a read-only disk, a link where a
    file was expected, a name that leaves the output folder. The message names the file and says
    what was kept."""

    def __init__(self, message, errno_=None, filename=None):
        OSError.__init__(self, message)
        self.message = message
        if errno_ is not None:
            self.errno = errno_
        if filename is not None:
            self.filename = str(filename)

    def __str__(self):
        return self.message

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.message, self.errno, self.filename))


class OutputRefusedError(OutputError):
    """An output location refused before anything was written: inside the installed package, the
    input itself, a folder that holds another dataset or another job's results (``force`` to
    replace)."""


class DataMismatchWarning(UserWarning):
    """Data that differs from what a run or a file records (evaluating a run on other data)."""


class DataWarning(UserWarning):
    """Data that loads but deserves a word: repeated configurations, leakage between the parts
    of a stored split."""
