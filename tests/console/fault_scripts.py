"""Child processes for the durability tests: killed with SIGKILL, or starved of disk.

    python -m tests.console.fault_scripts runner-loop KUBECONFIG AUDIT_PATH
        appends through the ActionRunner (no-op scales of shop/api) as fast as it can and
        prints one JSON line per record *after* `append` returned, i.e. once it is durable.
    python -m tests.console.fault_scripts console-loop KUBECONFIG
        runs the real console (headless Textual) and scales shop/api up and down with +/-,
        confirming with y; prints the audit rows the console shows, as it shows them.
    python -m tests.console.fault_scripts console-hangup-stalled KUBECONFIG
        runs the console, makes its shutdown hang (the informer never stops, as a watch
        thread stuck in a dead connection would), prints {"ready": true} and waits for SIGHUP.
    python -m tests.console.fault_scripts console-disk-full KUBECONFIG LIMIT_EXTRA
        runs the console, then caps the size of files this process may write at the audit
        log's current size + LIMIT_EXTRA bytes (RLIMIT_FSIZE: the kernel then refuses the
        write with EFBIG, as a full disk refuses it with ENOSPC), tries a scale and prints
        what the operator was shown.

The state directory comes from $WARROOM_STATE_DIR. Output is JSON Lines on stdout.
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from textual.widgets import Static

from adapters.kubernetes import KubeClient
from console.domain.actions import ActionRequest, ActionRunner
from console.domain.audit import AuditLog
from console.domain.settings import ConsoleSettings
from console.ui.app import WarroomApp
from widgets.audit_view import AuditView
from widgets.confirm_modal import ConfirmModal

NAMESPACE, TARGET = "shop", "api"


def emit(**fields: Any) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def runner_loop(kubeconfig: str, audit_path: str) -> None:
    kube = KubeClient.connect(kubeconfig, "drill", NAMESPACE)
    audit = AuditLog(audit_path, context="drill", namespace=NAMESPACE)
    original = audit.append

    def append(kind: str, **kwargs: Any) -> Any:
        record = original(kind, **kwargs)
        emit(seq=record.seq, kind=record.kind, time=record.time, message=record.message)
        return record

    audit.append = append  # type: ignore[method-assign]
    runner = ActionRunner(kube, audit)
    replicas = kube.get_deployment(NAMESPACE, TARGET).desired
    while True:
        runner.run(ActionRequest("scale", "drill", NAMESPACE, TARGET, {"replicas": replicas}))


def _settings(kubeconfig: str) -> ConsoleSettings:
    return ConsoleSettings(kubeconfig=kubeconfig, context="drill", namespace=NAMESPACE,
                           incident_title="durability drill",
                           runbook_values={"deployment": "api"})  # no variables form


async def _until(pilot: Any, predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await pilot.pause(0.05)


async def _ready(pilot: Any, app: WarroomApp) -> None:
    await _until(pilot, lambda: app.session.runner is not None and app.session.audit is not None
                 and app.main_screen.live.selected == f"{NAMESPACE}/{TARGET}"
                 and app.session.connection is not None and app.session.connection.live)


def _status(app: WarroomApp) -> str:
    return str(app.query_one("#action-status", Static).render())


async def _scale_once(pilot: Any, app: WarroomApp, key: str) -> str:
    """Press + or -, confirm, and wait for the result on the status line (returned)."""
    app.query_one("#action-status", Static).update("")
    await pilot.press(key)
    await _until(pilot, lambda: isinstance(app.screen, ConfirmModal))
    await pilot.press("y")
    await _until(pilot, lambda: app.main_screen.ops.running is None
                 and _status(app).startswith(("✔", "✖")), 60)
    return _status(app)


async def console_loop(kubeconfig: str) -> None:
    app = WarroomApp(_settings(kubeconfig))
    shown = 0
    async with app.run_test(size=(160, 48)) as pilot:
        await _ready(pilot, app)
        assert app.session.audit is not None
        emit(audit=str(app.session.audit.path))
        view = app.query_one(AuditView)
        step = 0
        while True:
            await _scale_once(pilot, app, "plus" if step % 2 == 0 else "minus")
            step += 1
            await pilot.pause(0.6)  # the audit pane tails the file twice a second
            for row in view.rows[shown:]:
                emit(kind=row.kind, time=row.time, message=row.message)
            shown = len(view.rows)


async def console_disk_full(kubeconfig: str, extra: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
    app = WarroomApp(_settings(kubeconfig))
    async with app.run_test(size=(160, 48)) as pilot:
        await _ready(pilot, app)
        assert app.session.audit is not None
        path = Path(app.session.audit.path)
        size = path.stat().st_size
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + extra, resource.RLIM_INFINITY))
        status = await _scale_once(pilot, app, "plus")
        notes = [{"title": n.title, "message": n.message, "severity": n.severity}
                 for n in app._notifications]
        emit(audit=str(path), size_before=size, size_after=path.stat().st_size,
             status=status, notifications=notes)
        resource.setrlimit(resource.RLIMIT_FSIZE,
                           (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


async def console_hangup_stalled(kubeconfig: str) -> None:
    app = WarroomApp(_settings(kubeconfig))
    async with app.run_test(size=(160, 48)) as pilot:
        await _ready(pilot, app)
        assert app.session.informer is not None
        stuck = threading.Event()
        app.session.informer.stop = lambda timeout=None: stuck.wait()  # type: ignore[method-assign]
        emit(ready=True)
        while app.is_running:
            await pilot.pause(0.05)


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "runner-loop":
        runner_loop(argv[1], argv[2])
    elif mode == "console-loop":
        asyncio.run(console_loop(argv[1]))
    elif mode == "console-hangup-stalled":
        asyncio.run(console_hangup_stalled(argv[1]))
    elif mode == "console-disk-full":
        asyncio.run(console_disk_full(argv[1], int(argv[2])))
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
