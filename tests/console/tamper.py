"""Ways to tamper with an audit log that a hash chain alone does not catch (and one it does).

Shared by tests/console/test_audit_anchor.py and bench/faults.py. Each takes the log's path
and rewrites it in place, as someone with write access to the state directory could.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from console.domain.audit import GENESIS, line_hash


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def rechain(lines: list[bytes]) -> list[bytes]:
    """Renumber ``seq`` and recompute every ``prev``: a chain that verifies on its own."""
    out: list[bytes] = []
    prev = GENESIS
    for number, raw in enumerate(lines, start=1):
        record = json.loads(raw)
        record["seq"], record["prev"] = number, prev
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        out.append(line)
        prev = line_hash(line)
    return out


def _edit(lines: list[bytes], index: int) -> list[bytes]:
    record = json.loads(lines[index])
    record["message"] = "nothing happened here"
    return [*lines[:index], json.dumps(record).encode(), *lines[index + 1 :]]


def drop_last(path: Path) -> None:
    write_lines(path, lines_of(path)[:-3])


def cut_last(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: data.rstrip(b"\n").rfind(b"\n") + 40])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def edit_and_rechain(path: Path) -> None:
    write_lines(path, rechain(_edit(lines_of(path), 3)))


def delete_and_rechain(path: Path) -> None:
    lines = lines_of(path)
    write_lines(path, rechain(lines[:4] + lines[5:]))


def edit_last_and_rechain(path: Path) -> None:
    lines = lines_of(path)
    write_lines(path, rechain(_edit(lines, len(lines) - 1)))


def edit_in_place(path: Path) -> None:
    """The one the chain alone already catches."""
    write_lines(path, _edit(lines_of(path), 3))


TAMPERS: dict[str, Callable[[Path], None]] = {
    "drop the last 3 records": drop_last,
    "cut the last record short": cut_last,
    "empty the file": empty,
    "edit a record, re-chain": edit_and_rechain,
    "delete a record, re-chain": delete_and_rechain,
    "edit the last record, re-chain": edit_last_and_rechain,
    "edit a record in place": edit_in_place,
}
