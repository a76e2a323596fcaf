"""What a notebook shows: Markdown, images, the sample banner (plain text outside Jupyter)."""
from __future__ import annotations

import re


# ============================================================================ notebook helpers


from .render import SAMPLE_BANNER
from ..data.label import data_label, figure_note, is_real_list, provenance


def is_sample(data) -> bool:
    """Whether a dataset (or a ``data`` parameter) is *not* the real CICY4 list: the embedded
    sample, the generated set, a subset or any other data (see :mod:`cicy4lib.data.label`).
    Such data gets the banner, the figure note, and no side-by-side with the paper's numbers."""
    return not is_real_list(data)


def data_note(data) -> str | None:
    """The figure note of ``data`` (``None`` for the real list)."""
    return figure_note(data)


def show_object(obj):
    try:
        from IPython.display import display  # optional: IPython (outside a notebook: printed)
    except ImportError:  # plain Python: print instead
        print(obj)
        return
    display(obj)


class _MarkdownText:
    """Markdown for notebook front ends, readable plain text for everything else (logs, text
    exports of executed notebooks)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return re.sub(r"^> ", "", self.text.replace("**", ""), flags=re.M)


def show_markdown(text: str):
    """Show markdown in a notebook, plain text elsewhere."""
    try:
        from IPython import get_ipython  # optional: IPython (outside a notebook: plain text)
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(repr(_MarkdownText(text)))
    else:
        show_object(_MarkdownText(text))


def show_image(path):
    """Show a PNG in a notebook (the figures module writes files and keeps no figure open)."""
    try:
        from IPython import get_ipython  # optional: IPython (outside a notebook: plain text)
        from IPython.display import Image  # optional: IPython
    except ImportError:
        print(f"figure: {path}")
        return
    if get_ipython() is None:
        print(f"figure: {path}")
    else:
        show_object(Image(filename=str(path)))


def show_images(paths):
    for path in paths:
        show_image(path)


def banner_text(data) -> str:
    """The banner of data that is not the real list (names the data and its size)."""
    if provenance(data).get("kind") == "embedded-sample":
        return f"{SAMPLE_BANNER} (Data: {data_label(data)}.)"
    return (f"**Not the CICY4 list: {data_label(data)}.** These numbers say whether the code works on this "
            "data; they are not comparable with the paper's results on its 905,684 configurations, so "
            "the paper's numbers are not set beside them.")


def sample_banner(data) -> None:
    """The "not the CICY4 list" banner for any data that is not the real list."""
    if is_sample(data):
        show_markdown(f"> {banner_text(data)}")

__all__ = ['banner_text', 'data_note', 'is_sample', 'sample_banner', 'show_image', 'show_images', 'show_markdown']
