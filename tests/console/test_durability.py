"""No data loss: what the audit log acknowledged survives kill -9; a full disk refuses actions.

The writers run as real child processes (tests/console/fault_scripts.py) against a drill
cluster over HTTP and are killed with SIGKILL at an arbitrary moment; the chain is then checked
with `console.domain.audit.verify`. "Disk full" is made real in two ways, no privileges needed:

- `/dev/full`: a device whose every write fails with ENOSPC ("No space left on device"),
  exactly what write(2) returns on a full filesystem. The audit path is a device node of it
  (made with mknod, as root; the console refuses to write through a symbolic link).
- RLIMIT_FSIZE in a child process: the kernel lets a file grow only to the limit; a write past
  it is cut short and the next fails with EFBIG. Same path in our code as ENOSPC (a short
  write, then an error), and it can start half way through a record, so it also proves that a
  partial record is taken back off the file. (chmod/read-only directories do not stop root,
  which these tests may run as, and a tiny tmpfs needs privileges.)
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from adapters.kubernetes import KubeClient
from console.domain.actions import ActionRefused, ActionRequest, ActionRunner
from console.domain.audit import AuditLog, AuditWriteError, parse_line, verify
from console.ui.app import HANGUP_GRACE
from tests.conftest import Drill, wait_for
from tests.console.app_harness import NAMESPACE, TARGET, deployment

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def cluster(drill_factory: Callable[..., Drill]) -> Iterator[Drill]:
    yield drill_factory()


class Child:
    """A fault script in its own process; its JSON lines are collected by a thread."""

    def __init__(self, state_dir: Path, *args: str) -> None:
        env = {**os.environ, "WARROOM_STATE_DIR": str(state_dir), "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.console.fault_scripts", *args], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[dict[str, Any]] = []
        self._stderr: list[str] = []
        # one reader per pipe: stdout and stderr are drained by these threads only (a second
        # reader, such as communicate(), would race them for the lines)
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            if line.strip():
                self.lines.append(json.loads(line))

    def _drain(self, stream: IO[str] | None) -> None:
        assert stream is not None
        self._stderr.append(stream.read())

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def _join(self) -> None:
        for reader in self._readers:
            reader.join(10)

    def kill9(self) -> None:
        self.proc.kill()  # SIGKILL: no handler, no flush, no atexit
        self.proc.wait(10)
        self._join()
        assert self.proc.returncode == -9

    def finish(self, timeout: float = 120) -> None:
        self.proc.wait(timeout)
        self._join()
        assert self.proc.returncode == 0, self.stderr[-3000:]


def file_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for raw in path.read_bytes().split(b"\n"):
        record = parse_line(raw)
        if record is not None:
            records.append({"seq": record.seq, "kind": record.kind, "time": record.time,
                            "message": record.message})
    return records


# ---- kill -9 -----------------------------------------------------------------------------------
def test_records_acknowledged_by_the_runner_survive_kill_9(cluster: Drill, state_dir: Path) -> None:
    path = state_dir / "audit" / "killed.jsonl"
    acknowledged: list[dict[str, Any]] = []
    for round_ in range(3):  # three writers in turn, each killed mid-stream
        child = Child(state_dir, "runner-loop", str(cluster.kubeconfig), str(path))
        wait_for(lambda c=child: len(c.lines) >= 15 or c.proc.poll() is not None, 60,
                 message=f"writer {round_} to acknowledge 15 records")
        child.kill9()
        assert child.lines, child.stderr[-2000:]
        acknowledged += child.lines
    report = verify(path)
    assert report.ok, [str(p) for p in report.problems]
    on_disk = {(r["seq"], r["kind"], r["time"], r["message"]) for r in file_records(path)}
    lost = [a for a in acknowledged
            if (a["seq"], a["kind"], a["time"], a["message"]) not in on_disk]
    assert lost == [], f"{len(lost)} acknowledged records lost: {lost[:3]}"
    assert report.last_seq >= max(a["seq"] for a in acknowledged)
    assert report.records >= len(acknowledged)
    assert deployment(cluster).spec.replicas == 3  # the no-op scales changed nothing


def test_records_shown_by_the_console_survive_kill_9(cluster: Drill, state_dir: Path) -> None:
    child = Child(state_dir, "console-loop", str(cluster.kubeconfig))
    wait_for(lambda: sum("kind" in line for line in child.lines) >= 8
             or child.proc.poll() is not None, 120, message="the console to show 8 records")
    child.kill9()
    audit = Path(next(line["audit"] for line in child.lines if "audit" in line))
    shown = [line for line in child.lines if "kind" in line]
    assert len(shown) >= 8, child.stderr[-3000:]
    report = verify(audit)
    assert report.ok, [str(p) for p in report.problems]
    on_disk = {(r["kind"], r["time"], r["message"]) for r in file_records(audit)}
    # the audit pane shows local HH:MM:SS of the record time: match on kind and message
    missing = [s for s in shown
               if not any(k == s["kind"] and m == s["message"] for k, _t, m in on_disk)]
    assert missing == [], missing
    assert {"action.requested", "action.started", "action.finished"} <= {s["kind"] for s in shown}


# ---- disk full ---------------------------------------------------------------------------------
def test_disk_full_refuses_the_action_and_leaves_the_cluster_alone(
        cluster: Drill, state_dir: Path) -> None:
    """ENOSPC from the kernel: the audit file is /dev/full."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    path = state_dir / "audit" / "full.jsonl"
    path.parent.mkdir(mode=0o700)
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.stat("/dev/full").st_rdev)
    except PermissionError:
        pytest.skip("making a device node needs root")
    kube = KubeClient.connect(str(cluster.kubeconfig), "drill", NAMESPACE)
    runner = ActionRunner(kube, AuditLog(path, context="drill", namespace=NAMESPACE))
    with pytest.raises(ActionRefused) as refused:
        runner.run(ActionRequest("scale", "drill", NAMESPACE, TARGET, {"replicas": 5}))
    message = refused.value.message
    assert message.startswith("not run: audit log")
    assert "no space left on device (disk full)" in message
    assert "could not be recorded" in message
    assert deployment(cluster).spec.replicas == 3
    with pytest.raises(AuditWriteError):
        AuditLog(path).append("note", message="still full")


