"""The console under every drill fault: does it keep working, and is anything lost?

Runs the real console (headless Textual, as the tests drive it) against an in-process drill
cluster over HTTP and, one at a time, switches on each fault of drill/faults.py. Under each:
keys are pressed and timed (? help, Esc, 2, 1: key to visible effect), an action is
attempted (+ scale by one, or an undo during a 429 storm, confirmed with y when the console
gets that far), then the fault
is cleared and the console must be live again with the tables current (a change made in the
cluster while it was faulty shows up). The same again for an exec credential plugin that fails
("SSO session expired") and then works after a new login, with the console on a kubeconfig
whose user is that plugin. A last console reaches the cluster through a local SOCKS5
proxy-url that goes down during an action and comes back ("proxy"). Finally three audit
writers (the action runner in a
child process) are killed with SIGKILL mid-stream, and every record anyone was shown or
acknowledged is looked up in the files, whose hash chains are verified. Then each tampering of
tests/console/tamper.py (records cut off the end, an emptied file, a chain rebuilt after an
edit, ...) is applied to an incident's log and checked against the head the incident recorded,
and the cost of an audit append is timed with and without that head being recorded.

Prints: faults injected, faults survived, actions attempted under faults and how many ended
with a clear result (a finished/failed/refused audit record with a human message, and the
same on screen), audit records lost (must be 0), the worst key response during faults, tamper
attempts detected, and the time per audit append. Asserts nothing. Takes about two minutes.

    .venv/bin/python bench/faults.py [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.domain.audit import AuditLog, parse_line, read_head, verify  # noqa: E402
from console.domain.audit_anchor import head_path  # noqa: E402
from console.domain.incident import IncidentStore  # noqa: E402
from console.ui.app import WarroomApp  # noqa: E402
from tests.conftest import Drill, start_drill  # noqa: E402
from tests.console.app_harness import drill_settings, settled, until  # noqa: E402
from tests.console.fault_harness import clear, inject, probe_keys  # noqa: E402
from tests.console.tamper import TAMPERS  # noqa: E402
from tests.proxies import running_proxy  # noqa: E402
from widgets.audit_view import AuditView  # noqa: E402
from widgets.confirm_modal import ConfirmModal  # noqa: E402
from widgets.pod_table import PodTable  # noqa: E402
from widgets.undo_modal import UndoModal  # noqa: E402

NAMESPACE, TARGET = "shop", "api"
FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("latency", {"seconds": 2}),
    ("errors", {"share": 0.5, "code": [500, 503, 429]}),
    ("errors", {"share": 1, "code": 503}),
    ("drop-watches", {"every": 1}),
    ("api-down", {"seconds": 30}),
    ("watch-gone", {}),
    ("revoke-token", {}),
    ("forbid", {"verb": "patch", "resource": "deployments/scale"}),
    ("conflicts", {"count": 2}),
    ("throttle", {"verb": "patch", "count": 3, "retry_after": 1}),  # a 429 storm ...
    ("deny", {}),  # an admission webhook's denial ([prod-freeze])
    ("prom-slow", {"seconds": 5}),
    ("prom-down", {}),
]
RESULT_KINDS = ("action.finished", "action.failed", "action.refused")
UNDO_DURING = {"throttle"}  # ... during an undo (u, Enter, y); other faults: + or - (scale)


@dataclass
class FaultRun:
    fault: str
    params: dict[str, Any]
    keys_ms: list[float] = field(default_factory=list)
    action: str = ""  # the audit record kind that ended the action
    message: str = ""
    clear_result: bool = False
    survived: bool = False
    recovery_s: float = 0.0
    note: str = ""


def scale_outside(drill: Drill, replicas: int) -> None:
    def change(obj: dict[str, Any]) -> None:
        obj["spec"]["replicas"] = replicas

    drill.call(drill.cluster.store.mutate, "deployments", NAMESPACE, TARGET, change)


def audit_lines(app: WarroomApp) -> list[dict[str, Any]]:
    assert app.session.audit is not None
    path = Path(app.session.audit.path)
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def attempt_action(pilot: Any, app: WarroomApp, run: FaultRun, step: int) -> None:
    """+ or -, confirm if asked; wait for the result record of that action."""
    before = len([r for r in audit_lines(app) if r["kind"] in RESULT_KINDS])
    notes_before = {id(n) for n in app._notifications}  # old ones expire: compare by identity
    if run.fault in UNDO_DURING:
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, UndoModal), 30, "the revision picker")
        await pilot.press("enter")
    else:
        await pilot.press("plus" if step % 2 == 0 else "minus")
    deadline = time.monotonic() + 60
    confirmed = False
    while time.monotonic() < deadline:
        results = [r for r in audit_lines(app) if r["kind"] in RESULT_KINDS]
        if len(results) > before and app.main_screen.ops.running is None:
            last = results[-1]
            run.action, run.message = last["kind"], last.get("message") or ""
            break
        if not confirmed and isinstance(app.screen, ConfirmModal):
            await pilot.press("y")
            confirmed = True
        await pilot.pause(0.05)
    else:
        run.note = "no result within 60 s"
    await pilot.pause(0.3)
    shown = " ".join(str(n.message) for n in app._notifications if id(n) not in notes_before)
    status = str(app.query_one("#action-status").render())
    on_screen = bool(run.message) and (run.message[:40] in shown or run.message[:40] in status)
    run.clear_result = (bool(run.action) and bool(run.message.strip())
                        and "Traceback" not in run.message and on_screen)


async def recover(pilot: Any, app: WarroomApp, drill: Drill, run: FaultRun, replicas: int) -> None:
    """Clear the fault; the console must be live and show a change made meanwhile."""
    started = time.monotonic()
    scale_outside(drill, replicas)
    clear(drill)
    try:
        await until(pilot, lambda: app.session.connection is not None and app.session.connection.live
                    and app.main_screen.live.deployments.get(f"{NAMESPACE}/{TARGET}") is not None
                    and app.main_screen.live.deployments[f"{NAMESPACE}/{TARGET}"].desired == replicas
                    and len(app.query_one(PodTable).keys) == replicas, 60,
                    "live and current again")
        run.survived = app._exception is None
    except AssertionError as error:
        run.note = (run.note + "; " if run.note else "") + str(error)[:200]
    run.recovery_s = time.monotonic() - started


async def console_under_faults(drill: Drill) -> tuple[list[FaultRun], int, bool]:
    settings = drill_settings(drill, watch_backoff_max=1.0, stale_after=3.0)
    app = WarroomApp(settings)
    runs: list[FaultRun] = []
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False, timeout=60)
        for step, (name, params) in enumerate(FAULTS):
            run = FaultRun(name, params)
            runs.append(run)
            inject(drill, name, **params)
            await pilot.pause(0.5)  # let the fault bite (watches dropped, requests failing)
            run.keys_ms = [t * 1000 for t in await probe_keys(pilot, rounds=2)]
            await attempt_action(pilot, app, run, step)
            run.keys_ms += [t * 1000 for t in await probe_keys(pilot, rounds=1)]
            await recover(pilot, app, drill, run, 3 + (step % 2))
            print(f"  {name:<13} {run.action or '-':<16} keys max {max(run.keys_ms):5.0f} ms  "
                  f"recovered {'yes' if run.survived else 'NO '} in {run.recovery_s:4.1f} s  "
                  f"{run.message[:70]}", file=sys.stderr, flush=True)
        await pilot.pause(1.0)  # the audit pane tails the file twice a second
        shown = [(row.kind, row.message) for row in app.query_one(AuditView).rows]
        assert app.session.audit is not None
        path = Path(app.session.audit.path)
    on_disk = {(r["kind"], r.get("message") or "") for r in
               (json.loads(line) for line in path.read_text().splitlines() if line.strip())}
    lost = sum(1 for row in shown if row not in on_disk)
    return runs, lost, verify(path).ok


async def console_with_failing_plugin(drill: Drill) -> tuple[FaultRun, int, bool]:
    """The console on an exec-plugin kubeconfig (drill/exec_plugin.py, 20 s tokens): the SSO
    session expires (the server drops the token, the plugin fails), an action is attempted,
    then the engineer logs in again (a new token, the plugin works) and the console must be
    live and current without a restart."""
    path = drill.cluster.write_kubeconfig(drill.kubeconfig.parent / "exec-kubeconfig.yaml",
                                          exec_plugin=True, exec_ttl=20)
    plugin = drill.cluster.exec_plugin
    assert plugin is not None
    app = WarroomApp(drill_settings(drill, kubeconfig=str(path), watch_backoff_max=1.0,
                                    stale_after=3.0))
    run = FaultRun("exec-plugin-fails", {"ttl": 20})
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False, timeout=60)
        old = plugin.token
        plugin.fail()
        drill.call(drill.cluster.access.revoke, old)
        inject(drill, "drop-watches", every=1)
        await pilot.pause(0.5)
        run.keys_ms = [t * 1000 for t in await probe_keys(pilot, rounds=2)]
        await attempt_action(pilot, app, run, 0)
        drill.call(drill.cluster.access.add_token, f"relogged-{old}", "drill-sso", set())
        plugin.set_token(f"relogged-{old}")
        plugin.recover()
        await recover(pilot, app, drill, run, 4)
        await pilot.pause(1.0)
        shown = [(row.kind, row.message) for row in app.query_one(AuditView).rows]
        assert app.session.audit is not None
        audit = Path(app.session.audit.path)
    on_disk = {(r["kind"], r.get("message") or "") for r in
               (json.loads(line) for line in audit.read_text().splitlines() if line.strip())}
    print(f"  {run.fault:<13} {run.action or '-':<16} keys max {max(run.keys_ms):5.0f} ms  "
          f"recovered {'yes' if run.survived else 'NO '} in {run.recovery_s:4.1f} s  "
          f"{run.message[:70]}", file=sys.stderr, flush=True)
    return run, sum(1 for row in shown if row not in on_disk), verify(audit).ok
async def console_through_proxy(drill: Drill, tmp: Path) -> tuple[FaultRun, int]:
    """The "proxy" line: the console reaches the cluster through a SOCKS5 proxy-url (a local
    proxy, tests/proxies.py); the proxy goes down (open tunnels cut, new ones refused) while
    an action is attempted, then comes back. Returns the run and the audit records lost."""
    config = drill.cluster.kubeconfig()
    with running_proxy("socks5") as proxy:
        config["clusters"][0]["cluster"]["proxy-url"] = proxy.url
        kubeconfig = tmp / "proxied.yaml"
        kubeconfig.write_text(yaml.safe_dump(config))
        settings = drill_settings(drill, kubeconfig=str(kubeconfig), watch_backoff_max=1.0,
                                  stale_after=3.0)
        app = WarroomApp(settings)
        run = FaultRun("proxy", {"url": "socks5://127.0.0.1", "down": "cut"})
        async with app.run_test(size=(160, 48)) as pilot:
            await settled(pilot, rates=False, timeout=60)
            proxy.cut()
            await pilot.pause(0.5)
            run.keys_ms = [t * 1000 for t in await probe_keys(pilot, rounds=2)]
            await attempt_action(pilot, app, run, 0)
            run.keys_ms += [t * 1000 for t in await probe_keys(pilot, rounds=1)]
            proxy.restore()
            await recover(pilot, app, drill, run, 3)
            run.survived = run.survived and bool(proxy.targets)
            print(f"  {'proxy':<13} {run.action or '-':<16} keys max {max(run.keys_ms):5.0f} ms  "
                  f"recovered {'yes' if run.survived else 'NO '} in {run.recovery_s:4.1f} s  "
                  f"{run.message[:70]}", file=sys.stderr, flush=True)
            await pilot.pause(1.0)
            shown = [(row.kind, row.message) for row in app.query_one(AuditView).rows]
            assert app.session.audit is not None
            path = Path(app.session.audit.path)
    on_disk = {(r["kind"], r.get("message") or "") for r in
               (json.loads(line) for line in path.read_text().splitlines() if line.strip())}
    return run, sum(1 for row in shown if row not in on_disk)


def killed_writers(drill: Drill, state_dir: Path, rounds: int = 3) -> tuple[int, int, bool]:
    """SIGKILL audit writers mid-stream; (records acknowledged, of them lost, chain ok)."""
    path = state_dir / "audit" / "killed.jsonl"
    env = {**os.environ, "WARROOM_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT)}
    acknowledged: list[tuple[int, str, str]] = []
    for _ in range(rounds):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.console.fault_scripts", "runner-loop",
             str(drill.kubeconfig), str(path)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert child.stdout is not None
        for count, line in enumerate(child.stdout, 1):
            record = json.loads(line)
            acknowledged.append((record["seq"], record["kind"], record["time"]))
            if count >= 20:
                break
        child.kill()
        child.wait(10)
    on_disk = set()
    for raw in path.read_bytes().split(b"\n"):
        record = parse_line(raw)
        if record is not None:
            on_disk.add((record.seq, record.kind, record.time))
    lost = sum(1 for a in acknowledged if a not in on_disk)
    return len(acknowledged), lost, verify(path).ok


def tamper_attempts(tmp: Path) -> tuple[int, int]:
    """(detected, attempted): each tampering checked against the incident's recorded head."""
    detected = 0
    for number, tamper in enumerate(TAMPERS.values()):
        state = tmp / f"tamper-{number}"
        IncidentStore(state).open_new("tamper", "high", incident_id="inc")
        log = AuditLog.for_incident("inc", state, extra_secrets=())
        for record in range(15):
            log.append("note", message=f"note {record}")
        tamper(log.path)
        detected += not verify(log.path, read_head(head_path("inc", state))).ok
    return detected, len(TAMPERS)


