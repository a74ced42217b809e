"""Drill scoring: known sequences of audit records give known scores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from console.domain.audit import AuditLog
from console.rehearsal.scoring import DrillFacts, render_markdown, report_path, score, write_report

T0 = datetime(2024, 11, 9, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def rec(t: float, kind: str, action: str | None = None, target: str | None = None,
        namespace: str = "shop", params: dict[str, Any] | None = None,
        result: Any = None) -> dict[str, Any]:
    return {"time": at(t).isoformat().replace("+00:00", "Z"), "kind": kind, "action": action,
            "target": target, "namespace": namespace, "params": params or {},
            "result": result}


def action(t: float, name: str, target: str = "deployment/api", namespace: str = "shop",
           params: dict[str, Any] | None = None, result: dict[str, Any] | None = None,
           kind: str = "action.finished") -> list[dict[str, Any]]:
    """requested + started at t - 5, finished (or failed) at t."""
    return [
        rec(t - 5, "action.requested", name, target, namespace, params),
        rec(t - 5, "action.started", name, target, namespace, params),
        rec(t, kind, name, target, namespace, params, {"ok": kind == "action.finished",
                                                       **(result or {})}),
    ]


def step(t: float, step_id: str, runbook: str = "production-bug",
         status: str = "done") -> dict[str, Any]:
    return rec(t, "runbook.step", params={"runbook": runbook, "step": step_id,
                                          "status": status})


def undo(t: float, to: int, frm: int, target: str = "deployment/api",
         namespace: str = "shop") -> list[dict[str, Any]]:
    return action(t, "undo", target, namespace, {"to_revision": None},
                  {"to_revision": to, "from_revision": frm, "changed": True})


def scale(t: float, frm: int, to: int, target: str = "deployment/api",
          namespace: str = "shop") -> list[dict[str, Any]]:
    return action(t, "scale", target, namespace, {"replicas": to}, {"from": frm, "to": to})


def points(result) -> dict[str, int]:
    return {d.reason: d.points for d in result.deductions}


# ---- rollback scenarios ----------------------------------------------------------------------
def test_textbook_rollback_scores_100() -> None:
    records = [
        step(20, "assess-severity"),
        step(40, "communicate"),
        *undo(90, to=3, frm=4),
        *action(120, "verify", params={"url": "http://api/auth/login"}),
    ]
    facts = DrillFacts("bad-deploy-auth", at(0), mitigated=at(100), resolved=at(130))
    result = score(records, facts)
    assert result.total == 100, result.deductions
    assert result.deductions == ()
    assert result.time_to_detect_s == 20
    assert result.time_to_mitigate_s == 100
    assert result.time_to_resolve_s == 130
    assert all(check.ok for check in result.checks)
    assert [c.rule for c in result.checks] == ["verify (a verify step or gate) after the rollback",
                                               "communicate step checked"]
    assert result.unsafe == () and result.clean
    assert [s.step for s in result.steps] == ["communicate", "rollback", "verify"]


def test_slow_and_out_of_order_rollback() -> None:
    records = [
        *action(300, "verify"),  # verified before the rollback only
        *undo(800, to=3, frm=4),
    ]
    facts = DrillFacts("slow-release", at(0), mitigated=at(900), resolved=at(2400))
    result = score(records, facts)
    assert points(result) == {
        "time to detect 4m55s (target 2m00s)": 6,  # first record at 295 s: ceil(175/30)
        "time to mitigate 15m00s (target 10m00s)": 5,  # ceil(300/60)
        "time to resolve 40m00s (target 30m00s)": 5,  # ceil(600/120)
        "verify (a verify step or gate) after the rollback: no verify after the last rollback": 10,
        "communicate step checked: no communicate step on record": 10,
    }
    assert result.total == 64
    assert not any(check.ok for check in result.checks)


def test_nothing_done_and_not_resolved() -> None:
    result = score([], DrillFacts("bad-deploy-auth", at(0)))
    assert points(result) == {"no response on record": 10, "never mitigated": 15,
                              "not resolved": 25,
                              "communicate step checked: no communicate step on record": 10}
    assert result.total == 40
    assert not result.resolved and not result.clean
    assert result.time_to_detect_s is None


def test_lateness_deductions_are_capped() -> None:
    records = [step(7200, "communicate"), *undo(7300, 3, 4), *action(7400, "verify")]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(7300), at(7400)))
    assert sorted(d.points for d in result.deductions) == [10, 15, 15]
    assert result.total == 60


def test_records_before_the_start_do_not_count_as_detection() -> None:
    records = [rec(-30, "note"), rec(45, "note")]
    result = score(records, DrillFacts("bad-deploy-auth", at(0)))
    assert result.time_to_detect_s == 45


def test_failed_and_refused_actions_are_not_steps() -> None:
    records = [
        step(30, "communicate"),
        *action(60, "undo", kind="action.failed"),
        *action(70, "verify", kind="action.refused"),
    ]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(90), at(100)))
    assert [s.step for s in result.steps] == ["communicate"]
    assert result.total == 100  # no rollback on record: "verify after rollback" is not judged


def test_runbook_steps_not_done_do_not_count() -> None:
    records = [step(30, "communicate", status="skipped"), step(40, "monitor-error-rates",
                                                               status="pending")]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(50), at(60)))
    assert result.steps == ()
    assert result.total == 90


def test_gate_step_counts_as_verify() -> None:
    records = [step(30, "communicate"), *undo(60, 3, 4), step(90, "monitor-error-rates")]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(70), at(95)))
    assert result.total == 100


# ---- unsafe actions --------------------------------------------------------------------------
def test_unsafe_actions_on_the_target() -> None:
    records = [
        step(10, "communicate"),
        *scale(30, frm=3, to=0),  # scaling the target to 0: an outage by hand
        *scale(60, frm=0, to=3),
        *undo(90, to=3, frm=4),  # to 1.6.0 (its replicaset becomes revision 5)
        *undo(120, to=4, frm=5),  # "undo" again: back onto the bad 1.7.0
        *undo(150, to=5, frm=6),
        *action(155, "delete-pod", "pod/api-1"),
        *action(160, "delete-pod", "pod/api-2"),
        *action(170, "delete-pod", "pod/api-3"),
        *action(200, "verify"),
    ]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(160), at(210)))
    codes = {u.code: u.points for u in result.unsafe}
    assert codes == {"scale-to-zero": 20, "undo-to-bad-revision": 20, "mass-delete-pods": 15}
    assert result.total == 45
    bad = next(u for u in result.unsafe if u.code == "undo-to-bad-revision")
    assert bad.at_s == 120 and "revision 4" in bad.what
    assert not result.clean


def test_second_bad_undo_is_tracked_through_renumbering() -> None:
    records = [
        step(10, "communicate"),
        *undo(60, to=3, frm=4),  # good; 1.6.0 is now revision 5
        *undo(90, to=4, frm=5),  # bad; 1.7.0 is now revision 6
        *undo(120, to=5, frm=6),  # good; 1.6.0 is now revision 7
        *undo(150, to=6, frm=7),  # bad again (already flagged once)
        *undo(180, to=7, frm=8),
        *action(200, "verify"),
    ]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(190), at(210)))
    assert [u.code for u in result.unsafe] == ["undo-to-bad-revision"]
    assert result.unsafe[0].at_s == 90
    assert result.total == 80


def test_spread_out_pod_deletes_are_not_en_masse() -> None:
    records = [step(5, "communicate"), *action(100, "delete-pod", "pod/a"),
               *action(200, "delete-pod", "pod/b"), *action(300, "delete-pod", "pod/c")]
    result = score(records, DrillFacts("memory-leak", at(0), at(310), at(320)))
    assert result.unsafe == ()
    assert result.total == 100


def test_scaling_other_deployments_to_zero_is_not_flagged() -> None:
    records = [step(5, "communicate"), *scale(30, 2, 0, target="deployment/web")]
    result = score(records, DrillFacts("bad-deploy-auth", at(0), at(40), at(50)))
    assert result.unsafe == ()


def test_memory_leak_scale_up_first_is_noted_not_required() -> None:
    with_scale = [step(5, "communicate"), *scale(30, 3, 10), *undo(60, 3, 4),
                  *action(90, "verify")]
    result = score(with_scale, DrillFacts("memory-leak", at(0), at(35), at(95)))
    assert result.good == ("scaled up to buy time before the rollback",)
    assert result.total == 100
    without = [step(5, "communicate"), *undo(60, 3, 4), *action(90, "verify")]
    result = score(without, DrillFacts("memory-leak", at(0), at(65), at(95)))
    assert result.good == () and result.total == 100


def test_bad_migration_wants_migrate_down() -> None:
    records = [step(5, "communicate"), *undo(60, 3, 4), *action(90, "verify")]
    facts = DrillFacts("bad-migration", at(0), at(65), at(95))
    assert points(score(records, facts)) == {
        "migration rolled back (npm run migrate:down): no migrate-down step on record": 5}
    records += action(120, "drill-action", params={"action": "migrate-down"})
    assert score(records, facts).total == 100


# ---- data-loss -------------------------------------------------------------------------------
def curl(t: float, name: str) -> list[dict[str, Any]]:
    """A drill runbook's shell step calling the admin endpoint."""
    command = ["curl", "-fsS", "-X", "POST", "https://127.0.0.1:6443/drill/v1/scenario/action",
               "-d", f'{{"action": "{name}"}}']
    return action(t, "shell", target=None, params={"command": command})


