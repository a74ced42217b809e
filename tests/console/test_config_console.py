"""The console with a config file and runbook variables, on a private drill cluster.

The variables form opens when a runbook needs values nobody gave (outside a drill), checks
each field, keeps the values in the incident (restored by --resume) and binds the runbook so
its action steps run; skipped, the steps are refused in a few words.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Label

from console.cli.main import _settings, build_parser
from console.runbook.session import ChecklistState
from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import audit_records, drill_settings, finished, settled, until
from tests.widgets.test_toasts import on_screen, toasts_on_screen
from widgets.checklist import Checklist
from widgets.confirm_modal import ConfirmModal
from widgets.scale_modal import ScaleModal
from widgets.variables_form import VariablesForm

SIZE = (160, 48)


def outside_drill(cluster: Drill, **overrides: Any) -> Any:
    """The drill cluster reached as any cluster is (no drill mode): `warroom --runbook ...`."""
    values: dict[str, Any] = {"runbook": "data-loss", "runbook_values": {}}
    values.update(overrides)
    settings = drill_settings(cluster, **values)
    settings.drill = None
    return settings


def titles(app: WarroomApp) -> list[str]:
    return [row.title for row in app.query_one(Checklist).rows]


def notified(app: WarroomApp, text: str) -> list[str]:
    return [str(n.message) for n in app._notifications if text in str(n.message)]


def incident_values(state_dir: Path) -> dict[str, Any]:
    (path,) = (state_dir / "incidents").glob("*.json")
    return json.loads(path.read_text())["runbook_values"]


async def form(pilot: Any, app: WarroomApp) -> VariablesForm:
    await until(pilot, lambda: isinstance(app.screen, VariablesForm)
                and app.screen.query(Input), message="the form")
    assert isinstance(app.screen, VariablesForm)
    return app.screen


async def test_the_form_checks_each_field_and_binds_the_runbook(cluster: Drill,
                                                                state_dir: Path) -> None:
    app = WarroomApp(outside_drill(cluster))
    async with app.run_test(size=SIZE) as pilot:
        screen = await form(pilot, app)
        asked = [f.name for f in screen.fields]
        assert {"database", "writer_replicas", "last_good_backup", "deployment"} <= set(asked)
        assert "namespace" not in asked  # known from the context
        database = next(f for f in screen.fields if f.name == "database")
        assert database.example == "myapp_production"
        assert "lost data" in database.description
        assert screen.query_one("#var-database", Input).placeholder == "e.g. myapp_production"
        # behind the form the checklist already shows the steps, unset variables marked
        assert any("‹writer?›" in t for t in titles(app))
        assert not any("{writer}" in t for t in titles(app))

        screen.query_one("#var-deployment", Input).value = "api"
        screen.query_one("#var-writer_replicas", Input).value = "three"
        screen.query_one("#var-last_good_backup", Input).value = "backup_2024_11_08.dump"
        screen.query_one("#var-table", Input).value = "orders"
        screen.submit()
        await pilot.pause()
        assert app.screen is screen  # not accepted
        error = str(screen.query_one("#err-database", Label).render())
        assert "needs a value (e.g. myapp_production)" in error
        screen.query_one("#var-database", Input).value = "shop_production"
        screen.submit()
        await pilot.pause()
        assert app.screen is screen
        assert "whole number" in str(screen.query_one("#err-writer_replicas", Label).render())
        assert str(screen.query_one("#err-database", Label).render()) == ""
        screen.query_one("#var-writer_replicas", Input).focus()
        await pilot.press("ctrl+u", "3")
        screen.submit()
        await until(pilot, lambda: not isinstance(app.screen, VariablesForm),
                    message="the form to close")
        checklist = app.session.checklist
        assert checklist is not None
        await until(pilot, lambda: checklist.engine is not None, message="the runbook bound")
        await until(pilot, lambda: "STOP WRITES: scale api to 0" in titles(app),
                    message="the checklist with {writer} resolved")
        assert not any("‹" in t or "{" in t for t in titles(app))
        await until(pilot, lambda: notified(app, "variables set"), message="the values said")
        kept = incident_values(state_dir)["data-loss"]
        assert kept["database"] == "shop_production" and kept["writer_replicas"] == "3"
        notes = [r for r in audit_records(app) if r.get("action") == "runbook.values"]
        assert notes and notes[-1]["params"]["values"]["database"] == "shop_production"
        await pilot.press("q")

    # --resume brings the values back: no form, the steps can run
    again = WarroomApp(outside_drill(cluster, resume="latest"))
    async with again.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: again.session.checklist is not None
                    and again.session.runner is not None, message="the console to connect")
        await until(pilot, lambda: "STOP WRITES: scale api to 0" in titles(again),
                    message="the resumed checklist")
        await until(pilot, lambda: again.session.checklist.engine is not None,
                    message="the runbook bound")
        assert again.session.checklist.values["last_good_backup"] == "backup_2024_11_08.dump"
        await pilot.pause(0.3)
        assert not isinstance(again.screen, VariablesForm)


async def test_skipping_the_form_refuses_steps_in_a_few_words(cluster: Drill) -> None:
    app = WarroomApp(outside_drill(cluster))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await form(pilot, app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, VariablesForm),
                    message="the form to close")
        await until(pilot, lambda: notified(app, "variables not set: steps will not run"),
                    message="the skip said")
        assert app.session.checklist.engine is None
        # the skip is said in one toast, whole on an 80x24 screen
        await until(pilot, lambda: on_screen("variables not set: steps will not run",
                                             toasts_on_screen(app)), message="the whole toast")
        app.main_screen.runbook.start("stop-writes")
        again = await form(pilot, app)  # the form comes back to fill them in, saying why
        note = str(again.query_one("#form-note", Label).render())
        assert note == "⚠ set the runbook's variables to run its steps"
        assert again.query_one("#form-note", Label).region.width >= len(note)
        assert app.session.checklist.engine is None
        assert [r for r in audit_records(app) if r["kind"].startswith("action.")] == []


async def test_set_and_config_values_need_no_form(cluster: Drill, state_dir: Path,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[context.drill.runbook_values]\ndatabase = "shop_production"\n'
                      "writer_replicas = 3\n")
    monkeypatch.setenv("WARROOM_CONFIG", str(config))
    args = build_parser().parse_args(["--runbook", "data-loss", "--set", "deployment=api",
                                      "--set", "last_good_backup=nightly.dump",
                                      "--set", "table=orders"])
    fixed = drill_settings(cluster)
    settings = _settings(args, kubeconfig=fixed.kubeconfig, context="drill",
                         namespace="shop", metrics=fixed.metrics,
                         cluster_clock=fixed.cluster_clock)
    assert settings.runbook_values == {"database": "shop_production", "writer_replicas": "3",
                                       "deployment": "api", "last_good_backup": "nightly.dump",
                                       "table": "orders"}
    app = WarroomApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.session.checklist is not None
                    and app.session.checklist.engine is not None, message="a bound runbook")
        await until(pilot, lambda: "STOP WRITES: scale api to 0" in titles(app),
                    message="the resolved checklist")
        assert "Resume writes: scale api back to 3" in titles(app)
        assert app.session.checklist.values["last_good_backup"] == "nightly.dump"
        assert not isinstance(app.screen, VariablesForm)
    assert incident_values(state_dir)["data-loss"]["last_good_backup"] == "nightly.dump"


async def test_a_config_file_shapes_the_drill_console(cluster: Drill, tmp_path: Path) -> None:
    """`[context."drill"]` applies to `warroom drill`: production, max_replicas and the
    checks `v` runs (the selected workload's only) here."""
    base = f"{cluster.cluster.url}/drill/v1/svc/shop"
    auth = f'headers = {{ Authorization = "Bearer {cluster.cluster.token}" }}\n'
    config = tmp_path / "config.toml"
    config.write_text(
        'max_replicas = 40\n[context."drill"]\nproduction = true\nmax_replicas = 6\n'
        f'checks_ca = "{cluster.cluster.ca_path}"\n'
        f'[[context."drill".checks]]\nworkload = "api"\nname = "api health"\n'
        f'url = "{base}/api/products"\nbody_contains = "ok"\nlatency_budget_ms = 5000\n{auth}'
        f'[[context."drill".checks]]\nworkload = "web"\nname = "web nowhere"\n'
        f'url = "{base}/nowhere/healthz"\n{auth}')
    args = build_parser().parse_args(["--config", str(config), "drill"])
    fixed = drill_settings(cluster)
    settings = _settings(args, kubeconfig=fixed.kubeconfig, context="drill",
                         namespace="shop", metrics=fixed.metrics, drill=fixed.drill,
                         cluster_clock=fixed.cluster_clock, runbook_values={"deployment": "api"})
    assert (settings.production, settings.max_replicas) == (True, 6)
    assert [c.workload for c in settings.checks] == ["api", "web"]
    app = WarroomApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        assert app.session.production
        await pilot.press("v")
        await until(pilot, lambda: finished(app, "verify"), message="verify to finish")
        (done,) = [r for r in audit_records(app) if r.get("action") == "verify"
                   and r["kind"] == "action.finished"]
        assert done["params"]["checks"] == ["api health"]
        assert done["result"]["passed"] == 1, done
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScaleModal), message="scale modal")
        await pilot.press("ctrl+u", "9", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ScaleModal)  # above the config's max_replicas
        assert "between 0 and 6" in str(app.screen.query_one("#scale-error", Label).render())
        await pilot.press("ctrl+u", "5", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal), message="confirm")
        assert app.screen.typed_name == "api"  # production: the name must be typed


