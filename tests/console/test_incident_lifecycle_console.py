"""The incident itself in two consoles on one incident: severity, notes, roles, every status
transition and its refusals, the header's banner, and the post-mortem export of what they did."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import OptionList

from console.domain.actor import Actor
from console.ui.app import WarroomApp
from tests.console.app_harness import audit_records, busy, drill_settings, settled, until
from widgets.audit_view import AuditView
from widgets.incident_forms import ChoiceModal, FormModal
from widgets.status_header import StatusHeader

REPO = Path(__file__).resolve().parents[2]


def _people() -> tuple[Actor, Actor]:
    alice = replace(Actor.current(), user="alice", uid=1001, ssh_client="10.0.0.5 50000 22",
                    tty="/dev/pts/1", console_id="console-a", sudo_user=None)
    bob = replace(Actor.current(), user="bob", uid=1002, ssh_client="10.0.0.9 50001 22",
                  tty="/dev/pts/2", console_id="console-b", sudo_user=None)
    return alice, bob


def _said(app: WarroomApp, text: str) -> bool:
    return any(text in f"{n.title} {n.message}" for n in app._notifications)


def _header(app: WarroomApp, part: str) -> Any:
    return app.query_one(StatusHeader).query_one(part)


def _kinds(app: WarroomApp, kind: str) -> list[dict[str, Any]]:
    return [r for r in audit_records(app) if r["kind"] == kind]


async def _choose(pilot: Any, app: WarroomApp, value: str) -> None:
    """In the open ChoiceModal, highlight ``value`` and press Enter."""
    modal = await until(pilot, lambda: isinstance(app.screen, ChoiceModal) and app.screen,
                        message="a choice dialog")
    values = [v for v, _label in modal.options]
    assert value in values, (value, values)
    modal.query_one(OptionList).highlighted = values.index(value)
    await pilot.press("enter")
    await until(pilot, lambda: app.screen is not modal, message=f"{value} chosen")


async def _form(pilot: Any, app: WarroomApp, *texts: str) -> FormModal:
    """Type ``texts`` into the open FormModal's fields (Enter after each)."""
    modal = await until(pilot, lambda: isinstance(app.screen, FormModal) and app.screen,
                        message="a form")
    for text in texts:
        await pilot.press(*text) if text else None
        await pilot.press("enter")
    return modal


async def _status(pilot: Any, app: WarroomApp, status: str, *texts: str) -> None:
    await pilot.press("I")
    await _choose(pilot, app, status)
    if texts:
        await _form(pilot, app, *texts)


async def test_lifecycle_shared_by_two_consoles(drill_factory, state_dir) -> None:
    drill = drill_factory(speed=20)
    alice, bob = _people()
    first = WarroomApp(drill_settings(drill, actor=alice, metrics=None,
                                      incident_title="drill: checkout 500s"))
    async with first.run_test(size=(160, 48)) as pa:
        await settled(pa, rates=False)
        incident_id = first.session.checklist.incident.read().id
        assert str(_header(first, "#severity").content) == "▲ HIGH"
        second = WarroomApp(drill_settings(drill, actor=bob, metrics=None, resume=incident_id))
        async with second.run_test(size=(160, 48)) as pb:
            await settled(pb, rates=False)
            # severity: alice raises it, bob's header shows the word and its colour class
            await pa.press("exclamation_mark")
            await _choose(pa, first, "critical")
            await until(pb, lambda: _header(second, "#severity").has_class("-critical"),
                        message="bob's header shows critical")
            assert str(_header(second, "#severity").content) == "▲ CRITICAL"
            assert first.session.checklist.incident.read().severity == "critical"
            # a note, redacted and attributed, in both timelines
            await pa.press("N")
            await _form(pa, first, "login 500s since 10:02 password=hunter2")
            for app, pilot in ((first, pa), (second, pb)):
                await until(pilot, lambda app=app: any(
                    r.kind == "note" and "login 500s" in r.message and r.actor == "alice@10.0.0.5"
                    for r in app.query_one(AuditView).rows), message="the note in the timeline")
            note = _kinds(second, "note")[0]
            assert "hunter2" not in note["message"] and note["actor"]["user"] == "alice"
            # roles: bob makes alice incident commander and himself communications
            await pb.press("R")
            await _choose(pb, second, "commander")
            await _choose(pb, second, "alice@10.0.0.5")
            await pb.press("R")
            await _choose(pb, second, "communications")
            await _choose(pb, second, "bob@10.0.0.9")
            await until(pa, lambda: first.main_screen.incident.picture.roles == {
                "commander": "alice@10.0.0.5", "communications": "bob@10.0.0.9"},
                message="alice sees both roles")
            # refusals: close before resolving; resolve without a summary
            await _status(pa, first, "closed")
            await until(pa, lambda: _said(first, "only a resolved incident can be closed"),
                        message="closing too early refused")
            await pa.press("I")
            await _choose(pa, first, "resolved")
            modal = await _form(pa, first, "")
            assert first.screen is modal
            assert "summary: required" in str(modal.query_one("#form-error").content)
            await pa.press("escape")
            assert not _kinds(first, "incident.status")
            # the transitions, each seen by the other console
            await _status(pa, first, "identified")
            await until(pb, lambda: second.main_screen.incident.picture.status == "identified")
            await _status(pb, second, "mitigated")
            await until(pa, lambda: str(_header(first, "#incident-status").content)
                        == "mitigated", message="alice's header says mitigated")
            await _status(pa, first, "resolved", "rolled api back to revision 2")
            await until(pb, lambda: second.query_one(StatusHeader).has_class("-resolved"),
                        message="bob sees the resolved-not-closed banner")
            # reopened, with a reason, then resolved again
            await _status(pb, second, "investigating", "errors are back")
            await until(pa, lambda: not first.query_one(StatusHeader).has_class("-resolved"),
                        message="the banner goes when reopened")
            await _status(pb, second, "resolved", "scaled api up and rolled back")
            await until(pa, lambda: first.main_screen.incident.picture.status == "resolved")
            # one follow-up checked off; closing with the others open needs a reason
            await pa.press("F")
            await _choose(pa, first, "root-cause-identified")
            await until(pa, lambda: "root-cause-identified"
                        in first.main_screen.incident.picture.follow_ups)
            await pa.press("I")
            await _choose(pa, first, "closed")
            form = await _form(pa, first, "")
            assert first.screen is form  # no reason: still asking
            await pa.press("escape")
            assert first.main_screen.incident.picture.status == "resolved"
            await _status(pa, first, "closed", "the rest is tracked in OPS-42")
            await until(pb, lambda: second.main_screen.incident.picture.status == "closed",
                        message="bob sees it closed")
            await until(pb, lambda: not second.query_one(StatusHeader).has_class("-resolved"))
            # a closed incident takes nothing more
            await pb.press("N")
            await _form(pb, second, "too late")
            await until(pb, lambda: _said(second, "the incident is closed"))
    statuses = [(r["params"]["status"], r["actor"]["user"]) for r in _kinds(first,
                                                                             "incident.status")]
    assert statuses == [("identified", "alice"), ("mitigated", "bob"), ("resolved", "alice"),
                        ("investigating", "bob"), ("resolved", "bob"), ("closed", "alice")]
    closing = _kinds(first, "incident.status")[-1]["params"]
    assert closing["reason"] == "the rest is tracked in OPS-42"
    assert "Root cause identified" not in closing["open_follow_ups"]
    assert first.session.checklist.incident.read().closed_at is not None
    # the post-mortem export of this drill incident, through the real command line
    env = {**os.environ, "WARROOM_STATE_DIR": str(state_dir), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "console.cli.main", "incidents", "export",
                          incident_id], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert f"`{incident_id}` (drill)" in text
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## What happened", "## Impact", "## Timeline", "## Why wasn't it caught?",
        "## What went well", "## How to prevent future?", "## Action items"]
    assert "severity **critical** (was high) by alice@10.0.0.5" in text
    assert "alice@10.0.0.5: login 500s since 10:02" in text and "hunter2" not in text
    assert "**Resolution summary:** scaled api up and rolled back" in text
    assert "| [x] | Root cause identified | alice@10.0.0.5 |" in text
    assert "| [ ] | Team notified of resolution | bob@10.0.0.9 |" in text  # communications
    assert "incident commander: alice@10.0.0.5" in text


