"""Pause and resume through the runner and the runbook engine, on a drill cluster: the
migration-failed runbook's first step pauses the bad release, its code rollback resumes and
rolls back as one linked sequence, and a sequence whose second step fails says the first one
took effect."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adapters.kubernetes import KubeClient
from console.domain.actions import ActionRequest, ActionRunner
from console.domain.audit import AuditLog
from console.domain.incident import IncidentStore, SharedIncident
from console.runbook.engine import RunbookEngine
from console.runbook.loading import builtin_dir, load_runbook
from tests.conftest import Drill, wait_for
from tests.console.test_runbook_engine import YES, Site, statuses
from tests.console.test_runbook_engine import site as site  # noqa: F401 - a fixture
from tests.drill.kube_helpers import image_of

BAD_IMAGE = "registry.local/shop/api:1.7.0"
GOOD_IMAGE = "registry.local/shop/api:1.6.0"


@pytest.fixture
def migration_drill(drill_factory: Callable[..., Drill]) -> Drill:
    return drill_factory(scenario="bad-migration", speed=600)


@pytest.fixture
def kube(migration_drill: Drill) -> Iterator[KubeClient]:
    with KubeClient.connect(str(migration_drill.kubeconfig)) as client:
        yield client


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "incident.jsonl")


@pytest.fixture
def shared(tmp_path: Path) -> SharedIncident:
    return IncidentStore(tmp_path / "state").open_new("migration", "high", context="drill",
                                                      namespace="shop")


def action_records(audit: AuditLog) -> list[tuple[str, str, dict]]:
    return [(r.kind, r.action or "", dict(r.params)) for r in audit.records()
            if r.kind.startswith("action.")]


def test_migration_failed_pauses_first_then_resumes_and_rolls_back_in_one_step(
        migration_drill: Drill, kube: KubeClient, audit: AuditLog, shared: SharedIncident,
        site: tuple[str, Site], tmp_path: Path) -> None:
    url, _ = site
    wait_for(lambda: image_of(migration_drill.api(), "shop", "api") == BAD_IMAGE, timeout=60,
             message="shop/api on the bad release")
    runbook = load_runbook(builtin_dir() / "migration-failed.yaml").bind({
        "deployment": "api", "namespace": "shop", "database": "shop",
        "app_dir": str(tmp_path), "base_url": url,
        "migrations": str(tmp_path / "alembic.ini")})
    engine = RunbookEngine(runbook, incident=shared, audit=audit, kube=kube,
                           context=kube.context, namespace="shop")
    assert engine.current == "stop-deployment"
    assert runbook.step("stop-deployment").kind == "pause"

    prompts: list[str] = []
    paused = engine.run_step("stop-deployment", lambda p: prompts.append(p) or True)
    assert paused.ok and paused.status == "done", paused.message
    assert "rollout pause deployment/api" in prompts[0]
    assert kube.get_deployment("shop", "api").paused
    status = migration_drill.call(migration_drill.cluster.status)
    assert status["mitigated"] and not status["resolved"]  # the scenario's stop-gap
    assert statuses(audit, "stop-deployment") == ["running", "done"]
    assert [(k, a) for k, a, _ in action_records(audit)] == [
        ("action.requested", "pause"), ("action.started", "pause"), ("action.finished", "pause")]

    again = engine.run_step("stop-deployment", YES)  # kubectl: already paused
    assert again.refused and 'deployments.apps "api" is already paused' in again.message

    rolled = engine.run_step("deploy-previous-version", lambda p: prompts.append(p) or True)
    assert rolled.ok and rolled.status == "done", rolled.message
    assert "rollout resume, then rollout undo deployment/api" in prompts[-1]
    after = kube.get_deployment("shop", "api")
    assert not after.paused and after.images == (GOOD_IMAGE,)
    wait_for(lambda: migration_drill.call(migration_drill.cluster.status)["resolved"],
             timeout=30, message="the drill resolved by the code rollback")
    records = action_records(audit)[3:]  # after the pause (the second one left no action record)
    assert [(k, a) for k, a, _ in records] == [
        ("action.requested", "resume"), ("action.started", "resume"),
        ("action.finished", "resume"),
        ("action.requested", "undo"), ("action.started", "undo"), ("action.finished", "undo")]
    sequence = {p["sequence"] for _, _, p in records}
    assert len(sequence) == 1 and sequence != {""}
    assert records[0][2]["then"] == "undo" and records[3][2]["after"] == "resume"


def test_a_second_step_that_fails_says_the_first_took_effect(
        migration_drill: Drill, kube: KubeClient, audit: AuditLog) -> None:
    wait_for(lambda: image_of(migration_drill.api(), "shop", "api") == BAD_IMAGE, timeout=60,
             message="shop/api on the bad release")
    runner = ActionRunner(kube, audit)
    kube.pause("shop", "api")
    generation = kube.get_deployment("shop", "api").generation
    request = ActionRequest("undo", kube.context, "shop", "api",
                            {"to_revision": 99, "first": "resume"}, generation)
    assert runner.precheck(request) is None
    outcome = runner.run(request)
    assert not outcome.ok
    assert "unable to find specified revision 99" in outcome.message
    assert "the first step already took effect (rollout resume" in outcome.message
    kinds = [(r.kind, r.action) for r in audit.records()]
    assert kinds == [("action.requested", "resume"), ("action.started", "resume"),
                     ("action.finished", "resume"), ("action.requested", "undo"),
                     ("action.started", "undo"), ("action.failed", "undo")]
    failed = audit.records()[-1]
    assert failed.result["done_first"].startswith("rollout resume")
    assert "deployment.apps/api resumed" in failed.message
    assert not kube.get_deployment("shop", "api").paused  # resumed, and said so


def test_a_sequence_whose_first_step_is_refused_runs_nothing(
        migration_drill: Drill, kube: KubeClient, audit: AuditLog) -> None:
    runner = ActionRunner(kube, audit)
    request = ActionRequest("restart", kube.context, "shop", "api", {"first": "resume"})
    # not paused: resume is refused at the pre-check, in kubectl's words
    assert runner.precheck(request) == 'deployments.apps "api" is not paused'
    outcome = runner.run(request)  # and at the call, should it get there
    assert not outcome.ok and outcome.message.startswith("not run: rollout resume")
    kinds = [(r.kind, r.action) for r in audit.records()]
    assert kinds == [("action.requested", "resume"), ("action.started", "resume"),
                     ("action.failed", "resume"), ("action.refused", "restart")]
    template = kube.get_deployment("shop", "api")
    assert not template.paused


def test_a_bad_migration_drill_paused_then_resumed_and_rolled_back_scores_100() -> None:
    """Scoring reads the pause and resume by their kinds' categories: neither is a rollback or
    a restart, and the undo of a resume-then-undo sequence counts as the rollback."""
    from console.rehearsal.scoring import DrillFacts, score
    from tests.console.test_scoring import action, at, step

    linked = {"sequence": "abc123"}
    records = [
        step(5, "communicate"),
        *action(20, "pause"),
        step(21, "stop-deployment", "migration-failed"),
        *action(60, "resume", params={**linked, "then": "undo"}),
        *action(61, "undo", params={"to_revision": None, "after": "resume", **linked},
                result={"to_revision": 3, "from_revision": 4, "changed": True}),
        *action(90, "verify"),
        *action(120, "drill-action", params={"action": "migrate-down"}),
    ]
    result = score(records, DrillFacts("bad-migration", at(0), mitigated=at(20),
                                       resolved=at(95)))
    assert result.total == 100, result.deductions
    assert all(check.ok for check in result.checks)
    assert result.time_to_mitigate_s == 20  # the pause stopped it (the scenario's stop-gap)
    without_undo = [r for r in records if r["action"] != "undo"]
    missed = score(without_undo, DrillFacts("bad-migration", at(0), mitigated=at(20)))
    assert missed.total < 100  # a pause alone resolves nothing