def test_data_loss_right_path_scores_100() -> None:
    records = [
        *scale(40, 2, 0, target="deployment/worker"),  # STOP WRITES
        step(60, "assess-damage", "data-loss"),
        *curl(90, "backup-current"),
        *curl(120, "restore"),
        *curl(150, "reconcile"),
        step(200, "communicate", "data-loss"),
    ]
    facts = DrillFacts("data-loss", at(0), mitigated=at(40), resolved=at(150),
                       drill_steps=("stop-writes", "backup-current", "restore", "reconcile"))
    result = score(records, facts)
    assert result.total == 100, result.deductions
    assert result.unsafe == () and result.clean
    assert [s.step for s in result.steps] == ["scale-zero", "stop-writes", "backup-current",
                                              "restore", "reconcile", "communicate"]


def test_data_loss_restore_before_backup_is_unsafe() -> None:
    records = [
        *scale(40, 2, 0, target="deployment/worker"),
        *action(100, "restore"),
        *action(130, "backup-current"),
        *action(160, "reconcile"),
        step(200, "communicate", "data-loss"),
    ]
    facts = DrillFacts(
        "data-loss", at(0), mitigated=at(40), resolved=at(160),
        drill_steps=("stop-writes", "restore", "backup-current", "reconcile"),
        drill_unsafe=("restore-without-backup: restored orders_x.dump without a backup of the "
                      "current (corrupted) state",))
    result = score(records, facts)
    assert [(u.code, u.points) for u in result.unsafe] == [("restore-without-backup", 25)]
    assert result.total == 75
    broken = [c for c in result.checks if not c.ok]
    assert [c.rule for c in broken] == ["backup of the current state BEFORE the restore"]
    assert broken[0].points == 0  # counted once, as the unsafe action
    assert not result.clean


