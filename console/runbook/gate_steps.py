"""Steps that poll until a condition holds or time runs out: ``verify`` (HTTP checks and gates
in rounds, also an action step's ``verify:``), ``gate`` (a PromQL threshold held for a while)
and ``wait``.

Each runner returns ``(status, message)`` and reports lines through ``progress``; ``clock`` is
the engine's clock and ``sleep(seconds, on_stop)`` its interruptible pause, which raises
``Interrupted(*on_stop)`` when the engine is stopped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from adapters.errors import AdapterError
from adapters.metrics import MetricsClient
from adapters.probes import Check, ProbeResult
from console.runbook.field_types import format_duration
from console.runbook.outcomes import Interrupted, Progress
from console.runbook.schema_checks import GateCondition, GateOutcome, VerificationFields
from console.runbook.schema_steps import GateStep, WaitStep

Clock = Callable[[], float]
Sleep = Callable[[float, tuple[str, str]], None]
Probe = Callable[[Sequence[Check]], list[ProbeResult]]
# an instant query's values (or why there are none), within the seconds given: the time left
# before the step's deadline, so a slow Prometheus cannot hold a gate past it
Query = Callable[[str, float], tuple[list[float] | None, str | None]]


def run_verification(fields: VerificationFields, progress: Progress, *, probe: Probe, query: Query,
                     clock: Clock, sleep: Sleep) -> tuple[str, str]:
    """Rounds of HTTP checks and gates every ``interval`` until they pass or ``deadline``."""
    try:
        checks = [Check(**check.probe_kwargs()) for check in fields.checks]
    except AdapterError as error:
        return "failed", error.message
    gates: list[GateCondition] = list(fields.gates)
    held: list[float | None] = [None] * len(gates)
    deadline = clock() + fields.deadline_s
    rounds = 0
    while True:
        rounds += 1
        results: list[ProbeResult] = probe(checks) if checks else []
        outcomes: list[GateOutcome] = []
        parts = [f"{r.name}: {'ok' if r.ok else 'FAIL'} ({r.message})" for r in results]
        for index, gate in enumerate(gates):
            values, error = query(gate.query, max(0.0, deadline - clock()))
            outcome = gate.evaluate(values)
            now = clock()
            if outcome == "pass":
                since = held[index] if held[index] is not None else now
                held[index] = since
                if now - since < gate.for_s:
                    outcome = "unknown"  # passing, not for long enough yet
                    parts.append(f"{gate_name(gate)}: holding {secs(now - since)} of "
                                 f"{format_duration(gate.for_s)}")
                else:
                    parts.append(f"{gate_name(gate)}: ok ({_shown(values, gate)})")
            else:
                held[index] = None
                parts.append(f"{gate_name(gate)}: " + (
                    f"{_shown(values, gate)}, not {gate.op} {gate.threshold:g}"
                    if outcome == "fail" else f"unknown ({error or 'no data'})"))
            outcomes.append(outcome)
        verdict = fields.judge([r.ok for r in results], outcomes)
        summary = "; ".join(parts)
        if verdict == "pass":
            progress(f"verified: {summary}", 1.0)
            return "done", summary
        now = clock()
        progress(f"round {rounds}: {summary}", None)
        if now >= deadline:
            return "failed", (f"not healthy within {format_duration(fields.deadline_s)} "
                              f"({rounds} round(s)): {summary}")
        sleep(min(fields.interval_s, deadline - now),
                    ("pending", f"stopped after {rounds} round(s): {summary}"))


def run_gate(step: GateStep, progress: Progress, *, query: Query, clock: Clock, sleep: Sleep
             ) -> tuple[str, str]:
    """Query every ``interval`` until the condition has held for ``for``, or ``timeout``."""
    condition = step.condition
    name = gate_name(condition)
    target = f"{step.op} {step.threshold:g}"
    need = format_duration(step.for_s) if step.for_s else "one sample"
    started = clock()
    deadline = started + step.timeout_s
    since: float | None = None
    line = ""
    while True:
        values, error = query(step.query, max(0.0, deadline - clock()))
        outcome = step.evaluate(values)
        now = clock()
        fraction: float | None = None
        if outcome == "pass":
            since = now if since is None else since
            held = now - since
            if held >= step.for_s:
                message = f"{name} = {_shown(values, condition)} {target}, held {secs(held)}"
                progress(message, 1.0)
                return "done", message
            line = (f"{name} = {_shown(values, condition)} {target}: holding "
                    f"{secs(held)} of {need}")
            fraction = held / step.for_s if step.for_s else None
        elif outcome == "fail":
            since = None
            line = (f"{name} = {_shown(values, condition)}, needs {target} for {need}"
                    " (not holding)")
            fraction = 0.0
        else:
            since = None
            line = f"{name} unknown: {error or 'no data'} — does not count as holding"
        progress(line, fraction)
        if now >= deadline:
            return "failed", (f"timed out after {format_duration(step.timeout_s)}: "
                              f"{condition.describe()} did not hold; last: {line}")
        sleep(min(step.interval_s, deadline - now),
                    ("pending", f"stopped after {secs(now - started)}; last: {line}"))


def run_wait(step: WaitStep, progress: Progress, *, clock: Clock, sleep: Sleep) -> tuple[str, str]:
    started = clock()
    deadline = started + step.duration_s
    while True:
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            return "done", f"waited {format_duration(step.duration_s)}"
        progress(f"{secs(remaining)} left of {format_duration(step.duration_s)}",
                 (now - started) / step.duration_s)
        sleep(min(remaining, 1.0),
                    ("pending", f"stopped after {secs(now - started)} of "
                                f"{format_duration(step.duration_s)}"))


def query_values(metrics: MetricsClient | None, expr: str, budget_s: float | None = None
                 ) -> tuple[list[float] | None, str | None]:
    """The sample values of an instant query, or (None, why) when it cannot be known."""
    if metrics is None:
        return None, "no metrics source configured"
    try:
        samples = metrics.instant(expr, budget_s=budget_s)
    except AdapterError as error:
        return None, error.message
    values = [sample.value for sample in samples]
    if not values:
        return values, "the query returned no samples"
    if any(math.isnan(value) for value in values):
        return values, "the query returned NaN"
    return values, None


def gate_name(condition: GateCondition) -> str:
    return condition.name or condition.query


def _shown(values: Sequence[float] | None, condition: GateCondition) -> str:
    """The value that decides the gate: the worst sample for the operator."""
    if not values:
        return "?"
    known = [v for v in values if not math.isnan(v)]
    if not known:
        return "NaN"
    worst = max(known) if condition.op in ("<", "<=") else min(known)
    text = f"{worst:.4g}"
    return text if len(values) == 1 else f"{text} (worst of {len(values)})"


def secs(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 60 else format_duration(round(seconds))



def verify_after(step: object, message: str, progress: Progress,
                 verify: Callable[[VerificationFields, Progress], tuple[str, str]]
                 ) -> tuple[str, str]:
    """After an action or shell step took effect: its ``verify:`` (if any) waited for."""
    verification = getattr(step, "verify", None)
    if verification is None:
        return "done", message
    try:
        status, verdict = verify(verification, progress)
    except Interrupted:
        raise Interrupted("failed", f"{message}; stopped before verification finished"
                          ) from None
    if status == "done":
        return "done", f"{message}; verified: {verdict}"
    return "failed", f"{message}; verification failed: {verdict}"
