"""Rendering the notebook collection from its templates (``python -m cicy4lib.notebooks generate``).

One notebook per registered model (in the registry entry's folder: ``Models_CNN-RNN-hybrid/``,
``Models_LSTM-based/``, ``Models_Beyond-paper/``) and the four ``data-results-processing/``
notebooks, from the templates in ``cicy4lib/notebooks/templates/``, without outputs and with
stable cell ids: regeneration is byte-identical and ``generate --check`` finds hand edits.
Running them is :mod:`cicy4lib.notebooks.runner`'s job.
"""
from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Mapping

from ..constants import HODGE, TARGETS  # noqa: F401  (re-exported: notebooks use nb.HODGE)
from .metricflow_notebooks import METRICFLOW_DIR, METRICFLOW_NOTEBOOKS  # Models_Metric-flows/

HYBRID_DIR = "Models_CNN-RNN-hybrid"
LSTM_DIR = "Models_LSTM-based"
PROCESSING_DIR = "data-results-processing"
PROCESSING_NOTEBOOKS = ("data", "curves", "inference", "metrics")
STUDY_NOTEBOOKS = ("search", "zoo")  # data-results-processing/ too, with their own parameters (search.py, zoo.py)
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SUMMARY_ENV = "CICY4_NOTEBOOK_SUMMARY"  # the runner tells a notebook where to copy its summary
SUMMARY_FILE = "summary.json"
DEFAULT_OUT = "outputs/executed"
# Notebook parameters that name files or folders: relative values given on the command line
# are taken relative to the caller's working directory, not the notebook's.
PATH_PARAMETERS = ("data", "output_dir", "models_dir", "figures_dir", "out_dir", "init_from")

SAMPLE_BANNER = ("**SAMPLE numbers, not the CICY4 list.** This run uses the embedded sample shipped "
                 "with cicy4lib (generated configurations with exact Hodge numbers), "
                 "not the paper's 905,684 configurations: its accuracies say whether the code works, "
                 "not how well the model does on the real list.")

_KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


# ============================================================================ generation


def default_root() -> Path:
    """The project checkout holding the notebook folders (the package's parent in a checkout)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists() or (checkout / LSTM_DIR).is_dir():
        return checkout
    return Path.cwd()


def model_family(name: str) -> str:
    """Human label of an architecture: "CNN-LSTM hybrid", "ResNet-GRU hybrid", "LSTM-only", or the
    registry entry's ``family`` for a model beyond the paper."""
    from ..models.registry import get_entry  # lazy: imports torch

    entry = get_entry(name)
    spec = entry.spec
    if not entry.paper or not hasattr(spec, "rnn"):
        return entry.family or "model beyond the paper"
    if spec.family is None:
        return f"{spec.rnn.upper()}-only"
    return f"{'CNN' if spec.family == 'cnn' else 'ResNet'}-{spec.rnn.upper()} hybrid"


def model_notebook_path(name: str, root=None) -> Path:
    """Where the notebook of architecture ``name`` lives, e.g. Models_LSTM-based/LSTM-448.ipynb
    (the registry entry's notebook folder)."""
    from ..models.registry import get_entry  # lazy: imports torch

    entry = get_entry(name)
    return Path(root or default_root()) / entry.notebook_dir / f"{entry.name}.ipynb"


def model_notebook_paths(root=None, *, paper: bool | None = None) -> list[Path]:
    """One notebook per registered model (the paper's 14 first), in the registry's order;
    ``paper=True`` keeps the paper's 14 only."""
    from ..models import list_models  # lazy: imports torch

    return [model_notebook_path(name, root) for name in list_models(paper=paper)]


def processing_notebook_paths(root=None) -> list[Path]:
    root = Path(root or default_root())
    return [root / PROCESSING_DIR / f"{kind}.ipynb" for kind in PROCESSING_NOTEBOOKS]


