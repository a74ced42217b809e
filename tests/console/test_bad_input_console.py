"""Bad input gets a clear message, and the console keeps running.

Kubeconfig missing, not YAML, or without the context asked for; a namespace that does not
exist; a broken runbook in the operator's own runbook directory; replica counts that are not
counts; a terminal below 80x24.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from console.cli.main import build_parser
from console.domain.settings import ConsoleSettings
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import deployment, drill_settings, settled, until
from tests.console.fault_harness import notifications, notified
from widgets.help_screen import HelpScreen
from widgets.pod_table import PodTable
from widgets.scale_modal import check_replicas
from widgets.too_small import TooSmall

SIZE = (160, 48)


def banner(app: WarroomApp) -> str:
    status = app.query_one("#action-status", Static)
    return str(status.render()) if status.display else ""


async def still_usable(pilot: Pilot[Any], app: WarroomApp) -> None:
    """Help opens and closes."""
    await pilot.press("question_mark")
    await until(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "help")
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, HelpScreen), 5, "help closed")


# ---- the kubeconfig --------------------------------------------------------------------------------
@pytest.mark.parametrize(("setup", "expected"), [
    ("missing", r"The kubeconfig file .*nowhere\.yaml does not exist; check --kubeconfig\."),
    ("not-yaml", r"The kubeconfig .*broken\.yaml is not valid YAML \(line 3\); fix or remove it\."),
    ("not-a-kubeconfig", r"The kubeconfig .*list\.yaml is not a kubeconfig"),
    ("unknown-context", r"Context 'nope' is not in the kubeconfig .*; known contexts: drill\."),
    ("markup-in-path", r"The kubeconfig file .*\[/x\].*does not exist"),
])
async def test_kubeconfig_problems_are_named(cluster: Drill, tmp_path: Path, setup: str,
                                            expected: str) -> None:
    context = "drill"
    if setup == "missing":
        kubeconfig = tmp_path / "nowhere.yaml"
    elif setup == "not-yaml":
        kubeconfig = tmp_path / "broken.yaml"
        kubeconfig.write_text("apiVersion: v1\nclusters: [\n  - name: x\n  users:\n")
    elif setup == "not-a-kubeconfig":
        kubeconfig = tmp_path / "list.yaml"
        kubeconfig.write_text("- just\n- a list\n")
    elif setup == "unknown-context":
        kubeconfig, context = cluster.kubeconfig, "nope"
    else:  # a path that looks like Textual markup must not break the banner
        (tmp_path / "[").mkdir()
        kubeconfig = tmp_path / "[" / "[/x]" / "kube.yaml"
    app = WarroomApp(drill_settings(cluster, kubeconfig=str(kubeconfig), context=context))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: banner(app).startswith("✖ "), 15, "the banner")
        assert re.search(expected, banner(app)), banner(app)
        # a notification reaches the app's list when the app handles it, after the banner
        await until(pilot, lambda: notified(app, "cannot connect"), 5, "the notification")
        assert app.session.runner is None
        await pilot.press("s")  # an action without a cluster: a message, not a crash
        await until(pilot, lambda: notified(app, "not connected to a cluster")
                    or notified(app, "select a deployment first"), 5, "a refusal")
        await still_usable(pilot, app)
        await pilot.press("q")
    assert app.return_code == 0


async def test_unknown_namespace_is_named(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, namespace="nope", metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "namespace nope not found" in banner(app), 20,
                    "the namespace banner")
        assert banner(app) == ("✖ namespace nope not found in context drill: check "
                               "-n/--namespace")
        # the notification is a message of its own: it may land a moment after the banner
        await until(pilot, lambda: notified(app, "namespace not found",
                                            "namespace nope not found"), 5, "the notification")
        await still_usable(pilot, app)


async def test_an_existing_namespace_gets_no_banner(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        await pilot.pause(0.5)
        assert "not found" not in banner(app)
        assert app.session.kube is not None and app.session.kube.namespace_exists("shop") is True
        assert app.session.kube.namespace_exists("nope") is False


def reasons(app: WarroomApp) -> list[str]:
    return [n for n in notifications(app) if "cannot open the incident: " in n]


async def test_an_incident_that_cannot_be_opened_still_shows_pods_and_refuses_actions(
        cluster: Drill, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the state directory should be\n")
    app = WarroomApp(drill_settings(cluster, state_dir=blocked / "state", metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: banner(app).startswith("✖ cannot open the incident: "), 20,
                    "the incident banner")
        await until(pilot, lambda: len(app.query_one(PodTable).keys) == 3, 20,
                    "api's pods on screen all the same")
        said = len(reasons(app))  # the banner's own notification
        await pilot.press("s")
        await until(pilot, lambda: len(reasons(app)) > said, 5, "the reason no action runs")
        assert not any("not connected" in n for n in notifications(app))
        assert app.session.runner is None and app.session.audit is None
        assert deployment(cluster).spec.replicas == 3
        await still_usable(pilot, app)
    assert blocked.read_text() == "a file where the state directory should be\n"


# ---- runbooks ----------------------------------------------------------------------------------
async def test_a_broken_runbook_in_the_user_dir_is_shown_and_the_console_runs(
        cluster: Drill, tmp_path: Path) -> None:
    user_dir = tmp_path / "my-runbooks"
    user_dir.mkdir()
    (user_dir / "half-written.yaml").write_text("title: [unclosed\nsteps:\n  - id: a\n")
    (user_dir / "no-steps.yaml").write_text("title: Nothing to do\nkind: procedure\n")
    app = WarroomApp(drill_settings(cluster, user_runbook_dirs=(user_dir,), metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)  # the default runbook still loads
        await until(pilot, lambda: notified(app, "runbook problem", "half-written.yaml"), 10,
                    "the broken file named")
        shown = [n for n in notifications(app) if "half-written.yaml" in n][0]
        assert re.search(r"half-written\.yaml:2:\d+: YAML syntax error", shown), shown
        assert app.session.checklist is not None and app.session.checklist.runbook is not None
        assert app.session.checklist.runbook.id == "production-bug"


async def test_asking_for_a_runbook_that_does_not_load_says_so(cluster: Drill,
                                                               tmp_path: Path) -> None:
    user_dir = tmp_path / "my-runbooks"
    user_dir.mkdir()
    (user_dir / "mine.yaml").write_text("title: [unclosed\n")
    app = WarroomApp(drill_settings(cluster, user_runbook_dirs=(user_dir,), runbook="mine",
                                    metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notified(app, "unknown runbook 'mine'"), 20,
                    "the missing runbook named")
        await until(pilot, lambda: app.session.connection is not None and app.session.connection.live, 20,
                    "the console to work without it")


# ---- replica counts ------------------------------------------------------------------------------
@pytest.mark.parametrize(("typed", "why"), [
    ("", "enter a number of replicas"),
    ("abc", "'abc' is not a whole number"),
    ("4.5", "'4.5' is not a whole number"),
    ("1e3", "'1e3' is not a whole number"),
    ("+5", "'+5' is not a whole number"),
    ("1_0", "'1_0' is not a whole number"),
    ("٣", "'٣' is not a whole number"),  # a digit, but not one a person types for a count
    ("-1", "must be between 0 and 50"),
    ("51", "must be between 0 and 50"),
    ("9" * 5000, "must be between 0 and 50"),
])
def test_replica_counts_that_are_not_counts(typed: str, why: str) -> None:
    assert check_replicas(typed, 50) == (None, why)


@pytest.mark.parametrize(("typed", "count"), [(" 4 ", 4), ("0", 0), ("007", 7), ("50", 50)])
def test_replica_counts_that_are(typed: str, count: int) -> None:
    assert check_replicas(typed, 50) == (count, "")


@pytest.mark.parametrize("value", ["abc", "-3", "0", "2.5"])
def test_max_replicas_option_rejects_nonsense(value: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--max-replicas", value])
    assert exited.value.code == 2
    assert f"not a positive whole number: {value!r}" in capsys.readouterr().err


# ---- the terminal --------------------------------------------------------------------------------
async def test_a_too_small_terminal_says_so_instead_of_a_broken_layout(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, metrics=None))
    async with app.run_test(size=(79, 24)) as pilot:
        notice = app.query_one(TooSmall)
        await until(pilot, lambda: notice.display, 5, "the notice")
        assert notice.message == "terminal too small: need at least 80x24, have 79x24"
        assert "terminal too small: need at least 80x24, have 79x24" in \
            app.export_screenshot().replace("&#160;", " ")
        assert notice.region.width >= 77 and notice.region.height >= 22  # covers the screen
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: not notice.display, 5, "the notice to go")
        await settled(pilot, rates=False)
        await pilot.resize_terminal(100, 20)
        await until(pilot, lambda: notice.message ==
                    "terminal too small: need at least 80x24, have 100x20", 5, "the new size")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: not notice.display, 5, "exactly 80x24 is enough")
        await pilot.resize_terminal(60, 10)
        await until(pilot, lambda: notice.display, 5, "the notice again")
        await pilot.press("q")  # keys still work underneath
    assert app.return_code == 0


def test_settings_default_watch_timings() -> None:
    settings = ConsoleSettings()
    assert settings.watch_backoff_max == 5.0 and settings.stale_after == 10.0


# ---- label selectors -----------------------------------------------------------------------------
async def test_a_label_selector_watches_only_what_matches(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, selector="app=web", metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.connection is not None and app.session.connection.live
                    and app.main_screen.live.deployments and app.main_screen.live.pods, 20, "the watch to list")
        assert set(app.main_screen.live.deployments) == {"shop/web"}
        assert {p.deployment for p in app.main_screen.live.pods.values()} == {"web"}
        header = app.query_one("#namespace", Static)
        assert str(header.render()) == "ns shop  -l app=web"


async def test_a_malformed_label_selector_is_named(cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster, selector="app in ((", metrics=None))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: notified(app, "app in (("), 20,
                    f"a message naming the selector; shown: {notifications(app)}")
        assert not app.main_screen.live.pods
        await still_usable(pilot, app)