def test_console_on_a_full_disk_says_so_and_does_not_act(cluster: Drill, state_dir: Path) -> None:
    """EFBIG from the kernel (RLIMIT_FSIZE) half way through the first record of the action."""
    child = Child(state_dir, "console-disk-full", str(cluster.kubeconfig), "64")
    child.finish()
    assert child.lines, child.stderr[-3000:]
    result = child.lines[-1]
    audit = Path(result["audit"])
    # loud: the status line and an error notification say the action was not run, and why
    assert result["status"].startswith("✖ scale deployment/api to 4 replicas: not run: ")
    assert "file too large" in result["status"]
    errors = [n for n in result["notifications"] if n["severity"] == "error"]
    assert any("could not be recorded" in n["message"] for n in errors), result["notifications"]
    # refused, not run unrecorded: the cluster is as it was, the log as it was
    assert deployment(cluster).spec.replicas == 3
    assert result["size_after"] == result["size_before"]  # the partial record was taken back
    report = verify(audit)
    assert report.ok and report.incomplete_final_line is None
    assert not [r for r in file_records(audit) if r["kind"].startswith("action.")]


# ---- a dropped SSH session ---------------------------------------------------------------------
def test_hangup_ends_the_console_even_when_its_shutdown_hangs(cluster: Drill,
                                                              state_dir: Path) -> None:
    """SIGHUP with a watch thread that never stops: the watchdog ends the process (129)."""
    child = Child(state_dir, "console-hangup-stalled", str(cluster.kubeconfig))
    wait_for(lambda: bool(child.lines) or child.proc.poll() is not None, 60,
             message="the console to be ready")
    assert child.lines == [{"ready": True}], child.stderr[-3000:]
    child.proc.send_signal(signal.SIGHUP)
    try:
        child.proc.wait(HANGUP_GRACE + 10)
    except subprocess.TimeoutExpired:
        child.kill9()
        raise AssertionError("the console outlived its terminal by more than "
                             f"{HANGUP_GRACE + 10:g} s") from None
    assert child.proc.returncode == 129, child.stderr[-3000:]
