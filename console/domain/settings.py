"""What one console session is pointed at and how it behaves (command line, environment and
config file: console/config)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the first frame needs neither (probes pull httpx and tenacity)
    from adapters.metrics_config import MetricsConfig
    from adapters.probes import Check


@dataclass
class ConsoleSettings:
    kubeconfig: str | None = None
    context: str | None = None
    # several contexts in one console (--context a,b): the first is ``context``; () = one
    contexts: tuple[str, ...] = ()
    namespace: str | None = None
    selector: str | None = None  # label selector: watch only what matches (kubectl -l)
    read_only: bool = False
    theme: str = "warroom-dark"
    production: bool | None = None  # None: decide from the context name
    max_replicas: int = 50
    scale_step: int = 1
    metrics: MetricsConfig | None = None
    checks: tuple[Check, ...] = ()  # HTTP verification (`v`)
    probe_ca: str | None = None  # CA bundle the verification checks trust (the drill's)
    runbook: str | None = None
    runbook_values: dict[str, str] = field(default_factory=dict)
    user_runbook_dirs: tuple[Path, ...] = ()
    resume: str | None = None  # incident id, or "latest"
    incident_title: str | None = None
    severity: str = "high"
    state_dir: Path | None = None
    title: str | None = None
    # the cluster's clock, for ages and the drill-time display (the drill runs faster)
    cluster_clock: Callable[[], datetime] | None = None
    drill: Any = None  # the in-process DrillCluster, when running a drill
    metrics_interval: float = 5.0  # seconds between rate queries (Prometheus scrapes every 15-30 s)
    # the watch: longest back-off between reconnection attempts (a returning API server is
    # noticed within this), and seconds down before "reconnecting" becomes "stale since T"
    watch_backoff_max: float = 5.0
    stale_after: float = 10.0
    history_minutes: float = 15.0
    frozen: bool = False  # snapshot tests: no clocks, metrics fetched once, not polled
    # stamps the incident (and its id) and audit records; None: the wall clock (tests pin it)
    wall_clock: Callable[[], datetime] | None = None
    two_person: bool = False  # mutations need a second person's approval from another console
    actor: Any = None  # who is at this console (default: from the process and $SSH_CLIENT)
    webhooks: tuple[str, ...] = ()  # notification URLs from the config file (not sent yet)
    config_file: Path | None = None  # the config file these settings were read from
    # the context's PostgreSQL for db-* runbook steps: a libpq DSN without the password, and
    # a file holding the password (else libpq's PGPASSFILE / ~/.pgpass)
    database_dsn: str | None = None
    database_password_file: str | None = None
