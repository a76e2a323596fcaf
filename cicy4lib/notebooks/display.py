"""What a notebook shows: Markdown, images, the sample banner (plain text outside Jupyter)."""
from __future__ import annotations

import re


# ============================================================================ notebook helpers


from .render import SAMPLE_BANNER


def is_sample(data) -> bool:
    """Whether a dataset (or a ``data`` parameter) is the embedded sample."""
    source = getattr(data, "source", data)
    return str(source).strip().lower() == "sample"


def _display(obj):
    try:
        from IPython.display import display
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
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(repr(_MarkdownText(text)))
    else:
        _display(_MarkdownText(text))


def show_image(path):
    """Show a PNG in a notebook (the figures module writes files and keeps no figure open)."""
    try:
        from IPython import get_ipython
        from IPython.display import Image
    except ImportError:
        print(f"figure: {path}")
        return
    if get_ipython() is None:
        print(f"figure: {path}")
    else:
        _display(Image(filename=str(path)))


def show_images(paths):
    for path in paths:
        show_image(path)


def sample_banner(data) -> None:
    """The "SAMPLE numbers, not the CICY4 list" banner when ``data`` is the embedded sample."""
    if is_sample(data):
        show_markdown(f"> {SAMPLE_BANNER}")

__all__ = ['is_sample', 'sample_banner', 'show_image', 'show_images', 'show_markdown']
