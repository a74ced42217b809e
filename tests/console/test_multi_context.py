"""One console on two drill clusters (`--context web-prod,mobile`), the handbook's Example 1:
the web app on one cluster, the mobile API on another.

Each test starts two private drill clusters and one kubeconfig with a context for each; every
action's effect is read back from the cluster it should have changed (and the other, which it
should not have), and from the audit log.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from console.cli.contexts import context_list
from console.domain.incident import IncidentStore
from console.domain.settings import ConsoleSettings
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    NAMESPACE,
    TARGET,
    audit_records,
    busy,
    cluster_until,
    deployment,
    pod_names,
    until,
)
from tests.drill.kube_helpers import make_deployment
from widgets.confirm_modal import ConfirmModal
from widgets.deployment_list import DeploymentList
from widgets.pod_table import PodTable
from widgets.status_header import StatusHeader
from widgets.undo_modal import UndoModal

SIZE = (160, 48)
WEB, MOBILE = "web-prod", "mobile"  # "prod" in the name: production (typed confirmations)
ROOT = Path(__file__).resolve().parents[2]


def two_context_kubeconfig(web: Drill, mobile: Drill, path: Path,
                           mobile_token: str | None = None) -> Path:
    """One kubeconfig, a context per drill cluster (as `kubectl config` would merge them)."""
    docs = [web.cluster.kubeconfig(context=WEB),
            mobile.cluster.kubeconfig(context=MOBILE, token=mobile_token)]
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                              "current-context": WEB}
    for section in ("clusters", "users", "contexts"):
        merged[section] = [entry for doc in docs for entry in doc[section]]
    path.write_text(yaml.safe_dump(merged, sort_keys=False))
    path.chmod(0o600)
    return path


def two_context_settings(kubeconfig: Path, **overrides: Any) -> ConsoleSettings:
    values: dict[str, Any] = {"kubeconfig": str(kubeconfig), "context": WEB,
                              "contexts": (WEB, MOBILE), "namespace": NAMESPACE,
                              "incident_title": "api breaks the mobile app",
                              # the runbook's variables given: no form at start
                              "runbook_values": {"deployment": "api"},
                              "watch_backoff_max": 1.0, "stale_after": 30.0}
    values.update(overrides)
    return ConsoleSettings(**values)


def states(app: WarroomApp) -> dict[str, tuple[str, bool, bool]]:
    """The header's word for each context: (state, production, focused)."""
    info = app.query_one(StatusHeader).info
    assert info is not None
    return {c.name: (c.state, c.production, c.focused) for c in info.contexts}


def palette_offers(app: WarroomApp, title: str) -> bool:
    """Whether the palette's highlighted command is ``title`` (it searches in a worker)."""
    commands = app.screen.query(CommandList)
    if not commands:
        return False
    listed = commands.first()
    index = listed.highlighted
    return index is not None and title in str(listed.get_option_at_index(index).prompt)


def shown_pods(app: WarroomApp) -> set[str]:
    return {key.partition("/")[2] for key in app.query_one(PodTable).keys}


async def both_settled(pilot: Any, app: WarroomApp) -> None:
    session = app.session
    await until(pilot, lambda: all(link.runner is not None for link in session.links),
                message="both contexts to connect")
    await until(pilot, lambda: all(s[0] == "connected" for s in states(app).values())
                and len(states(app)) == 2, message="both contexts connected in the header")
    key = f"{NAMESPACE}/{TARGET}"
    await until(pilot, lambda: all(key in live.deployments and live.selected
                                   for live in app.main_screen.workloads.lives),
                message="api listed and selected on both contexts")
    await until(pilot, lambda: len(app.query_one(PodTable).keys) == 3, message="api's pods")
    await until(pilot, lambda: not busy(app, "connect", "rbac"), message="the RBAC probe")


async def scale_up(pilot: Any, app: WarroomApp, *, typed: str | None) -> ConfirmModal:
    """+ on the selected deployment, confirmed (typing the name on production)."""
    await pilot.press("plus")
    await until(pilot, lambda: isinstance(app.screen, ConfirmModal), message="the modal")
    modal = app.screen
    assert isinstance(modal, ConfirmModal)
    if typed:
        await pilot.press(*typed)
        await pilot.press("enter")
    else:
        await pilot.press("y")
    await until(pilot, lambda: app.main_screen.ops.running is None
                and not isinstance(app.screen, ConfirmModal), 30, "the action to finish")
    return modal


def image(drill: Drill) -> str:
    return str(deployment(drill).spec.template.spec.containers[0].image)


def scale_records(app: WarroomApp) -> list[dict[str, Any]]:
    return [r for r in audit_records(app) if r.get("action") == "scale"]


