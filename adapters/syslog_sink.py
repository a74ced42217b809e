"""The host's syslog as an outside witness of the audit chain's head (standard library only).

Each appended audit record's head (sequence number and hash) is sent as one line to syslog,
facility ``authpriv`` (readable only by administrators on most systems), so whoever can rewrite
the state directory cannot also rewrite what the host logged. Without a syslog daemon (no
``/dev/log``, or no ``syslog`` module on this platform) nothing is sent and nothing fails.
"""

from __future__ import annotations

import threading

try:
    import syslog
except ImportError:  # not a Unix
    syslog = None  # type: ignore[assignment]

IDENT = "warroom"
_lock = threading.Lock()
_opened = False


def head_message(incident: str, seq: int, head: str) -> str:
    """The line sent: ``audit head incident=ID seq=N head=HASH`` (``--expect-head N:HASH``)."""
    return f"audit head incident={incident} seq={seq} head={head}"


def send_head(incident: str, seq: int, head: str) -> None:
    """Log one head line; never raises (the record is already on disk)."""
    global _opened
    if syslog is None:
        return
    try:
        with _lock:
            if not _opened:
                syslog.openlog(IDENT, syslog.LOG_PID, syslog.LOG_AUTHPRIV)
                _opened = True
            syslog.syslog(syslog.LOG_NOTICE, head_message(incident, seq, head))
    except (OSError, ValueError):
        return


__all__ = ["IDENT", "head_message", "send_head"]
