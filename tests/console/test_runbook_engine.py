"""The runbook engine against real things: the drill cluster (kubernetes API and its Prometheus
API), a local HTTP server for verify steps, real subprocesses for shell steps, real incident
and audit files. Waits use events and ``wait_for``; gate and wait durations are either small or
measured by an injected clock."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from adapters.kubernetes import KubeClient
from adapters.metrics import MetricsClient
from adapters.metrics_config import MetricsConfig
from console.domain.actions import ActionRunner
from console.domain.actor import Actor
from console.domain.audit import RUNBOOK_STEP, AuditLog, AuditRecord
from console.domain.incident import IncidentStore, SharedIncident
from console.runbook.compensations import RUNBOOK_ABORT, RUNBOOK_COMPENSATION
from console.runbook.engine import RunbookEngine
from console.runbook.loading import builtin_dir, load_runbook, parse_runbook
from console.runbook.outcomes import StepView
from console.runbook.progress import COMPENSATIONS_SUFFIX
from tests.conftest import Drill, wait_for
from tests.drill.kube_helpers import (
    deployment_settled,
    image_of,
    make_deployment,
    make_namespace,
    unique,
)

PY = sys.executable
BAD_IMAGE = "registry.local/shop/api:1.7.0"
GOOD_IMAGE = "registry.local/shop/api:1.6.0"
YES: Callable[[str], bool] = lambda _prompt: True  # noqa: E731


# ---- fixtures and helpers ------------------------------------------------------------------
@pytest.fixture
def store(tmp_path: Path) -> IncidentStore:
    return IncidentStore(tmp_path / "state")


@pytest.fixture
def shared(store: IncidentStore) -> SharedIncident:
    return store.open_new("api auth broken", "high", context="drill", namespace="shop")


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    return AuditLog(tmp_path / "audit" / "incident.jsonl")


def q(value: Any) -> str:
    """A YAML scalar for any JSON value (a double-quoted string, a flow list)."""
    return json.dumps(value)


def py(code: str) -> str:
    """A shell step's argv running ``code`` with this Python, as YAML."""
    return q([PY, "-c", code])


def engine_for(text: str, shared: SharedIncident | None, audit: AuditLog,
               values: dict[str, str] | None = None, **kwargs: Any) -> RunbookEngine:
    text = textwrap.dedent(text)
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    slug = re.sub(r"[^a-z0-9]+", "-", title.removeprefix("title:").lower()).strip("-")
    runbook = parse_runbook(text, default_id=slug).bind(values or {})
    kwargs.setdefault("context", "drill")
    kwargs.setdefault("namespace", "shop")
    return RunbookEngine(runbook, incident=shared, audit=audit, **kwargs)


def view(engine: RunbookEngine, step_id: str) -> StepView:
    return next(v for v in engine.steps_view() if v.id == step_id)


def step_records(audit: AuditLog, target: str | None = None) -> list[AuditRecord]:
    return [r for r in audit.records()
            if r.kind == RUNBOOK_STEP and (target is None or r.target == target)]


def statuses(audit: AuditLog, target: str) -> list[str]:
    return [r.result["status"] for r in step_records(audit, target)]


class Lines:
    """A progress callback that keeps what it was told."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, float | None]] = []
        self.seen = threading.Event()

    def __call__(self, message: str, fraction: float | None) -> None:
        self.lines.append((message, fraction))
        self.seen.set()

    @property
    def messages(self) -> list[str]:
        return [m for m, _ in self.lines]


class FakeTime:
    """A clock and a sleeper: sleeping moves the clock, instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> bool:
        self.slept.append(seconds)
        self.now += seconds
        return False


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", fn()), daemon=True)
    thread.start()
    return thread, box


# ---- a local HTTP server for verify steps --------------------------------------------------
class Site:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.flaky_until = 3  # /flaky answers 503 to this many requests, then 200
        self.lock = threading.Lock()

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            count = self.hits[path]
        if path == "/healthz":
            return 200, {"status": "ok"}
        if path == "/flaky":
            return (503, {"status": "starting"}) if count <= self.flaky_until else (200, {})
        if path == "/down":
            return 500, {"error": "boom"}
        return 404, {}


@pytest.fixture
def site() -> Iterator[tuple[str, Site]]:
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — the http.server API
            status, body = state.answer(self.path)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


