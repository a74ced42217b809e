"""A small PromQL evaluator over the drill cluster's traffic history (`traffic.Traffic`).

It answers the Prometheus HTTP API's `/api/v1/query` and `/api/v1/query_range` for the query
shapes the console uses; anything else is a `PromQLError` (HTTP 400, errorType bad_data).
Times are unix seconds of DRILL time (`clock.now().timestamp()`).

Supported language
------------------
- Number literals (`0.99`, `1e3`, `0x1f`, `Inf`, `NaN`) and string literals.
- Instant vector selectors with label matchers `=`, `!=`, `=~`, `!~` (regexes are fully
  anchored), e.g. `http_requests_total{namespace="shop",deployment="api",code=~"5.."}`; an
  instant selector returns each series' latest sample within the lookback window (5 minutes,
  or 2.5 sample spacings when the drill runs so fast that samples are further apart).
- Range selectors `x[5m]` (units ms s m h d w y, combinable: `1h30m`), and `offset 30m` on
  either kind of selector (`x offset 30m`, `x[1m] offset 30m`).
- Functions: `rate`, `irate`, `increase`, `delta` (of a range selector), `histogram_quantile(q,
  v)`, `clamp_min(v, s)`, `clamp_max(v, s)`, `abs(v)`, `absent(v)`, `vector(s)`, `scalar(v)`,
  `time()`.
- Aggregations `sum`, `avg`, `max`, `min`, `count` with `by (...)` or `without (...)`, written
  before or after the argument.
- Binary operators `+ - * / % ^` and comparisons `== != < > <= >=` (filtering, or 0/1 with
  `bool`) between scalars and vectors; between two vectors one-to-one matching on all labels
  but the metric name, or `on (...)` / `ignoring (...)`; set operators `and`, `or`, `unless`.
- Unary minus, parentheses, `# comments`.

- `label_replace(v, dst, replacement, src, regex)`; many-to-one / one-to-many matching with
  `on (...)`/`ignoring (...)` followed by `group_left (...)` / `group_right (...)` (the listed
  labels are copied from the "one" side), as the kube-prometheus workload joins use them.

Not supported (clear errors): subqueries, `@`, other aggregations (`topk`, `quantile`, ...)
and other functions.

Rates at any drill speed: `rate`, `irate`, `increase` and `delta` use the samples inside the
window; when the window holds fewer than 2 (the drill runs so fast that ticks are further apart
than the window), they use the two most recent samples at or before the evaluation time
instead. `rate` is the counter increase (resets handled) divided by the time between the first
and last sample used; `increase` and `delta` scale that to the window's length.

The console's queries (all tested)::

    sum by (namespace, deployment) (rate(http_requests_total[1m]))
    sum by (namespace, deployment) (rate(http_requests_total{code=~"5.."}[1m]))
      / sum by (namespace, deployment) (rate(http_requests_total[1m]))
    histogram_quantile(0.99, sum by (namespace, deployment, le)
      (rate(http_request_duration_seconds_bucket[1m])))

with label filters such as `{namespace="shop",deployment="api"}` and the same with
`offset 30m` for a baseline.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from .promql_labels import label_replace
from .promql_parser import (
    COMPARISONS,
    MATRIX,
    SCALAR,
    SET_OPS,
    STRING,
    VECTOR,
    Aggregate,
    Binary,
    Call,
    Expr,
    MatrixSelector,
    NumberLiteral,
    Paren,
    PromQLError,
    StringLiteral,
    Unary,
    VectorSelector,
    expr_type,
    parse,
    parse_duration,
)
from .traffic import History

__all__ = [
    "PromQLError",
    "format_value",
    "parse",
    "parse_duration",
    "parse_step",
    "parse_time",
    "query",
    "query_range",
]

MAX_POINTS = 11000
Metric = dict[str, str]


class TrafficSource(Protocol):
    """What the evaluator needs from `traffic.Traffic`."""

    def history(self) -> History: ...

    def drill_time(self) -> float: ...


@dataclass
class Sample:
    metric: Metric
    value: float


@dataclass
class Series:
    metric: Metric
    points: list[tuple[float, float]]


Value = float | str | list[Sample] | list[Series]


# ---- public API --------------------------------------------------------------------------
def query(traffic: TrafficSource, expr: str, at: float | None = None) -> dict[str, Any]:
    """Evaluate `expr` at `at` (default: now); the `data` of a Prometheus `/api/v1/query`."""
    node = parse(expr)
    t = traffic.drill_time() if at is None else float(at)
    result = _Evaluator(traffic.history()).eval(node, t)
    kind = expr_type(node)
    if kind == SCALAR:
        assert isinstance(result, float)
        return {"resultType": "scalar", "result": [_ts(t), format_value(result)]}
    if kind == STRING:
        return {"resultType": "string", "result": [_ts(t), result]}
    if kind == MATRIX:
        assert isinstance(result, list)
        return {"resultType": "matrix", "result": [_matrix_entry(s) for s in _sorted(result)]}
    assert isinstance(result, list)
    samples = _unique(result)  # type: ignore[arg-type]
    return {
        "resultType": "vector",
        "result": [
            {"metric": s.metric, "value": [_ts(t), format_value(s.value)]}
            for s in _sorted(samples)
        ],
    }


def query_range(
    traffic: TrafficSource, expr: str, start: float, end: float, step: float
) -> dict[str, Any]:
    """Evaluate `expr` at start, start+step, ... <= end; the `data` of `/api/v1/query_range`."""
    if end < start:
        raise PromQLError("end timestamp must not be before start time")
    if step <= 0:
        raise PromQLError(
            "zero or negative query resolution step widths are not accepted. "
            "Try a positive integer"
        )
    if (end - start) / step > MAX_POINTS:
        raise PromQLError(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    node = parse(expr)
    kind = expr_type(node)
    if kind not in (SCALAR, VECTOR):
        raise PromQLError(
            f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
        )
    evaluator = _Evaluator(traffic.history())
    series: dict[tuple[tuple[str, str], ...], Series] = {}
    count = int(math.floor((end - start) / step + 1e-9)) + 1
    for k in range(count):
        t = start + k * step
        result = evaluator.eval(node, t)
        samples = [Sample({}, result)] if isinstance(result, float) else _unique(result)
        for sample in samples:
            key = tuple(sorted(sample.metric.items()))
            entry = series.setdefault(key, Series(sample.metric, []))
            entry.points.append((t, sample.value))
    entries = [_matrix_entry(s) for s in _sorted(list(series.values()))]
    return {"resultType": "matrix", "result": entries}


def format_value(value: float) -> str:
    """A sample value as the Prometheus API writes it: shortest form, no exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text or "E" in text else text


