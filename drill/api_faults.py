"""The answers of three faults a real cluster sends during an incident (drill/faults.py).

- **throttle**: API Priority and Fairness rejecting a request. kube-apiserver answers with
  `http.Error` (`apiserver/pkg/server/filters/priority-and-fairness.go`, `tooManyRequests`):
  429, `Content-Type: text/plain; charset=utf-8`, body "Too many requests, please try again
  later.", a `Retry-After` header and the `X-Kubernetes-PF-FlowSchema-UID` /
  `X-Kubernetes-PF-PriorityLevel-UID` headers -- not a Status object.
- **deny**: a validating admission webhook (Gatekeeper, Kyverno) refusing a write. The API
  server wraps the webhook's Status (`apiserver/pkg/admission/plugin/webhook/errors`,
  `ToStatusErr`): its code (403 for controller-runtime's `Denied`), reason `Forbidden`, the
  message `admission webhook "NAME" denied the request: TEXT` and details as `NewForbidden`
  (group, kind = the resource, name). RBAC said yes: `auth can-i` still answers yes.
- **bad-gateway**: a load balancer or corporate proxy in front of the API answering 502 with
  an HTML error page of several kilobytes.
"""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from .errors import ApiError

APF_MESSAGE = "Too many requests, please try again later."
_FLOW_SCHEMA_UID = str(uuid.UUID(int=0x5E1F_C0DE))
_PRIORITY_LEVEL_UID = str(uuid.UUID(int=0x1E7E_1))


def throttled(retry_after: int) -> web.Response:
    """kube-apiserver's APF rejection."""
    return web.Response(text=APF_MESSAGE + "\n", status=429, content_type="text/plain",
                        charset="utf-8", headers={
                            "Retry-After": str(retry_after),
                            "X-Content-Type-Options": "nosniff",
                            "X-Kubernetes-PF-FlowSchema-UID": _FLOW_SCHEMA_UID,
                            "X-Kubernetes-PF-PriorityLevel-UID": _PRIORITY_LEVEL_UID})


def admission_denied(webhook: str, message: str, resource: str, group: str,
                     name: str) -> web.Response:
    """An admission webhook's denial as the API server relays it."""
    details = {"group": group, "kind": resource}
    if name:
        details["name"] = name
    error = ApiError(403, f'admission webhook "{webhook}" denied the request: {message}',
                     reason="Forbidden", details=details)
    return web.Response(body=json.dumps(error.status(), separators=(",", ":")).encode(),
                        status=403, content_type="application/json")


def _html_page() -> str:
    """A proxy's 502 page: markup, styles and scripts around two sentences (~11 kB)."""
    styles = "\n".join(
        f".gw-{i} {{ margin: {i}px auto; padding: 0 {i % 7}px; color: #{(i * 2654435761) % 0xFFFFFF:06x};"
        f" font: 14px/1.4 -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; }}"
        for i in range(70))
    script = ("window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push("
              "arguments);} gtag('js', new Date()); gtag('config', 'UA-000000-1');\n") * 12
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>502 Bad Gateway</title>\n<style>\n" + styles + "\n</style>\n"
        "<script type=\"text/javascript\">\n" + script + "</script>\n</head>\n"
        "<body class=\"gw-1\">\n<!-- error page served by the edge proxy; upstream: "
        "kube-apiserver:6443 -->\n<div class=\"gw-2\"><h1>502 Bad Gateway</h1>\n"
        "<p>The proxy server received an invalid response from an upstream server.</p>\n"
        "<p>Reference&#32;&#35;97.3c1e2f17.1718000000.5a1b2c3d</p></div>\n"
        "<hr><center>nginx</center>\n</body>\n</html>\n")


HTML_502 = _html_page()


def bad_gateway() -> web.Response:
    return web.Response(text=HTML_502, status=502, content_type="text/html", charset="utf-8")


def resource_matches(wanted: str, resource: str) -> bool:
    """A webhook rule's resource: "deployments" covers its subresources ("deployments/*")."""
    return wanted == "*" or resource == wanted or resource.split("/")[0] == wanted


__all__ = ["APF_MESSAGE", "HTML_502", "admission_denied", "bad_gateway", "resource_matches",
           "throttled"]
