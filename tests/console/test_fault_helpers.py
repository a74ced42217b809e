"""The small pieces behind the fault behaviour, without a cluster: connection notes, screen
redaction, credential masking, and the garbage-collection pacing."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static
from textual.widgets._footer import FooterKey

from adapters.errors import AdapterError, Unreachable
from adapters.informer_status import WatchStatus
from adapters.kubernetes import KubeClient
from console.domain.connection_notes import ConnectionNotes
from console.domain.settings import ConsoleSettings
from console.ui import gc_pacing
from console.ui.app import WarroomApp
from console.ui.gc_pacing import LOAD_WITHOUT_GC, PRUNE_EVERY, GcPacer, prune_closed_watchers
from console.ui.screen_text import ScreenRedactor


def status(state: str, error: str | None = None) -> WatchStatus:
    return WatchStatus(state, state, datetime(2026, 1, 1, 3, 4, 5, tzinfo=UTC),
                       Unreachable(error) if error else None, True)


def test_connection_notes_once_per_outage() -> None:
    notes = ConnectionNotes()
    seen = [notes.on_status(s) for s in (
        status("live"), status("reconnecting", "Cannot reach the API server"),
        status("reconnecting", "Cannot reach the API server"),
        status("stale", "Cannot reach the API server"), status("stale", "still"),
        status("live"), status("live"))]
    assert seen[0] is None and seen[2] is None and seen[4] is None and seen[6] is None
    assert seen[1] is not None and seen[1].message == (
        "lost the connection: Cannot reach the API server (retrying)")
    assert seen[3] is not None and seen[3].severity == "error"
    assert seen[3].message.startswith("data is stale since ")
    assert seen[5] is not None and seen[5].title == "reconnected"


def test_connection_notes_before_the_first_load() -> None:
    note = ConnectionNotes().on_status(status("reconnecting", "401"))
    assert note is not None and note.message.startswith("cannot load the cluster: 401")


def test_screen_redactor_masks_env_secrets_credentials_and_patterns() -> None:
    redact = ScreenRedactor({"API_TOKEN": "env-secret-1", "HOME": "/root"})
    redact.add(["kube-credential-2"])
    text = redact("env-secret-1 kube-credential-2 Authorization: Bearer abc.def /root")
    assert "env-secret-1" not in text and "kube-credential-2" not in text
    assert "abc.def" not in text and "/root" in text


def test_kube_client_masks_its_own_credentials_in_errors() -> None:
    configuration = client.Configuration()
    configuration.host = "https://127.0.0.1:1"
    configuration.api_key = {"authorization": "Bearer cred-7777"}
    kube = KubeClient(client.ApiClient(configuration), "ctx")
    assert kube.secret_values() == ["Bearer cred-7777", "cred-7777"]
    error = kube.mask(AdapterError("proxy said: credential cred-7777 is unknown",
                                   "raw: cred-7777"))
    assert "cred-7777" not in error.message and "cred-7777" not in str(error.detail)
    assert str(error) == error.message


class _Modal(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield Label("modal")


class _FooterApp(App[None]):
    BINDINGS = [Binding("m", "modal", "Modal"), Binding("s", "bell", "Scale")]

    def compose(self) -> ComposeResult:
        yield Static("main")
        yield Footer()

    def action_modal(self) -> None:
        self.push_screen(_Modal())


def _stranded_footer_keys(besides: frozenset[int] = frozenset()) -> set[int]:
    """Footer keys no longer on screen that are still alive (but those in ``besides``)."""
    gc.collect()
    return {id(o) for o in gc.get_objects()
            if isinstance(o, FooterKey) and not o.is_attached and id(o) not in besides}


async def test_pruning_releases_footer_keys_that_textual_strands() -> None:
    # an earlier test's console may still be winding down in this process: its keys are not
    # this app's to free
    earlier = frozenset(_stranded_footer_keys())
    app = _FooterApp()
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(8):
            await pilot.press("m")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
        before = len(_stranded_footer_keys(earlier))
        pruned = prune_closed_watchers(app)
        GcPacer(app).tick()
        after = len(_stranded_footer_keys(earlier))
    assert before > 0 and pruned > 0  # the leak is there (textual issue 6666) ...
    assert after == 0  # ... and pruning frees them


async def test_idle_ticks_do_not_walk_every_widget(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk that frees stranded footer keys runs when the screens or the focus changed
    (what rebuilds footers), and every PRUNE_EVERY ticks; not every 2 s of an idle console."""
    walks: list[int] = []
    real = gc_pacing.prune_closed_watchers

    def counted(app: Any) -> int:
        walks.append(1)
        return real(app)

    monkeypatch.setattr(gc_pacing, "prune_closed_watchers", counted)
    app = _FooterApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pacer = GcPacer(app)
        for _ in range(3):
            pacer.tick()
        assert len(walks) == 1
        await pilot.press("m")  # a modal: another screen on the stack
        await pilot.pause()
        pacer.tick()
        assert len(walks) == 2
        for _ in range(PRUNE_EVERY):
            pacer.tick()
        assert len(walks) == 3