def parse_time(text: str) -> float:
    """An API time parameter: unix seconds (`1700000000.5`) or RFC 3339."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise PromQLError(f'cannot parse "{text}" to a valid timestamp') from None


def parse_step(text: str) -> float:
    """An API duration parameter: seconds (`15`, `0.5`) or a duration (`15s`, `1m`)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except PromQLError:
        raise PromQLError(f'cannot parse "{text}" to a valid duration') from None


# ---- formatting helpers ------------------------------------------------------------------
def _ts(t: float) -> float:
    return round(t, 3)


def _matrix_entry(series: Series) -> dict[str, Any]:
    return {
        "metric": series.metric,
        "values": [[_ts(t), format_value(v)] for t, v in series.points],
    }


def _sorted(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: sorted(item.metric.items()))


def _unique(samples: list[Sample]) -> list[Sample]:
    seen: set[tuple[tuple[str, str], ...]] = set()
    for sample in samples:
        key = tuple(sorted(sample.metric.items()))
        if key in seen:
            raise PromQLError("vector cannot contain metrics with the same labelset", "execution")
        seen.add(key)
    return samples


def _drop_name(metric: Metric) -> Metric:
    return {k: v for k, v in metric.items() if k != "__name__"}


# ---- arithmetic --------------------------------------------------------------------------
def _arith(op: str, x: float, y: float) -> float:
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "/":
        if y == 0:
            if x == 0 or math.isnan(x):
                return math.nan
            return math.copysign(math.inf, x) * math.copysign(1.0, y)
        return x / y
    if op == "%":
        try:
            return math.fmod(x, y)
        except ValueError:
            return math.nan
    try:  # "^"
        return math.pow(x, y)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": lambda x, y: x == y,
    "!=": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    ">": lambda x, y: x > y,
    "<=": lambda x, y: x <= y,
    ">=": lambda x, y: x >= y,
}


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Quantile `q` from cumulative histogram buckets (upper bound, count), as Prometheus does.

    Linear interpolation inside the bucket the rank falls into; the lowest bucket starts at 0;
    a rank in the +Inf bucket gives the highest finite bound; NaN without a +Inf bucket or
    without observations.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for upper, count in buckets:
        merged[upper] = merged.get(upper, 0.0) + count
    ordered = sorted(merged.items())
    if len(ordered) < 2 or ordered[-1][0] != math.inf:
        return math.nan
    running = 0.0
    fixed: list[tuple[float, float]] = []
    for upper, count in ordered:  # counts must not decrease with the bound
        running = max(running, count)
        fixed.append((upper, running))
    total = fixed[-1][1]
    if total == 0 or math.isnan(total):
        return math.nan
    rank = q * total
    index = next((i for i, (_, c) in enumerate(fixed[:-1]) if c >= rank), len(fixed) - 1)
    if index == len(fixed) - 1:
        return fixed[-2][0]
    upper, count = fixed[index]
    if index == 0 and upper <= 0:
        return upper
    lower_bound, lower_count = (0.0, 0.0) if index == 0 else fixed[index - 1]
    in_bucket = count - lower_count
    if in_bucket <= 0:
        return upper
    return lower_bound + (upper - lower_bound) * ((rank - lower_count) / in_bucket)


