"""`warroom incidents list/show/export`, `--title`/`--severity` and the lifecycle rules, on a
state directory with open and closed incidents made through the same code the console uses."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli.incident_start import ask
from console.domain.actor import Actor
from console.domain.incident_desk import HANDBOOK_FOLLOW_UPS, IncidentDesk, IncidentRefused
from console.domain.incident_status import fold
from console.rehearsal.incident_report import sparkline
from console.runbook.session import ChecklistState

REPO = Path(__file__).resolve().parents[2]
ALICE = replace(Actor.current(), user="alice", uid=1001, ssh_client="10.0.0.5 50000 22",
                tty="/dev/pts/1", console_id="console-a", sudo_user=None)
BOB = replace(Actor.current(), user="bob", uid=1002, ssh_client="10.0.0.9 50001 22",
              tty="/dev/pts/2", console_id="console-b", sudo_user=None)
SECTIONS = ["## What happened", "## Impact", "## Timeline", "## Why wasn't it caught?",
            "## What went well", "## How to prevent future?", "## Action items"]


class Clock:
    """The incident's clock, moved on by the test (the times to detect/mitigate/resolve)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _open(state: Path, title: str, severity: str, actor: Actor, clock: Clock,
          context: str = "prod-eu") -> tuple[ChecklistState, IncidentDesk]:
    checklist = ChecklistState.open(state, resume=None, context=context, namespace="shop",
                                    title=title, severity=severity, runbook=None,
                                    runbook_values={}, clock=clock, actor=actor)
    rates = {"shop/api": [0.0, 0.01, 0.2, 0.35, 0.3, None, 0.02]}
    return checklist, IncidentDesk(checklist.incident, checklist.audit, actor,
                                   rates=lambda: rates)