# ---- the drill: bad-deploy-auth ------------------------------------------------------------
@pytest.fixture
def auth_drill(drill_factory: Callable[..., Drill]) -> Drill:
    return drill_factory(scenario="bad-deploy-auth", speed=600)


@pytest.fixture
def kube(auth_drill: Drill) -> Iterator[KubeClient]:
    with KubeClient.connect(str(auth_drill.kubeconfig)) as client:
        yield client


@pytest.fixture
def metrics(auth_drill: Drill) -> Iterator[MetricsClient]:
    config = MetricsConfig(base_url=f"{auth_drill.cluster.url}/prometheus",
                           bearer_token=auth_drill.cluster.token,
                           verify_tls=str(auth_drill.cluster.ca_path))
    with MetricsClient(config) as client:
        yield client


def error_ratio(metrics: MetricsClient) -> float | None:
    samples = metrics.instant(metrics.expression("error_ratio", "shop", "api"))
    return samples[0].value if samples else None


def wait_until_broken(auth_drill: Drill, metrics: MetricsClient) -> None:
    wait_for(lambda: image_of(auth_drill.api(), "shop", "api") == BAD_IMAGE,
             timeout=60, message="shop/api on the bad image")
    wait_for(lambda: (error_ratio(metrics) or 0) > 0.5, timeout=60, interval=0.1,
             message="shop/api error ratio > 0.5")


def test_undo_step_restores_the_good_revision(
    auth_drill: Drill, kube: KubeClient, metrics: MetricsClient, shared: SharedIncident,
    audit: AuditLog,
) -> None:
    wait_until_broken(auth_drill, metrics)
    history = kube.history("shop", "api")
    good = next(r.revision for r in history if GOOD_IMAGE in r.images and not r.current)
    assert good is not None
    engine = engine_for("""
        title: Roll back the API
        kind: procedure
        steps:
          - id: decide
            title: Decide to roll back
            type: manual
          - id: rollback
            title: Roll back {deployment}
            type: undo
            deployment: "{deployment}"
            namespace: "{namespace}"
            to_revision: "{previous_revision}"
            requires: [decide]
    """, shared, audit, {"deployment": "api", "namespace": "shop",
                         "previous_revision": str(good)},
        kube=kube, context=kube.context)

    assert engine.run_step("rollback", YES).refused  # decide first
    assert engine.check_off("decide", note="60% of users").ok
    prompts: list[str] = []
    progress = Lines()
    outcome = engine.run_step("rollback", lambda p: prompts.append(p) or True, progress)

    assert outcome.ok and outcome.status == "done", outcome.message
    assert image_of(auth_drill.api(), "shop", "api") == GOOD_IMAGE
    assert kube.get_deployment("shop", "api").images == (GOOD_IMAGE,)
    assert f"rollout undo deployment/api to revision {good}" in prompts[0]
    assert BAD_IMAGE in prompts[0]  # the prompt says what runs now
    assert progress.lines and progress.lines[-1][1] == 1.0  # rollout followed to the end
    assert f"rolled back to revision {good}" in outcome.message
    assert statuses(audit, "rollback") == ["refused", "running", "done"]
    kinds = [r.kind for r in audit.records() if r.target == "deployment/api"]
    assert kinds == ["action.requested", "action.started", "action.finished"]
    assert view(engine, "rollback").status == "done"


