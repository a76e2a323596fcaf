"""Imports inside functions say why on their own line (issue 19: "function-level imports only where
they keep `import cicy4lib` light or torch optional, with a one-word reason").

An import inside a function must carry ``# lazy: <reason>`` (it loads a heavy package, or would close
an import cycle) or ``# optional: <reason>`` (the package may be missing) on its line; everything
else belongs at the top of its module.
"""
import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cicy4lib"
REASON = re.compile(r"#\s*(lazy|optional):\s*\S")

# Files whose function-level imports do not say why yet (none now). An entry must still have such
# an import: the test below fails once it has none, so the list cannot go stale.
PENDING: set = set()


def _function_imports(path: Path):
    """(line number, source line) of every import inside a function of ``path``, without a reason."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                # a parenthesised import may carry its comment on its first or its last line
                text = " ".join(lines[node.lineno - 1:node.end_lineno])
                if not REASON.search(text):
                    yield node.lineno, lines[node.lineno - 1].strip()


def _unexplained() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        hits = sorted(set(_function_imports(path)))
        if hits:
            found[rel] = hits
    return found


def test_function_level_imports_say_why():
    bad = {rel: hits for rel, hits in _unexplained().items() if rel not in PENDING}
    listing = "; ".join(f"{rel}:{n}: {text}" for rel, hits in bad.items() for n, text in hits)
    assert not bad, ("imports inside functions without '# lazy: ...' or '# optional: ...' on their line "
                     f"(move them to the top of the module, or say why): {listing}")


def test_the_pending_list_is_not_stale():
    found = _unexplained()
    done = sorted(rel for rel in PENDING if rel not in found)
    assert not done, f"{done} no longer hold unexplained function-level imports: remove them from PENDING"


def test_the_check_sees_a_bare_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import json\n    from os import path  # lazy: imports nothing heavy\n"
                      "    import torch  # a remark, not a reason\n    return json, path, torch\n")
    assert [n for n, _ in _function_imports(module)] == [2, 4]