async def test_an_action_on_each_context_changes_its_own_cluster(
        drill_factory: Any, state_dir: Path, tmp_path: Path) -> None:
    web, mobile = drill_factory(), drill_factory(seed=11)  # other pod names
    kubeconfig = two_context_kubeconfig(web, mobile, tmp_path / "two.yaml")
    app = WarroomApp(two_context_settings(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await both_settled(pilot, app)
        assert states(app) == {WEB: ("connected", True, True),
                               MOBILE: ("connected", False, False)}
        # the list is grouped: a header row per context, then its deployments
        keys = app.query_one(DeploymentList).keys
        assert keys.index("0\x1f") < keys.index("0\x1fshop/api") < keys.index("1\x1f") \
            < keys.index("1\x1fshop/api")
        assert shown_pods(app) == pod_names(web)

        modal = await scale_up(pilot, app, typed=TARGET)  # production: the name is typed
        assert ("context", WEB) in modal.facts
        await cluster_until(lambda: deployment(web).spec.replicas == 4, message="web scaled")
        assert deployment(mobile).spec.replicas == 3

        await pilot.press("c")  # the next context
        await until(pilot, lambda: app.session.context == MOBILE, message="mobile focused")
        await until(pilot, lambda: shown_pods(app) == pod_names(mobile),
                    message="mobile's pods in the pod table")
        assert states(app)[MOBILE] == ("connected", False, True)
        assert app.query_one(StatusHeader).info.context == MOBILE  # type: ignore[union-attr]

        modal = await scale_up(pilot, app, typed=None)  # not production: y confirms
        assert ("context", MOBILE) in modal.facts
        await cluster_until(lambda: deployment(mobile).spec.replicas == 4,
                            message="mobile scaled")
        assert deployment(web).spec.replicas == 4  # not scaled twice

        by_context = {(r["kind"], r.get("context")) for r in scale_records(app)}
        for context in (WEB, MOBILE):
            assert ("action.finished", context) in by_context
        # each action's records name the context it ran on, in order
        assert [r.get("context") for r in scale_records(app)
                if r["kind"] == "action.finished"] == [WEB, MOBILE]
        incident = IncidentStore(state_dir).latest()
        assert incident is not None and incident.contexts == [WEB, MOBILE]


async def test_focus_follows_the_cursor_and_the_palette(
        drill_factory: Any, state_dir: Path, tmp_path: Path) -> None:
    web, mobile = drill_factory(), drill_factory(seed=11)
    with mobile.api() as api:
        make_deployment(api, NAMESPACE, "gateway", replicas=1)  # only on mobile
    kubeconfig = two_context_kubeconfig(web, mobile, tmp_path / "two.yaml")
    app = WarroomApp(two_context_settings(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await both_settled(pilot, app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert f"ctx: {WEB}" in titles and f"ctx: {MOBILE}" in titles

        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), message="palette")
        await pilot.press(*f"ctx: {MOBILE}")
        await until(pilot, lambda: app.screen.query_one(Input).value == f"ctx: {MOBILE}",
                    message="the query typed")
        await until(pilot, lambda: palette_offers(app, f"ctx: {MOBILE}"),
                    message="the palette to offer the context")
        await pilot.press("enter")
        await until(pilot, lambda: app.session.context == MOBILE, message="mobile focused")
        await until(pilot, lambda: shown_pods(app) == pod_names(mobile), message="its pods")

        # the cursor on a deployment of the other group focuses that context
        table = app.query_one(DeploymentList)
        await until(pilot, lambda: "1\x1fshop/gateway" in table.keys, message="gateway")
        table.move_to("0\x1fshop/api")
        await until(pilot, lambda: app.session.context == WEB, message="web focused again")
        await until(pilot, lambda: shown_pods(app) == pod_names(web), message="web's pods")
        table.move_to("1\x1fshop/gateway")
        await until(pilot, lambda: app.main_screen.live.selected == "shop/gateway"
                    and app.session.context == MOBILE, message="gateway selected on mobile")
        await until(pilot, lambda: len(app.query_one(PodTable).keys) == 1, message="its pod")

        # undo reads the history from, and rolls back, the focused context's cluster
        table.move_to("1\x1fshop/api")
        await until(pilot, lambda: app.main_screen.live.selected == "shop/api"
                    and app.session.context == MOBILE, message="api selected on mobile")
        await pilot.press("u")
        await until(pilot, lambda: isinstance(app.screen, UndoModal), message="the picker")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), message="the modal")
        assert ("context", MOBILE) in app.screen.facts  # type: ignore[attr-defined]
        await pilot.press("y")
        await cluster_until(lambda: image(mobile).endswith(":1.5.0"), message="mobile undone")
        assert image(web).endswith(":1.6.0")
        await until(pilot, lambda: [(r["kind"], r.get("context")) for r in audit_records(app)
                                    if r.get("action") == "undo"][-1:]
                    == [("action.finished", MOBILE)], 30, "the undo's record on mobile")


async def test_one_cluster_down_the_other_works(
        drill_factory: Any, state_dir: Path, tmp_path: Path) -> None:
    web, mobile = drill_factory(), drill_factory(seed=11)
    kubeconfig = two_context_kubeconfig(web, mobile, tmp_path / "two.yaml")
    app = WarroomApp(two_context_settings(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await both_settled(pilot, app)
        mobile.thread.stop()  # the mobile cluster's API server goes away
        await until(pilot, lambda: states(app)[MOBILE][0] in ("reconnecting", "stale"), 20,
                    "mobile reconnecting in the header")
        assert states(app)[WEB][0] == "connected"
        heading = app.query_one(DeploymentList).row_for("1\x1f")
        assert heading is not None and "reconnecting" in heading.heading
        await scale_up(pilot, app, typed=TARGET)  # web still acts
        await cluster_until(lambda: deployment(web).spec.replicas == 4, message="web scaled")
        assert [r.get("context") for r in scale_records(app)
                if r["kind"] == "action.finished"] == [WEB]


async def test_rejected_credentials_show_the_context_denied(
        drill_factory: Any, state_dir: Path, tmp_path: Path) -> None:
    web, mobile = drill_factory(), drill_factory(seed=11)
    kubeconfig = two_context_kubeconfig(web, mobile, tmp_path / "two.yaml",
                                        mobile_token="expired-token")
    app = WarroomApp(two_context_settings(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.primary.runner is not None, message="web")
        await until(pilot, lambda: states(app).get(MOBILE, ("",))[0] == "denied", 20,
                    "mobile denied in the header")
        await until(pilot, lambda: states(app)[WEB][0] == "connected", message="web live")
        await until(pilot, lambda: len(app.query_one(PodTable).keys) == 3, message="web pods")
        assert shown_pods(app) == pod_names(web)


async def test_an_unusable_context_is_named_and_the_other_works(
        drill_factory: Any, state_dir: Path, tmp_path: Path) -> None:
    web, mobile = drill_factory(), drill_factory(seed=11)
    kubeconfig = two_context_kubeconfig(web, mobile, tmp_path / "two.yaml")
    doc = yaml.safe_load(kubeconfig.read_text())
    cluster = doc["clusters"][1]["cluster"]  # mobile's CA: a file that is not there
    del cluster["certificate-authority-data"]
    cluster["certificate-authority"] = str(tmp_path / "missing-ca.pem")
    kubeconfig.write_text(yaml.safe_dump(doc))
    app = WarroomApp(two_context_settings(kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.primary.runner is not None, message="web")
        await until(pilot, lambda: states(app).get(MOBILE, ("",))[0] == "failed", 20,
                    "mobile failed in the header")
        await until(pilot, lambda: any(MOBILE in str(n.message) and n.title == "cannot connect"
                                       for n in app._notifications), message="the reason")
        await until(pilot, lambda: len(app.query_one(PodTable).keys) == 3, message="web pods")
        await scale_up(pilot, app, typed=TARGET)
        await cluster_until(lambda: deployment(web).spec.replicas == 4, message="web scaled")
        await pilot.press("c")  # to the context that is not connected: nothing to act on
        await until(pilot, lambda: app.session.context == MOBILE, message="mobile focused")
        await pilot.press("plus")
        await until(pilot, lambda: any("select a deployment first" in str(n.message)
                                       or "not connected" in str(n.message)
                                       for n in app._notifications), message="a refusal")
        assert not isinstance(app.screen, ConfirmModal)


def test_context_lists() -> None:
    assert context_list(None) == () and context_list("prod") == ()
    assert context_list("a,b") == ("a", "b")
    assert context_list(" a , b,a,") == ("a", "b")
    assert context_list("a,") == ()  # one name: today's --context NAME


def test_an_unknown_context_in_the_list_is_named_with_the_known_ones(
        drill: Drill, tmp_path: Path) -> None:
    kubeconfig = two_context_kubeconfig(drill, drill, tmp_path / "two.yaml")
    out = subprocess.run(
        [sys.executable, "-m", "console.cli.main", "--kubeconfig", str(kubeconfig),
         "--context", f"{WEB},nope"], capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={"PATH": "/usr/bin:/bin", "WARROOM_STATE_DIR": str(tmp_path / "state"),
             "PYTHONPATH": str(ROOT)})
    assert out.returncode == 2, out.stderr
    assert "unknown context in --context: nope" in out.stderr
    assert f"known contexts: {MOBILE}, {WEB}" in out.stderr
    assert "Traceback" not in out.stderr

