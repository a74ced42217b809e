"""How long something took, for people: "1h02m03s", "4m05s", "12s".

The one formatter of elapsed time for reports and score screens (drill scores, the drill
report, the post-mortem timeline). Two other formats exist on purpose and live elsewhere:
kubectl's AGE ("5m3s", "3d4h": ``adapters.kube_time.human_duration``, so ages match a
terminal next to the console) and the runbook duration syntax ("90s", "1h30m", "500ms":
``console.runbook.runbooks.format_duration``, the inverse of its ``parse_duration``).
"""

from __future__ import annotations

UNKNOWN = "—"


def format_elapsed(seconds: float | None, sep: str = "") -> str:
    """``seconds`` rounded to the second: "1h02m03s", "4m05s", "12s"; with ``sep=" "``,
    "1h 02m 03s". ``UNKNOWN`` ("—") for None (never happened); a negative span reads "0s"."""
    if seconds is None:
        return UNKNOWN
    minutes, secs = divmod(int(round(max(0.0, seconds))), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{sep}{minutes:02d}m{sep}{secs:02d}s"
    if minutes:
        return f"{minutes}m{sep}{secs:02d}s"
    return f"{secs}s"


__all__ = ["UNKNOWN", "format_elapsed"]
