"""What the main screen's status header shows, read from the session, the settings and the
screen's own state (console/ui/main_screen.py sets it; widgets/status_header.py draws it)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from console.ui import view_model as vm

if TYPE_CHECKING:
    from console.ui.main_screen import MainScreen
    from widgets.rows import HeaderInfo


def header_clocks(screen: MainScreen) -> tuple[str, str | None]:
    """The incident clock (time since the console opened) and the drill's."""
    settings = screen.settings
    clock, drill_time = "", None
    if not settings.frozen:
        elapsed = int(time.monotonic() - screen.opened)
        clock = f"{elapsed // 3600:02d}:{elapsed % 3600 // 60:02d}:{elapsed % 60:02d}"
        if settings.cluster_clock is not None and settings.drill is not None:
            drill_time = settings.cluster_clock().strftime("%H:%M:%S")
            drill = screen.app.drill  # type: ignore[attr-defined]
            if drill is not None:
                drill_time = drill.header_text(drill_time)  # speed or ⏸ PAUSED
    return clock, drill_time


def header_info(screen: MainScreen) -> HeaderInfo:
    """Everything the header says now."""
    session, settings = screen.session, screen.settings
    clock, drill_time = header_clocks(screen)
    return vm.header_info(session.connection, context=session.context,
                          namespace=session.namespace, selector=settings.selector,
                          incident_clock=clock, production=session.production,
                          drill_time=drill_time, read_only=settings.read_only,
                          credentials=vm.credentials_text(session.credentials_expiry,
                                                          datetime.now(UTC)),
                          identity=session.identity, showing=screen.filters.showing(),
                          contexts=screen.workloads.context_states(),
                          severity=screen.incident.picture.severity if session.audit else None,
                          incident_status=screen.incident.picture.status
                          if session.audit else None,
                          bastion=None if settings.frozen else session.bastion.latest)
