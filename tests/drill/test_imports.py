"""drill/ stands alone: it imports nothing from console/, widgets/ or adapters/, and its modules
import each other without cycles (every import counts: module level, in functions, and those
only for type checking; a package counts as importing all its modules, as drill/scenarios
does to collect its scenarios)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "drill"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Absolute names of the modules `path` imports (relative imports resolved; `from P import
    m` names the module `P.m` when it is one of `modules`, else `P`)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                full = f"{stem}.{alias.name}"
                found.add(full if full in modules else stem)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in (ROOT / PACKAGE).rglob("*.py")}
    graph = {name: {m for m in imports_of(path, set(modules)) if m in modules and m != name}
             for name, path in modules.items()}
    for name, path in modules.items():
        if path.name == "__init__.py":
            graph[name] |= {m for m in modules if m.rpartition(".")[0] == name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_drill_has_no_import_cycles() -> None:
    graph = import_graph()
    assert "drill.server" in graph["drill.cluster"]
    assert "drill.scenarios.memory_leak" in graph["drill.scenarios"]
    assert cycles(graph) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_drill_imports_nothing_from_the_console_side() -> None:
    offending = {
        module_name(path): sorted(m for m in imports_of(path)
                                  if m.split(".")[0] in ("console", "widgets", "adapters"))
        for path in (ROOT / PACKAGE).rglob("*.py")
    }
    assert {k: v for k, v in offending.items() if v} == {}
