"""Is a state directory safe to use, and is it set up for one person or for a group?

Two set-ups are accepted (docs/SECURITY.md):

- **Private**: the directory is yours and nobody else can write to it (0700 when warroom
  creates it). Files are 0600.
- **Group** (two-account pair-driving): a setgid directory whose group you belong to, with no
  access for others (``chmod 2770``). New files and subdirectories inherit its group; files are
  0660 and subdirectories 2770, so every member can append to the audit log and update the
  incident.

Anything else -- a symbolic link, a directory owned by someone else (outside group mode),
writable by every user, or group-writable without being a group directory -- is *unsafe*:
anyone who can write to it can plant a symbolic link or swap a file the console writes to.
``unsafe_reason`` says why in one sentence with the fix; ``diagnose`` (``warroom doctor``)
lists every finding.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

GROUP_DIR_MODE = 0o2770
GROUP_FILE_MODE = 0o660
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SUBDIRS = ("audit", "incidents")

Level = Literal["ok", "note", "problem", "unsafe"]


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return f"gid {gid}"


def in_group(gid: int) -> bool:
    """True when the current process has ``gid`` (effective or supplementary)."""
    return gid == os.getegid() or gid in os.getgroups()


def is_group_dir(info: os.stat_result) -> bool:
    """A setgid directory with full group access and none for others (2770)."""
    mode = info.st_mode
    return (
        stat.S_ISDIR(mode)
        and bool(mode & stat.S_ISGID)
        and mode & 0o070 == 0o070
        and mode & 0o007 == 0
    )


def file_mode_for(dir_info: os.stat_result) -> int:
    """The mode of a file created in this directory: 0660 in a group directory, else 0600."""
    return GROUP_FILE_MODE if is_group_dir(dir_info) else PRIVATE_FILE_MODE


def dir_mode_for(parent_info: os.stat_result) -> int:
    """The mode of a directory created in this one: 2770 in a group directory, else 0700."""
    return GROUP_DIR_MODE if is_group_dir(parent_info) else PRIVATE_DIR_MODE


def unsafe_reason(path: Path, info: os.stat_result) -> str | None:
    """Why the directory ``path`` (``info`` from ``lstat``) must not be used, or None."""
    mode, uid = info.st_mode, os.geteuid()
    if stat.S_ISLNK(mode):
        return (
            f"{path} is a symbolic link; warroom does not follow links for its state "
            "(point WARROOM_STATE_DIR at the real directory, or remove the link)"
        )
    if not stat.S_ISDIR(mode):
        return f"{path} is not a directory"
    octal = f"{stat.S_IMODE(mode):04o}"
    if mode & 0o002:
        return (
            f"{path} is writable by every user (mode {octal}): anyone on the host could plant "
            f"files there. Fix: chmod 700 {path} (just you) or set it up as a group directory "
            "(chmod 2770, see docs/SECURITY.md)"
        )
    group = is_group_dir(info)
    if group and not (info.st_uid == uid or in_group(info.st_gid)):
        return (
            f"{path} is a group directory of group {group_name(info.st_gid)}, which you are not "
            f"in. Fix: sudo usermod -aG {group_name(info.st_gid)} {user_name(uid)} and log in again"
        )
    if not group and info.st_uid != uid:
        return (
            f"{path} is owned by {user_name(info.st_uid)}, not by you ({user_name(uid)}), and is "
            "not a group directory. Use your own state directory, or ask for a group "
            "directory (chmod 2770, see docs/SECURITY.md)"
        )
    if not group and mode & 0o020:
        return (
            f"{path} is writable by group {group_name(info.st_gid)} (mode {octal}) but is not a "
            f"group directory. Fix: chmod 700 {path} (just you), or chmod 2770 {path} to share "
            "it with that group"
        )
    return None


def ancestor_reason(path: Path, owner: int) -> str | None:
    """Why a directory above the state directory makes it unsafe, or None.

    Anyone who can rename entries in an ancestor can swap the state directory for their own:
    each ancestor must belong to root, to you or to the state directory's owner, and must not
    be writable by every user unless it is sticky (like /tmp).
    """
    trusted = {0, os.geteuid(), owner}
    for parent in path.absolute().parents:
        try:
            info = os.stat(parent)
        except OSError:
            continue
        if info.st_uid not in trusted:
            return (
                f"{parent}, above the state directory, belongs to {user_name(info.st_uid)}, who "
                f"could replace {path}. Use a state directory under your home or a root-owned "
                "directory"
            )
        if info.st_mode & 0o002 and not info.st_mode & stat.S_ISVTX:
            return (
                f"{parent}, above the state directory, is writable by every user and not "
                f"sticky: anyone could replace {path}. Fix: chmod o-w {parent} (or +t)"
            )
    return None


@dataclass(frozen=True)
class Finding:
    """One line of ``warroom doctor``: what was found and, for problems, what to run."""

    level: Level
    text: str
    fix: str = ""


def check_state_dir(path: Path) -> str | None:
    """The first reason the state directory (and its audit/ and incidents/) is unsafe, or None.

    A directory that does not exist yet is fine (warroom creates it private).
    """
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None  # created (or reported unusable) by ensure_private_dir
    reason = unsafe_reason(path, info) or ancestor_reason(path, info.st_uid)
    if reason:
        return reason
    for name in SUBDIRS:
        try:
            sub = os.lstat(path / name)
        except FileNotFoundError:
            continue
        reason = unsafe_reason(path / name, sub)
        if reason:
            return reason
    return None


def diagnose(path: Path) -> list[Finding]:
    """Every finding about a state directory's set-up, for ``warroom doctor``."""
    try:
        info = os.lstat(path)
    except NotADirectoryError:
        return [Finding("unsafe", f"{path} cannot exist: one of its parents is not a directory")]
    except FileNotFoundError:
        return [
            Finding(
                "note",
                f"{path} does not exist yet; warroom will create it private (0700) on first use",
                "for two-account pair-driving create it as a group directory first "
                "(docs/SECURITY.md)",
            )
        ]
    reason = unsafe_reason(path, info)
    if reason:
        return [Finding("unsafe", reason)]
    group = is_group_dir(info)
    gid = info.st_gid
    findings = [_describe(path, info)]
    reason = ancestor_reason(path, info.st_uid)
    if reason:
        findings.append(Finding("unsafe", reason))
    if group:
        findings += _group_findings(path, gid)
    else:
        findings.append(
            Finding(
                "note",
                "private mode: only you can use this incident state; another account cannot "
                "approve two-person actions",
                f"to pair-drive across accounts: chgrp GROUP {path} && chmod 2770 {path}",
            )
        )
    for name in SUBDIRS:
        findings += _subdir_findings(path / name, group, gid)
    return findings