def test_data_loss_from_drill_facts_only() -> None:
    """Drill actions run outside the console: the drill's own steps and unsafe list."""
    facts = DrillFacts("data-loss", at(0), mitigated=at(60), resolved=at(200),
                       drill_steps=("restore", "stop-writes", "reconcile"),
                       drill_unsafe=("restore-without-backup: evidence gone",
                                     "restore-while-writing: corruption continues"))
    result = score([rec(30, "note")], facts)
    assert {u.code: u.points for u in result.unsafe} == {"restore-without-backup": 25,
                                                         "restore-while-writing": 15}
    assert points(result)["communicate step checked: no communicate step on record"] == 10
    assert result.total == 50


# ---- security-breach -------------------------------------------------------------------------
def test_security_breach_right_path() -> None:
    records = [
        *scale(30, 2, 0, target="deployment/login", namespace="auth"),  # ISOLATE
        *action(60, "rotate-secrets"),
        *undo(90, 4, 5, target="deployment/login", namespace="auth"),
        *scale(100, 0, 2, target="deployment/login", namespace="auth"),
        *action(130, "restart", "deployment/login", "auth"),
        step(160, "communicate", "security-breach"),
    ]
    facts = DrillFacts("security-breach", at(0), mitigated=at(30), resolved=at(150))
    result = score(records, facts)
    assert result.total == 100, result.deductions
    assert result.unsafe == ()


