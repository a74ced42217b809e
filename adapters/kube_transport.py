"""What every request to the API server carries and what every answer tells us.

``KubeApiClient`` is the official client's ``ApiClient`` with one seam, ``call_api``, that
every request goes through (typed calls, ``KubeRequests.request``, lists and watches): it adds
the kubeconfig's impersonation headers (kube_identity; one ``Impersonate-Group`` header per
group, so the headers travel as a urllib3 ``HTTPHeaderDict``) and feeds each response's
``Date`` header to the ``ServerClock`` that ages are computed with (kube_time).
"""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client
from urllib3 import HTTPHeaderDict

from .kube_identity import Impersonation
from .kube_time import ServerClock


class KubeApiClient(client.ApiClient):
    """``client.ApiClient`` that impersonates and keeps the server's clock."""

    def __init__(self, configuration: client.Configuration, *,
                 impersonation: Impersonation | None = None) -> None:
        super().__init__(configuration)
        self.impersonation = impersonation
        self.server_clock = ServerClock()

    def call_api(self, method: Any, url: Any, header_params: Any = None, body: Any = None,
                 post_params: Any = None, _request_timeout: Any = None) -> Any:
        headers = HTTPHeaderDict(header_params or {})
        if self.impersonation is not None:
            sent_headers = self.impersonation.headers()
            for name in {name for name, _ in sent_headers}:
                headers.discard(name)
            for name, value in sent_headers:
                headers.add(name, value)
        sent = time.time()
        response = super().call_api(method, url, header_params=headers, body=body,
                                    post_params=post_params, _request_timeout=_request_timeout)
        self.server_clock.observe(response.headers.get("Date"), sent, time.time())
        return response


__all__ = ["KubeApiClient"]
