"""No module of ``compiler/`` imports itself back through others.

The graph is read from the source with ``ast`` (nothing is imported): an edge ``a → b`` for
every ``import``/``from … import`` in ``a`` that names a module ``b`` of the package, with
relative imports resolved and ``from pkg import name`` going to ``pkg.name`` when that is a
module. A package's ``__init__`` being imported before its modules is Python's doing, not an
edge. Two graphs are checked:

- module-level imports (including those under a top-level ``if``/``try``, but not under
  ``if TYPE_CHECKING:``): a cycle there makes the result depend on which module is imported
  first and can fail with a partly initialised module;
- every import, those inside functions included: a deferred import that closes a cycle only
  hides it (``models.frontmatter`` and ``models.rungroup`` used to import each other that way).
  A lazy import is fine for speed; when it closes a cycle, move the shared piece instead.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from .conftest import ROOT

PACKAGE = "compiler"


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run when the module is imported (not function or class bodies,
    not ``if TYPE_CHECKING:`` blocks)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node):
                yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *(h.body for h in node.handlers)):
                yield from _top_level(block)
        elif isinstance(node, ast.With):
            yield from _top_level(node.body)


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts.pop()
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def import_graph(all_imports: bool = False) -> dict[str, set[str]]:
    """``{module: {modules of the package it imports}}`` (see the module docstring)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        nodes = ast.walk(tree) if all_imports else _top_level(tree.body)
        deps: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = _base(name, path.name == "__init__.py", node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    deps.add(sub if sub in modules else base)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, …, a]``, or ``None`` when the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def _show(cycle: list[str] | None) -> str:
    return "" if cycle is None else "import cycle: " + " → ".join(cycle)


def test_the_graph_sees_the_package() -> None:
    graph = import_graph()
    assert "compiler.cli" in graph and "compiler.models.rungroup" in graph
    assert "compiler.models.frontmatter" in graph["compiler.models.rungroup"]
    assert "compiler.diagnostics" in graph["compiler.models.rungroup"]  # from ..diagnostics
    lazy = import_graph(all_imports=True)
    assert "compiler.models.rungroup" in lazy["compiler.models.kinds"]
    assert "compiler.models.rungroup" not in graph["compiler.models.kinds"]


def test_find_cycle_names_the_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_module_level_imports_are_acyclic() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, _show(cycle)


def test_deferred_imports_close_no_cycle() -> None:
    cycle = find_cycle(import_graph(all_imports=True))
    assert cycle is None, _show(cycle)
