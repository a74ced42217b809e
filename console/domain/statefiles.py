"""Private, crash-safe files under the warroom state directory (audit logs, incident state).

Everything here is owner-only (directories 0700, files 0600) -- or, in a group directory set
up for two-account pair-driving (setgid, 2770; see ``state_checks``), group-shared (2770,
0660): audit logs and incident state name people, clusters and actions. Writers are expected
to run on one bastion, possibly as two consoles at once, so mutual exclusion is an advisory
``flock`` on a file both consoles open.

Files are opened relative to their directory, opened itself without following a symbolic link
and checked (``unsafe_reason``), and never through a symbolic link (``O_NOFOLLOW``); after
opening, the file must be a regular file (or a device: only root can make one) with one link,
owned by you -- or, in a group directory, by its group. So a link or file planted by another
user cannot redirect a write into one of your own files.
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

from console.domain.state_checks import (
    dir_mode_for,
    file_mode_for,
    is_group_dir,
    unsafe_reason,
    user_name,
)

STATE_DIR_ENV = "WARROOM_STATE_DIR"
DIR_MODE = 0o700
FILE_MODE = 0o600


def default_state_dir() -> Path:
    """``$WARROOM_STATE_DIR`` if set, else platformdirs' per-user state dir for "warroom"."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return user_state_path("warroom", appauthor=False)


class UnsafeStateError(PermissionError):
    """A state directory or file that another user could have planted or redirected.

    A ``PermissionError`` (so callers that handle ``OSError`` refuse the write) whose
    ``strerror`` is the whole explanation, with the fix.
    """

    def __init__(self, message: str) -> None:
        super().__init__(errno.EPERM, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents; every directory created here is made 0700
    (2770 inside a group directory).

    Existing directories are left as they are (they may be shared on purpose), but ``path``
    itself must be safe (``unsafe_reason``), else ``UnsafeStateError``.
    """
    missing: list[Path] = []
    current = path
    while not os.path.lexists(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        mode = _created_dir_mode(directory.parent)
        with contextlib.suppress(FileExistsError):  # another console created it first
            directory.mkdir(mode=mode & 0o777)
            os.chmod(directory, mode)  # mkdir's mode is filtered by the umask
    reason = unsafe_reason(path, os.lstat(path))
    if reason:
        raise UnsafeStateError(reason)
    return path


def _created_dir_mode(parent: Path) -> int:
    try:
        return dir_mode_for(os.stat(parent))
    except OSError:
        return DIR_MODE


def open_state_file(path: Path, flags: int) -> int:
    """``os.open`` for a file in the state directory, refusing anything planted.

    The directory is opened with ``O_NOFOLLOW`` and checked, the file opened relative to it
    with ``O_NOFOLLOW`` (created 0600, or 0660 in a group directory) and checked after opening
    (``fstat``): see the module docstring. Raises ``UnsafeStateError`` or another ``OSError``.
    """
    dir_fd = _open_dir(path.parent)
    try:
        dir_info = os.fstat(dir_fd)
        mode = file_mode_for(dir_info)
        try:
            fd = os.open(path.name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafeStateError(
                    f"{path} is a symbolic link; warroom does not write through links "
                    f"(someone may have planted it: check, then remove it: rm {path})"
                ) from exc
            raise
    finally:
        os.close(dir_fd)
    try:
        _check_opened(path, os.fstat(fd), dir_info)
        settle_mode(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_state_file(path: Path) -> bytes:
    """The whole content of a state file, opened as ``open_state_file`` does."""
    fd = open_state_file(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def _open_dir(path: Path) -> int:
    try:
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and os.path.islink(path):
            raise UnsafeStateError(
                f"{path} is a symbolic link; warroom does not follow links for its state"
            ) from exc
        raise
    try:
        reason = unsafe_reason(path, os.fstat(dir_fd))
    except BaseException:
        os.close(dir_fd)
        raise
    if reason:
        os.close(dir_fd)
        raise UnsafeStateError(reason)
    return dir_fd


def _check_opened(path: Path, info: os.stat_result, dir_info: os.stat_result) -> None:
    if not (stat.S_ISREG(info.st_mode) or stat.S_ISCHR(info.st_mode)):
        raise UnsafeStateError(f"{path} is not a regular file; refusing to use it")
    if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
        raise UnsafeStateError(
            f"{path} has {info.st_nlink} hard links: it may be another file of yours under a "
            "planted name; refusing to use it"
        )
    shared = is_group_dir(dir_info) and info.st_gid == dir_info.st_gid
    if info.st_uid != os.geteuid() and not shared:
        raise UnsafeStateError(
            f"{path} belongs to {user_name(info.st_uid)}, not to you; refusing to use it "
            "(in a group directory, files must belong to its group)"
        )


def fsync_dir(path: Path) -> None:
    """Flush a directory entry (a new or renamed file) to disk; best effort where unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        _fsync_fd(fd)
    finally:
        os.close(fd)


def _fsync_fd(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems refuse fsync on directories
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise


def restrict_mode(fd: int) -> None:
    """Make an existing file we own owner-only (0600) if it was created wider."""
    info = os.fstat(fd)
    if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and info.st_mode & 0o077:
        os.fchmod(fd, FILE_MODE)


def settle_mode(fd: int, mode: int) -> None:
    """Give a regular file we own exactly ``mode`` (0600, or 0660 in a group directory)."""
    info = os.fstat(fd)
    if (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.geteuid()
        and stat.S_IMODE(info.st_mode) != mode
    ):
        os.fchmod(fd, mode)


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
    fd = open_state_file(path, os.O_RDWR | os.O_CREAT)
    try:
        with flocked(fd):
            yield
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so a reader sees the old or the new content, never a mix.

    Writes a temporary file in the same directory (0600, or 0660 in a group directory), fsyncs
    it, renames it over ``path`` and fsyncs the directory (``durable=False``: no fsync, for
    data that may lag behind after a power loss). A crash at any point leaves the old file
    intact (and, at worst, a stale ``.<name>.*.tmp`` file that ``remove_stale_temps`` cleans
    up). The directory is opened and checked as in ``open_state_file``; a rename replaces a
    planted symbolic link rather than writing through it.
    """
    tmp = f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    dir_fd = _open_dir(path.parent)
    try:
        mode = file_mode_for(os.fstat(dir_fd))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, mode, dir_fd=dir_fd)
        try:
            try:
                settle_mode(fd, mode)
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if durable:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dir_fd)
            raise
        if durable:
            _fsync_fd(dir_fd)
    finally:
        os.close(dir_fd)


def remove_stale_temps(path: Path) -> None:
    """Delete temporary files ``atomic_write`` left for ``path`` (call only under its lock)."""
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            tmp.unlink()


def describe_os_error(exc: OSError) -> str:
    """A short human explanation of an OSError, naming the usual culprits."""
    if isinstance(exc, UnsafeStateError):
        return exc.message
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
    "UnsafeStateError",
    "atomic_write",
    "default_state_dir",
    "describe_os_error",
    "ensure_private_dir",
    "flocked",
    "fsync_dir",
    "lock_file",
    "open_state_file",
    "read_state_file",
    "remove_stale_temps",
    "restrict_mode",
    "settle_mode",
]
