"""Where Prometheus is, how to authenticate, and which PromQL to run: ``MetricsConfig``.

Built from a config file section with ``MetricsConfig.from_mapping``, which checks every key
and names the offending one (and the nearest known key for a typo). Credentials never appear
in a message or a ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import Invalid
from .metric_presets import GENERIC, check_preset, preset_templates
from .metrics_queries import QueryTemplates, check_duration, did_you_mean

_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class MetricsConfig:
    """Where Prometheus is, how to authenticate, and which PromQL to run.

    ``verify_tls`` is ``True`` (system CAs), ``False`` (no verification) or the path of a CA
    bundle. ``window`` is the rate window; ``baseline_offset`` how far back the automatic
    latency baseline looks. ``namespace_label``/``deployment_label`` are the labels the queries
    group by. ``preset`` names the monitoring stack whose metrics the queries read
    (``metric_presets.PRESETS``); ``queries`` defaults to its templates. ``service_map`` maps
    Service names to Deployment names where they differ (ingress-nginx). Credentials are left
    out of ``repr``.
    """

    base_url: str
    bearer_token: str | None = field(default=None, repr=False)
    basic_auth: tuple[str, str] | None = field(default=None, repr=False)
    verify_tls: bool | str = True
    timeout_s: float = 5.0
    window: str = "1m"
    baseline_offset: str = "30m"
    namespace_label: str = "namespace"
    deployment_label: str = "deployment"
    queries: QueryTemplates = None  # type: ignore[assignment]  # None: the preset's
    preset: str = GENERIC
    service_map: Mapping[str, str] = field(default_factory=dict)
    # extra request headers, e.g. a managed Prometheus's tenant header (X-Scope-OrgID)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        check_preset(self.preset)
        if not isinstance(self.service_map, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v
            for k, v in self.service_map.items()
        ):
            raise Invalid("metrics config: service_map must map Service names to Deployment "
                          "names (both non-empty strings).")
        if self.queries is None:
            object.__setattr__(self, "queries", preset_templates(self.preset, self.service_map))
        if self.preset != GENERIC and (self.namespace_label, self.deployment_label) != (
            "namespace", "deployment"
        ):
            raise Invalid(
                f"metrics config: preset {self.preset!r} labels its results namespace and "
                "deployment; namespace_label and deployment_label apply to the generic preset "
                "only."
            )
        parts = urlsplit(self.base_url) if isinstance(self.base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise Invalid(
                "metrics config: base_url must be an http:// or https:// URL such as "
                f"http://prometheus:9090, not {shown_url(str(self.base_url))!r}."
            )
        if self.bearer_token is not None and self.basic_auth is not None:
            raise Invalid("metrics config: use either bearer_token or basic_auth, not both.")
        if self.bearer_token is not None and not (
            isinstance(self.bearer_token, str) and self.bearer_token.strip()
        ):
            raise Invalid("metrics config: bearer_token is empty.")
        if self.basic_auth is not None and (
            len(self.basic_auth) != 2 or not all(isinstance(p, str) for p in self.basic_auth)
        ):
            raise Invalid("metrics config: basic_auth must be a (username, password) pair.")
        if isinstance(self.verify_tls, str) and not Path(self.verify_tls).is_file():
            raise Invalid(
                f"metrics config: verify_tls names a CA bundle that does not exist: "
                f"{self.verify_tls}."
            )
        if not isinstance(self.verify_tls, bool | str):
            raise Invalid("metrics config: verify_tls must be true, false or a CA bundle path.")
        if (
            isinstance(self.timeout_s, bool)
            or not isinstance(self.timeout_s, int | float)
            or not self.timeout_s > 0
        ):
            raise Invalid(
                f"metrics config: timeout_s must be a number of seconds above 0, "
                f"not {self.timeout_s!r}."
            )
        check_duration("window", self.window)
        check_duration("baseline_offset", self.baseline_offset)
        for name in ("namespace_label", "deployment_label"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _LABEL_NAME.fullmatch(value):
                raise Invalid(
                    f"metrics config: {name} must be a Prometheus label name, not {value!r}."
                )
        if not isinstance(self.queries, QueryTemplates):
            raise Invalid("metrics config: queries must be a QueryTemplates.")
        for name, value in self.headers:
            _check_header(name, value)

    @property
    def shown_url(self) -> str:
        """``base_url`` fit for messages: any user:password in it is dropped."""
        return shown_url(self.base_url)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MetricsConfig:
        """Build a config from a parsed config file section, checking every key.

        Keys: ``base_url`` (required), ``bearer_token`` or ``bearer_token_file``,
        ``basic_auth: {username, password | password_file}``, ``verify_tls``, ``timeout_s``,
        ``window``, ``baseline_offset``, ``namespace_label``, ``deployment_label``,
        ``preset`` (``generic``, ``kube-prometheus``, ``istio``, ``linkerd``,
        ``ingress-nginx``), ``service_map: {service: deployment}``,
        ``queries: {request_rate, error_ratio, p95, p99, baseline_p99, memory}`` (each one
        given replaces the preset's) and ``headers: {name: value}`` (sent with every query,
        e.g. a tenant header). Raises ``Invalid`` naming the offending key (and the nearest
        known key for a typo).
        """
        if not isinstance(data, Mapping):
            raise Invalid(f"metrics config must be a mapping of keys, not {type(data).__name__}.")
        _check_keys("metrics config", data, _TOP_KEYS)
        if "base_url" not in data:
            raise Invalid(
                "metrics config: base_url is required (e.g. base_url: http://prometheus:9090)."
            )
        kwargs: dict[str, Any] = {"base_url": _string("base_url", data["base_url"])}

        if "bearer_token" in data and "bearer_token_file" in data:
            raise Invalid("metrics config: use either bearer_token or bearer_token_file, not both.")
        if "bearer_token" in data:
            kwargs["bearer_token"] = _string("bearer_token", data["bearer_token"])
        if "bearer_token_file" in data:
            kwargs["bearer_token"] = _read_secret_file(
                "bearer_token_file", data["bearer_token_file"]
            )
        if "basic_auth" in data:
            kwargs["basic_auth"] = _basic_auth(data["basic_auth"])

        if "verify_tls" in data:
            verify = data["verify_tls"]
            if not isinstance(verify, bool | str):
                raise Invalid(
                    "metrics config: verify_tls must be true, false or the path of a CA bundle, "
                    f"not {verify!r}."
                )
            kwargs["verify_tls"] = verify
        if "timeout_s" in data:
            timeout = data["timeout_s"]
            if isinstance(timeout, bool) or not isinstance(timeout, int | float):
                raise Invalid(
                    f"metrics config: timeout_s must be a number of seconds, not {timeout!r}."
                )
            kwargs["timeout_s"] = float(timeout)
        for key in ("window", "baseline_offset", "namespace_label", "deployment_label"):
            if key in data:
                kwargs[key] = _string(key, data[key])
        if "preset" in data:
            kwargs["preset"] = check_preset(_string("preset", data["preset"]))
        if "service_map" in data:
            mapping = data["service_map"]
            if not isinstance(mapping, Mapping):
                raise Invalid("metrics config: service_map must be a table of Service name = "
                              "Deployment name.")
            kwargs["service_map"] = {str(k): _string(f"service_map.{k}", v)
                                     for k, v in mapping.items()}
        if "queries" in data:
            queries = data["queries"]
            if not isinstance(queries, Mapping):
                raise Invalid("metrics config: queries must be a mapping of query name to PromQL.")
            _check_keys("metrics config: queries", queries, _QUERY_KEYS)
            base = preset_templates(kwargs.get("preset", GENERIC), kwargs.get("service_map"))
            kwargs["queries"] = replace(
                base, **{key: _string(f"queries.{key}", value) for key, value in queries.items()}
            )
        if "headers" in data:
            kwargs["headers"] = _headers(data["headers"])
        return cls(**kwargs)


_TOP_KEYS = (
    "base_url",
    "bearer_token",
    "bearer_token_file",
    "basic_auth",
    "verify_tls",
    "timeout_s",
    "window",
    "baseline_offset",
    "namespace_label",
    "deployment_label",
    "preset",
    "service_map",
    "queries",
    "headers",
)
_QUERY_KEYS = ("request_rate", "error_ratio", "p95", "p99", "baseline_p99", "memory")
_BASIC_KEYS = ("username", "password", "password_file")



def _check_keys(where: str, data: Mapping[Any, Any], known: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            raise Invalid(
                f"{where}: unknown key {key!r}{did_you_mean(str(key), known)}; "
                f"known keys: {', '.join(known)}."
            )


def _string(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise Invalid(f"metrics config: {key} must be a string, not {type(value).__name__}.")
    return value


def _read_secret_file(key: str, value: object) -> str:
    path = Path(_string(key, value)).expanduser()
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise Invalid(f"metrics config: cannot read {key} {path}: {exc.strerror}.") from exc
    if not secret:
        raise Invalid(f"metrics config: {key} {path} is empty.")
    return secret


def _basic_auth(value: object) -> tuple[str, str]:
    if not isinstance(value, Mapping):
        raise Invalid("metrics config: basic_auth must be a mapping with username and password.")
    _check_keys("metrics config: basic_auth", value, _BASIC_KEYS)
    if "username" not in value:
        raise Invalid("metrics config: basic_auth needs a username.")
    if ("password" in value) == ("password_file" in value):
        raise Invalid("metrics config: basic_auth needs exactly one of password or password_file.")
    username = _string("basic_auth.username", value["username"])
    if "password" in value:
        password = _string("basic_auth.password", value["password"])
    else:
        password = _read_secret_file("basic_auth.password_file", value["password_file"])
    return username, password


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_OWN_HEADERS = ("authorization", "accept", "host", "content-length")


def _check_header(name: object, value: object) -> None:
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise Invalid(f"metrics config: headers: {name!r} is not an HTTP header name.")
    if name.lower() in _OWN_HEADERS:
        raise Invalid(f"metrics config: headers: {name} is set by warroom itself; use "
                      "bearer_token_file or basic_auth for credentials.")
    if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
        raise Invalid(f"metrics config: headers: the value of {name} must be one line of text.")


def _headers(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping):
        raise Invalid("metrics config: headers must be a mapping of header name to value.")
    pairs = tuple((str(k), v) for k, v in value.items())
    for name, item in pairs:
        _check_header(name, item)
    return pairs  # type: ignore[return-value]


def shown_url(url: str) -> str:
    """``url`` fit for messages: without any user:password, query or fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


__all__ = ["MetricsConfig", "shown_url"]
