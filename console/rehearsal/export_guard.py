"""An exported post-mortem carries the hash of what was written, so a later export can tell an
edited copy (the team's analysis) from its own untouched output and never overwrite the first.

Markdown ends with ``<!-- warroom export sha256:HEX -->`` (the hash of everything before that
line); JSON has ``"export": {"sha256": HEX}`` (the hash of the document without that key,
keys sorted). ``overwrite_refusal`` says why a file must not be replaced (None: it may).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

_MARK = re.compile(r"\n<!-- warroom export sha256:([0-9a-f]{64}) -->\n?\Z")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _canonical(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "export"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def stamped_markdown(text: str) -> str:
    text = text.rstrip("\n") + "\n"
    return f"{text}\n<!-- warroom export sha256:{_digest(text)} -->\n"


def stamped_json(doc: dict[str, Any]) -> str:
    doc = {**doc, "export": {"sha256": _digest(_canonical(doc))}}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def overwrite_refusal(path: Path) -> str | None:
    """Why ``path`` must not be overwritten without --force: it was edited since warroom
    wrote it, or warroom did not write it. None when it does not exist or is untouched."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        return f"{path} exists and cannot be read ({exc})"
    if _untouched(text):
        return None
    return (f"{path} was edited since it was exported (or was not written by warroom); "
            "not overwriting it: use --force to replace it, or -o another file")


def _untouched(text: str) -> bool:
    mark = _MARK.search(text)
    if mark is not None:
        body = text[: mark.start()]
        return _digest(body) == mark.group(1)
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    if not isinstance(doc, dict) or not isinstance(doc.get("export"), dict):
        return False
    return bool(doc["export"].get("sha256") == _digest(_canonical(doc)))


__all__ = ["overwrite_refusal", "stamped_json", "stamped_markdown"]
