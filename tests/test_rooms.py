"""The rooms keep their rules (docs/ARCHITECTURE.md): walk every import statement of the tree.

- domain rooms (console/domain, console/runbook, console/rehearsal) import neither Textual
  nor widgets;
- adapters import neither Textual, console nor widgets; widgets never import adapters;
- drill/ imports nothing of console, widgets or adapters;
- modules in console/, widgets/, adapters/ stay under 600 lines, classes under 400;
- no import cycles inside a room.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN_ROOMS = ("console/domain", "console/runbook", "console/rehearsal", "console/config")
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400


def modules(folder: str) -> Iterator[Path]:
    yield from sorted((ROOT / folder).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (relative imports resolved), at any depth
    (imports inside functions and TYPE_CHECKING blocks count too)."""
    tree = ast.parse(path.read_text(), str(path))
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in modules(folder):
        for name in sorted(imports(path)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


@pytest.mark.parametrize("room", DOMAIN_ROOMS)
def test_domain_rooms_import_neither_textual_nor_widgets(room: str) -> None:
    assert offending(room, ("textual", "widgets")) == []


def test_adapters_import_neither_textual_console_nor_widgets() -> None:
    assert offending("adapters", ("textual", "console", "widgets")) == []


def test_widgets_never_import_adapters() -> None:
    assert offending("widgets", ("adapters",)) == []


def test_drill_is_self_contained() -> None:
    assert offending("drill", ("console", "widgets", "adapters")) == []


@pytest.mark.parametrize("room", ("console", "widgets", "adapters"))
def test_modules_and_classes_stay_small(room: str) -> None:
    big = []
    for path in modules(room):
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            big.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES:
                big.append(f"{path.relative_to(ROOT)}: class {node.name}")
    assert big == []


@pytest.mark.parametrize("room", ("console", "widgets", "adapters", "drill"))
def test_no_import_cycles(room: str) -> None:
    """Module-level imports only: an import inside a function (lazy, for start-up time) is
    not a cycle at import time."""
    graph: dict[str, set[str]] = {}
    names = {module_name(p): p for p in modules(room)}
    for name, path in names.items():
        tree = ast.parse(path.read_text())
        targets: set[str] = set()
        for stmt in tree.body:  # `if TYPE_CHECKING:` blocks are not at the top: skipped
            if isinstance(stmt, ast.Import):
                targets.update(a.name for a in stmt.names)
            elif isinstance(stmt, ast.ImportFrom):
                base = stmt.module or ""
                if stmt.level:
                    anchor = name.split(".")
                    if path.name != "__init__.py":
                        anchor = anchor[:-1]
                    anchor = anchor[: len(anchor) - stmt.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets.add(base)
                targets.update(f"{base}.{a.name}" for a in stmt.names)
        graph[name] = {t for t in targets if t in names and t != name}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert cycles == []
