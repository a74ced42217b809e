"""The war-room console: the Textual app as a thin shell around its main screen.

The app holds what is app-wide: the settings, the session (cluster client, watch, incident,
action runner; console/ui/session.py), themes, the command palette, the redaction of
everything shown, the collector pacing, drill mode and an orderly (or forced, on SIGHUP) exit.
The workspace itself, its keys and the data flowing into it are the `MainScreen`'s
(console/ui/main_screen.py).

Start-up: the first screen is a light outline of the workspace (console/ui/start_screen.py),
painted while a worker thread imports the main screen and the session; the UI thread then
builds the `MainScreen` and switches to it. ``session`` and ``main_screen`` are made on first
use, so code that reaches for them early still gets them (built on the spot).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, SystemCommand
from textual.screen import Screen

from console.domain import action_kinds, incident_commands
from console.domain.connection_notes import ConnectionNotes
from console.domain.settings import ConsoleSettings
from console.ui.crash import CONSOLE_CRASHED, run_reporting_crashes
from console.ui.gc_pacing import CACHE_EVERY, GcPacer
from console.ui.screen_text import ScreenRedactor
from console.ui.start_screen import StartScreen
from themes import CSS_PATH, HORIZONTAL_BREAKPOINTS, THEMES, register_themes
from widgets.toasts import show_newest_toast

# Nothing above pulls in the Kubernetes client, pydantic, httpx or the drill: the main
# screen and the session (and all they import) load in a worker thread while the start
# screen is shown (console/ui/start_screen.py; tests/console/test_start_screen.py checks).
if TYPE_CHECKING:
    from textual.driver import Driver

    from console.ui.drill_bridge import DrillBridge
    from console.ui.main_screen import MainScreen
    from console.ui.session import Session

MAIN_SCREEN_MODULE = "console.ui.main_screen"

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

    def __init__(self, settings: ConsoleSettings, *, start_screen: bool | None = None) -> None:
        """``start_screen``: show the start screen while the main screen's modules load
        (default: when they are not loaded yet, as on a fresh start)."""
        super().__init__()
        self.settings = settings
        if settings.title:
            self.sub_title = settings.title
        self.stopping = threading.Event()  # set on quit or hang-up: workers end their loops
        self.redact = ScreenRedactor()  # every text shown passes through it (secrets masked)
        self.connection_notes = ConnectionNotes()
        self.gc = GcPacer(self)  # no collector pauses under the operator's keys (gc_pacing)
        self.drill: DrillBridge | None = None  # drill mode: on an in-process drill cluster
        self._session: Session | None = None
        self._main_screen: MainScreen | None = None
        self.start_screen: StartScreen | None = None
        self._light_start = (MAIN_SCREEN_MODULE not in sys.modules if start_screen is None
                             else start_screen)

    def get_driver_class(self) -> type[Driver]:
        """On Linux, Textual's driver with an input thread that sleeps while nobody types
        (console/ui/quiet_input.py); TEXTUAL_DRIVER or another platform: Textual's choice."""
        if sys.platform.startswith("linux") and not os.environ.get("TEXTUAL_DRIVER"):
            from console.ui.quiet_input import QuietDriver

            return QuietDriver
        return super().get_driver_class()

    # ---- the session and the main screen, made on first use ---------------------------------
    @property
    def session(self) -> Session:
        """The connections and the incident (console/ui/session.py), made on first use."""
        if self._session is None:
            from console.ui.session import Session

            self._session = Session(self.settings)
        return self._session

    @property
    def main_screen(self) -> MainScreen:
        """The workspace, built on first use (on the UI thread)."""
        if self._main_screen is None:
            self._main_screen = self.build_main_screen()
        return self._main_screen

    def build_main_screen(self) -> MainScreen:
        from console.ui.main_screen import MainScreen

        return MainScreen(self)

    @property
    def default_screen(self) -> Screen[Any]:
        """The screen the app's own queries (``app.query_one``) search: the main screen once
        it is up, as when it is the first screen, though the start screen stays under it."""
        main = self._main_screen
        if main is not None and main in self.screen_stack:
            return main
        return super().default_screen

    def get_default_screen(self) -> Screen[Any]:
        if self._main_screen is not None or not self._light_start:
            return self.main_screen  # nothing to load first
        self.start_screen = StartScreen(self.settings)
        # a daemon thread, not a worker: `q` meanwhile quits at once instead of waiting for
        # the imports to finish (the process ends with the thread)
        threading.Thread(target=self._load_in_background, name="warroom-load",
                         daemon=True).start()
        return self.start_screen

    def _load_in_background(self) -> None:
        try:
            self.load_main_screen()
            done, args = self._main_screen_loaded, ()
        except Exception as error:  # noqa: BLE001 - reported as the crash it is, on the UI thread
            done, args = self._main_screen_failed, (error,)
        if self.stopping.is_set() or not self.is_running:
            return  # the app has already exited (q meanwhile): nothing to show
        with contextlib.suppress(RuntimeError, CancelledError):  # it is exiting just now
            self.call_from_thread(done, *args)

    def _main_screen_failed(self, error: Exception) -> None:
        """The main screen cannot be loaded (a broken install): the console's crash, with
        its report (console/ui/crash.py), as if it had failed on the UI thread."""
        try:
            raise error
        except Exception as exc:  # noqa: BLE001 - Textual's handler needs it being handled
            self._handle_exception(exc)

    def load_main_screen(self) -> None:
        """In a thread while the start screen is up: import what the main screen needs (the
        Kubernetes client, pydantic, httpx, ...: a second or more on a busy machine); then
        the UI thread builds it and shows it."""
        import console.ui.main_screen  # noqa: F401 - the import is the work

    def _main_screen_loaded(self) -> None:
        if self.stopping.is_set() or self.start_screen is None:
            return
        self.main_screen  # noqa: B018 - built here, on the UI thread
        self.start_screen.ready = True
        self.show_main_screen()

    def show_main_screen(self) -> None:
        """Put the main screen over the start screen, unless a dialog (the palette) is open
        over that: then when it closes (``StartScreen.on_screen_resume``). The start screen
        stays under it, out of sight (Textual cannot switch away from the first screen)."""
        start = self.start_screen
        if start is None or not start.ready or self.screen is not start:
            return
        self.start_screen = None
        self.push_screen(self.main_screen)
        self._attach_drill()

    def _attach_drill(self) -> None:
        if self.settings.drill is not None and self.drill is None:  # milestones, P, S
            # imported here: scoring reads the drill's scenario registry, which a console on
            # a real cluster has no use for (50 ms of start-up)
            from console.ui.drill_bridge import DrillBridge

            self.drill = DrillBridge.attach(self)

    def on_mount(self) -> None:
        register_themes(self, self.settings.theme if self.settings.theme in THEMES else None)
        if self.settings.theme not in THEMES:
            self.theme = self.settings.theme
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hangup)
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._hangup)
        self.gc.pause()  # no collections while start-up and the first list build the heap
        self.set_interval(CACHE_EVERY, self.gc.tick)
        if self.start_screen is None:  # the main screen is the first (else: once it shows)
            self._attach_drill()

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
        main = self._main_screen
        if main is None or main not in self.screen_stack:
            return  # the start screen: nothing to act on yet
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
        main = self._main_screen
        running = main.ops.running if main is not None else None
        if not running:
            self.exit(0)
            return
        from widgets.confirm_modal import ConfirmModal

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
        if self._session is not None:
            self._session.close()

    def record_crash(self, reason: str) -> None:
        """After a crash, before the process exits: what happened, in the incident's audit
        log (when one is open; the record is redacted like every other)."""
        audit = self._session.audit if self._session is not None else None
        if audit is not None:
            audit.append(CONSOLE_CRASHED, message=f"the console crashed: {reason}")


def run_app(settings: ConsoleSettings) -> int:
    app = WarroomApp(settings)
    return run_reporting_crashes(app, settings.state_dir, redact=app.redact,
                                 on_crash=app.record_crash)
