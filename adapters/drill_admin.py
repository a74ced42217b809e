"""The drill cluster's admin API (`/drill/v1/...`) over HTTP, reached through its kubeconfig.

What the console (`warroom drill inject`, drill mode) uses to read and steer a running drill
cluster; plain dicts come back, so nothing here depends on drill/.

The kubeconfig the drill writes (`warroom drill` → `<state dir>/drill-kubeconfig.yaml`,
`warroom drill-server --kubeconfig-out PATH`) has the server URL, the CA data and the admin
token: everything needed. Only loopback servers are contacted — the drill binds nowhere else,
and the admin token must never be sent to a real cluster.
"""

from __future__ import annotations

import base64
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from adapters.errors import AdapterError, Unreachable


class DrillAdminError(AdapterError):
    """A problem talking to the drill cluster, with a message for humans."""


class DrillUnreachable(DrillAdminError, Unreachable):
    """No drill cluster answered at the kubeconfig's address."""


@dataclass(frozen=True)
class DrillEndpoint:
    """Where a drill cluster listens, its CA (PEM) and its admin token."""

    url: str
    ca_pem: bytes
    token: str


def endpoint_from_kubeconfig(path: str | Path) -> DrillEndpoint:
    """Server URL, CA and token of the current context of a drill kubeconfig."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise DrillAdminError(f"no drill kubeconfig at {path} — start a drill cluster with "
                              "`warroom drill` (or pass --kubeconfig PATH)") from None
    except (OSError, yaml.YAMLError) as exc:
        raise DrillAdminError(f"cannot read kubeconfig {path}: {exc}") from None
    try:
        context_name = config["current-context"]
        context = _named(config, "contexts", context_name)["context"]
        cluster = _named(config, "clusters", context["cluster"])["cluster"]
        user = _named(config, "users", context["user"])["user"]
        url = str(cluster["server"]).rstrip("/")
        if "certificate-authority-data" in cluster:
            ca_pem = base64.b64decode(cluster["certificate-authority-data"])
        else:
            ca_pem = Path(cluster["certificate-authority"]).read_bytes()
        token = str(user["token"])
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise DrillAdminError(f"{path} is not a drill kubeconfig (missing {exc})") from None
    host = urlsplit(url).hostname or ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise DrillAdminError(f"{path} points at {url}, which is not a drill cluster (drill "
                              "clusters listen on 127.0.0.1 only); refusing to send it drill "
                              "controls")
    return DrillEndpoint(url, ca_pem, token)


def _named(config: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    for entry in config.get(section) or []:
        if entry.get("name") == name:
            return entry
    raise KeyError(f"{section[:-1]} {name!r}")


class DrillAdmin:
    """A small synchronous client of the admin API."""

    def __init__(self, endpoint: DrillEndpoint, timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        context = ssl.create_default_context(cadata=endpoint.ca_pem.decode())
        self._client = httpx.Client(base_url=endpoint.url, verify=context, timeout=timeout,
                                    headers={"Authorization": f"Bearer {endpoint.token}"})

    @classmethod
    def from_kubeconfig(cls, path: str | Path, timeout: float = 10.0) -> DrillAdmin:
        return cls(endpoint_from_kubeconfig(path), timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> DrillAdmin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def faults(self) -> dict[str, Any]:
        return self._request("GET", "/drill/v1/faults")

    def inject(self, fault: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._request("POST", "/drill/v1/faults", {"fault": fault, **(params or {})})

    def status(self) -> dict[str, Any]:
        return self._request("GET", "/drill/v1/status")

    def clock(self, *, pause: bool = False, resume: bool = False,
              speed: float | None = None) -> dict[str, Any]:
        """Pause, resume or re-speed the drill clock; the status after it."""
        body: dict[str, Any] = {"pause": pause, "resume": resume}
        if speed is not None:
            body["speed"] = speed
        return self._request("POST", "/drill/v1/clock", body)

    def scenario_action(self, action: str) -> dict[str, Any]:
        """Run a drill action of the current scenario (`backup-current`, `restore`,
        `reconcile`, `rotate-secrets`, `migrate-down`, `stop-writes`): what it did and the
        status after it. `DrillAdminError` (400/409 message) when the scenario cannot."""
        return self._request("POST", "/drill/v1/scenario/action", {"action": action})

    def _request(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        url = self.endpoint.url
        try:
            response = self._client.request(method, path, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise DrillUnreachable(f"no drill cluster is answering at {url} — start one with "
                                   "`warroom drill`") from None
        except httpx.HTTPError as exc:
            raise DrillUnreachable(f"the drill cluster at {url} did not answer properly: "
                                   f"{exc or type(exc).__name__}") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code in (401, 403):
            raise DrillAdminError(f"the drill cluster at {url} refused the kubeconfig's token "
                                  f"({response.status_code}); is this the kubeconfig of the "
                                  "drill cluster running there?")
        if response.status_code >= 400 or not isinstance(data, dict):
            message = data.get("message") if isinstance(data, dict) else response.text[:200]
            raise DrillAdminError(f"the drill cluster at {url} answered "
                                  f"{response.status_code}: {message}")
        return data
