"""``warroom audit export -o`` writes the post-mortem as private as the log it comes from."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from console.cli.audit import main
from console.domain.actor import Actor
from console.domain.audit import AuditLog


def test_export_output_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    log_path = tmp_path / "audit.jsonl"
    AuditLog(log_path, actor=Actor(user="alice"), extra_secrets=()).append(
        "incident.opened", message="checkout errors")
    out, existing = tmp_path / "pm.md", tmp_path / "old.md"
    existing.write_text("old")
    existing.chmod(0o644)
    previous = os.umask(0o022)
    try:
        for target in (out, existing):
            assert main(["audit", "export", str(log_path), "-o", str(target)]) in (0, 1)
    finally:
        os.umask(previous)
    for target in (out, existing):
        assert stat.S_IMODE(target.stat().st_mode) == 0o600, target
        assert target.read_text().startswith("# ")
