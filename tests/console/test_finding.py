"""Finding one pod among many: the `/` filter, sorting by a column, switching namespace."""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client
from textual import events

from console.domain.row_filter import FilterError, RowFilter
from console.ui.app import WarroomApp
from tests.console.app_harness import drill_settings, pods_shown, settled, until
from widgets.deployment_list import DeploymentList
from widgets.filter_bar import FilterBar
from widgets.pod_table import PodTable, age_seconds


def test_filter_parses_regex_negation_and_refuses_a_bad_pattern() -> None:
    assert RowFilter.parse("").active is False
    keep = RowFilter.parse("API-")
    assert keep.keeps("shop/api-7d9-x Running") and not keep.keeps("shop/web-1 Running")
    drop = RowFilter.parse("!running")
    assert drop.keeps("shop/api-1 CrashLoopBackOff") and not drop.keeps("shop/api-1 Running")
    assert RowFilter.parse("!").keeps("anything")
    with pytest.raises(FilterError, match="not a valid pattern.*position"):
        RowFilter.parse("api-(")
    with pytest.raises(FilterError, match="too long"):
        RowFilter.parse("a" * 201)


def test_age_sort_key_reads_kubectl_ages() -> None:
    ages = ["2d", "45s", "5m30s", "3h", "?", "1y20d", "10m"]
    assert sorted(ages, key=age_seconds) == ["?", "45s", "5m30s", "10m", "3h", "2d", "1y20d"]


async def test_slash_filters_pods_of_every_workload_and_escape_restores(cluster, state_dir):
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        screen = app.main_screen
        table = app.query_one(PodTable)
        await pilot.press("tab")  # the pod table
        await pilot.press("slash")
        assert app.query_one(FilterBar).is_open
        await pilot.press(*"worker|web")
        # the pods of web (2) and worker (2), not api's (the selected workload)
        await until(pilot, lambda: pods_shown(app) == 4, message="web and worker pods")
        assert all(key.split("/")[1].startswith(("web-", "worker-")) for key in table.keys)
        await until(pilot, lambda: "showing 4 of" in str(screen.header().showing),
                    message="the header's count")
        total = len(screen.live.pods)
        assert screen.header().showing == f"showing 4 of {total:,} pods"
        # a bad pattern: a message, the table unchanged
        await pilot.press("(")
        note = app.query_one("#filter-note")
        await until(pilot, lambda: "not a valid pattern" in str(note.render()),
                    message="the bad-pattern note")
        assert pods_shown(app) == 4
        await pilot.press("backspace")
        await pilot.press("enter")  # keep it: the keys go back to the table
        assert not app.query_one(FilterBar).is_open
        assert app.focused is table and pods_shown(app) == 4
        # negation
        await pilot.press("slash")
        for _ in "worker|web":
            await pilot.press("backspace")
        await pilot.press(*"!api|web")
        await until(pilot, lambda: pods_shown(app) == 2, message="worker's pods only")
        assert all(key.split("/")[1].startswith("worker-") for key in table.keys)
        await pilot.press("escape")  # clear: the selected workload's pods again
        await until(pilot, lambda: pods_shown(app) == 3, message="api's 3 pods back")
        assert all(key.split("/")[1].startswith("api-") for key in table.keys)
        assert screen.header().showing is None


async def test_keys_typed_right_after_slash_go_into_the_filter(cluster, state_dir):
    """A terminal hands "/web-" over in one read: the app queues every key before the
    binding of "/" runs, so the bar must take the focus before the next key is handed on;
    a "/" typed into the bar is part of the pattern."""
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        burst = [("tab", "\t"), ("slash", "/"), *((c.replace("-", "minus"), c) for c in "web-")]
        for key, character in burst:
            app.post_message(events.Key(key, character))  # one burst, no pause between
        await until(pilot, lambda: app.query_one(FilterBar).text == "web-",
                    message="every key of the burst in the bar")
        await until(pilot, lambda: pods_shown(app) == 2, message="web's pods")
        await pilot.press("slash")
        assert app.query_one(FilterBar).text == "web-/"