async def test_verdict_changes_are_recorded_once_and_exported(drill_factory,
                                                              state_dir) -> None:
    """The rates panel's verdict for api turns when the bad deploy serves errors: the change
    is recorded once (two consoles watch it), with the error ratios of that moment, and the
    post-mortem lists it among the verdict changes with its sparkline."""
    from console.domain.audit import AuditLog
    from console.rehearsal.incident_report import build_report

    drill = drill_factory(scenario="bad-deploy-auth", speed=600.0)
    alice, bob = _people()
    common = {"namespace": "shop", "runbook_values": {"deployment": "api"},
              "incident_title": "drill: bad deploy", "metrics_interval": 0.5,
              "history_minutes": 5.0}
    first = WarroomApp(drill_settings(drill, actor=alice, **common))
    async with first.run_test(size=(160, 48)) as pa:
        await until(pa, lambda: first.session.audit is not None, message="connected")
        incident_id = first.session.checklist.incident.read().id
        second = WarroomApp(drill_settings(drill, actor=bob, resume=incident_id, **common))
        async with second.run_test(size=(160, 48)) as pb:
            await until(pb, lambda: second.session.audit is not None, message="bob connected")

            def turned() -> list[dict[str, Any]]:
                return [r for r in _kinds(first, "advisor.verdict")
                        if r["target"] == "shop/api" and r["params"]["level"] != "OK"]

            await until(pa, turned, 60, "api's verdict to turn")
            await until(pb, lambda: second.main_screen.incident.picture.verdicts.get(
                "shop/api") not in (None, "OK"), message="bob's console folds the verdict")
            # bob's console saw the turn too and had it checked against the log
            level = turned()[0]["params"]["level"]
            await until(pb, lambda: second.main_screen.incident._sent.get("shop/api") == level
                        and not busy(second, "verdicts") and not busy(first, "verdicts"),
                        message="bob's console decided about the same turn")
    changes = [r for r in _kinds(first, "advisor.verdict") if r["target"] == "shop/api"]
    levels = [(r["params"]["was"], r["params"]["level"]) for r in changes]
    assert all(was != level for was, level in levels), levels  # each a change, none twice
    turn = next(r for r in changes if r["params"]["level"] != "OK")
    assert turn["params"]["rates"]["shop/api"], turn
    records = AuditLog(first.session.audit.path, extra_secrets=()).records()
    report = build_report(records)
    assert any(v["kind"] == "advisor.verdict" and v["target"] == "shop/api"
               for v in report["sections"]["went_well"]["verdict_changes"])
    assert any(r["moment"] == f"verdict {turn['params']['level']}"
               for r in report["sections"]["impact"]["rates"])
