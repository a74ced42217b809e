"""How soon a climbing working set reaches the memory limit: a straight-line fit.

The working set of a leaking process climbs roughly linearly until the kernel OOM-kills it,
then starts again from its base (a sawtooth). ``time_to_limit`` fits a least-squares line to
the samples since the last drop (a kill or restart) and says when that line crosses the limit.
Noise is not a leak: the line must rise by at least ``MIN_RISE`` of the limit across the
samples, and a crossing further away than ``HORIZON_S`` is not reported.
"""

from __future__ import annotations

from collections.abc import Sequence

DROP = 0.10  # a fall by more than 10 % of the limit between samples: a kill or restart
MIN_RISE = 0.02  # the fitted line must climb at least 2 % of the limit over the samples
MIN_POINTS = 3
HORIZON_S = 4 * 3600.0  # beyond 4 hours away it is no incident


def since_last_drop(times: Sequence[float], values: Sequence[float | None],
                    limit: float) -> list[tuple[float, float]]:
    """The known samples after the last sharp fall."""
    points = [(t, v) for t, v in zip(times, values, strict=False) if v is not None]
    start = 0
    for i in range(1, len(points)):
        if points[i - 1][1] - points[i][1] > DROP * limit:
            start = i
    return points[start:]


def time_to_limit(times: Sequence[float], values: Sequence[float | None],
                  limit: float | None) -> float | None:
    """Seconds from the last sample until the fitted line reaches ``limit`` (0 when it is
    already there); None when there is no limit, too few samples, or no real climb."""
    if limit is None or limit <= 0:
        return None
    points = since_last_drop(times, values, limit)
    if len(points) < MIN_POINTS:
        return None
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread <= 0:
        return None
    slope = sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
    if slope <= 0 or slope * (points[-1][0] - points[0][0]) < MIN_RISE * limit:
        return None
    last_t = points[-1][0]
    fitted_now = mean_v + slope * (last_t - mean_t)
    if fitted_now >= limit or points[-1][1] >= limit:
        return 0.0
    seconds = (limit - fitted_now) / slope
    return seconds if seconds <= HORIZON_S else None