def append_cost(tmp: Path, count: int = 200) -> tuple[float, float]:
    """Milliseconds per fsync'd audit append: (log only, with the head recorded)."""
    costs = []
    for anchored in (False, True):
        state = tmp / f"append-{anchored}"
        log = (AuditLog.for_incident("inc", state, extra_secrets=()) if anchored
               else AuditLog(state / "audit" / "inc.jsonl", extra_secrets=()))
        log.append("note")
        started = time.perf_counter()
        for record in range(count):
            log.append("note", message=f"note {record}")
        costs.append((time.perf_counter() - started) * 1000 / count)
    return costs[0], costs[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="warroom-faults-") as tmp:
        state_dir = Path(tmp) / "state"
        os.environ["WARROOM_STATE_DIR"] = str(state_dir)
        drill = start_drill(Path(tmp), speed=20)
        try:
            print("console under faults:", file=sys.stderr, flush=True)
            runs, shown_lost, chain_ok = asyncio.run(console_under_faults(drill))
            plugin_run, plugin_lost, plugin_chain_ok = asyncio.run(
                console_with_failing_plugin(drill))
            runs.append(plugin_run)
            shown_lost += plugin_lost
            chain_ok = chain_ok and plugin_chain_ok
            proxy_run, proxy_lost = asyncio.run(console_through_proxy(drill, Path(tmp)))
            runs.append(proxy_run)
            shown_lost += proxy_lost
            print("killing audit writers with SIGKILL...", file=sys.stderr, flush=True)
            acked, acked_lost, killed_chain_ok = killed_writers(drill, state_dir)
        finally:
            drill.thread.stop()
        tampers_detected, tampers = tamper_attempts(Path(tmp))
        plain_ms, anchored_ms = append_cost(Path(tmp))
    keys = [t for run in runs for t in run.keys_ms]
    attempted = len(runs)
    clear_results = sum(run.clear_result for run in runs)
    figures = {
        "faults_injected": len(runs),
        "faults_survived": sum(run.survived for run in runs),
        "actions_attempted_under_faults": attempted,
        "actions_with_a_clear_result": clear_results,
        "action_results": {kind: sum(run.action == kind for run in runs)
                           for kind in RESULT_KINDS},
        "audit_records_lost": shown_lost + acked_lost,
        "audit_chains_intact": chain_ok and killed_chain_ok,
        "kill9_records_acknowledged": acked,
        "key_presses_timed": len(keys),
        "key_response_ms_p50": round(statistics.median(keys), 1),
        "key_response_ms_p95": round(sorted(keys)[int(len(keys) * 0.95) - 1], 1),
        "key_response_ms_worst": round(max(keys), 1),
        "worst_key_during": max(runs, key=lambda r: max(r.keys_ms)).fault,
        "tamper_attempts": tampers,
        "tamper_attempts_detected": tampers_detected,
        "audit_append_ms": round(plain_ms, 3),
        "audit_append_anchored_ms": round(anchored_ms, 3),
        "seconds": round(time.monotonic() - started, 1),
    }
    print()
    print(f"faults injected                      {figures['faults_injected']}")
    print(f"faults survived                      {figures['faults_survived']}")
    print(f"actions attempted under faults       {attempted}")
    print(f"  ... ended with a clear result      {clear_results}   "
          + ", ".join(f"{k.split('.')[1]} {v}" for k, v in figures["action_results"].items()))
    print(f"audit records lost                   {figures['audit_records_lost']}   "
          f"(chains intact: {figures['audit_chains_intact']}; {acked} records acknowledged "
          f"by writers killed with SIGKILL)")
    print(f"worst key response during faults     {figures['key_response_ms_worst']:.0f} ms   "
          f"(during {figures['worst_key_during']}; p50 {figures['key_response_ms_p50']:.0f} ms, "
          f"p95 {figures['key_response_ms_p95']:.0f} ms, {len(keys)} keys)")
    print(f"tamper attempts detected: {tampers_detected}/{tampers}   (records cut off the end, "
          "emptied, edited or deleted and re-chained; checked against the recorded head)")
    print(f"audit append                         {anchored_ms:.2f} ms per record with the head "
          f"recorded ({plain_ms:.2f} ms log only, fsync'd)")
    print(f"took                                 {figures['seconds']:.0f} s")
    for run in runs:
        if not (run.survived and run.clear_result):
            print(f"  ! {run.fault}: survived={run.survived} clear={run.clear_result} "
                  f"{run.action} {run.message[:80]} {run.note}")
    if args.json:
        print(json.dumps({**figures, "runs": [asdict(run) for run in runs]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
