"""What an API server (or whatever stands in front of it) said in an error body, briefly.

The API server answers errors with a JSON ``Status`` whose ``message`` is the sentence to
show. Proxies, load balancers and API Priority and Fairness do not: an HTML 502 page of 11 kB,
plain text ("Too many requests, please try again later."), nothing at all. ``server_message``
returns the Status message when there is one; otherwise a summary of the body -- the status
line and the first meaningful text, tags, scripts and styles stripped with the standard
library's ``html.parser`` -- bounded to ``SUMMARY_LIMIT`` characters.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

SUMMARY_LIMIT = 200
DETAIL_LIMIT = 2000  # of a non-JSON body kept for the audit log's detail
_SKIPPED_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template"})
_SPACES = re.compile(r"\s+")


class _TextOfHtml(HTMLParser):
    """The visible text of an HTML page, chunk by chunk (no scripts, styles, head)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.title = ""
        self._skipping: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping.append(tag)
        self._in_title = self._in_title or tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        text = _SPACES.sub(" ", data).strip()
        if not text:
            return
        if self._in_title:
            self.title = f"{self.title} {text}".strip()
        elif not self._skipping:
            self.chunks.append(text)


def _looks_like_html(body: str, content_type: str) -> bool:
    return "html" in content_type.lower() or body.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html", "<head", "<body"))


def _bounded(text: str, limit: int = SUMMARY_LIMIT) -> str:
    text = _SPACES.sub(" ", text).strip()
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def summarise(body: str, content_type: str = "", status: int | None = None,
              reason: str = "") -> str:
    """A non-JSON error body in at most ``SUMMARY_LIMIT`` characters: the status line (when
    known) and the first meaningful text of the body."""
    status_line = " ".join(part for part in (f"HTTP {status}" if status else "",
                                             reason or "") if part)
    if _looks_like_html(body, content_type):
        parser = _TextOfHtml()
        try:
            parser.feed(body)
            parser.close()
        except Exception:  # noqa: BLE001 - a broken page still gets its status line
            pass
        heading = parser.title or (parser.chunks[0] if parser.chunks else "")
        parts = [status_line]
        if heading and heading.lower() not in status_line.lower():
            parts.append(heading)
        said = " ".join(parts).lower()
        parts.append(" ".join([c for c in parser.chunks if c.lower() not in said][:2]))
        summary = ": ".join(p for p in parts if p)
    else:
        first = next((line.strip() for line in body.splitlines() if line.strip()), "")
        summary = ": ".join(p for p in (status_line, first) if p)
    return _bounded(summary or status_line or "no details")


def server_message(body: Any, content_type: str = "", status: int | None = None,
                   reason: str = "") -> str:
    """The sentence to show for an error body: a Status ``message``, else a bounded summary.

    A JSON body without a message (or that is not a Status) counts as non-JSON text."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return reason.strip() if isinstance(reason, str) else ""
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and decoded.get("message"):
        return str(decoded["message"])
    if decoded is not None and not _looks_like_html(body, content_type):
        return _bounded(body)
    return summarise(body, content_type, status, reason)


def is_json(body: Any) -> bool:
    try:
        json.loads(body or "")
    except (TypeError, ValueError):
        return False
    return True


def bounded_detail(body: Any) -> str:
    """A body for the audit log's detail: JSON whole, anything else cut at DETAIL_LIMIT."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    if len(text) <= DETAIL_LIMIT or is_json(text):
        return text
    return text[:DETAIL_LIMIT] + f"… ({len(text)} characters)"


__all__ = ["SUMMARY_LIMIT", "bounded_detail", "server_message", "summarise"]