def test_gate_holds_only_after_the_undo(
    auth_drill: Drill, kube: KubeClient, metrics: MetricsClient, shared: SharedIncident,
    audit: AuditLog,
) -> None:
    wait_until_broken(auth_drill, metrics)
    query = metrics.expression("error_ratio", "shop", "api")
    text = f"""
        title: Roll back and watch the error ratio
        kind: procedure
        on_abort: never
        steps:
          - id: errors-low-early
            title: Error ratio below 1% (before the rollback)
            type: gate
            name: error ratio
            query: {q(query)}
            op: "<"
            threshold: 0.01
            for: 1s
            interval: 100ms
            timeout: 1500ms
          - id: rollback
            title: Roll back {{deployment}}
            type: undo
            confirm: false
            verify:
              gates:
                - name: error ratio
                  query: {q(query)}
                  op: "<"
                  threshold: 0.01
                  for: 1s
              interval: 100ms
              deadline: 2m
          - id: errors-low
            title: Error ratio below 1% for 20s
            type: gate
            name: error ratio
            query: {q(query)}
            op: "<"
            threshold: 0.01
            for: 20s
            interval: 1s
            timeout: 2m
    """
    values = {"deployment": "api", "namespace": "shop"}
    engine = engine_for(text, shared, audit, values, kube=kube, metrics=metrics,
                        context=kube.context)

    early = Lines()
    before = engine.run_step("errors-low-early", None, early)
    assert before.status == "failed" and not before.ok
    assert before.message.startswith("timed out after 1.5s: error ratio < 0.01 for 1s did not hold")
    assert "did not hold" in before.message
    assert any("not holding" in m and "needs < 0.01" in m for m in early.messages)
    assert not any("holding" in m and "not holding" not in m for m in early.messages)

    rolled = Lines()
    undo = engine.run_step("rollback", None, rolled)
    assert undo.ok, undo.message
    assert "verified: error ratio: ok" in undo.message
    assert image_of(auth_drill.api(), "shop", "api") == GOOD_IMAGE
    ratio = error_ratio(metrics)
    assert ratio is not None and ratio < 0.01

    # "for 20s" measured by the engine's clock: a fake clock makes it quick, and the gate still
    # asks the drill every (fake) second, 21 times
    fake = FakeTime()
    fast = engine_for(text, shared, audit, values, kube=kube, metrics=metrics,
                      context=kube.context, clock=fake.clock, sleeper=fake.sleep)
    held = Lines()
    after = fast.run_step("errors-low", None, held)
    assert after.ok and after.status == "done", after.message
    assert "held 20.0s" in after.message
    assert fake.slept == [1.0] * 20
    assert any("holding 10.0s of 20s" in m for m in held.messages)
    assert [f for _, f in held.lines][-1] == 1.0
    assert engine.refresh()  # the other engine saved it in the shared incident
    assert view(engine, "errors-low").status == "done"


def test_gate_unknown_never_counts_as_holding(shared: SharedIncident, audit: AuditLog,
                                              drill: Drill) -> None:
    config = MetricsConfig(base_url=f"{drill.cluster.url}/prometheus",
                           bearer_token=drill.cluster.token, verify_tls=str(drill.cluster.ca_path))
    fake = FakeTime()
    with MetricsClient(config) as metrics:
        engine = engine_for(f"""
            title: Unknowns
            kind: procedure
            steps:
              - id: no-series
                title: A series that does not exist
                type: gate
                query: {q('sum(rate(no_such_metric_total[1m]))')}
                op: "<"
                threshold: 1
                for: 5s
                interval: 1s
                timeout: 10s
              - id: bad-query
                title: A query Prometheus rejects
                type: gate
                query: "sum by (namespace (rate(x[1m]))"
                op: "<"
                threshold: 1
                interval: 1s
                timeout: 3s
              - id: nan
                title: NaN is not a value
                type: gate
                query: "0/0"
                op: "<"
                threshold: 1
                interval: 1s
                timeout: 3s
        """, shared, audit, metrics=metrics, clock=fake.clock, sleeper=fake.sleep)
        for step in ("no-series", "bad-query", "nan"):
            progress = Lines()
            outcome = engine.run_step(step, None, progress)
            assert outcome.status == "failed", (step, outcome.message)
            assert all("does not count as holding" in m for m in progress.messages), step
        assert "returned no samples" in engine.steps_view()[0].detail
        assert "Prometheus rejected the query" in engine.steps_view()[1].detail
        assert "NaN" in engine.steps_view()[2].detail


# ---- requires --------------------------------------------------------------------------------
RESTORE = f"""
    title: Restore
    kind: procedure
    steps:
      - id: backup-current
        title: Create backup of current state
        type: shell
        command: {py("print('backup written')")}
        confirm: false
      - id: restore
        title: Restore from last good backup
        type: shell
        command: {py("print('restored')")}
        confirm: false
        requires: [backup-current]
        requires_why: the handbook says take a current backup before restoring
"""


def test_requires_guard(shared: SharedIncident, audit: AuditLog) -> None:
    engine = engine_for(RESTORE, shared, audit)
    assert view(engine, "restore").status == "blocked"
    assert "needs 'backup-current' done first" in view(engine, "restore").detail

    refused = engine.run_step("restore", YES)
    assert refused.refused and not refused.ok and refused.status == "pending"
    assert refused.message == ("restore needs 'backup-current' to be done first: the handbook "
                               "says take a current backup before restoring")

    assert engine.skip("backup-current", "no time").ok
    refused = engine.run_step("restore", YES)
    assert refused.refused
    assert refused.message.startswith("restore needs 'backup-current' (it was skipped) to be "
                                      "done first")

    assert engine.reopen("backup-current", "take it after all").ok
    assert engine.run_step("backup-current", YES).ok
    assert view(engine, "restore").status == "pending"
    allowed = engine.run_step("restore", YES)
    assert allowed.ok and allowed.status == "done", allowed.message
    assert statuses(audit, "restore") == ["refused", "refused", "running", "done"]


