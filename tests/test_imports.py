"""The package's shape: no module of ``oracle/`` imports another in a cycle (at any depth,
lazy imports inside functions included), read from the source with ``ast`` (nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import oracle

ROOT = Path(oracle.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    """``{"oracle.index": path, "oracle.training": .../training/__init__.py, ...}``."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The ``oracle`` modules that ``name`` imports anywhere in its source (not itself, nor its
    parent packages)."""
    names = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    out = set()
    for target in names:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name and not name.startswith(target + "."):
            out.add(target)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_oracle_imports_another_in_a_cycle():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "oracle.index" in graph["oracle.training.embedding"]  # the walker sees lazy imports
    assert "oracle.jobs" in graph["oracle.training.run"]
    assert _cycles(graph) == []


def test_the_job_store_knows_kinds_by_name_only():
    """``oracle.jobs`` imports no training, improve or UI code (the worker resolves kinds), and
    the old ``oracle.tasks`` shim is gone (its users import ``oracle.jobs``)."""
    modules = _modules()
    assert "oracle.tasks" not in modules
    for name, path in modules.items():
        if name == "oracle.jobs" or name.startswith("oracle.jobs."):
            found = _imports(name, path, modules)
            bad = {m for m in found if m.startswith(("oracle.training", "oracle.improve", "oracle.ui"))}
            assert not bad, (name, bad)
