"""Private, crash-safe files under the warroom state directory (audit logs, incident state).

Everything here is owner-only (directories 0700, files 0600): audit logs and incident state
name people, clusters and actions. Writers are expected to run on one bastion, possibly as two
consoles at once, so mutual exclusion is an advisory ``flock`` on a file both consoles open.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from platformdirs import user_state_path

STATE_DIR_ENV = "WARROOM_STATE_DIR"
DIR_MODE = 0o700
FILE_MODE = 0o600


def default_state_dir() -> Path:
    """``$WARROOM_STATE_DIR`` if set, else platformdirs' per-user state dir for "warroom"."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return user_state_path("warroom", appauthor=False)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents; every directory created here is made 0700.

    Existing directories are left as they are (they may be shared on purpose).
    """
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another console created it first
            directory.mkdir(mode=DIR_MODE)
            os.chmod(directory, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a new or renamed file) to disk; best effort where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def restrict_mode(fd: int) -> None:
    """Make an existing file we own owner-only (0600) if it was created wider."""
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077:
        os.fchmod(fd, FILE_MODE)


@contextlib.contextmanager
def flocked(fd: int) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``fd`` for the duration of the block."""
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def lock_file(path: Path) -> Iterator[None]:
    """Exclusive lock on a sidecar lock file (created 0600), for files replaced by rename.

    A file that is atomically replaced changes inode on every write, so the lock must live on a
    file that is never replaced.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, FILE_MODE)
    try:
        with flocked(fd):
            yield
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old or the new content, never a mix.

    Writes a temporary file in the same directory (0600), fsyncs it, renames it over ``path``
    and fsyncs the directory. A crash at any point leaves the old file intact (and, at worst, a
    stale ``.<name>.*.tmp`` file that ``remove_stale_temps`` cleans up).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def remove_stale_temps(path: Path) -> None:
    """Delete temporary files ``atomic_write`` left for ``path`` (call only under its lock)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def describe_os_error(exc: OSError) -> str:
    """A short human explanation of an OSError, naming the usual culprits."""
    reasons = {
        errno.ENOSPC: "no space left on device (disk full)",
        errno.EFBIG: "file too large (the file-size limit is reached: disk quota or ulimit -f)",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
        errno.EIO: "I/O error",
        errno.ENOENT: "no such file or directory",
        errno.ENOTDIR: "a parent is not a directory",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "STATE_DIR_ENV",
    "atomic_write",
    "default_state_dir",
    "describe_os_error",
    "ensure_private_dir",
    "flocked",
    "fsync_dir",
    "lock_file",
    "remove_stale_temps",
    "restrict_mode",
]