def test_requires_guard_in_the_shipped_runbooks(shared: SharedIncident, audit: AuditLog) -> None:
    data_loss = load_runbook(builtin_dir() / "data-loss.yaml").bind({
        "deployment": "api", "namespace": "shop", "database": "shop",
        "writer_replicas": "3", "last_good_backup": "b.dump", "table": "orders"})
    engine = RunbookEngine(data_loss, incident=shared, audit=audit, context="drill",
                           namespace="shop")
    refused = engine.run_step("restore", YES)
    assert refused.refused
    assert refused.message.startswith(
        "restore needs 'stop-writes' and 'backup-current' to be done first: ")
    assert "Create backup of current (corrupted) state" in refused.message

    bug = load_runbook(builtin_dir() / "production-bug.yaml").bind(
        {"deployment": "api", "namespace": "shop"})
    manual = RunbookEngine(bug, incident=shared, audit=audit, context="drill", namespace="shop")
    assert manual.current == "assess-severity"
    assert manual.check_off("decide").refused
    assert manual.check_off("assess-severity", note="60% of mobile users").ok
    assert manual.current == "communicate"  # the cursor moves on
    assert manual.check_off("decide").ok
    assert manual.run_step("assess-severity").refused  # manual steps are checked off
    assert manual.check_off("rollback").refused  # action steps are run


# ---- shell -------------------------------------------------------------------------------------
SHELL = f"""
    title: Shell steps
    kind: procedure
    steps:
      - id: hello
        title: Say hello
        type: shell
        command: {py("import os, sys; print('hello'); print('token is ' + os.environ.get('API_TOKEN', '')); print('oops', file=sys.stderr)")}
      - id: exit3
        title: Exit 3
        type: shell
        command: {py("raise SystemExit(3)")}
      - id: exit3-expected
        title: Exit 3 is what we want
        type: shell
        command: {py("raise SystemExit(3)")}
        expected_exit: 3
      - id: slow
        title: Too slow
        type: shell
        command: {py("import time; print('started', flush=True); time.sleep(60)")}
        timeout: 300ms
      - id: piped
        title: Through the shell
        type: shell
        shell: true
        command: echo one two | wc -w
"""


def test_shell_steps(shared: SharedIncident, audit: AuditLog,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "tok-5ecret-value")
    engine = engine_for(SHELL, shared, audit)

    assert engine.run_step("hello").message.startswith("hello needs confirmation")
    prompts: list[str] = []
    progress = Lines()
    ok = engine.run_step("hello", lambda p: prompts.append(p) or True, progress)
    assert ok.ok and ok.status == "done" and ok.message == "exit 0"
    assert "Say hello" in prompts[0] and "context drill" in prompts[0]
    assert "hello" in progress.messages and "stderr: oops" in progress.messages
    assert "token is ***" in progress.messages
    assert not any("tok-5ecret-value" in m for m in progress.messages)

    failed = engine.run_step("exit3", YES)
    assert failed.status == "failed" and failed.message == "exited 3 (expected 0)"
    assert engine.run_step("exit3-expected", YES).ok

    timed_out = engine.run_step("slow", YES)
    assert timed_out.status == "failed"
    assert timed_out.message.startswith("timed out after 0.3 s")

    piped = Lines()
    assert engine.run_step("piped", YES, piped).ok
    assert [m.strip() for m in piped.messages] == ["2"]

    declined = engine.run_step("piped", lambda _p: False)
    assert declined.refused and declined.message == "not confirmed by the operator"
    assert view(engine, "piped").status == "done"  # unchanged
    assert [v.status for v in engine.steps_view()] == ["done", "failed", "done", "failed", "done"]
    assert not any("tok-5ecret-value" in line for line in audit.path.read_text().splitlines())


