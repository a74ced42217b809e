"""Where the shipped runbooks are (their loading, with YAML and the schema, is in loading.py:
the command line's help names the folder without loading any of it)."""

from __future__ import annotations

import site
import sys
import sysconfig
from pathlib import Path


def builtin_dir() -> Path:
    """The shipped runbooks: ``runbooks/`` beside ``console/`` in a source checkout (or an
    editable install), else ``<prefix>/share/warroom/runbooks`` from an installed wheel."""
    checkout = Path(__file__).resolve().parents[2] / "runbooks"
    candidates = [checkout]
    for base in (sysconfig.get_path("data"), sys.prefix, getattr(site, "USER_BASE", None)):
        if base:
            candidates.append(Path(base) / "share" / "warroom" / "runbooks")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return checkout
