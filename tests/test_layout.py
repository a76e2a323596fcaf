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
    assert graph.has_edge("cicy4lib.models.checkpoint", "cicy4lib.fileio")
    assert graph.has_edge("cicy4lib.training.loop", "cicy4lib.models.checkpoint")


# The one-way order of the packages: a module may import its own layer and the layers before it.
# The root modules (constants, errors, fileio, threads, ...) are the base every layer may use;
# metricflow (numerical CY metrics) stands beside the Hodge-number code and shares only that base.
LAYERS = ("geometry", "data", "models", "training", "results", "notebooks", "jobs")
HODGE_CODE = tuple(f"cicy4lib.{layer}" for layer in LAYERS)
# old module paths kept for notebooks made before the layout (see each file's docstring)
COMPAT = ("cicy4lib.train", "cicy4lib.evaluate", "cicy4lib.figures", "cicy4lib.ensemble", "cicy4lib.zoo",
          "cicy4lib.search")
TOP = ("cicy4lib.__main__",) + COMPAT  # entry points: may import anything, nothing imports them
# a root module that uses a layer belongs to that layer (outputs reads data files through data.checks)
ROOT_MODULE_LAYER = {"cicy4lib.outputs": "data"}
BASE = ("cicy4lib",) + tuple(sorted(f"cicy4lib.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"
                                    and f"cicy4lib.{p.stem}" not in TOP + tuple(ROOT_MODULE_LAYER)))


def _layer(module: str) -> str | None:
    if module in ROOT_MODULE_LAYER:
        return ROOT_MODULE_LAYER[module]
    for layer in LAYERS + ("metricflow",):
        if module == f"cicy4lib.{layer}" or module.startswith(f"cicy4lib.{layer}."):
            return layer
    return None


def test_every_module_has_a_place():
    for module in import_graph():
        assert module in BASE or module in TOP or _layer(module), f"{module}: not in a layer (tests/test_layout.py)"


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_itself_and_the_layers_before_it(layer):
    graph = import_graph()
    allowed = set(LAYERS[: LAYERS.index(layer) + 1])
    for module in graph:
        if _layer(module) != layer:
            continue
        for target in graph.successors(module):
            assert target in BASE or _layer(target) in allowed, f"{module} imports {target}"


def test_the_base_imports_no_layer():
    graph = import_graph()
    for module in BASE:
        for target in graph.successors(module):
            assert target in BASE, f"{module} imports {target}"


def test_nothing_imports_an_entry_point_or_an_old_path():
    graph = import_graph()
    for module in TOP:
        assert list(graph.predecessors(module)) == [], f"{module} is imported by {list(graph.predecessors(module))}"


def test_metricflow_is_independent_of_the_hodge_code():
    graph = import_graph()
    for module in graph:
        for target in graph.successors(module):
            if _layer(module) == "metricflow":
                assert not target.startswith(HODGE_CODE), f"{module} imports {target}"
            elif target.startswith("cicy4lib.metricflow"):
                assert _layer(module) == "metricflow" or module in TOP or module in BASE[:1], \
                    f"{module} imports {target}"


def test_the_layout_test_fails_on_a_wrong_edge():
    graph = import_graph()
    graph.add_edge("cicy4lib.models.registry", "cicy4lib.training.loop")  # a lower layer importing a higher one
    bad = [(m, t) for m in graph if _layer(m) == "models" for t in graph.successors(m)
           if t not in BASE and _layer(t) not in LAYERS[: LAYERS.index("models") + 1]]
    assert bad == [("cicy4lib.models.registry", "cicy4lib.training.loop")]
