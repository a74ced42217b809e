"""Which line of a TOML file defines which key: for line-numbered messages.

``tomllib`` gives values without positions, so this reads the text once more, line by line,
following table headers (``[a."b c"]``, ``[[a.b]]`` with their array indexes) and
``key = value`` lines (dotted keys too). Only the structure is read; values are ``tomllib``'s.
Multi-line strings and arrays are skipped over so their contents are never taken for keys.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LITERAL = re.compile(r"'([^']*)'")


def _keys(text: str) -> tuple[list[str], str] | None:
    """Parse a dotted key at the start of ``text``; returns the parts and the rest."""
    parts: list[str] = []
    rest = text.lstrip()
    while True:
        for pattern in (_BARE, _BASIC, _LITERAL):
            match = pattern.match(rest)
            if match:
                part = match.group(1) if match.groups() else match.group(0)
                if pattern is _BASIC and "\\" in part:
                    part = part.encode().decode("unicode_escape", errors="replace")
                parts.append(part)
                rest = rest[match.end():].lstrip()
                break
        else:
            return None
        if not rest.startswith("."):
            return parts, rest
        rest = rest[1:].lstrip()


def _open_brackets(value: str) -> int:
    """Brackets/braces opened and not closed on this line (strings and comments skipped)."""
    depth, quote, index = 0, "", 0
    while index < len(value):
        char = value[index]
        if quote:
            if char == "\\" and quote == '"':
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            break
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        index += 1
    return depth


class KeyLines:
    """``line(path)``: the 1-based line defining ``path`` or its nearest defined parent."""

    def __init__(self, text: str) -> None:
        self._lines: dict[Path, int] = {}
        arrays: dict[tuple[str | int, ...], int] = {}
        table: Path = ()
        skip_until: str | None = None
        depth = 0
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if skip_until is not None:  # inside a multi-line string
                if raw.count(skip_until) % 2 == 1:
                    skip_until = None
                continue
            if depth > 0:  # inside a multi-line array or inline table
                depth += _open_brackets(raw)
                continue
            if not line or line.startswith("#"):
                continue
            if line.startswith("[["):
                parsed = _keys(line[2:])
                if parsed and parsed[1].startswith("]]"):
                    base = tuple(parsed[0])
                    index = arrays.get(base, -1) + 1
                    arrays[base] = index
                    table = (*base, index)
                    self._lines.setdefault(base, number)
                    self._lines[table] = number
                continue
            if line.startswith("["):
                parsed = _keys(line[1:])
                if parsed and parsed[1].startswith("]"):
                    table = self._resolve(tuple(parsed[0]), arrays)
                    self._lines.setdefault(table, number)
                continue
            parsed = _keys(line)
            if not parsed or not parsed[1].startswith("="):
                continue
            path = (*table, *parsed[0])
            self._lines.setdefault(path, number)
            value = parsed[1][1:].strip()
            for fence in ('"""', "'''"):
                if value.startswith(fence) and value.count(fence) == 1:
                    skip_until = fence
            depth = _open_brackets(value) if skip_until is None else 0

    @staticmethod
    def _resolve(path: tuple[str, ...], arrays: dict[tuple[str | int, ...], int]) -> Path:
        """``[a.b.c]`` under an array of tables ``[[a.b]]`` belongs to its latest element."""
        out: list[str | int] = []
        for part in path:
            out.append(part)
            base = tuple(out)
            if base in arrays:
                out.append(arrays[base])
        return tuple(out)

    def line(self, path: Path) -> int | None:
        """The line of ``path``, else of its nearest parent that has one, else None."""
        for end in range(len(path), 0, -1):
            found = self._lines.get(tuple(path[:end]))
            if found is not None:
                return found
        return None


__all__ = ["KeyLines"]
