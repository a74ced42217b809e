"""The action registry is the single source of an action: a kind declared here, in the test,
and nowhere else, gets a key and a footer label, a palette entry and a line in help, is
pre-checked against RBAC, confirmed, run and audited like the built-in ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Footer

from adapters.kube_actions import ActionResult
from console.domain import action_kinds
from console.domain.action_kinds import ActionKind
from console.domain.actions import ActionRequest, ActionTools
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import (
    action_kinds as audited_kinds,
)
from tests.console.app_harness import (
    audit_records,
    deployment,
    drill_settings,
    finished,
    settled,
    until,
)
from tests.console.test_app_actions import limited_kubeconfig
from widgets.confirm_modal import ConfirmModal
from widgets.help_screen import HelpScreen

SIZE = (160, 48)
MARK = "warroom.test/annotated"


def _annotate(tools: ActionTools, request: ActionRequest) -> ActionResult:
    tools.kube.apps.patch_namespaced_deployment(
        request.target, request.namespace, {"metadata": {"annotations": {MARK: "yes"}}})
    return ActionResult(True, f"annotated deployment/{request.target}", {"changed": True})


ANNOTATE = ActionKind(
    name="annotate", key="k", label="Annotate", title="Annotate deployment",
    help="k: mark the selected deployment (a test-only action)", target="deployment",
    describe=lambda r: f"annotate deployment/{r.target}", run=_annotate,
    permission=("patch", "deployments"), order=35,
    change=lambda r, _view: f"add the annotation {MARK}")


@pytest.fixture
def annotate() -> Iterator[ActionKind]:
    action_kinds.register(ANNOTATE)
    yield ANNOTATE
    action_kinds.unregister(ANNOTATE.name)


def footer_labels(app: WarroomApp) -> list[str]:
    return [str(key.description) for key in app.query_one(Footer).query("FooterKey")]


async def test_a_registered_kind_is_keyed_listed_confirmed_run_and_audited(
        annotate: ActionKind, cluster: Drill) -> None:
    app = WarroomApp(drill_settings(cluster))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        labels = footer_labels(app)
        assert "Annotate" in labels
        assert labels.index("Undo") < labels.index("Annotate") < labels.index("Verify")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Annotate deployment" in titles
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), message="help")
        assert ("k", "Annotate") in app.screen.key_bindings  # type: ignore[attr-defined]
        await pilot.press("escape")
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal),
                    message="the confirm modal")
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert modal.title_text == "annotate deployment/api"
        await pilot.press("y")
        await until(pilot, lambda: finished(app, "annotate"), 30, "annotate to finish")
        assert audited_kinds(app, "annotate") == [
            "action.requested", "action.started", "action.finished"]
        record = [r for r in audit_records(app) if r.get("action") == "annotate"][-1]
        assert record["target"] == "deployment/api"
        assert record["message"] == "annotated deployment/api"
    assert (deployment(cluster).metadata.annotations or {}).get(MARK) == "yes"


async def test_a_registered_kind_is_prechecked_against_rbac(
        annotate: ActionKind, cluster: Drill, tmp_path: Path) -> None:
    kubeconfig = limited_kubeconfig(cluster, tmp_path, set())
    app = WarroomApp(drill_settings(cluster, kubeconfig=kubeconfig))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.main_screen.check_action("act", ("annotate",)) is True
        cluster.call(cluster.cluster.access.deny, "on-call-token", "patch", "deployments")
        await pilot.press("k")
        await until(pilot, lambda: "action.refused" in audited_kinds(app, "annotate"),
                    message="the refusal")
        refused = [r for r in audit_records(app) if r.get("action") == "annotate"]
        assert [r["kind"] for r in refused] == ["action.refused"]
        assert "forbidden: you may not patch deployments" in refused[0]["message"]
        assert len(app.screen_stack) == 1  # never asked to confirm
    assert MARK not in (deployment(cluster).metadata.annotations or {})


def test_a_registered_kind_becomes_a_runbook_step_type_only_when_it_says_so(
        annotate: ActionKind) -> None:
    assert "annotate" not in action_kinds.step_types()
    assert set(action_kinds.step_types()) >= {"scale", "restart", "undo"}


def test_registry_answers_describe_and_target(annotate: ActionKind) -> None:
    request = ActionRequest("annotate", "drill", "shop", "api")
    assert request.describe() == "annotate deployment/api"
    assert request.target_ref == "deployment/api"
    unknown: Any = ActionRequest("no-such-kind", "drill", "shop", "api")
    assert unknown.describe() == "no-such-kind api"