# ---- evaluation --------------------------------------------------------------------------
class _Evaluator:
    """Evaluates a parsed expression at given times against one history snapshot."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.times = history.times
        self._selected: dict[int, list[tuple[int, Metric]]] = {}

    def eval(self, node: Expr, t: float) -> Value:
        if isinstance(node, NumberLiteral):
            return node.value
        if isinstance(node, StringLiteral):
            return node.value
        if isinstance(node, Paren):
            return self.eval(node.expr, t)
        if isinstance(node, VectorSelector):
            return self.instant(node, t)
        if isinstance(node, MatrixSelector):
            return self.matrix(node, t)
        if isinstance(node, Unary):
            return self.unary(node, t)
        if isinstance(node, Call):
            return self.call(node, t)
        if isinstance(node, Aggregate):
            return self.aggregate(node, t)
        if isinstance(node, Binary):
            return self.binary(node, t)
        raise PromQLError(f"cannot evaluate {type(node).__name__}", "execution")

    # -- selectors --
    def select(self, node: VectorSelector) -> list[tuple[int, Metric]]:
        found = self._selected.get(id(node))
        if found is None:
            found = []
            for index, (name, labels) in enumerate(self.history.keys):
                if node.name is not None and name != node.name:
                    continue
                metric = {"__name__": name, **dict(labels)}
                if all(m.matches(metric.get(m.name, "")) for m in node.matchers):
                    found.append((index, metric))
            self._selected[id(node)] = found
        return found

    def instant(self, node: VectorSelector, t: float) -> list[Sample]:
        at = t - node.offset
        newest = bisect_right(self.times, at) - 1
        oldest_allowed = at - self.history.lookback
        out: list[Sample] = []
        for index, metric in self.select(node):
            row = newest
            while row >= 0 and self.times[row] >= oldest_allowed:
                value = self.history.value(row, index)
                if value is not None:
                    out.append(Sample(dict(metric), value))
                    break
                row -= 1
        return out

    def window(self, index: int, at: float, seconds: float) -> list[tuple[float, float]]:
        """Samples of one series in (at - seconds, at]."""
        lo = bisect_right(self.times, at - seconds)
        hi = bisect_right(self.times, at)
        points = []
        for row in range(lo, hi):
            value = self.history.value(row, index)
            if value is not None:
                points.append((self.times[row], value))
        return points

    def rate_points(self, index: int, at: float, seconds: float) -> list[tuple[float, float]]:
        """The window's samples, or the two most recent at or before `at` when it has < 2."""
        points = self.window(index, at, seconds)
        if len(points) >= 2:
            return points
        row = bisect_right(self.times, at) - 1
        newest_allowed = at - max(seconds, self.history.lookback)
        found: list[tuple[float, float]] = []
        while row >= 0 and len(found) < 2:
            if not found and self.times[row] < newest_allowed:
                return []  # the series went stale
            value = self.history.value(row, index)
            if value is not None:
                found.append((self.times[row], value))
            row -= 1
        return found[::-1]

    def matrix(self, node: MatrixSelector, t: float) -> list[Series]:
        at = t - node.selector.offset
        out = []
        for index, metric in self.select(node.selector):
            points = self.window(index, at, node.range)
            if points:
                out.append(Series(dict(metric), points))
        return out

    # -- operators --
    def unary(self, node: Unary, t: float) -> Value:
        value = self.eval(node.expr, t)
        if isinstance(value, float):
            return -value
        return [Sample(_drop_name(s.metric), -s.value) for s in value]  # type: ignore[union-attr]

    def binary(self, node: Binary, t: float) -> Value:
        lhs = self.eval(node.lhs, t)
        rhs = self.eval(node.rhs, t)
        op = node.op
        if isinstance(lhs, float) and isinstance(rhs, float):
            if op in COMPARISONS:
                return 1.0 if _COMPARE[op](lhs, rhs) else 0.0
            return _arith(op, lhs, rhs)
        if isinstance(lhs, float) or isinstance(rhs, float):
            return self.vector_scalar(node, lhs, rhs)
        assert isinstance(lhs, list) and isinstance(rhs, list)
        if op in SET_OPS:
            return self.set_op(node, lhs, rhs)  # type: ignore[arg-type]
        return self.vector_vector(node, lhs, rhs)  # type: ignore[arg-type]

    def vector_scalar(self, node: Binary, lhs: Value, rhs: Value) -> list[Sample]:
        scalar_left = isinstance(lhs, float)
        vector = rhs if scalar_left else lhs
        scalar = lhs if scalar_left else rhs
        assert isinstance(vector, list) and isinstance(scalar, float)
        out: list[Sample] = []
        for sample in vector:
            assert isinstance(sample, Sample)
            x, y = (scalar, sample.value) if scalar_left else (sample.value, scalar)
            if node.op in COMPARISONS:
                hit = _COMPARE[node.op](x, y)
                if node.return_bool:
                    out.append(Sample(_drop_name(sample.metric), 1.0 if hit else 0.0))
                elif hit:
                    out.append(Sample(dict(sample.metric), sample.value))
            else:
                out.append(Sample(_drop_name(sample.metric), _arith(node.op, x, y)))
        return out

    @staticmethod
    def signature(node: Binary, metric: Metric) -> tuple[tuple[str, str], ...]:
        matching = node.matching
        if matching is not None and matching.on:
            return tuple((name, metric.get(name, "")) for name in sorted(matching.labels))
        ignored = set(matching.labels) if matching is not None else set()
        ignored.add("__name__")
        return tuple(sorted((k, v) for k, v in metric.items() if k not in ignored))

    def vector_vector(self, node: Binary, lhs: list[Sample], rhs: list[Sample]) -> list[Sample]:
        group = node.matching.group if node.matching is not None else ""
        many, one = (rhs, lhs) if group == "right" else (lhs, rhs)
        ones: dict[tuple[tuple[str, str], ...], Sample] = {}
        for sample in one:
            key = self.signature(node, sample.metric)
            if key in ones:
                side = "left" if group == "right" else "right"
                raise PromQLError(
                    f"found duplicate series for the match group {dict(key)} on the {side} "
                    "hand-side of the operation; many-to-many matching not allowed: matching "
                    "labels must be unique on one side",
                    "execution",
                )
            ones[key] = sample
        used: set[tuple[tuple[str, str], ...]] = set()
        results: set[tuple[tuple[str, str], ...]] = set()
        out: list[Sample] = []
        for sample in many:
            key = self.signature(node, sample.metric)
            other = ones.get(key)
            if other is None:
                continue
            if not group and key in used:
                raise PromQLError(
                    f"multiple matches for labels {dict(key)}: many-to-one matching must be "
                    "explicit (group_left/group_right)",
                    "execution",
                )
            used.add(key)
            metric = self.result_metric(node, sample.metric, other.metric)
            if group:
                labels = tuple(sorted(metric.items()))
                if labels in results:
                    raise PromQLError(
                        "multiple matches for labels: grouping labels must ensure unique "
                        "matches", "execution")
                results.add(labels)
            x, y = (other.value, sample.value) if group == "right" else (sample.value,
                                                                          other.value)
            if node.op in COMPARISONS:
                hit = _COMPARE[node.op](x, y)
                if node.return_bool:
                    out.append(Sample(metric, 1.0 if hit else 0.0))
                elif hit:
                    out.append(Sample(metric, sample.value))
            else:
                out.append(Sample(metric, _arith(node.op, x, y)))
        return out

    @staticmethod
    def result_metric(node: Binary, metric: Metric, other: Metric | None = None) -> Metric:
        result = dict(metric)
        if node.op not in COMPARISONS or node.return_bool:
            result.pop("__name__", None)
        matching = node.matching
        if matching is not None and matching.group:
            for label in matching.include:  # copied from the "one" side, or dropped
                value = (other or {}).get(label, "")
                if value:
                    result[label] = value
                else:
                    result.pop(label, None)
        elif matching is not None:
            if matching.on:
                result = {k: v for k, v in result.items() if k in matching.labels}
            else:
                for label in matching.labels:
                    result.pop(label, None)
        return result

    def set_op(self, node: Binary, lhs: list[Sample], rhs: list[Sample]) -> list[Sample]:
        right_keys = {self.signature(node, s.metric) for s in rhs}
        if node.op == "and":
            return [s for s in lhs if self.signature(node, s.metric) in right_keys]
        if node.op == "unless":
            return [s for s in lhs if self.signature(node, s.metric) not in right_keys]
        left_keys = {self.signature(node, s.metric) for s in lhs}
        return lhs + [s for s in rhs if self.signature(node, s.metric) not in left_keys]

    # -- aggregation --
    def aggregate(self, node: Aggregate, t: float) -> list[Sample]:
        vector = self.eval(node.expr, t)
        assert isinstance(vector, list)
        groups: dict[tuple[tuple[str, str], ...], tuple[Metric, list[float]]] = {}
        for sample in vector:
            assert isinstance(sample, Sample)
            if node.without:
                dropped = set(node.grouping) | {"__name__"}
                metric = {k: v for k, v in sample.metric.items() if k not in dropped}
            else:
                metric = {k: sample.metric[k] for k in node.grouping if sample.metric.get(k)}
            key = tuple(sorted(metric.items()))
            groups.setdefault(key, (metric, []))[1].append(sample.value)
        return [Sample(metric, _reduce(node.op, values)) for metric, values in groups.values()]

    # -- functions --
    def call(self, node: Call, t: float) -> Value:
        name = node.func
        if name in ("rate", "irate", "increase", "delta"):
            return self.rate(name, _unwrap(node.args[0]), t)
        if name == "time":
            return t
        if name == "vector":
            value = self.eval(node.args[0], t)
            assert isinstance(value, float)
            return [Sample({}, value)]
        if name == "label_replace":
            vector = self.eval(node.args[0], t)
            assert isinstance(vector, list)
            dst, replacement, src, regex = (self.eval(arg, t) for arg in node.args[1:])
            metrics = label_replace([s.metric for s in vector], str(dst), str(replacement),
                                    str(src), str(regex))  # type: ignore[union-attr]
            samples = [Sample(m, s.value) for m, s in zip(metrics, vector, strict=True)]  # type: ignore[union-attr]
            return _unique_labels(samples, "label_replace")
        if name == "histogram_quantile":
            q = self.eval(node.args[0], t)
            vector = self.eval(node.args[1], t)
            assert isinstance(q, float) and isinstance(vector, list)
            return self.histogram_quantile(q, vector)  # type: ignore[arg-type]
        vector = self.eval(node.args[0], t)
        assert isinstance(vector, list)
        samples: list[Sample] = vector  # type: ignore[assignment]
        if name == "scalar":
            return samples[0].value if len(samples) == 1 else math.nan
        if name == "absent":
            return [] if samples else [Sample(_absent_labels(_unwrap(node.args[0])), 1.0)]
        if name == "abs":
            return [Sample(_drop_name(s.metric), abs(s.value)) for s in samples]
        bound = self.eval(node.args[1], t)
        assert isinstance(bound, float)
        pick = max if name == "clamp_min" else min
        return [Sample(_drop_name(s.metric), pick(s.value, bound)) for s in samples]

    def rate(self, name: str, node: Expr, t: float) -> list[Sample]:
        if not isinstance(node, MatrixSelector):
            raise PromQLError(f'expected a range vector selector in call to "{name}"')
        at = t - node.selector.offset
        out: list[Sample] = []
        for index, metric in self.select(node.selector):
            points = self.rate_points(index, at, node.range)
            if len(points) < 2:
                continue
            if name == "irate":
                points = points[-2:]
            span = points[-1][0] - points[0][0]
            if span <= 0:
                continue
            if name == "delta":
                value = (points[-1][1] - points[0][1]) / span * node.range
            else:
                per_second = _counter_increase(points) / span
                value = per_second * node.range if name == "increase" else per_second
            out.append(Sample(_drop_name(metric), value))
        return out

    def histogram_quantile(self, q: float, vector: list[Sample]) -> list[Sample]:
        groups: dict[tuple[tuple[str, str], ...], tuple[Metric, list[tuple[float, float]]]] = {}
        for sample in vector:
            le = sample.metric.get("le")
            if le is None:
                continue
            try:
                upper = float(le.replace("Inf", "inf"))
            except ValueError:
                continue
            metric = {k: v for k, v in sample.metric.items() if k not in ("le", "__name__")}
            key = tuple(sorted(metric.items()))
            groups.setdefault(key, (metric, []))[1].append((upper, sample.value))
        return [Sample(metric, bucket_quantile(q, buckets)) for metric, buckets in groups.values()]


