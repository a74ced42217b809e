"""The advisor's crash rules: the handbook's Example 3 ("Memory leak crashes production").

Example 3's situation is a new version whose pods crash every couple of hours; its actions are
"scale up to buy time", restart the crashed pods, then "roll back to the previous version".
These rules read the restarts of the workload's pods in the last hour (``RestartLog``):

==============================  ====================================  =======================
signal                          threshold                             verdict
==============================  ====================================  =======================
pods OOM-killed / crashing      >= 3 restarts in the last hour        MONITOR: scale up,
repeatedly                                                            then roll back
pods OOM-killed / crashing      1-2 restarts in the last hour         MONITOR: watch memory
memory climbing on a new        working set rising toward the limit   MONITOR: points at
revision                        (a time to the limit is known)        that revision
==============================  ====================================  =======================

Once the workload has been scaled up since the restarts began, the advice moves on to the
next step: roll back. A complete outage (no pod ready) is the outage rule's ROLL BACK NOW.
"""

from __future__ import annotations

from typing import Protocol

REPEATED_RESTARTS = 3  # restarts in the last hour that make "repeatedly" (3x: Example 3)
EXAMPLE = "handbook Example 3"


class CrashSignals(Protocol):
    restarts: int  # container restarts of the workload's pods in the last hour
    oom_kills: int  # ... of which OOM kills
    scaled_from: int | None  # replicas when the restarts began, if scaled up since
    total: int  # desired replicas now
    memory_note: str | None  # "memory climbs on revision 4 (1.7.0), at the limit in 12m"


def _what(c: CrashSignals) -> str:
    if c.oom_kills and c.oom_kills == c.restarts:
        return f"OOM-killed {c.oom_kills}x in the last hour"
    if c.oom_kills:
        return f"restarted {c.restarts}x in the last hour ({c.oom_kills} OOM kills)"
    return f"crashed {c.restarts}x in the last hour"


def _memory(c: CrashSignals) -> tuple[str, ...]:
    return (c.memory_note,) if c.memory_note else ()


def _scaled(c: CrashSignals) -> str:
    return (f"{_what(c)}; scaled up {c.scaled_from} → {c.total}, which buys time: now roll "
            f"back to the previous version ({EXAMPLE})")


def repeated(c: CrashSignals) -> tuple[str, ...] | None:
    if c.restarts < REPEATED_RESTARTS:
        return None
    if c.scaled_from is not None:
        return (_scaled(c), *_memory(c))
    advice = (f"{_what(c)}: scale up to buy time, then roll back to the previous version "
              f"({EXAMPLE})")
    return (advice, *_memory(c))


def occasional(c: CrashSignals) -> tuple[str, ...] | None:
    if not 0 < c.restarts < REPEATED_RESTARTS:
        return None
    if c.scaled_from is not None:  # scaled up already: the next step is the rollback
        return (_scaled(c), *_memory(c))
    return (f"{_what(c)}: watch memory; if it repeats, scale up to buy time, then roll back "
            f"({EXAMPLE})", *_memory(c))


def memory_climbing(c: CrashSignals) -> tuple[str, ...] | None:
    if c.restarts or not c.memory_note:
        return None
    return (f"{c.memory_note}: a leak in that revision? roll back before it is OOM-killed "
            f"({EXAMPLE})",)


RULE_NAMES = {
    "repeated": "Pods OOM-killed or crashing repeatedly (handbook Example 3, memory leak)",
    "occasional": "Pods OOM-killed or crashed in the last hour",
    "memory": "Memory climbing toward the limit since a new revision",
}