def _warroom(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARROOM_STATE_DIR": str(state), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "console.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture
def incidents(tmp_path: Path) -> tuple[Path, str, str]:
    """A closed incident (alice and bob, every transition) and an open one (alice)."""
    state, clock = tmp_path / "state", Clock()
    closed, desk = _open(state, "checkout returns 500", "high", ALICE, clock)
    clock.tick(90)
    desk.add_note("500s on /checkout since the 10:00 deploy")
    clock.tick(30)
    desk.set_severity("critical")
    bobs = IncidentDesk(closed.incident, closed.audit, BOB)
    bobs.assign_role("commander", "bob@10.0.0.9")
    desk.move("identified")
    clock.tick(180)
    desk.move("mitigated")
    clock.tick(600)
    desk.move("resolved", summary="rolled api back to revision 4")
    for step, _title in HANDBOOK_FOLLOW_UPS:
        bobs.toggle_follow_up(step)
    clock.tick(60)
    bobs.move("closed")
    clock.tick(3600)
    still, other = _open(state, "slow search", "low", ALICE, clock)
    other.add_note("p99 doubled")
    return state, closed.incident.id, still.incident.id


def test_transitions_and_refusals(tmp_path: Path) -> None:
    clock = Clock()
    _checklist, desk = _open(tmp_path / "state", "t", "medium", ALICE, clock)
    refusals = [
        (("resolved",), {}, "needs a resolution summary"),
        (("closed",), {}, "only a resolved incident can be closed"),
        (("investigating",), {}, "already investigating"),
        (("bogus",), {}, "unknown status"),
    ]
    for args, kwargs, said in refusals:
        with pytest.raises(IncidentRefused, match=said):
            desk.move(*args, **kwargs)
    desk.move("mitigated")  # a step may be skipped forward
    with pytest.raises(IncidentRefused, match="moves forward"):
        desk.move("identified")
    clock.tick(120)
    assert desk.move("resolved", summary="fixed") == "incident resolved: 2m00s after it was opened"
    with pytest.raises(IncidentRefused, match="5 follow-up"):
        desk.move("closed")
    with pytest.raises(IncidentRefused, match="needs a reason"):
        desk.move("closed", force=True)
    desk.move("closed", force=True, reason="tracked elsewhere")
    with pytest.raises(IncidentRefused, match="closed"):
        desk.add_note("after the fact")
    with pytest.raises(IncidentRefused, match="severity is one of"):
        desk.set_severity("sev1")
    picture = desk.picture()
    assert [m.what for m in picture.statuses] == ["investigating", "mitigated", "resolved",
                                                  "closed"]


def test_times_are_counted_from_the_records(incidents: tuple[Path, str, str]) -> None:
    state, closed_id, _open_id = incidents
    from console.domain.audit import AuditLog, default_audit_path

    picture = fold(AuditLog(default_audit_path(closed_id, state), extra_secrets=()).records())
    assert picture.time_to_detect == 90  # the first note
    assert picture.time_to_mitigate == 300
    assert picture.time_to_resolve == 900
    assert picture.roles == {"commander": "bob@10.0.0.9"}
    assert picture.people == ["alice@10.0.0.5", "bob@10.0.0.9"]


def test_list_and_show(incidents: tuple[Path, str, str]) -> None:
    state, closed_id, open_id = incidents
    out = _warroom(state, "incidents", "list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:5] == ["ID", "STATUS", "SEVERITY", "OPENED", "(UTC)"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {closed_id, open_id}
    assert lines[1].startswith(open_id)  # newest first
    assert rows[closed_id].split()[1:3] == ["closed", "critical"]
    assert "16m00s" in rows[closed_id] and "alice@10.0.0.5, bob@10.0.0.9" in rows[closed_id]
    assert rows[open_id].split()[1:3] == ["investigating", "low"] and "so far" in rows[open_id]

    show = _warroom(state, "incidents", "show", closed_id)
    assert show.returncode == 0, show.stderr
    text = show.stdout
    assert "status     closed" in text and "severity   critical" in text
    assert "detect     1m30s    mitigate 5m00s    resolve 15m00s" in text
    assert "incident commander   bob@10.0.0.9" in text
    assert "resolved       alice@10.0.0.5 — rolled api back to revision 4" in text
    assert "alice@10.0.0.5: 500s on /checkout since the 10:00 deploy" in text
    missing = _warroom(state, "incidents", "show", "no-such-incident")
    assert missing.returncode == 2 and "no incident" in missing.stderr


def test_export_of_a_real_incident(incidents: tuple[Path, str, str], tmp_path: Path) -> None:
    state, closed_id, _open_id = incidents
    out = _warroom(state, "incidents", "export", closed_id)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert [line for line in text.splitlines() if line.startswith("## ")] == SECTIONS
    assert f"`{closed_id}` |" in text and "(drill)" not in text
    assert "| Time to mitigate | 5m 00s |" in text
    assert "**Resolution summary:** rolled api back to revision 4" in text
    assert "severity **critical** (was high) by alice@10.0.0.5" in text
    assert "10:05:00 | mitigated | shop/api | `▁▁▃▇▅ ▁` | 2.0 % | 35.0 % |" in text
    assert "| [x] | Post-mortem documented | bob@10.0.0.9 |" in text
    data = json.loads(_warroom(state, "incidents", "export", closed_id, "--format",
                               "json").stdout)
    assert list(data["sections"]) == ["what_happened", "impact", "timeline", "why_not_caught",
                                      "went_well", "prevent"]
    assert data["postmortem"]["status"] == "closed" and data["postmortem"]["drill"] is False
    assert data["postmortem"]["time_to_resolve_s"] == 900
    assert [n["detail"] for n in data["sections"]["what_happened"]["notes"]] == [
        "500s on /checkout since the 10:00 deploy"]
    assert all(item["done"] for item in data["action_items"])


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_an_edited_export_is_not_overwritten(incidents: tuple[Path, str, str], tmp_path: Path,
                                             fmt: str) -> None:
    state, closed_id, _open_id = incidents
    target = tmp_path / f"pm.{fmt}"
    first = _warroom(state, "incidents", "export", closed_id, "--format", fmt, "-o", str(target))
    assert first.returncode == 0, first.stderr
    written = target.read_text()
    again = _warroom(state, "incidents", "export", closed_id, "--format", fmt, "-o", str(target))
    assert again.returncode == 0, again.stderr  # untouched: replaced freely
    edited = written.replace("closed", "closed (edited by the team)", 1)
    target.write_text(edited)
    refused = _warroom(state, "incidents", "export", closed_id, "--format", fmt, "-o",
                       str(target))
    assert refused.returncode == 2 and "was edited since it was exported" in refused.stderr
    assert target.read_text() == edited
    forced = _warroom(state, "incidents", "export", closed_id, "--format", fmt, "-o",
                      str(target), "--force")
    assert forced.returncode == 0 and target.read_text() == written


def test_title_and_severity_options(tmp_path: Path) -> None:
    bad = _warroom(tmp_path / "state", "--severity", "sev1")
    assert bad.returncode == 2
    assert "severity is one of critical, high, medium, low, not 'sev1'" in bad.stderr
    empty = _warroom(tmp_path / "state", "--title", "  ")
    assert empty.returncode == 2 and "the title is empty" in empty.stderr
    both = _warroom(tmp_path / "state", "--resume", "x", "--severity", "low")
    assert both.returncode == 2 and "a resumed incident keeps its own" in both.stderr
    assert "Traceback" not in bad.stderr + empty.stderr + both.stderr


def test_the_start_question() -> None:
    def args(**kw: object) -> argparse.Namespace:
        return argparse.Namespace(**{"title": None, "severity": None, "resume": None, **kw})

    answers = iter(["checkout down", "sev1", "critical"])
    assert ask(args(), interactive=True, read=lambda _p: next(answers)) == (
        "checkout down", "critical")
    assert ask(args(), interactive=True, read=lambda _p: "") == (None, None)  # Enter: defaults

    def hang_up(_prompt: str) -> str:
        raise EOFError

    assert ask(args(), interactive=True, read=hang_up) == (None, None)
    never = iter(())  # not asked: not a terminal, --resume, or an option given
    assert ask(args(), interactive=False, read=lambda _p: next(never)) == (None, None)
    assert ask(args(resume="latest"), interactive=True,
               read=lambda _p: next(never)) == (None, None)
    assert ask(args(severity="low"), interactive=True,
               read=lambda _p: next(never)) == (None, "low")


def test_sparkline() -> None:
    assert sparkline([0, 0.5, 1.0, None, 0.25]) == "▁▃▇ ▂"
    assert sparkline([0, 0]) == "▁▁"


def test_a_verdict_change_is_recorded_once(tmp_path: Path) -> None:
    clock = Clock()
    checklist, alice = _open(tmp_path / "state", "t", "high", ALICE, clock)
    bob = IncidentDesk(checklist.incident, checklist.audit, BOB)
    assert not alice.record_verdict("shop/api", "OK", "healthy")  # OK before any
    assert alice.record_verdict("shop/api", "MONITOR", "Error rate 1-5%", 0.02)
    assert not bob.record_verdict("shop/api", "MONITOR", "Error rate 1-5%", 0.02)
    assert bob.record_verdict("shop/api", "ROLL BACK NOW", "Error rate > 5%", 0.2)
    records = [r for r in checklist.audit.records() if r.kind == "advisor.verdict"]
    assert [(r.params["was"], r.params["level"]) for r in records] == [
        ("OK", "MONITOR"), ("MONITOR", "ROLL BACK NOW")]
    assert records[0].params["rates"]["shop/api"] == [0.0, 0.01, 0.2, 0.35, 0.3, None, 0.02]
    assert fold(checklist.audit.records()).verdicts == {"shop/api": "ROLL BACK NOW"}