def test_stop_kills_a_running_shell_command(shared: SharedIncident, audit: AuditLog,
                                            tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    engine = engine_for(f"""
        title: Long command
        kind: procedure
        steps:
          - id: long
            title: Runs for a minute
            type: shell
            confirm: false
            command: {py(f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)")}
    """, shared, audit)
    thread, box = in_thread(lambda: engine.run_step("long"))
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), message="the command started")
    engine.stop()
    thread.join(10)
    assert not thread.is_alive()
    outcome = box["result"]
    assert outcome.interrupted and outcome.status == "failed"
    assert "killed" in outcome.message
    pid = int(pid_file.read_text())
    wait_for(lambda: not _pid_alive(pid), message="the command gone")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie not yet reaped by anyone still "exists"; it is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


# ---- verify ------------------------------------------------------------------------------------
def test_verify_steps_against_a_local_server(site: tuple[str, Site], shared: SharedIncident,
                                             audit: AuditLog) -> None:
    base, state = site
    engine = engine_for(f"""
        title: Verify
        kind: procedure
        steps:
          - id: healthy
            title: Health and a service that is starting
            type: verify
            checks:
              - name: health
                url: {base}/healthz
                json_path: status
                json_equals: ok
              - name: flaky
                url: {base}/flaky
            interval: 50ms
            deadline: 20s
          - id: broken
            title: A broken endpoint
            type: verify
            checks:
              - name: down
                url: {base}/down
                retries: 1
                retry_delay: 10ms
            interval: 100ms
            deadline: 300ms
          - id: tolerant
            title: One of two may fail
            type: verify
            checks:
              - name: health
                url: {base}/healthz
              - name: down
                url: {base}/down
            tolerance: 1
            deadline: 5s
          - id: deploy
            title: A command, then its verification
            type: shell
            confirm: false
            command: {py("print('deployed')")}
            verify:
              checks:
                - name: flaky
                  url: {base}/flaky
              interval: 50ms
              deadline: 20s
    """, shared, audit)

    progress = Lines()
    healthy = engine.run_step("healthy", None, progress)
    assert healthy.ok, healthy.message
    assert state.hits["/flaky"] == 4  # three 503 rounds, then 200
    assert any("round 1: health: ok" in m and "flaky: FAIL (expected status 200, got 503)" in m
               for m in progress.messages)

    broken = engine.run_step("broken")
    assert broken.status == "failed"
    assert "not healthy within 300ms" in broken.message
    assert "expected status 200, got 500" in broken.message
    assert state.hits["/down"] >= 4  # two attempts per round, at least two rounds

    assert engine.run_step("tolerant").ok

    state.hits.pop("/flaky")
    deployed = engine.run_step("deploy")
    assert deployed.ok and deployed.message.startswith("exit 0; verified: flaky: ok")
    assert state.hits["/flaky"] == 4


# ---- wait, stop ---------------------------------------------------------------------------------
WAITS = """
    title: Waits
    kind: procedure
    steps:
      - id: soak
        title: Monitor for 1 hour
        type: wait
        duration: 1h
      - id: gate
        title: A gate with nothing to ask
        type: gate
        query: up
        op: ">"
        threshold: 0
        timeout: 1h
        interval: 30s
"""


def test_wait_is_interrupted_by_stop(shared: SharedIncident, audit: AuditLog) -> None:
    engine = engine_for(WAITS, shared, audit)
    progress = Lines()
    thread, box = in_thread(lambda: engine.run_step("soak", None, progress))
    wait_for(lambda: view(engine, "soak").status == "running", message="the wait running")
    assert progress.seen.wait(10)
    assert "left of 1h" in view(engine, "soak").detail
    engine.stop()
    thread.join(5)
    assert not thread.is_alive(), "stop() did not interrupt the wait"
    outcome = box["result"]
    assert outcome.interrupted and outcome.status == "pending" and not outcome.ok
    assert outcome.message.startswith("stopped after")
    assert view(engine, "soak").status == "pending"
    assert statuses(audit, "soak") == ["running", "interrupted"]

    # a gate without a metrics source is unknown, waits, and stops as promptly
    thread, box = in_thread(lambda: engine.run_step("gate"))
    wait_for(lambda: "does not count" in view(engine, "gate").detail, message="gate waiting")
    engine.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert box["result"].interrupted and box["result"].status == "pending"

    # the engine runs again after a stop; with an injected clock an hour passes at once
    fake = FakeTime()
    fast = engine_for(WAITS, shared, audit, clock=fake.clock, sleeper=fake.sleep)
    done = fast.run_step("soak")
    assert done.ok and done.message == "waited 1h" and sum(fake.slept) == 3600

    # stopping a re-run changes nothing: the step stays done, as it was
    assert engine.refresh() and engine.status("soak") == "done"
    thread, box = in_thread(lambda: engine.run_step("soak"))
    wait_for(lambda: engine.status("soak") == "running", message="the re-run running")
    engine.stop()
    thread.join(5)
    assert box["result"].interrupted and box["result"].status == "done"
    assert view(engine, "soak").status == "done" and view(engine, "soak").detail == "waited 1h"