def parse_template(text: str) -> list[tuple[str, list[str], str]]:
    """Split a template into cells: (cell type, tags, source).

    A template is plain text in "percent" style: a line ``# %% [markdown]`` starts a markdown
    cell, ``# %% [parameters]`` a code cell tagged ``parameters`` and ``# %%`` a code cell.
    Comment lines before the first marker describe the template and are dropped, as are
    leading and trailing blank lines of each cell.
    """
    cells, kind, tags, lines = [], None, [], []

    def flush():
        if kind is not None:
            source = "\n".join(lines).strip("\n")
            if source:
                cells.append((kind, tags, source))

    for line in text.splitlines():
        marker = re.fullmatch(r"# %%(?: \[(markdown|parameters)\])?\s*", line)
        if marker:
            flush()
            kind = "markdown" if marker.group(1) == "markdown" else "code"
            tags = ["parameters"] if marker.group(1) == "parameters" else []
            lines = []
        elif kind is None:  # a header comment about the template itself, not a cell
            if line.strip() and not line.startswith("#"):
                raise ValueError(f"template text before the first '# %%' marker: {line!r}")
        else:
            lines.append(line)
    flush()
    return cells


def fill_template(text: str, values: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` placeholders; unknown or unfilled placeholders are an error."""
    def replace(match):
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template placeholder {{{{{key}}}}} has no value")
        return str(values[key])

    return re.sub(r"\{\{(\w+)\}\}", replace, text)


def build_notebook(cells, *, notebook_id: str):
    """An nbformat v4.5 notebook without outputs and with stable cell ids."""
    import nbformat  # lazy: imports nbformat
    from nbformat import v4  # lazy: imports nbformat

    nb = v4.new_notebook()
    nb.metadata = {"kernelspec": dict(_KERNELSPEC), "language_info": {"name": "python"}}
    for i, (kind, tags, source) in enumerate(cells):
        cell_id = f"{notebook_id}-{i:02d}"  # deterministic: regeneration is byte-identical
        if kind == "markdown":
            nb.cells.append(v4.new_markdown_cell(source, id=cell_id))
        else:
            metadata = {"tags": list(tags)} if tags else {}
            nb.cells.append(v4.new_code_cell(source, id=cell_id, metadata=metadata))
    nbformat.validate(nb)
    return nb


def _notebook_text(nb) -> str:
    import nbformat  # lazy: imports nbformat

    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def _fmt_acc(values) -> str:
    return " | ".join("–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"
                      for v in values)


def _model_title(name: str) -> str:
    """The title cell: architecture, parameters, and the paper's accuracies for this model."""
    from ..results import published  # lazy: imports pandas

    params = published.PARAMETER_COUNTS.get(name)
    if params is None:  # a registry model the paper's tables do not list
        from ..models import build_model, count_parameters  # lazy: imports torch

        params = count_parameters(build_model(name, device="meta"))
    from ..models.registry import get_entry  # lazy: imports torch

    entry = get_entry(name)
    if entry.paper:
        intro = (f"One of the paper's 14 architectures ({params:,} trainable parameters), trained with "
                 "the paper's recipe by `cicy4lib` (resumable, with the exact-χ constrained accuracies "
                 "beside the raw ones).")
    else:
        intro = (f"A model beyond the paper ({params:,} trainable parameters)"
                 + (f": {entry.description}" if entry.description else "") + ". Trained by `cicy4lib` "
                 "with the same trainer, split and evaluation as the paper's 14 networks.")
    lines = [f"# {name}: {model_family(name)}", "", intro, "",
             "Published test accuracies (%) of this model in the paper (arXiv:2405.17406), "
             "on the real CICY4 list:", "",
             "| test set | h11 | h21 | h31 | h22 |", "|---|---|---|---|---|"]
    any_row = False
    for test, label in (("72", "72% split (Tables 2–4)"), ("80", "80% split (Table 8)")):
        table = published.accuracy_table(test, kind="model")
        if name in table.index:
            lines.append(f"| {label} | " + _fmt_acc(table.loc[name, list(HODGE)].tolist()) + " |")
            any_row = True
        else:
            lines.append(f"| {label} | not reported | | | |")
    if not any_row:
        lines += ["", "The paper reports no accuracies for this architecture." if entry.paper
                  else "The paper does not have this model."]
    lines += ["", "– marks a cell lost from the paper's text (a bold best value); "
              "see `cicy4lib.results.published`."]
    return "\n".join(lines)


def render_model_notebook(name: str):
    from ..models import canonical_name  # lazy: imports torch

    name = canonical_name(name)
    text = (TEMPLATE_DIR / "model.nbtpl").read_text()
    values = {"model_name": name, "title": _model_title(name)}
    return build_notebook(parse_template(fill_template(text, values)), notebook_id=_cell_prefix(name))


def render_processing_notebook(kind: str):
    if kind not in PROCESSING_NOTEBOOKS + STUDY_NOTEBOOKS:
        raise ValueError(f"unknown processing notebook {kind!r}; known: {PROCESSING_NOTEBOOKS}")
    text = (TEMPLATE_DIR / f"{kind}.nbtpl").read_text()
    return build_notebook(parse_template(fill_template(text, {})), notebook_id=kind)


def _cell_prefix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()


def generated_notebooks(root=None) -> dict[Path, str]:
    """Every generated notebook: path -> JSON text, exactly as ``generate`` writes it."""
    root = Path(root or default_root())
    return {root / relative: text for relative, text in _rendered_notebooks(_templates_stamp())}


def _templates_stamp() -> tuple:
    """Changes whenever a template file changes (so the render cache below stays correct)."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(TEMPLATE_DIR.glob("*.nbtpl")))


@functools.lru_cache(maxsize=2)
def _rendered_notebooks(stamp) -> tuple:
    from ..models import list_models  # lazy: imports torch

    out = []
    for name in list_models():
        relative = model_notebook_path(name, Path("/")).relative_to("/")
        out.append((relative, _notebook_text(render_model_notebook(name))))
    for kind, path in zip(PROCESSING_NOTEBOOKS, processing_notebook_paths(Path("/"))):
        out.append((path.relative_to("/"), _notebook_text(render_processing_notebook(kind))))
    for kind in STUDY_NOTEBOOKS:
        out.append((Path(PROCESSING_DIR) / f"{kind}.ipynb", _notebook_text(render_processing_notebook(kind))))
    for stem, (template, values) in METRICFLOW_NOTEBOOKS.items():
        text = fill_template((TEMPLATE_DIR / f"{template}.nbtpl").read_text(), values)
        nb = build_notebook(parse_template(text), notebook_id=f"metricflow-{stem.replace('_', '-')}")
        out.append((Path(METRICFLOW_DIR) / f"{stem}.ipynb", _notebook_text(nb)))
    return tuple(out)


def drifted_notebooks(root=None) -> list[Path]:
    """Notebooks that are missing or differ from what the templates generate."""
    return [path for path, text in generated_notebooks(root).items()
            if not path.exists() or path.read_text() != text]


def generate(root=None, *, check: bool = False) -> list[Path]:
    """Write the notebooks (or, with ``check``, only list the drifted ones).

    Returns
    -------
    The paths written (only those whose content changed), or with ``check`` the drifted paths.
    """
    changed = []
    for path, text in generated_notebooks(root).items():
        if path.exists() and path.read_text() == text:
            continue
        changed.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return changed

__all__ = ['DEFAULT_OUT', 'HODGE', 'HYBRID_DIR', 'LSTM_DIR', 'PATH_PARAMETERS', 'PROCESSING_DIR', 'PROCESSING_NOTEBOOKS', 'SAMPLE_BANNER', 'STUDY_NOTEBOOKS', 'SUMMARY_ENV', 'SUMMARY_FILE', 'TARGETS', 'TEMPLATE_DIR', 'build_notebook', 'default_root', 'drifted_notebooks', 'fill_template', 'generate', 'generated_notebooks', 'model_family', 'model_notebook_path', 'model_notebook_paths', 'parse_template', 'processing_notebook_paths', 'render_model_notebook', 'render_processing_notebook']
