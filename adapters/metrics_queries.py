"""PromQL templates: the queries ``MetricsClient`` runs, per cluster if need be.

The PromQL lives in ``QueryTemplates`` so each cluster can use its own metric and label names.
``render`` fills a template in. Templates are plain text with placeholders:

``{selector}``
    a whole label selector, e.g. ``{namespace="shop",deployment="api"}`` (empty when the
    query is not narrowed), written straight after a metric name.
``{matchers}``
    the same matchers without braces, for selectors that add matchers of their own:
    ``http_requests_total{code=~"5..",{matchers}}`` (a comma next to an empty ``{matchers}``
    is dropped).
``{window}``
    the rate window, e.g. ``1m``.
``{offset}``
    only in ``baseline_p99``: the baseline offset, e.g. ``30m``.
``{namespace}``, ``{deployment}``, ``{service}``
    regular-expression values for ``=~`` matchers on labels of the stack's own naming
    (``destination_workload=~"{deployment}"``): the escaped name when the query is narrowed,
    ``.+`` when not; ``{service}`` is the Services behind the deployment (ingress-nginx).
    The metric presets (``metric_presets.py``) use these.

``memory`` is the working set of a deployment's largest container; cAdvisor has no deployment
label, so the default narrows by pod name (``pod=~"{deployment}-[a-z0-9]+-[a-z0-9]+"``) and
labels its answer with the deployment read from the pod name with ``label_replace``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import Invalid

DEFAULT_REQUEST_RATE = (
    "sum by (namespace, deployment) (rate(http_requests_total{selector}[{window}]))"
)
# 5xx over all requests. The `or ... * 0` arm gives a deployment that served traffic but never
# a 5xx (so has no 5xx series at all) a ratio of 0 instead of no value.
DEFAULT_ERROR_RATIO = (
    '(sum by (namespace, deployment) (rate(http_requests_total{code=~"5..",{matchers}}[{window}]))'
    " or sum by (namespace, deployment) (rate(http_requests_total{selector}[{window}])) * 0)"
    " / sum by (namespace, deployment) (rate(http_requests_total{selector}[{window}]))"
)
DEFAULT_P95 = (
    "histogram_quantile(0.95, sum by (namespace, deployment, le) "
    "(rate(http_request_duration_seconds_bucket{selector}[{window}])))"
)
DEFAULT_P99 = (
    "histogram_quantile(0.99, sum by (namespace, deployment, le) "
    "(rate(http_request_duration_seconds_bucket{selector}[{window}])))"
)
# The working set of the deployment's largest container (what meets its limit first), from
# cAdvisor alone: the Deployment read from the pod name (<deployment>-<pod-template-hash>-
# <suffix>), so no kube-state-metrics join is needed. `container!=""` drops the pod cgroup's
# own series, `container!="POD"` the pause container of older kubelets.
DEFAULT_MEMORY = (
    "max by (namespace, deployment) (label_replace("
    'container_memory_working_set_bytes{container!="",container!="POD",namespace=~"{namespace}",'
    'pod=~"{deployment}-[a-z0-9]+-[a-z0-9]+"},'
    ' "deployment", "$1", "pod", "(.+)-[a-z0-9]+-[a-z0-9]+"))'
)

_PLACEHOLDER = re.compile(r"\{(selector|matchers|window|offset|namespace|deployment|service)\}")
_NARROWING = ("{selector}", "{matchers}", "{namespace}", "{deployment}", "{service}")
_BARE_WORD_IN_BRACES = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DURATION = re.compile(r"(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?")


def check_duration(name: str, value: object, where: str = "metrics config") -> None:
    """Raise ``Invalid`` unless ``value`` is a Prometheus duration above zero ("1m", "1h30m")."""
    if not isinstance(value, str) or not value or not _DURATION.fullmatch(value):
        raise Invalid(
            f"{where}: {name} must be a Prometheus duration such as 1m, 90s or 1h30m, "
            f"not {value!r}."
        )
    if not any(ch.isdigit() and ch != "0" for ch in value):
        raise Invalid(f"{where}: {name} must be longer than zero, not {value!r}.")


@dataclass(frozen=True)
class QueryTemplates:
    """PromQL for each figure, with ``{selector}``/``{matchers}``/``{window}`` placeholders.

    Each query must return one series per deployment, labelled with the configured namespace
    and deployment labels. ``baseline_p99`` (with ``{offset}``) is optional: by default it is
    ``p99`` with ``offset {offset}`` after every ``[{window}]`` range.
    """

    request_rate: str = DEFAULT_REQUEST_RATE
    error_ratio: str = DEFAULT_ERROR_RATIO
    p95: str = DEFAULT_P95
    p99: str = DEFAULT_P99
    baseline_p99: str | None = None
    memory: str | None = DEFAULT_MEMORY

    def __post_init__(self) -> None:
        for name in ("request_rate", "error_ratio", "p95", "p99", "baseline_p99", "memory"):
            template = getattr(self, name)
            if template is None and name in ("baseline_p99", "memory"):
                continue
            _check_template(name, template, allow_offset=name == "baseline_p99")
        if self.baseline_p99 is None and "[{window}]" not in self.p99:
            raise Invalid(
                "metrics config: queries.p99 has no [{window}] range to shift back in time for "
                "the baseline; set queries.baseline_p99 with an {offset} placeholder."
            )
        if self.baseline_p99 is not None and "{offset}" not in self.baseline_p99:
            raise Invalid("metrics config: queries.baseline_p99 must use the {offset} placeholder.")

    def baseline(self) -> str:
        """The template for the p99 a ``baseline_offset`` ago."""
        if self.baseline_p99 is not None:
            return self.baseline_p99
        return self.p99.replace("[{window}]", "[{window}] offset {offset}")


def _check_template(name: str, template: object, *, allow_offset: bool) -> None:
    if not isinstance(template, str) or not template.strip():
        raise Invalid(f"metrics config: queries.{name} must be a non-empty PromQL string.")
    if not any(placeholder in template for placeholder in _NARROWING):
        raise Invalid(
            f"metrics config: queries.{name} uses neither {{selector}} nor {{matchers}} "
            "(nor {namespace}/{deployment}), so it cannot be narrowed to a namespace or "
            "deployment."
        )
    known = {"selector", "matchers", "window", "namespace", "deployment", "service"} | (
        {"offset"} if allow_offset else set())
    for match in _BARE_WORD_IN_BRACES.finditer(template):
        word = match.group(1)
        if word not in known:
            hint = did_you_mean(word, known)
            raise Invalid(
                f"metrics config: queries.{name} has an unknown placeholder {{{word}}}{hint}; "
                f"known placeholders: {', '.join('{' + k + '}' for k in sorted(known))}."
            )


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """A hint naming the known word closest to ``word`` (" (did you mean 'x'?)"), or ""."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""



def render(
    template: str,
    matchers: Iterable[str],
    window: str,
    offset: str | None = None,
    regexes: Mapping[str, str] | None = None,
) -> str:
    """Fill a query template's placeholders (see the module docstring); ``regexes`` holds the
    values of ``{namespace}``, ``{deployment}`` and ``{service}`` (``.+`` when missing)."""
    inner = ",".join(matchers)
    text = template
    if not inner:
        text = text.replace(",{matchers}", "").replace("{matchers},", "")
    values = {
        "selector": "{" + inner + "}" if inner else "",
        "matchers": inner,
        "window": window,
        "offset": offset if offset is not None else "{offset}",
        "namespace": ".+",
        "deployment": ".+",
        "service": ".+",
    } | dict(regexes or {})
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


__all__ = [
    "DEFAULT_ERROR_RATIO",
    "DEFAULT_MEMORY",
    "DEFAULT_P95",
    "DEFAULT_P99",
    "DEFAULT_REQUEST_RATE",
    "QueryTemplates",
    "check_duration",
    "did_you_mean",
    "render",
]
