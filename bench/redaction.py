"""Redaction speed: every audit record and every text shown passes through `adapters.redact`.

Prints the time per call for a realistic log line, a line full of secrets and a whole audit
record's worth of text, and the cost per kB of text beside the target (under 1 ms per kB, so
a burst of shell output or a 500-line log never waits on it). Asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.redact import redact  # noqa: E402

TARGET_MS_PER_KB = 1.0
MASKS = ["sha256~abcdefghijklmnopqrstuvwxyz", "hunter2-secret-value"]
CASES = {
    "log line, no secret": (
        "2024-05-01T12:00:03.123Z INFO  request GET /api/v1/orders?page=2&limit=50 from "
        "10.0.3.17 user=alice status=200 latency_ms=37 trace_id=4bf92f3577b34da6a3ce929d0e0e47"
        " pod=api-7d9f8b6c5-x2x9q"),
    "line with three secrets": (
        "connecting with password=hunter2 token=ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
        "key AKIAIOSFODNN7EXAMPLE to db"),
    "audit record text (2 kB)": ("deploy api 1.6.0: rollout restart, replicas 3 -> 5; " * 40),
}


def per_call_ms(text: str, runs: int = 2000) -> float:
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(runs):
            redact(text, MASKS)
        samples.append((time.perf_counter() - started) / runs * 1000)
    return statistics.median(samples)


def main() -> None:
    started = time.perf_counter()
    redact("warm up")  # the first call builds the patterns (and imports detect-secrets)
    print(f"first call (builds the patterns): {(time.perf_counter() - started) * 1000:.0f} ms")
    print(f"{'text':<28} {'chars':>6} {'per call':>10} {'per kB':>10}   target")
    for name, text in CASES.items():
        ms = per_call_ms(text)
        per_kb = ms / (len(text) / 1024)
        verdict = "within" if per_kb < TARGET_MS_PER_KB else "OVER"
        print(f"{name:<28} {len(text):>6} {ms:>7.3f} ms {per_kb:>7.3f} ms   "
              f"< {TARGET_MS_PER_KB:g} ms/kB  {verdict}")


if __name__ == "__main__":
    main()