def _unique_labels(samples: list[Sample], where: str) -> list[Sample]:
    seen: set[tuple[tuple[str, str], ...]] = set()
    for sample in samples:
        key = tuple(sorted(sample.metric.items()))
        if key in seen:
            raise PromQLError(f"vector cannot contain metrics with the same labelset ({where})",
                              "execution")
        seen.add(key)
    return samples


def _unwrap(node: Expr) -> Expr:
    while isinstance(node, Paren):
        node = node.expr
    return node


def _absent_labels(node: Expr) -> Metric:
    if not isinstance(node, VectorSelector):
        return {}
    return {m.name: m.value for m in node.matchers if m.op == "=" and m.name != "__name__"}


def _counter_increase(points: list[tuple[float, float]]) -> float:
    increase = points[-1][1] - points[0][1]
    for (_, before), (_, after) in zip(points, points[1:], strict=False):
        if after < before:  # counter reset: it restarted from zero
            increase += before
    return increase


def _reduce(op: str, values: list[float]) -> float:
    if op == "sum":
        return sum(values)
    if op == "avg":
        return sum(values) / len(values)
    if op == "count":
        return float(len(values))
    present = [v for v in values if not math.isnan(v)]
    if not present:
        return math.nan
    return max(present) if op == "max" else min(present)