# ---- compensation and abort ---------------------------------------------------------------------
def test_compensation_runs_when_a_later_step_fails(
    drill: Drill, shared: SharedIncident, audit: AuditLog,
) -> None:
    ns = make_namespace(drill.api(), unique("rbe"))
    make_deployment(drill.api(), ns, "app", replicas=2)
    wait_for(lambda: deployment_settled(drill.api(), ns, "app"), message="app settled")
    with KubeClient.connect(str(drill.kubeconfig)) as kube:
        engine = engine_for(f"""
            title: Scale up, then migrate
            kind: procedure
            on_abort: ask
            steps:
              - id: scale-up
                title: Scale up to buy time
                type: scale
                deployment: "{{deployment}}"
                namespace: "{{namespace}}"
                replicas: 4
                confirm: false
                undo:
                  type: scale
                  title: Scale back down
                  replicas: 2
              - id: tell-team
                title: Tell the team
                type: manual
              - id: migrate
                title: Migrate
                type: shell
                confirm: false
                command: {py("raise SystemExit(1)")}
        """, shared, audit, {"deployment": "app", "namespace": ns}, kube=kube,
            context=kube.context, namespace=ns)

        up = engine.run_step("scale-up")
        assert up.ok, up.message
        assert kube.get_deployment(ns, "app").desired == 4
        assert engine.compensations_due() == []  # nothing failed
        assert engine.pending_compensations() == ["scale-up"]
        assert engine.check_off("tell-team").ok

        failed = engine.run_step("migrate")
        assert failed.status == "failed"
        assert failed.compensations_due == ("scale-up",)
        assert "compensation due for 'scale-up'" in failed.message
        assert view(engine, "scale-up").undo_due
        assert "undo due" in view(engine, "scale-up").detail
        question = engine.abort_question()
        assert question is not None and "Scale back down" in question

        with pytest.raises(ValueError, match="on_abort: ask"):
            engine.abort()
        progress = Lines()
        aborted = engine.abort(run_undos=True, progress=progress)
        assert aborted.ok and aborted.ran, aborted.message
        assert [(r.step_id, r.status) for r in aborted.results] == [("scale-up", "done")]
        assert "scaled from 4 to 2" in aborted.results[0].message
        assert kube.get_deployment(ns, "app").desired == 2
        assert engine.compensations_due() == [] and engine.pending_compensations() == []
        assert view(engine, "scale-up").compensated

        again = engine.abort(run_undos=True)
        assert again.ok and not again.ran and again.message == "aborted; nothing to undo"

    records = audit.records()
    abort = [r for r in records if r.kind == RUNBOOK_ABORT]
    assert abort[0].params["compensations"] == ["scale-up"]
    undo = [r for r in records if r.kind == RUNBOOK_COMPENSATION and r.action == "compensate"]
    assert [r.target for r in undo] == ["scale-up", "scale-up"]
    assert [r.result["status"] for r in undo] == ["running", "done"]
    assert undo[0].params["replicas"] == 2
    saved = shared.read().step_progress[engine.runbook.id + COMPENSATIONS_SUFFIX]
    assert saved["scale-up"].status == "done"