def _describe(path: Path, info: os.stat_result) -> Finding:
    kind = "group directory (setgid)" if is_group_dir(info) else "private directory"
    return Finding(
        "ok",
        f"{path}: {kind}, owner {user_name(info.st_uid)}, group {group_name(info.st_gid)}, "
        f"mode {stat.S_IMODE(info.st_mode):04o}",
    )


def _group_findings(path: Path, gid: int) -> list[Finding]:
    name = group_name(gid)
    me = user_name(os.geteuid())
    findings: list[Finding] = []
    if in_group(gid):
        findings.append(Finding("ok", f"you ({me}) are in group {name}"))
    else:
        findings.append(
            Finding(
                "problem",
                f"you ({me}) are not in group {name} (in this login session)",
                f"sudo usermod -aG {name} {me}, then log in again (or: newgrp {name})",
            )
        )
    members = set(_members(gid))
    if len(members) < 2:
        findings.append(
            Finding(
                "problem",
                f"group {name} has {len(members)} member(s) ({', '.join(sorted(members)) or '-'})"
                ": the two-person rule needs two accounts in it",
                f"sudo usermod -aG {name} PARTNER",
            )
        )
    else:
        findings.append(Finding("ok", f"group {name} members: {', '.join(sorted(members))}"))
    return findings


def _members(gid: int) -> list[str]:
    try:
        listed = list(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return []
    primary = [entry.pw_name for entry in pwd.getpwall() if entry.pw_gid == gid]
    return list(dict.fromkeys(listed + primary))


def _subdir_findings(path: Path, group: bool, gid: int) -> list[Finding]:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return []
    reason = unsafe_reason(path, info)
    if reason:
        return [Finding("unsafe", reason)]
    findings: list[Finding] = []
    if group and (info.st_gid != gid or not is_group_dir(info)):
        findings.append(
            Finding(
                "problem",
                f"{path} is not a group directory of {group_name(gid)} (group "
                f"{group_name(info.st_gid)}, mode {stat.S_IMODE(info.st_mode):04o})",
                f"chgrp -R {group_name(gid)} {path} && chmod 2770 {path}",
            )
        )
    for entry in sorted(path.iterdir()):
        findings += _file_findings(entry, group, gid)
    if not findings:
        findings.append(Finding("ok", f"{path}: set up correctly"))
    return findings


def _file_findings(path: Path, group: bool, gid: int) -> list[Finding]:
    info = os.lstat(path)
    mode = stat.S_IMODE(info.st_mode)
    if stat.S_ISLNK(info.st_mode):
        return [
            Finding(
                "unsafe",
                f"{path} is a symbolic link (to {os.readlink(path)}); warroom refuses to write "
                "through it",
                f"rm {path}",
            )
        ]
    if not stat.S_ISREG(info.st_mode):
        return []
    if group:
        if info.st_gid != gid or mode & 0o060 != 0o060 or mode & 0o007:
            return [
                Finding(
                    "problem",
                    f"{path}: group {group_name(info.st_gid)}, mode {mode:04o}; the other "
                    "account cannot use it",
                    f"chgrp {group_name(gid)} {path} && chmod 660 {path}",
                )
            ]
    elif info.st_uid != os.geteuid() or mode & 0o077:
        return [
            Finding(
                "problem",
                f"{path}: owner {user_name(info.st_uid)}, mode {mode:04o}; expected yours, 0600",
                f"chmod 600 {path}" if info.st_uid == os.geteuid() else f"rm {path}",
            )
        ]
    return []


__all__ = [
    "GROUP_DIR_MODE",
    "GROUP_FILE_MODE",
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "Finding",
    "ancestor_reason",
    "check_state_dir",
    "diagnose",
    "dir_mode_for",
    "file_mode_for",
    "group_name",
    "in_group",
    "is_group_dir",
    "unsafe_reason",
    "user_name",
]
