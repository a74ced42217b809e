"""Proxies between the console and the API server, as kubectl uses them.

A cluster's ``proxy-url`` (http://, https:// or socks5://, often an SSH ``-D`` tunnel to a
bastion) carries every request, whatever ``NO_PROXY`` says: client-go installs it with
``http.ProxyURL``; only without one do ``HTTPS_PROXY`` / ``NO_PROXY`` apply (the official
client reads those itself). SOCKS goes through urllib3's ``SOCKSProxyManager`` (PySocks).
When the proxy is down the error says so, not just "cannot reach the API server".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from kubernetes import client
from kubernetes.client.rest import should_bypass_proxies

from .errors import AdapterError, Timeout, Unreachable

PROXY_SCHEMES = ("http", "https", "socks5")


def use_proxy_url(configuration: client.Configuration, cluster: dict[str, Any]) -> None:
    """The cluster's ``proxy-url`` as kubectl uses it: for every request, whatever
    ``NO_PROXY`` says; ``socks5://`` resolves names at the proxy, as client-go's SOCKS5
    dialer does (urllib3 calls that ``socks5h``)."""
    url = cluster.get("proxy-url")
    if not url:
        return
    scheme, sep, rest = str(url).partition("://")
    if not sep or scheme.lower() not in PROXY_SCHEMES or not rest:
        raise AdapterError(f"The kubeconfig's proxy-url {shown(str(url))!r} is not supported; "
                           "kubectl takes http://, https:// or socks5:// URLs.")
    if scheme.lower() == "socks5":
        url = "socks5h://" + rest
    configuration.proxy = str(url)
    configuration.no_proxy = ""


def proxy_in_use(configuration: client.Configuration) -> str | None:
    """The proxy requests to the API server go through, if any."""
    proxy = configuration.proxy
    if not proxy or should_bypass_proxies(str(configuration.host or ""),
                                          configuration.no_proxy or ""):
        return None
    return str(proxy)


def shown(url: str) -> str:
    """A proxy URL without its user and password: ``socks5://bastion:1080``."""
    parts = urlsplit(url)
    if not parts.hostname:
        return url.split("@")[-1]
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme.replace('socks5h', 'socks5')}://{parts.hostname}{port}"


def explain_proxy_failure(error: AdapterError, configuration: client.Configuration
                          ) -> AdapterError:
    """An unreachable API server behind a proxy: say which proxy, and what to check."""
    proxy = proxy_in_use(configuration)
    if proxy is None or not isinstance(error, Unreachable | Timeout):
        return error
    found = re.search(r"\(([^()]*)\)", error.message)
    reason = found.group(1) if found else "no answer in time"
    message = (f"Cannot reach the API server at {configuration.host} through the proxy "
               f"{shown(proxy)} ({reason}). Is the proxy or SSH tunnel up? (the kubeconfig's "
               "proxy-url, or $HTTPS_PROXY without one)")
    error.message = message
    error.args = (message,)
    return error


__all__ = ["PROXY_SCHEMES", "explain_proxy_failure", "proxy_in_use", "shown", "use_proxy_url"]