def test_abort_policies_and_reverse_order(shared: SharedIncident, audit: AuditLog,
                                          tmp_path: Path) -> None:
    log = tmp_path / "undo.log"

    def text(policy: str) -> str:
        def append(word: str) -> str:
            return py(f"open({str(log)!r}, 'a').write({word!r} + chr(10))")

        return f"""
            title: Two changes
            kind: procedure
            on_abort: {policy}
            steps:
              - id: first
                title: First change
                type: shell
                confirm: false
                command: {append('first')}
                undo:
                  type: shell
                  command: {append('undo first')}
              - id: second
                title: Second change
                type: shell
                confirm: false
                command: {append('second')}
                undo:
                  type: shell
                  command: {append('undo second')}
              - id: check
                title: Hand check
                type: manual
              - id: breaks
                title: Breaks
                type: shell
                confirm: false
                command: {py("raise SystemExit(2)")}
                undo:
                  type: manual
                  title: Look at what the failed step left behind
        """

    never = engine_for(text("never"), None, audit)
    for step in ("first", "second", "breaks"):
        never.run_step(step)
    assert never.compensations_due() == ["breaks", "second", "first"]
    assert never.abort_question() is None
    outcome = never.abort(run_undos=True)
    assert outcome.ok and not outcome.ran and "on_abort: never" in outcome.message
    assert {r.status for r in outcome.results} == {"not run"}
    assert log.read_text().splitlines() == ["first", "second"]

    log.unlink()
    always = engine_for(text("always"), shared, audit)
    for step in ("first", "second", "breaks"):
        always.run_step(step)
    outcome = always.abort(run_undos=False)  # always means always
    assert outcome.ok and outcome.ran
    assert [(r.step_id, r.status) for r in outcome.results] == [
        ("breaks", "manual"), ("second", "done"), ("first", "done")]
    assert "1 to do by hand ('breaks')" in outcome.message
    assert log.read_text().splitlines() == ["first", "second", "undo second", "undo first"]


# ---- resume and sharing -------------------------------------------------------------------------
def test_a_second_engine_over_the_same_incident_sees_the_progress(
    store: IncidentStore, shared: SharedIncident, audit: AuditLog,
) -> None:
    first = engine_for(SHELL, shared, audit)
    assert first.run_step("hello", YES).ok
    assert first.run_step("exit3", YES).status == "failed"
    assert first.skip("exit3-expected", "not needed today").ok
    assert first.go_to("slow") == "slow"

    resumed = engine_for(SHELL, store.attach(shared.id), audit)
    assert [(v.id, v.status) for v in resumed.steps_view()] == [
        (v.id, v.status) for v in first.steps_view()]
    assert [v.status for v in resumed.steps_view()] == [
        "done", "failed", "skipped", "pending", "pending"]
    assert resumed.current == "slow"
    assert view(resumed, "exit3").detail == "exited 3 (expected 0)"
    assert view(resumed, "exit3-expected").detail == "not needed today"
    assert view(resumed, "hello").by is not None

    # live sharing: a change in one console shows in the other after refresh()
    assert resumed.next() == "piped"
    assert first.refresh()
    assert first.current == "piped"
    assert resumed.run_step("piped", YES).ok
    assert first.refresh()
    assert first.status("piped") == "done"
    assert not first.refresh()  # nothing new


