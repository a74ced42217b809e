"""kube-apiserver's limits on lists and watches, as the drill cluster enforces them.

- **continue tokens expire.** A real server's token names the list's resourceVersion; once
  etcd compacts it (every 5 minutes by default) continuing answers 410 `Expired` with the
  message of `apiserver/pkg/storage/etcd3` and a fresh token in the Status's
  `metadata.continue` (which would give an inconsistent remainder). Here a token carries the
  real time it was issued and lives `continue_ttl` seconds.
- **bookmarks about once a minute** (`bookmark_every`) on watches that allow them.
- **watch-list parameters are validated** as `ValidateListOptions`
  (`apimachinery/pkg/apis/meta/internalversion/validation`): `sendInitialEvents` needs
  `resourceVersionMatch=NotOlderThan` and `allowWatchBookmarks=true`, a
  `resourceVersionMatch` on a watch needs `sendInitialEvents`; otherwise 422 Invalid on
  `ListOptions.meta.k8s.io`. With the WatchList gate off (``ListLimits.watch_list``, as
  kube-apiserver before 1.32) ``sendInitialEvents`` itself is refused the same way.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

DEFAULT_CONTINUE_TTL = 300.0  # seconds: etcd's default compaction interval
DEFAULT_BOOKMARK_EVERY = 60.0  # seconds between bookmarks on a quiet watch
CONTINUE_EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list.")
NOT_OLDER_THAN = "NotOlderThan"


class ContinueExpired(ApiError):
    """410 Expired for a stale continue token, with a fresh token as the real server sends."""

    def __init__(self, fresh_token: str) -> None:
        super().__init__(410, CONTINUE_EXPIRED, reason="Expired")
        self.fresh_token = fresh_token

    def status(self) -> dict[str, Any]:
        body = super().status()
        body["metadata"] = {"continue": self.fresh_token}
        return body


@dataclass
class ListLimits:
    """How long continue tokens live and how often watches get a bookmark (real seconds)."""

    continue_ttl: float = DEFAULT_CONTINUE_TTL
    bookmark_every: float = DEFAULT_BOOKMARK_EVERY
    clock: Callable[[], float] = field(default=time.time, repr=False)
    expired_tokens: int = 0  # continue requests answered 410
    # the WatchList gate (on by default in kube-apiserver since 1.32): off, a watch with
    # sendInitialEvents is refused with 422 as older servers refuse it
    watch_list: bool = True

    def token(self, position: tuple[str, str]) -> str:
        """A continue token for the page that starts after ``position`` (namespace, name)."""
        body = {"start": list(position), "issued": round(self.clock(), 3)}
        return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()

    def position(self, token: str) -> tuple[str, str]:
        """Where the page of ``token`` starts; 400 for a token we never issued, 410 with a
        fresh token once it is older than ``continue_ttl``."""
        try:
            body = json.loads(base64.urlsafe_b64decode(token.encode()))
            namespace, name = body["start"]
            issued = float(body["issued"])
        except (ValueError, TypeError, KeyError) as error:
            raise ApiError(400, "continue key is not valid: incorrect encoded start "
                                "resourceVersion (version meta.k8s.io/v1)") from error
        position = str(namespace), str(name)
        if self.clock() - issued > self.continue_ttl:
            self.expired_tokens += 1
            raise ContinueExpired(self.token(position))
        return position


def watch_options_errors(query: Mapping[str, str], watch_list: bool = True) -> ApiError | None:
    """422 Invalid for watch-list parameters a real server rejects, else None. Without
    ``watch_list`` (the server's WatchList gate off) ``sendInitialEvents`` is refused."""
    initial = query.get("sendInitialEvents")
    match = query.get("resourceVersionMatch", "")
    bookmarks = query.get("allowWatchBookmarks", "").lower() in ("true", "1")
    problems: list[tuple[str, str]] = []
    if initial is not None:
        if match != NOT_OLDER_THAN:
            problems.append(("resourceVersionMatch", "sendInitialEvents requires setting "
                                                     "resourceVersionMatch to NotOlderThan"))
        if not bookmarks:
            problems.append(("allowWatchBookmarks", "sendInitialEvents requires setting "
                                                    "allowWatchBookmarks to true"))
        if not watch_list:
            problems.append(("sendInitialEvents", "sendInitialEvents is forbidden for watch "
                                                  "unless the WatchList feature gate is enabled"))
    elif match:
        problems.append(("resourceVersionMatch", "resourceVersionMatch is forbidden for watch "
                                                 "unless sendInitialEvents is provided"))
    if not problems:
        return None
    texts = [f"{name}: Forbidden: {text}" for name, text in problems]
    joined = texts[0] if len(texts) == 1 else f"[{', '.join(texts)}]"
    return ApiError(422, f'ListOptions.meta.k8s.io "" is invalid: {joined}', details={
        "group": "meta.k8s.io", "kind": "ListOptions",
        "causes": [{"reason": "FieldValueForbidden", "message": f"Forbidden: {text}",
                    "field": name} for name, text in problems]})


__all__ = ["CONTINUE_EXPIRED", "ContinueExpired", "ListLimits", "watch_options_errors"]
