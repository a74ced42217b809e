"""The audit chain's head, kept outside the log so that cutting the end off it shows.

A hash chain proves every record was written after the one before it, but not that the file
still ends where it did: drop the last records, cut the last one, empty the file, or edit a
record and recompute every ``prev`` after it, and the chain is intact again. So after every
append the console records the head -- the last record's ``seq`` and the hash of its line --
in two places out of the log's reach:

- the incident state: ``<state dir>/incidents/<id>.head`` (JSON; replaced atomically, not
  fsync-ed: after a power loss it may lag behind the log, which ``verify`` reports as records
  past the recorded head, never as tampering);
- the host's syslog (``adapters.syslog_sink``): ``audit head incident=ID seq=N head=HASH``,
  to give ``warroom audit verify --expect-head N:HASH`` when the state directory itself is
  in doubt.

``verify(path, expected=Head)`` then reports a log that ends before the recorded head, or whose
record at that ``seq`` is not the one recorded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.syslog_sink import send_head
from console.domain.statefiles import (
    atomic_write,
    default_state_dir,
    ensure_private_dir,
    read_state_file,
)

HeadSink = Callable[[str, int, str], None]  # (incident id, seq, head hash)
_HASH_LENGTH = 64


@dataclass(frozen=True)
class Head:
    """Where a chain ends: the last record's ``seq`` and the SHA-256 of its line."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH`` (as syslog and ``--expect-head`` write it); ValueError otherwise."""
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != _HASH_LENGTH:
            raise ValueError(f"not SEQ:HASH (a number, a colon, 64 hex digits): {text!r}")
        int(digest, 16)
        return cls(int(seq), digest.lower())


def head_path(incident_id: str, state_dir: Path | None = None) -> Path:
    """``<state dir>/incidents/<id>.head``."""
    return (state_dir or default_state_dir()) / "incidents" / f"{incident_id}.head"


def head_beside(audit_path: Path) -> Path | None:
    """The head file of ``<state>/audit/<id>.jsonl``, if the log is laid out that way."""
    if audit_path.parent.name != "audit":
        return None
    return audit_path.parent.parent / "incidents" / f"{audit_path.stem}.head"


class HeadAnchor:
    """Records an audit log's head after each append: in the incident state, then the sinks."""

    def __init__(
        self, path: Path, incident_id: str, sinks: Sequence[HeadSink] = (send_head,)
    ) -> None:
        self.path = path
        self.incident_id = incident_id
        self.sinks = tuple(sinks)

    @classmethod
    def for_incident(
        cls, incident_id: str, state_dir: Path | None = None, **kwargs: object
    ) -> HeadAnchor:
        return cls(head_path(incident_id, state_dir), incident_id, **kwargs)  # type: ignore[arg-type]

    def record(self, head: Head) -> None:
        """Keep ``head``; called under the log's lock, after the record is on disk."""
        data = {"incident": self.incident_id, "seq": head.seq, "head": head.hash}
        ensure_private_dir(self.path.parent)
        atomic_write(self.path, json.dumps(data).encode() + b"\n", durable=False)
        for sink in self.sinks:
            sink(self.incident_id, head.seq, head.hash)


def read_head(path: Path) -> Head:
    """The head recorded in a head file. Raises OSError or ValueError."""
    data = json.loads(read_state_file(path))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a head record")
    seq, digest = data.get("seq"), data.get("head")
    if not isinstance(seq, int) or not isinstance(digest, str):
        raise ValueError(f"{path}: not a head record")
    return Head.parse(f"{seq}:{digest}")


__all__ = ["Head", "HeadAnchor", "HeadSink", "head_beside", "head_path", "read_head"]
