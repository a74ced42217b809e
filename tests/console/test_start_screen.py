"""Start-up: the start screen (the workspace's outline) is up while the main screen's modules
load, then the main screen takes over; the first screen pulls in none of the heavy modules.

The loading is held on a gate in these tests (``load_main_screen`` waits for it), so what the
console does while it loads is checked without depending on how long the imports take.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading
from io import StringIO
from pathlib import Path
from typing import Any

from textual.command import CommandPalette
from textual.widgets import Static

from console.domain.settings import ConsoleSettings
from console.ui.app import WarroomApp
from console.ui.crash import run_reporting_crashes
from console.ui.main_screen import MainScreen
from console.ui.start_screen import LOADING, StartScreen
from tests.conftest import Drill
from tests.console.app_harness import drill_settings, settled, until
from widgets.status_header import StatusHeader

SIZE = (160, 48)
ROOT = Path(__file__).resolve().parents[2]
# what the first frame must not wait for: the Kubernetes client, HTTP clients, the drill
# server, the runbooks' schema and the console's own heavy modules. (pydantic itself is
# loaded: the settings are checked against the config file's schema, console/config, before
# anything starts, so that a bad value ends the command with its line.)
HEAVY = ("kubernetes", "aiohttp", "httpx", "tenacity", "urllib3", "requests",
         "drill.cluster", "drill.faults", "drill.scenarios", "adapters.kubernetes",
         "adapters.kube_config", "adapters.informer", "console.ui.main_screen",
         "console.ui.session", "console.domain.actions", "console.runbook.schema",
         "console.runbook.loading")
KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: prod-eu
clusters: [{name: eu, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: me, user: {token: t0ken}}]
contexts: [{name: prod-eu, context: {cluster: eu, user: me, namespace: shop}}]
"""

PROBE = textwrap.dedent("""
    import asyncio, json, sys, threading

    import console.cli.main as cli
    import console.ui.app as ui_app


    class Gated(ui_app.WarroomApp):
        def load_main_screen(self):
            threading.Event().wait()  # never loads: only the start screen


    def run_app(settings):
        async def first_screen():
            app = Gated(settings)
            async with app.run_test() as pilot:
                await pilot.pause()
                print(json.dumps({"screen": type(app.screen).__name__,
                                  "modules": sorted(sys.modules)}))
                await pilot.press("q")
            return app.return_code

        return asyncio.run(first_screen())


    ui_app.run_app = run_app  # what `warroom` runs once it has its settings
    raise SystemExit(cli.main(sys.argv[1:]))
""")


class Gated(WarroomApp):
    """The console with its loading held until ``gate`` is set."""

    def __init__(self, settings: ConsoleSettings) -> None:
        super().__init__(settings, start_screen=True)  # as on a fresh start
        self.gate = threading.Event()
        self.loading = threading.Event()  # the loading thread is waiting at the gate

    def load_main_screen(self) -> None:
        self.loading.set()
        self.gate.wait(60)
        super().load_main_screen()


def loader_thread() -> threading.Thread | None:
    return next((t for t in threading.enumerate() if t.name == "warroom-load"), None)


def texts(app: WarroomApp) -> list[str]:
    return [str(static.render()) for static in app.screen.query(Static)]


def test_the_first_screen_imports_nothing_heavy(tmp_path: Path) -> None:
    """`warroom` up to its first screen, in a fresh interpreter: none of the heavy modules."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WARROOM_STATE_DIR": str(tmp_path / "state")}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)  # read for its current context (the config's table)
    done = subprocess.run([sys.executable, "-c", PROBE, "--kubeconfig", str(kubeconfig)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["screen"] == "StartScreen"
    modules = set(report["modules"])
    assert "textual.app" in modules and "console.ui.start_screen" in modules  # it did run
    loaded = sorted(name for name in modules for heavy in HEAVY
                    if name == heavy or name.startswith(heavy + "."))
    assert loaded == []


def test_help_needs_none_of_the_heavy_modules_and_still_lists_scenarios() -> None:
    code = ("import sys, runpy; sys.argv = ['warroom', 'drill', '--help']\n"
            "try:\n    runpy.run_module('console.cli.main', run_name='__main__')\n"
            "except SystemExit:\n    pass\n"
            "print('MODULES', ' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"})
    assert done.returncode == 0, done.stderr
    assert "memory-leak" in done.stdout and "bad-migration" in done.stdout  # read for --help
    modules = done.stdout.rsplit("MODULES", 1)[1].split()
    for heavy in ("kubernetes", "pydantic", "aiohttp", "httpx", "drill.cluster"):
        assert heavy not in modules


async def test_the_start_screen_is_shown_then_the_main_screen_takes_over(
        cluster: Drill) -> None:
    app = Gated(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loading.is_set, message="the loading to start")
        await pilot.pause()
        assert isinstance(app.screen, StartScreen)
        header = app.screen.query_one(StatusHeader).info
        assert header is not None
        assert (header.context, header.namespace, header.connection) == (
            "drill", "shop", "connecting")
        assert texts(app).count(LOADING) == 4  # the three panes and the audit pane
        assert app.drill is None  # drill mode starts with the main screen
        app.gate.set()
        await until(pilot, lambda: isinstance(app.screen, MainScreen), message="the main screen")
        assert app.screen is app.main_screen
        await settled(pilot)  # it connects and shows the pods, as it does from the start
        assert app.drill is not None


async def test_q_while_loading_quits_cleanly(tmp_path: Path) -> None:
    app = Gated(ConsoleSettings(kubeconfig=str(tmp_path / "none"), namespace="shop",
                                state_dir=tmp_path / "state"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loading.is_set, message="the loading to start")
        await pilot.press("q")
    assert app.return_code == 0
    assert app._main_screen is None and app._session is None  # nothing was built
    thread = loader_thread()
    app.gate.set()  # the loading ends after the app: nothing is left to act on
    if thread is not None:
        await asyncio.to_thread(thread.join, 30)
    assert app._main_screen is None and app._exception is None


async def test_the_palette_on_the_start_screen_holds_the_main_screen_back(
        tmp_path: Path) -> None:
    """A dialog open over the start screen when the loading ends stays open; the main screen
    comes once it is closed."""
    app = Gated(ConsoleSettings(kubeconfig=str(tmp_path / "none"), namespace="shop",
                                state_dir=tmp_path / "state"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, app.loading.is_set, message="the loading to start")
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette),
                    message="the palette")
        app.gate.set()
        await until(pilot, lambda: app._main_screen is not None, message="the main screen built")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)  # not pushed under the operator's hands
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, MainScreen), message="the main screen")


def test_a_failure_to_load_is_reported_as_a_crash(tmp_path: Path) -> None:
    class Broken(WarroomApp):
        def load_main_screen(self) -> None:
            raise ImportError("no module named 'kubernetes'")

    app = Broken(ConsoleSettings(kubeconfig=str(tmp_path / "none"),
                                 state_dir=tmp_path / "state"), start_screen=True)
    err = StringIO()
    code = run_reporting_crashes(app, tmp_path / "state", headless=True, stderr=err,
                                 on_crash=app.record_crash)
    assert code == 1
    assert "warroom: crashed: ImportError: no module named 'kubernetes'" in err.getvalue()
    assert list((tmp_path / "state").glob("crash-*.log"))


def test_session_and_main_screen_are_made_on_first_use(tmp_path: Path) -> None:
    app = WarroomApp(ConsoleSettings(state_dir=tmp_path / "state"), start_screen=True)
    assert app._session is None and app._main_screen is None
    session: Any = app.session
    assert app.session is session and app.main_screen.session is session
