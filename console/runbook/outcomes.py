"""What the runbook engine hands out and takes: step views, outcomes of running, skipping and
aborting, the progress/confirm callbacks, and the phrasing their messages share."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Progress = Callable[[str, float | None], None]
Confirm = Callable[[str], bool]
Sleeper = Callable[[float], object]
ViewStatus = Literal["pending", "running", "done", "failed", "skipped", "blocked"]
CompensationStatus = Literal["done", "failed", "manual", "not run"]


@dataclass(frozen=True)
class StepView:
    """One step as the checklist shows it (the UI turns it into a ``widgets.rows.StepRow``)."""

    id: str
    title: str
    kind: str
    status: ViewStatus
    detail: str = ""
    explain: str = ""
    current: bool = False
    optional: bool = False
    when: str | None = None
    mutating: bool = False
    needs_confirmation: bool = False
    requires: tuple[str, ...] = ()
    by: str | None = None  # label of who last changed it
    at: str | None = None  # UTC timestamp of the last change
    has_undo: bool = False
    undo_due: bool = False
    compensated: bool = False


@dataclass(frozen=True)
class StepOutcome:
    """What came of ``run_step`` / ``check_off`` / ``skip``.

    ``status`` is the step's status afterwards. ``refused`` means nothing was done (requires,
    confirmation declined, audit log unwritable, pre-check failed); ``interrupted`` that
    ``stop()`` ended it. ``compensations_due`` lists step ids whose ``undo:`` is now due.
    ``proposal`` is the id of the proposal made instead of running it (two-person rule).
    """

    step_id: str
    status: str
    ok: bool
    message: str
    refused: bool = False
    interrupted: bool = False
    duration_s: float = 0.0
    compensations_due: tuple[str, ...] = ()
    proposal: str | None = None


@dataclass(frozen=True)
class CompensationOutcome:
    """One compensation during ``abort``: ``manual`` ones are left for the operator."""

    step_id: str
    description: str
    status: CompensationStatus
    message: str


@dataclass(frozen=True)
class AbortOutcome:
    """What ``abort`` did. ``ran`` says whether compensations were run (per ``on_abort``);
    ``proposal`` is the id of the proposal made instead (two-person rule)."""

    ok: bool
    ran: bool
    message: str
    results: tuple[CompensationOutcome, ...] = ()
    proposal: str | None = None


class NoCluster(Exception):
    """A cluster action without a cluster connection."""


class Interrupted(Exception):
    """``stop()`` was called while the step waited; args: the step's (status, message)."""


def quoted_list(ids: Sequence[str] | set[str]) -> str:
    return and_list([f"'{i}'" for i in ids])


def and_list(parts: Sequence[str]) -> str:
    parts = list(parts)
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def join_messages(*parts: str | None) -> str:
    return "; ".join(part for part in parts if part)


def safe_progress(progress: Progress | None) -> Progress:
    """A progress callback whose failures (a screen gone away) never break a running step."""
    if progress is None:
        return lambda _message, _fraction: None

    def call(message: str, fraction: float | None) -> None:
        with contextlib.suppress(Exception):
            progress(message, fraction)

    return call

