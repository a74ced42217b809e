"""The war-room console: the Textual app as a thin shell around its main screen.

The app holds what is app-wide: the settings, the session (cluster client, watch, incident,
action runner; console/ui/session.py), themes, the command palette, the redaction of
everything shown, the collector pacing, drill mode and an orderly (or forced, on SIGHUP) exit.
The workspace itself, its keys and the data flowing into it are the `MainScreen`'s
(console/ui/main_screen.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, SystemCommand
from textual.screen import Screen

from console.domain import action_kinds, incident_commands
from console.domain.connection_notes import ConnectionNotes
from console.domain.settings import ConsoleSettings
from console.ui.crash import CONSOLE_CRASHED, run_reporting_crashes
from console.ui.gc_pacing import CACHE_EVERY, GcPacer
from console.ui.main_screen import MainScreen
from console.ui.screen_text import ScreenRedactor
from console.ui.session import Session
from themes import CSS_PATH, HORIZONTAL_BREAKPOINTS, THEMES, register_themes
from widgets.confirm_modal import ConfirmModal
from widgets.toasts import show_newest_toast

if TYPE_CHECKING:
    from console.ui.drill_bridge import DrillBridge

HANGUP_GRACE = 3.0  # seconds an exit after SIGHUP may take before the process is ended

# the palette's entries besides the registry's actions: (title, help, action)
PALETTE = (
    ("Pod logs", "l: logs of the selected pod, with the previous container", "logs"),
    ("Events", "e: events of the selected pod or deployment", "events"),
    ("Check off step", "space: check off the current manual runbook step", "check_step"),
    ("Next step", "n: move to the next runbook step", "next_step"),
    ("Previous step", "p: move to the previous runbook step", "previous_step"),
    ("Switch theme", "t: next colour theme", "app.cycle_theme"),
    ("Pause/resume the drill", "P: pause or resume the drill clock (drills only)",
     "drill_pause"),
    ("Drill score", "S: the drill's score so far (drills only)", "drill_score"),
    ("Filter", "/: filter the focused table (regex over name, status, node, labels; "
     "! negates)", "filter"),
    ("Sort by the next column", "o: sort the focused table by its next column", "sort"),
    ("Reverse the sort", "O: reverse the focused table's sort", "sort_reverse"),
    ("Help", "?: keys and how the war room works", "help"),
)


T = TypeVar("T")


class WarroomApp(App[int]):
    TITLE = "warroom"
    CSS_PATH = CSS_PATH
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS

    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__()
        self.settings = settings
        if settings.title:
            self.sub_title = settings.title
        self.session = Session(settings)
        self.stopping = threading.Event()  # set on quit or hang-up: workers end their loops
        self.redact = ScreenRedactor()  # every text shown passes through it (secrets masked)
        self.connection_notes = ConnectionNotes()
        self.gc = GcPacer(self)  # no collector pauses under the operator's keys (gc_pacing)
        self.drill: DrillBridge | None = None  # drill mode: on an in-process drill cluster
        self.main_screen = MainScreen(self)

    def get_default_screen(self) -> Screen[Any]:
        return self.main_screen

    def on_mount(self) -> None:
        register_themes(self, self.settings.theme if self.settings.theme in THEMES else None)
        if self.settings.theme not in THEMES:
            self.theme = self.settings.theme
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._hangup)
        self.gc.pause()  # no collections while start-up and the first list build the heap
        self.set_interval(CACHE_EVERY, self.gc.tick)
        if self.settings.drill is not None:  # drill mode: milestones, P pause, S score
            # imported here: scoring reads the drill's scenario registry, which a console on
            # a real cluster has no use for (50 ms of start-up)
            from console.ui.drill_bridge import DrillBridge

            self.drill = DrillBridge.attach(self)

    def _hangup(self) -> None:
        """A dropped SSH session: leave at once and leave nothing running.

        The orderly exit can stall once the terminal is gone (a write to the vanished tty,
        a worker thread in a slow request, a busy machine), and a console left behind holds
        its watches open: a watchdog ends the process after ``HANGUP_GRACE`` seconds in any
        case. Nothing is lost by that: audit records and incident state are on disk as soon
        as they are made."""
        self.stopping.set()
        watchdog = threading.Timer(HANGUP_GRACE, os._exit, args=(129,))
        watchdog.daemon = True  # an orderly exit in time ends the process without it
        watchdog.start()
        self.exit(129)

    def warm_up(self) -> None:
        """Once the first picture is on screen: make the client's typed APIs the actions use
        (a second of imports nobody waits for now; see KubeClient.warm_up), then freeze
        them with the rest of the long-lived objects."""
        def work() -> None:
            kube = self.session.kube
            if kube is None or self.stopping.is_set():
                return
            kube.warm_up()
            with contextlib.suppress(RuntimeError):  # the app is shutting down
                self.call_from_thread(self.gc.refreeze)

        self.run_worker(work, thread=True, group="warm-up", exit_on_error=False)

    def with_terminal(self, run: Callable[[], T]) -> T:
        """Run ``run`` with the terminal handed over (an exec credential plugin asking for a
        login): the app suspends and resumes after. Called from a worker thread."""

        def suspended() -> T:
            with self.suspend():
                return run()

        return self.call_from_thread(suspended)

    def notify(self, message: str, *, title: str = "", markup: bool = False,
               **kwargs: Any) -> None:
        """Every notification is plain text, never markup (``[/]`` in a command's output
        would crash the toast, ``[@click=...]`` would be a live action), with secrets masked
        and control characters visible (console/ui/screen_text.py); its title too."""
        del markup  # nothing notified is markup: much of it comes from outside
        super().notify(self.redact(str(message)), title=self.redact(str(title)), markup=False,
                       **kwargs)
        show_newest_toast(self.screen)

    # ---- command palette -------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Any:
        yield from super().get_system_commands(screen)
        main = self.main_screen
        # (title, help, action on the main screen, its name and parameters for check_action)
        entries: list[tuple[str, str, str, str, tuple[object, ...]]] = []
        for kind in action_kinds.kinds():
            entries.append((kind.title, kind.help, kind.action, "act", (kind.name,)))
            entries.extend((n.title, n.help, f"nudge({kind.name!r}, {n.step})", "nudge",
                            (kind.name, n.step)) for n in kind.nudges)
        entries.extend((c.title, c.help, c.action, "incident", (c.name,))
                       for c in incident_commands.commands())
        entries.extend((title, help_text, action, action, ()) for title, help_text, action
                       in PALETTE)
        entries.extend((f"Namespace: {name}", f"watch namespace {name} instead (the incident "
                        "stays)", f"namespace({name!r})", "namespace", (name,))
                       for name in main.namespaces.choices())
        entries.extend(main.workloads.palette())  # ctx: NAME, on several contexts
        for title, help_text, action, name, parameters in entries:
            if main.check_action(name, parameters) is not True:
                continue
            yield SystemCommand(title, help_text,
                                lambda action=action: self.run_action(action, main))

    def action_cycle_theme(self) -> None:
        names = list(THEMES)
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme: {self.theme}")

    def action_request_quit(self) -> None:
        """Quit, after asking when an action is still running (its result would be missed)."""
        running = self.main_screen.ops.running
        if not running:
            self.exit(0)
            return

        def answered(ok: bool | None) -> None:
            if ok:
                self.exit(0)

        session = self.session
        self.push_screen(ConfirmModal(
            "Quit while an action is running?", context=session.context,
            namespace=session.namespace, target=running, change="leave the console",
            warnings=["the cluster keeps rolling out; the audit log will miss the result"],
            confirm_label="Quit"), answered)

    def on_unmount(self) -> None:
        if self.drill is not None:
            self.drill.finish()  # the drill's score report, with all that was done
        self.stopping.set()
        self.gc.close()
        self.session.close()

    def record_crash(self, reason: str) -> None:
        """After a crash, before the process exits: what happened, in the incident's audit
        log (when one is open; the record is redacted like every other)."""
        audit = self.session.audit
        if audit is not None:
            audit.append(CONSOLE_CRASHED, message=f"the console crashed: {reason}")


def run_app(settings: ConsoleSettings) -> int:
    app = WarroomApp(settings)
    return run_reporting_crashes(app, settings.state_dir, redact=app.redact,
                                 on_crash=app.record_crash)
