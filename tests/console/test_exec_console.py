"""The console on a kubeconfig whose user is an exec credential plugin (issue 14 items 1, 3):
the header says when the credentials expire; an expired SSO session is "not logged in" with
the plugin's own words, not missing RBAC; a new login recovers the live console."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import Label

from console.ui.app import WarroomApp
from tests.conftest import Drill
from tests.console.app_harness import audit_records, drill_settings, settled, until
from tests.console.fault_harness import clear, inject, notifications, notified
from widgets.scale_modal import ScaleModal
from widgets.status_header import StatusHeader

SIZE = (160, 48)


async def test_expired_sso_session_is_not_logged_in_and_a_new_login_recovers(
        drill_factory: Callable[..., Drill], state_dir: Path, tmp_path: Path) -> None:
    cluster = drill_factory(anonymous_auth=True)
    path = cluster.cluster.write_kubeconfig(tmp_path / "exec.yaml", exec_plugin=True,
                                            exec_ttl=600)
    plugin = cluster.cluster.exec_plugin
    assert plugin is not None
    app = WarroomApp(drill_settings(cluster, kubeconfig=str(path), watch_backoff_max=1.0,
                                    stale_after=2.0))
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, rates=False)
        expiry = app.query_one(StatusHeader).query_one("#credentials", Label)
        await until(pilot, lambda: "credentials expire in 9 min" in str(expiry.render()), 5,
                    "the expiry in the header")
        old = plugin.token
        plugin.fail()  # the SSO session expired ...
        cluster.call(cluster.cluster.access.revoke, old)  # ... and so did the token
        inject(cluster, "drop-watches", every=1)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ScaleModal), message="scale modal")
        await pilot.press("ctrl+u", "5", "enter")
        await until(pilot, lambda: notified(app, "Not logged in"), 20,
                    f"not logged in; shown: {notifications(app)}")
        refused = [r for r in audit_records(app) if r["kind"] == "action.refused"]
        assert refused and "aws sso login" in refused[-1]["message"]
        assert "not allowed" not in refused[-1]["message"]
        cluster.call(cluster.cluster.access.add_token, f"new-{old}", "drill-sso", set())
        plugin.set_token(f"new-{old}")
        plugin.recover()  # `aws sso login`
        clear(cluster)
        await until(pilot, lambda: app.session.connection is not None
                    and app.session.connection.live, 30, "live again without a restart")
