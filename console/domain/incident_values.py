"""The runbook variables an incident was worked with, kept in the incident file so that
`--resume` (and a second console on the same incident) works with the same values.

Values are typed by people (the variables form, ``--set``) or come from the config file;
anything that looks like a secret is masked before it is stored (adapters/redact.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.redact import redact
from console.domain.incident import Incident, SharedIncident


def saved_values(incident: Incident, runbook: str) -> dict[str, str]:
    """The values kept for ``runbook`` (empty when none)."""
    return dict(incident.runbook_values.get(runbook, {}))


def save_values(shared: SharedIncident, runbook: str, values: Mapping[str, str]) -> Incident:
    """Keep ``values`` for ``runbook`` (merged over what was kept before)."""
    clean = {str(k): redact(str(v)) for k, v in values.items()}

    def apply(incident: Incident) -> None:
        incident.runbook_values[runbook] = {**incident.runbook_values.get(runbook, {}), **clean}

    return shared.update(apply)


__all__ = ["save_values", "saved_values"]
