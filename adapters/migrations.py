"""Alembic revision scripts, read without running them: what a step up or down would apply and
whether a downgrade can be done at all.

A revision is **irreversible** when its module says so, ``irreversible = "why"`` (the marker
this project uses), or when its ``downgrade()`` does nothing (only ``pass``, ``...`` or a
docstring) or only raises: running it would record a downgrade that undid nothing, or fail.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from adapters.errors import AdapterError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


def _alembic() -> ModuleType:
    """Alembic, imported when a database step first needs it: the import takes 200 ms, which
    a console starting on a cluster (most of them with no database step) should not wait."""
    import alembic.config
    import alembic.script
    import alembic.util

    return alembic


class MigrationError(AdapterError):
    """The migration scripts cannot be read, or the revision asked for does not exist."""


@dataclass(frozen=True)
class Revision:
    revision: str
    down_revision: str | None
    path: str
    message: str
    irreversible: str | None  # why its downgrade cannot run (None: it can)


def _scripts(ini: str) -> ScriptDirectory:
    if not Path(ini).is_file():
        raise MigrationError(f"no Alembic configuration at {ini}")
    alembic = _alembic()
    try:
        return alembic.script.ScriptDirectory.from_config(alembic.config.Config(ini))
    except alembic.util.CommandError as exc:
        raise MigrationError(f"cannot read the migrations of {ini}: {exc}") from None


def revision(ini: str, name: str) -> Revision:
    try:
        script = _scripts(ini).get_revision(name)
    except _alembic().util.CommandError as exc:
        raise MigrationError(f"unknown revision {name!r}: {exc}") from None
    if script is None:
        raise MigrationError(f"unknown revision {name!r} in {ini}")
    down = script.down_revision
    if isinstance(down, tuple):
        down = down[0] if down else None
    return Revision(script.revision, down, script.path, (script.doc or "").split("\n")[0],
                    irreversible_reason(Path(script.path)))


def head(ini: str) -> str | None:
    try:
        return _scripts(ini).get_current_head()
    except _alembic().util.CommandError as exc:
        raise MigrationError(f"cannot find the head revision: {exc}") from None


def next_up(ini: str, current: str | None) -> Revision | None:
    """The revision one step above ``current`` (None: already at head)."""
    scripts = _scripts(ini)
    for script in scripts.walk_revisions():
        down = script.down_revision
        downs = down if isinstance(down, tuple) else (down,)
        if current in downs:
            return revision(ini, script.revision)
    return None


def irreversible_reason(path: Path) -> str | None:
    try:
        tree = ast.parse(path.read_text())
    except (OSError, SyntaxError) as exc:
        return f"its script cannot be read: {exc}"
    downgrade = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "irreversible" for t in node.targets):
            value = node.value
            if isinstance(value, ast.Constant) and value.value:
                return f"marked irreversible: {value.value}"
        if isinstance(node, ast.FunctionDef) and node.name == "downgrade":
            downgrade = node
    if downgrade is None:
        return "it has no downgrade()"
    body = [stmt for stmt in downgrade.body
            if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
            and not isinstance(stmt, ast.Pass)]
    if not body:
        return "its downgrade() has no body (it would undo nothing)"
    if all(isinstance(stmt, ast.Raise) for stmt in body):
        return "its downgrade() only raises"
    return None