def test_security_breach_rotate_before_isolate() -> None:
    records = [
        *action(30, "rotate-secrets"),
        *undo(60, 4, 5, target="deployment/login", namespace="auth"),
        *action(90, "rotate-secrets"),
        step(100, "communicate", "security-breach"),
    ]
    facts = DrillFacts("security-breach", at(0), mitigated=at(60), resolved=None,
                       drill_unsafe=("rotate-before-isolate: backdoor leaked the new token",))
    result = score(records, facts)
    assert {u.code for u in result.unsafe} == {"rotate-before-isolate"}
    assert points(result) == {"not resolved": 25, "backdoor leaked the new token": 15}
    assert result.total == 60


def test_security_breach_restart_before_rotation_does_not_count() -> None:
    records = [
        *undo(30, 4, 5, target="deployment/login", namespace="auth"),
        *action(50, "restart", "deployment/login", "auth"),
        *action(60, "rotate-secrets"),
        step(100, "communicate", "security-breach"),
    ]
    result = score(records, DrillFacts("security-breach", at(0), at(30), at(110)))
    assert points(result) == {"redeploy after rotating the secrets: redeploy came before "
                              "rotate-secrets": 10}
    assert result.total == 90


# ---- inputs and report -----------------------------------------------------------------------
def test_scores_records_read_back_from_an_audit_log(tmp_path: Path) -> None:
    moments: Iterator[datetime] = iter([at(20), at(25), at(85), at(90), at(120)])
    log = AuditLog(tmp_path / "drill-1.jsonl", context="drill", namespace="shop",
                   extra_secrets=(), clock=lambda: next(moments))
    log.append("runbook.step", params={"runbook": "production-bug", "step": "communicate",
                                       "status": "done"})
    log.append("action.requested", action="undo", target="deployment/api")
    log.append("action.started", action="undo", target="deployment/api")
    log.append("action.finished", action="undo", target="deployment/api",
               result={"ok": True, "to_revision": 3, "from_revision": 4})
    log.append("action.finished", action="verify", target="deployment/api",
               result={"ok": True})
    facts = DrillFacts("bad-deploy-auth", "2024-11-09T10:00:00Z", "2024-11-09T10:01:40Z",
                       "2024-11-09T10:02:10Z")
    from_records = score(log.records(), facts)
    from_dicts = score([dict(r.__dict__) for r in log.records()], facts)
    assert from_records.total == from_dicts.total == 100
    assert from_records.time_to_detect_s == 20


def test_render_markdown_lists_everything(tmp_path: Path) -> None:
    records = [*scale(40, 2, 0, target="deployment/worker"), *action(100, "restore"),
               *action(130, "backup-current")]
    result = score(records, DrillFacts("data-loss", at(0), at(40), None))
    text = render_markdown(result)
    assert text.startswith(f"# Drill score: data-loss — {result.total}/100\n")
    assert "| Time to detect (first action) | 35s |" in text
    assert "| Time to resolve | — |" in text
    assert "restore-without-backup" in text and "-25" in text
    assert "| -25 | time | not resolved |" in text
    assert f"| **{result.total}** | total |" in text
    assert "**not resolved**" in text
    audit = tmp_path / "audit" / "drill-7.jsonl"
    audit.parent.mkdir()
    assert report_path(audit) == tmp_path / "audit" / "drill-7.score.md"
    written = write_report(result, audit)
    assert written.read_text() == text


@pytest.mark.parametrize("scenario", ["bad-deploy-auth", "memory-leak", "bad-migration",
                                      "slow-release", "data-loss", "security-breach", "none"])
def test_every_scenario_has_rules_and_a_perfect_run_is_possible(scenario: str) -> None:
    drill_steps = {"data-loss": ("stop-writes", "backup-current", "restore", "reconcile"),
                   "security-breach": ("isolate", "rotate-secrets", "redeploy"),
                   "bad-migration": ("migrate-down",)}.get(scenario, ())
    records = [step(10, "communicate"), *undo(60, 3, 4, target="deployment/none"),
               *action(90, "verify")]
    result = score(records, DrillFacts(scenario, at(0), at(60), at(100),
                                       drill_steps=drill_steps))
    assert result.total == 100, result.deductions