# ---- the variables without the screen ----------------------------------------------------------
def open_checklist(state_dir: Path, resume: str | None = None,
                   **values: str) -> ChecklistState:
    return ChecklistState.open(state_dir, resume=resume, context="prod", namespace="shop",
                               title="db", severity="high", runbook="data-loss",
                               runbook_values=values)


def test_each_binding_problem_lands_on_the_field_that_caused_it(state_dir: Path) -> None:
    state = open_checklist(state_dir)
    good = {"deployment": "api", "database": "shop", "writer_replicas": "3",
            "last_good_backup": "b.dump", "table": "orders"}
    assert state.check_values(good) == {}
    assert state.check_values({**good, "writer_replicas": "three"}) == {
        "writer_replicas": "must be a whole number or a single {variable}, not 'three'"}
    # writer's default is {deployment}: a bad deployment is the deployment field's problem
    bad = state.check_values({**good, "deployment": "API"})
    assert list(bad) == ["deployment"] and "not a valid deployment name" in bad["deployment"]
    assert "one line" in state.check_values({**good, "database": "a\x1b[2Jb"})["database"]
    assert state.check_values({**good, "database": ""}) == {
        "database": "needs a value (e.g. myapp_production)"}
    assert [q.name for q in state.questions()][:1] == ["writer"]
    assert state.unset()


def test_a_second_console_picks_up_values_set_in_the_first(state_dir: Path) -> None:
    first = open_checklist(state_dir)
    second = open_checklist(state_dir, resume="latest")
    assert "STOP WRITES: scale ‹writer?› to 0" in [s.title for s in second.steps()[1]]
    assert first.set_values({"deployment": "api", "database": "shop", "writer_replicas": "4",
                             "last_good_backup": "b.dump", "table": "orders"}) == {}
    titles = [s.title for s in second.steps()[1]]
    assert "Resume writes: scale api back to 4" in titles
    assert second.unset() == [] and second.values["database"] == "shop"
    # values that look like secrets are masked before the incident keeps them
    dsn = "postgresql://app:hunter2hunter2@db/app"
    assert first.set_values({"database": dsn}) == {}
    assert "hunter2hunter2" not in first.incident.path.read_text()
    first.steps()
    assert first.values["database"] == dsn  # this console keeps what was typed