def test_a_step_running_in_another_live_console_is_not_started_twice(
    shared: SharedIncident, audit: AuditLog,
) -> None:
    engine = engine_for(WAITS, shared, audit)
    other = Actor(user="bob", pid=os.getppid(), host=socket.gethostname(), console_id="c-bob")
    shared.set_step(engine.runbook.id, "soak", "running", other)
    engine.refresh()
    assert view(engine, "soak").status == "running"
    refused = engine.run_step("soak")
    assert refused.refused and "running in another console (bob" in refused.message
    assert view(engine, "soak").detail.startswith("running in another console (bob")

    finished = subprocess.run([PY, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    gone = Actor(user="bob", pid=int(finished.stdout), host=socket.gethostname(),
                 console_id="c-bob")
    shared.set_step(engine.runbook.id, "soak", "running", gone)
    engine.refresh()
    assert view(engine, "soak").detail.startswith("interrupted: bob started it and is gone")
    fake = FakeTime()
    fast = engine_for(WAITS, shared, audit, clock=fake.clock, sleeper=fake.sleep)
    assert fast.run_step("soak").ok  # the console that ran it is gone: it may run again


# ---- audit --------------------------------------------------------------------------------------
def test_every_step_change_is_audited(shared: SharedIncident, audit: AuditLog) -> None:
    engine = engine_for(RESTORE, shared, audit)
    engine.run_step("backup-current")
    engine.skip("restore", "restored by the DBA")
    records = step_records(audit)
    assert [(r.action, r.target, r.result["status"]) for r in records] == [
        ("shell", "backup-current", "running"),
        ("shell", "backup-current", "done"),
        ("shell", "restore", "skipped"),
    ]
    running, done, skipped = records
    assert running.context == "drill" and running.namespace == "shop"
    assert running.params["runbook"] == engine.runbook.id
    assert (running.params["step"], running.params["status"]) == ("backup-current", "running")
    assert done.result == {"status": "done", "detail": "exit 0"}
    assert done.duration_s is not None and done.duration_s >= 0
    assert skipped.result["detail"] == "restored by the DBA"
    assert running.actor is not None and running.actor.user == audit.actor.user


def test_an_unwritable_audit_log_refuses_the_step(tmp_path: Path,
                                                  shared: SharedIncident) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    audit = AuditLog(blocker / "audit.jsonl")
    marker = tmp_path / "ran"
    engine = engine_for(f"""
        title: Unrecorded
        kind: procedure
        steps:
          - id: touch
            title: Touch a file
            type: shell
            confirm: false
            command: {py(f"open({str(marker)!r}, 'w')")}
          - id: note
            title: A manual step
            type: manual
    """, shared, audit)
    outcome = engine.run_step("touch")
    assert outcome.refused and outcome.message.startswith("not run: audit log")
    assert not marker.exists()
    assert engine.status("touch") == "pending"
    checked = engine.check_off("note")
    assert checked.refused and engine.status("note") == "pending"
    assert shared.read().step_progress == {}


def test_read_only_mode_runs_nothing_that_changes_things(
    drill: Drill, shared: SharedIncident, audit: AuditLog, tmp_path: Path,
) -> None:
    ns = make_namespace(drill.api(), unique("rbe-ro"))
    make_deployment(drill.api(), ns, "app", replicas=1)
    marker = tmp_path / "ran"
    with KubeClient.connect(str(drill.kubeconfig)) as kube:
        engine = engine_for(f"""
            title: Read only
            kind: procedure
            steps:
              - id: scale
                title: Scale
                type: scale
                deployment: app
                namespace: {ns}
                replicas: 3
              - id: touch
                title: Touch a file
                type: shell
                command: {py(f"open({str(marker)!r}, 'w')")}
              - id: pause
                title: A short wait
                type: wait
                duration: 10ms
        """, shared, audit, actions=ActionRunner(kube, audit, read_only=True),
            context=kube.context, namespace=ns)
        assert engine.read_only
        for step in ("scale", "touch"):
            outcome = engine.run_step(step, YES)
            assert outcome.refused and outcome.message.startswith("read-only mode"), step
            assert engine.status(step) == "pending"
        assert engine.run_step("pause").ok  # waiting changes nothing
        assert kube.get_deployment(ns, "app").desired == 1
    assert not marker.exists()


def test_two_consoles_confirming_the_same_step_at_once_run_it_once(
    shared: SharedIncident, store: IncidentStore, tmp_path: Path,
) -> None:
    """Both consoles pass the "already running elsewhere" check, both operators confirm at
    the same moment: the step is claimed under the incident's lock after confirmation, so
    it runs once and the other console is told who holds it."""
    ran = tmp_path / "ran.txt"
    text = f"""
        title: Flush the cache
        kind: procedure
        steps:
          - id: flush
            title: Flush the cache
            type: shell
            confirm: true
            command: {py(f"import time; open({str(ran)!r}, 'a').write('x'); time.sleep(1)")}
    """
    here = dict(pid=os.getpid(), host=socket.gethostname())
    alice = Actor(user="alice", uid=1001, console_id="c-alice", tty="/dev/pts/1", **here)
    bob = Actor(user="bob", uid=1002, console_id="c-bob", tty="/dev/pts/2", **here)
    log = tmp_path / "audit" / "shared.jsonl"
    engines = [engine_for(text, store.attach(shared.id), AuditLog(log, actor=who))
               for who in (alice, bob)]
    both_asked = threading.Barrier(2, timeout=10)

    def confirm(_prompt: str) -> bool:
        both_asked.wait()  # both confirm dialogs are open at once
        return True

    runs = [in_thread(lambda e=e: e.run_step("flush", confirm)) for e in engines]
    for thread, _box in runs:
        thread.join(30)
    outcomes = [box["result"] for _thread, box in runs]
    assert ran.read_text() == "x"  # the command ran once
    winner = next(o for o in outcomes if o.ok)
    loser = next(o for o in outcomes if not o.ok)
    assert winner.status == "done" and loser.refused
    holder = "bob" if winner is outcomes[1] else "alice"
    assert f"running in another console ({holder}" in loser.message
    assert statuses(AuditLog(log), "flush").count("running") == 1
