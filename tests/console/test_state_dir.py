"""The state directory: planted links and unsafe directories refused, group mode for two accounts.

Real files, real modes and owners. The tests run as root, which the kernel lets through any
permission check, so what another account can do is tried in a child process switched to an
unprivileged uid (no passwd entry needed) with the group as a supplementary group.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.cli.main import main as warroom_main
from console.domain.actor import Actor
from console.domain.audit import AuditLog, AuditWriteError, default_audit_path
from console.domain.incident import IncidentStore
from console.domain.statefiles import UnsafeStateError, atomic_write, lock_file
from console.runbook.session import ChecklistState

ROOT = Path(__file__).resolve().parents[2]
WARROOM = [sys.executable, "-m", "console.cli.main"]
PARTNER_UID = 47113  # an account with no passwd entry: setuid needs none
PAIR_GID = 47114  # the pair-driving group (no /etc/group entry needed either)
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching accounts needs root")


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir(mode=0o700)
    return path


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file of the user's own that an attacker would like the console to write into."""
    path = tmp_path / "bashrc"
    path.write_text("alias ll='ls -l'\n")
    path.chmod(0o644)
    return path


def warroom(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARROOM_STATE_DIR": str(state), "PYTHONPATH": str(ROOT)}
    return subprocess.run([*WARROOM, *args], capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=60)


# ---- item 6: planted links, unsafe directories, the audit path from the incident file --------
def test_a_planted_symlink_does_not_redirect_the_audit_append(state_dir: Path,
                                                              victim: Path) -> None:
    path = default_audit_path("inc-1", state_dir)
    path.parent.mkdir(mode=0o700)
    path.symlink_to(victim)
    with pytest.raises(AuditWriteError) as refused:
        AuditLog(path).append("note", message="hello")
    assert "symbolic link" in refused.value.message
    assert victim.read_text() == "alias ll='ls -l'\n"
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


def test_a_hard_link_or_a_symlinked_directory_is_refused(state_dir: Path, victim: Path) -> None:
    audit_dir = state_dir / "audit"
    audit_dir.mkdir(mode=0o700)
    os.link(victim, audit_dir / "inc-1.jsonl")
    with pytest.raises(AuditWriteError, match="hard links"):
        AuditLog(audit_dir / "inc-1.jsonl").append("note")
    elsewhere = state_dir.parent / "elsewhere"
    elsewhere.mkdir()
    (state_dir / "incidents").symlink_to(elsewhere)
    with pytest.raises(UnsafeStateError, match="symbolic link"):
        atomic_write(state_dir / "incidents" / "x.json", b"{}")
    assert list(elsewhere.iterdir()) == []
    assert victim.read_text() == "alias ll='ls -l'\n"


def test_a_lock_file_planted_as_a_link_is_refused(state_dir: Path, victim: Path) -> None:
    (state_dir / "x.lock").symlink_to(victim)
    with pytest.raises(UnsafeStateError), lock_file(state_dir / "x.lock"):
        pass
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644


@as_root
def test_a_file_owned_by_someone_else_is_refused(state_dir: Path) -> None:
    path = state_dir / "audit" / "inc-1.jsonl"
    path.parent.mkdir(mode=0o700)
    path.write_text("")
    os.chown(path, PARTNER_UID, PARTNER_UID)
    with pytest.raises(AuditWriteError, match="belongs to uid 47113"):
        AuditLog(path).append("note")


def test_resume_derives_the_audit_path_from_the_incident_id(state_dir: Path,
                                                            victim: Path) -> None:
    first = ChecklistState.open(state_dir, resume=None, context="drill", namespace="shop",
                                title="t", severity="high", runbook=None, runbook_values={})
    incident_file = first.incident.path
    data = json.loads(incident_file.read_text())
    data["audit_path"] = str(victim)  # whoever can write the directory can edit this
    incident_file.write_text(json.dumps(data))
    resumed = ChecklistState.open(state_dir, resume="latest", context="drill", namespace="shop",
                                  title="t", severity="high", runbook=None, runbook_values={})
    assert resumed.audit.path == default_audit_path(first.incident.id, state_dir)
    resumed.audit.append("note", message="after resume")
    assert victim.read_text() == "alias ll='ls -l'\n"


@pytest.mark.parametrize(("mode", "owner", "expected"), [
    (0o777, None, "writable by every user"),
    (0o770, None, "writable by group"),
    (0o700, PARTNER_UID, "owned by uid 47113, not by you"),
])
def test_the_console_refuses_an_unsafe_state_directory(state_dir: Path, mode: int,
                                                       owner: int | None, expected: str) -> None:
    if owner is not None:
        if os.geteuid() != 0:
            pytest.skip("chown needs root")
        os.chown(state_dir, owner, owner)
    state_dir.chmod(mode)
    result = warroom(state_dir, "--read-only", "--context", "none")
    assert result.returncode != 0
    assert expected in result.stderr and "warroom doctor" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(state_dir.iterdir()) == []


def test_the_console_refuses_a_symlinked_state_directory(state_dir: Path, tmp_path: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(state_dir)
    result = warroom(link, "--read-only")
    assert result.returncode != 0 and "is a symbolic link" in result.stderr
    assert "Traceback" not in result.stderr


# ---- item 7: group mode ----------------------------------------------------------------------
@pytest.fixture
def group_dir() -> Iterator[Path]:
    """A 2770 setgid directory of the pair group, under a directory the partner can reach
    (pytest's own temporary directories are 0700)."""
    top = Path(tempfile.mkdtemp(prefix="warroom-pair-"))
    top.chmod(0o755)
    path = top / "state"
    path.mkdir()
    try:
        os.chown(path, os.geteuid(), PAIR_GID)
    except PermissionError:
        shutil.rmtree(top)
        pytest.skip("chown to another group needs root")
    path.chmod(0o2770)
    yield path
    shutil.rmtree(top)


def partner_writes(state: Path) -> None:
    store = IncidentStore(state)
    store.attach("inc-pair").set_current_step("rb", "step-2")
    AuditLog.for_incident("inc-pair", state, actor=Actor(user="partner", console_id="b")).append(
        "note", message="partner was here")
    store.open_new("partner's own", "high", incident_id="partner-incident")


def as_partner(fn: Callable[[], object], groups: tuple[int, ...] = (PAIR_GID,)) -> tuple[int, str]:
    """Run ``fn`` in a forked child as the partner account; its exit status and its output.

    Forked rather than executed: the interpreter may live where that account cannot read.
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns to pytest
        status, out = 0, io.StringIO()
        try:
            os.setgroups(list(groups))
            os.setgid(PARTNER_UID)
            os.setuid(PARTNER_UID)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                result = fn()
            status = result if isinstance(result, int) else 0
        except BaseException:  # noqa: BLE001 - reported to the parent
            out.write(traceback.format_exc())
            status = 99
        os.write(write_end, out.getvalue().encode())
        os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output


@as_root
def test_a_second_account_in_the_group_shares_the_incident(group_dir: Path) -> None:
    store = IncidentStore(group_dir)
    incident = store.open_new("pair", "high", incident_id="inc-pair")
    AuditLog.for_incident("inc-pair", group_dir).append("note", message="first")
    modes = {p.relative_to(group_dir).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in group_dir.rglob("*")}
    assert modes["audit"] == modes["incidents"] == 0o2770
    assert modes["audit/inc-pair.jsonl"] == modes["incidents/inc-pair.json"] == 0o660
    assert modes["incidents/inc-pair.lock"] == 0o660
    assert {p.stat().st_gid for p in group_dir.rglob("*")} == {PAIR_GID}

    status, output = as_partner(lambda: partner_writes(group_dir))
    assert status == 0, output[-3000:]
    assert incident.read().current_step == ("rb", "step-2")
    records = AuditLog.for_incident("inc-pair", group_dir).records()
    assert [r.message for r in records] == ["first", "partner was here"]
    theirs = group_dir / "incidents" / "partner-incident.json"
    assert theirs.stat().st_uid == PARTNER_UID and stat.S_IMODE(theirs.stat().st_mode) == 0o660
    IncidentStore(group_dir).attach("partner-incident").close(by=records[0].actor)  # type: ignore[arg-type]


@as_root
def test_doctor_checks_the_group_set_up_and_says_what_to_fix(group_dir: Path) -> None:
    IncidentStore(group_dir).open_new("pair", "high", incident_id="inc-pair")
    def doctor() -> int:
        return warroom_main(["doctor", "--state-dir", str(group_dir)])

    status, output = as_partner(doctor)
    assert "group directory (setgid)" in output and "you (uid 47113) are in group" in output
    # nobody is in the (passwd-less) group by /etc/group: the doctor asks for a partner
    assert "the two-person rule needs two accounts" in output
    assert "usermod -aG" in output and status == 1
    status, output = as_partner(doctor, groups=())
    assert status == 1 and "you are not in" in output, output
    (group_dir / "incidents" / "inc-pair.json").chmod(0o600)
    (group_dir / "audit").mkdir()
    (group_dir / "audit" / "inc-pair.jsonl").symlink_to("/etc/hostname")
    report = warroom(group_dir, "doctor").stdout
    assert "mode 0600; the other account cannot use it" in report
    assert "chmod 660" in report
    assert "is a symbolic link (to /etc/hostname)" in report and "rm " in report


def test_doctor_on_private_and_unsafe_directories(state_dir: Path) -> None:
    private = warroom(state_dir, "doctor")
    assert private.returncode == 0, private.stdout
    assert "private directory" in private.stdout and "chmod 2770" in private.stdout
    state_dir.chmod(0o777)
    unsafe = warroom(state_dir, "doctor")
    assert unsafe.returncode == 1
    assert "UNSAFE" in unsafe.stdout and "chmod 700" in unsafe.stdout
    missing = warroom(state_dir / "nope", "doctor")
    assert missing.returncode == 0 and "does not exist yet" in missing.stdout