def test_gc_pacer_freezes_once_and_unfreezes() -> None:
    pacer = GcPacer()
    pacer.settle()
    assert gc.get_freeze_count() > 0 and not pacer.settled
    pacer.settle(final=True)
    assert pacer.settled
    pacer.settle(final=True)  # no-op
    pacer.close()
    assert gc.get_freeze_count() == 0


def _frozen(objects: list[object]) -> bool:
    """Whether every one of ``objects`` is in the permanent generation (gc.get_objects lists
    the collected generations only). Asked of the objects themselves, not of the freeze
    count, which other threads change as frozen objects are freed by reference counting."""
    collected = {id(o) for o in gc.get_objects()}
    return not any(id(o) in collected for o in objects)


def test_gc_pacer_refreezes_late_imports_only_once_settled() -> None:
    pacer = GcPacer()
    try:
        pacer.settle()
        late: list[object] = [[] for _ in range(1000)]  # a late import's objects, say
        pacer.refreeze()  # before the final settle: that settle will freeze them
        assert not any(_frozen([o]) for o in late)
        pacer.settle(final=True)
        assert _frozen(late)
        later: list[object] = [[] for _ in range(1000)]
        pacer.refreeze()
        assert _frozen(later)
    finally:
        pacer.close()
    assert gc.get_freeze_count() == 0 and not _frozen(late)


def test_gc_pacer_pauses_the_collector_while_loading() -> None:
    assert gc.isenabled()
    pacer = GcPacer()
    try:
        pacer.settle()
        assert not gc.isenabled()  # the first list is arriving: nothing to collect in it
        pacer.settle(final=True)
        assert gc.isenabled()
    finally:
        pacer.close()
    assert gc.isenabled()


def test_gc_pacer_pause_at_mount_lasts_until_the_first_full_picture() -> None:
    pacer = GcPacer()
    try:
        pacer.pause()  # the app mounted: start-up begins
        assert not gc.isenabled()
        pacer.settle()  # connected: start-up objects frozen, the list still arriving
        assert not gc.isenabled() and gc.get_freeze_count() > 0
        pacer.settle(final=True)
        assert gc.isenabled()
    finally:
        pacer.close()
    assert gc.isenabled() and gc.get_freeze_count() == 0


async def test_the_console_pauses_the_collector_from_its_mount() -> None:
    app = WarroomApp(ConsoleSettings(kubeconfig="/nonexistent/kubeconfig"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not gc.isenabled()  # no cluster, no first picture: off (until the time limit)
    assert gc.isenabled()  # and back on when the console closes


def test_gc_pacer_resumes_the_collector_if_loading_takes_too_long() -> None:
    now = [100.0]
    pacer = GcPacer(clock=lambda: now[0])
    try:
        pacer.settle()
        pacer.tick()
        assert not gc.isenabled()
        now[0] += LOAD_WITHOUT_GC + 1  # the first full picture never came
        pacer.tick()
        assert gc.isenabled()
    finally:
        pacer.close()
