"""Irreversible Alembic revisions are found by reading their scripts (no database needed)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from adapters.migrations import irreversible_reason, next_up, revision
from drill.shop_migrations import ALEMBIC_INI


def script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rev.py"
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize(("body", "reason"), [
    ('irreversible = "drops a column"\ndef downgrade():\n    op.execute("x")\n',
     "marked irreversible: drops a column"),
    ('def downgrade() -> None:\n    """Nothing to undo."""\n    pass\n',
     "its downgrade() has no body (it would undo nothing)"),
    ("def downgrade():\n    ...\n", "its downgrade() has no body (it would undo nothing)"),
    ('def downgrade():\n    raise NotImplementedError("one way")\n',
     "its downgrade() only raises"),
    ("def upgrade():\n    pass\n", "it has no downgrade()"),
    ('def downgrade():\n    op.execute("DROP TABLE t")\n', None),
])
def test_irreversible_reason(tmp_path: Path, body: str, reason: str | None) -> None:
    assert irreversible_reason(script(tmp_path, body)) == reason


def test_the_shop_history_is_one_revision_per_release() -> None:
    ini = str(ALEMBIC_INI)
    chain = []
    current = None
    while (up := next_up(ini, current)) is not None:
        chain.append(up.revision)
        current = up.revision
    assert chain == ["api_1_4_0", "api_1_5_0", "api_1_6_0", "api_1_7_0"]
    bad = revision(ini, "api_1_7_0")
    assert bad.down_revision == "api_1_6_0" and bad.irreversible is None
