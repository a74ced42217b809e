"""`warroom config init`: a commented starter file for the kubeconfig's contexts."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from adapters.kube_config import ContextInfo

HEADER = """\
# warroom configuration (TOML). Precedence: command-line flag > environment variable >
# this file ([context."NAME"] table, then the keys at the top) > built-in default.
# `warroom config check` checks this file; `warroom config show` shows every effective
# value and where it came from.

# Defaults for every context.
theme = "warroom-dark"          # warroom-light, warroom-high-contrast, warroom-colorblind
read_only = false               # true: watch only, no action keys
two_person = false              # true: actions need a second person's approval
max_replicas = 50               # the scale dialog's upper bound
# runbook = "production-bug"     # the runbook to follow (`warroom runbooks list`)
# runbook_dirs = ["~/runbooks"]  # your own runbooks, beside the built-in ones
# webhooks = ["https://chat.example.com/hooks/warroom"]   # kept for notifications (later)
# contexts = ["prod-eu", "prod-us"]                      # open several contexts at once

# Prometheus for error rates and latency. Credentials are read from files.
# [metrics]
# base_url = "http://prometheus.monitoring:9090"
# bearer_token_file = "~/.config/warroom/prometheus.token"
# basic_auth = { username = "warroom", password_file = "~/.config/warroom/prometheus.pass" }
# verify_tls = "/etc/ssl/certs/my-ca.pem"     # a CA bundle, or true / false
# headers = { "X-Scope-OrgID" = "tenant-1" }  # e.g. Mimir/Cortex tenant
# METRIC PRESETS: see README "Pointing warroom at your cluster"
"""

CONTEXT = """
[context.{name}]
# cluster {cluster}, user {user}, namespace {namespace}
production = {production}{guess}
# namespace = {namespace_json}
# database_dsn = "postgresql://app@db.example:5432/app"   # db-* runbook steps (no password)
# database_password_file = "~/.config/warroom/db.password"
# [context.{name}.metrics]
# base_url = "https://prometheus.{short}.example.com"
# [context.{name}.runbook_values]                        # runbook variables (or --set K=V)
# database = "app_production"
# [[context.{name}.checks]]                               # `v` verifies these
# workload = "api"
# url = "https://api.example.com/healthz"
# expect_status = 200
# latency_budget_ms = 500
# body_contains = "ok"
"""


def starter_text(contexts: Sequence[ContextInfo]) -> str:
    parts = [HEADER]
    if not contexts:
        parts.append("\n# No kubeconfig contexts found; add a table per context, e.g.:\n"
                     + "".join("# " + line + "\n" for line in CONTEXT.format(
                         name='"my-context"', cluster="?", user="?", namespace="default",
                         namespace_json='"default"', production="false", guess="",
                         short="my-context").strip().splitlines()))
    for info in contexts:
        parts.append(CONTEXT.format(
            name=json.dumps(info.name), cluster=info.cluster or "?", user=info.user or "?",
            namespace=info.namespace, namespace_json=json.dumps(info.namespace),
            production="true" if info.production else "false",
            guess="   # guessed from the name" if info.production else "",
            short=info.name.replace('"', "")[:20]))
    return "".join(parts)


def write_starter(path: Path, contexts: Sequence[ContextInfo]) -> None:
    """Write the starter file; never replaces an existing one (``FileExistsError``)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(starter_text(contexts))


__all__ = ["starter_text", "write_starter"]
