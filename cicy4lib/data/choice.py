"""The jobs' ``"auto"`` data choice: the generated set when it loads, else the embedded sample."""
from __future__ import annotations

from ..errors import Cicy4Error
from .dataset import subsample
from .readers import load_dataset


def load_auto(data="auto", max_samples=None):
    """The data a job runs on, and why it fell back (None when it did not).

    Parameters
    ----------
    data : str, CICYData or None
        ``"auto"`` or None: the generated set if it loads, else the embedded sample; any other
        string is a :func:`load_dataset` source; a dataset is used as it is.
    max_samples : int, optional
        Keep a random subset of this many rows (:func:`subsample`).

    Returns
    -------
    (CICYData, str or None)
        The dataset, and the first line of the reason the generated set could not be used.
    """
    reason = None
    if data is None or (isinstance(data, str) and data == "auto"):
        try:
            dataset = load_dataset("generated")
        except (Cicy4Error, OSError, ImportError, AttributeError) as err:  # not installed, or unreadable here
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            dataset = load_dataset("sample")
    elif isinstance(data, str):
        dataset = load_dataset(data)
    else:
        dataset = data
    return subsample(dataset, max_samples), reason