async def test_filter_follows_live_changes(cluster, state_dir):
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        await pilot.press("tab", "slash", *"web-")
        await until(pilot, lambda: pods_shown(app) == 2, message="web's pods")
        await pilot.press("enter")
        with cluster.api() as api:
            await asyncio.to_thread(client.AppsV1Api(api).patch_namespaced_deployment_scale,
                                    "web", "shop", {"spec": {"replicas": 4}})
        await until(pilot, lambda: pods_shown(app) == 4, message="the new web pods")


async def test_workloads_filter_and_sort(cluster, state_dir):
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        deployments = app.query_one(DeploymentList)
        assert app.focused is deployments
        await until(pilot, lambda: len(deployments.keys) == 3, message="shop's workloads")
        await pilot.press("slash", *"w")
        await until(pilot, lambda: len(deployments.keys) == 2, message="web and worker")
        assert app.main_screen.header().showing == "2 of 3 workloads"
        await pilot.press("escape")
        await until(pilot, lambda: len(deployments.keys) == 3, message="all workloads")
        # sort: o cycles to READY, then REV; O reverses; the header shows the direction
        await pilot.press("o")
        assert deployments.sort_column == "ready"
        await pilot.press("o")
        assert deployments.sort_column == "revision"
        revisions = [deployments.row_for(k).revision for k in deployments.keys]
        assert revisions == sorted(revisions)
        await pilot.press("O")
        revisions = [deployments.row_for(k).revision for k in deployments.keys]
        assert revisions == sorted(revisions, reverse=True)
        labels = [c.label.plain for c in deployments.columns.values()]
        assert "REV ▼" in labels


async def test_pod_sort_by_restarts_keeps_the_cursor(cluster, state_dir):
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        table = app.query_one(PodTable)
        await pilot.press("tab", "down")
        chosen = table.cursor_key
        for _ in range(3):  # name -> ready -> status -> restarts
            await pilot.press("o")
        assert table.sort_column == "restarts"
        assert table.cursor_key == chosen
        await pilot.press("O")
        counts = [table.row_for(k).restarts for k in table.keys]
        assert [int(str(c).split()[0]) for c in counts] == sorted(
            (int(str(c).split()[0]) for c in counts), reverse=True)


async def test_palette_switches_namespace(cluster, state_dir):
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        screen = app.main_screen
        await until(pilot, lambda: "auth" in screen.namespaces.choices(),
                    message="the namespaces")
        assert "shop" not in screen.namespaces.choices()  # the one watched
        screen.action_namespace("auth")
        await until(pilot, lambda: app.session.namespace == "auth"
                    and screen.live.selected == "auth/login", message="auth watched")
        await until(pilot, lambda: pods_shown(app) == 2, message="login's pods")
        assert set(screen.live.deployments) == {"auth/login"}
        # the header follows the switch (the worker refreshes it once the watch moved)
        await until(pilot, lambda: "ns auth" in str(app.query_one("#namespace").render()),
                    message="the header naming the new namespace")


async def test_a_broad_filter_shows_the_first_matches_and_says_how_many(
        cluster, state_dir, monkeypatch):
    monkeypatch.setattr("console.ui.row_filters.MAX_MATCHES", 2)
    app = WarroomApp(drill_settings(cluster, state_dir=state_dir))
    async with app.run_test(size=(160, 48)) as pilot:
        await settled(pilot, rates=False)
        table = app.query_one(PodTable)
        await pilot.press("tab", "slash", *"-")  # every pod
        await until(pilot, lambda: app.main_screen.filters.matched == 7, message="7 matches")
        assert pods_shown(app) == 2
        names = sorted(pod.name for pod in app.main_screen.live.pods.values())
        assert [table.row_for(k).name for k in table.keys] == names[:2]
        assert app.main_screen.header().showing == (
            "showing 2 of 7 matches (7 pods): type more to narrow")
        await pilot.press("backspace", *"worker-")
        await until(pilot, lambda: pods_shown(app) == 2 and all(
            "worker-" in k for k in table.keys), message="worker's 2 pods")
        assert app.main_screen.header().showing == "showing 2 of 7 pods"
