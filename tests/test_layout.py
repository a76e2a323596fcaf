"""The package layout: imports flow one way (no cycle, lazy imports included)."""
import ast
from pathlib import Path

import networkx as nx  # ships with torch
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cicy4lib"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(current: str, is_package: bool, level: int, module: str | None) -> str:
    base = current.split(".") if is_package else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([module] if module else []))


def import_graph() -> nx.DiGraph:
    """Edges module -> module it imports (module-level and inside functions alike)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level:
                base = _resolve(name, is_package, node.level, node.module)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cicy4lib"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    targets.append(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names if a.name.startswith("cicy4lib")]
            for target in targets:
                if target in modules and target != name:
                    graph.add_edge(name, target)
    return graph


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    # a package's __init__ re-exports its modules; a module importing its own package's
    # __init__ would close a cycle through it, so packages count as their modules
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])


def test_the_graph_sees_imports():
    graph = import_graph()
    assert graph.has_edge("cicy4lib.geometry.euler", "cicy4lib.geometry.validate")
    assert graph.has_edge("cicy4lib.checkpoint", "cicy4lib.fileio")


@pytest.mark.parametrize("layer,forbidden", [
    ("cicy4lib.geometry", ("cicy4lib.data", "cicy4lib.models", "cicy4lib.train", "cicy4lib.notebooks")),
    ("cicy4lib.data", ("cicy4lib.models", "cicy4lib.train", "cicy4lib.notebooks")),
    ("cicy4lib.models", ("cicy4lib.data", "cicy4lib.train", "cicy4lib.notebooks")),
])
def test_lower_layers_do_not_import_higher_ones(layer, forbidden):
    graph = import_graph()
    for module in graph:
        if module == layer or module.startswith(layer + "."):
            for target in graph.successors(module):
                assert not target.startswith(forbidden), f"{module} imports {target}"
