"""UndoModal: previous revision by default, current not selectable, returns the choice."""

from __future__ import annotations

from textual.widgets import OptionList

from tests.widgets.widget_demo import DIFFS, REVISIONS, ModalHost
from widgets.rows import RevisionRow
from widgets.undo_modal import UNDO_NOTE, UndoModal, default_revision


async def test_defaults_to_the_previous_revision() -> None:
    app = ModalHost(UndoModal("shop/api", REVISIONS, DIFFS))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, UndoModal)
        assert modal.chosen == 6
        assert "registry/api:1.4.1" in str(modal.query_one("#diff").render())
        assert "Roll back to rev 6" in str(modal.query_one("#undo").label)
        note = str(modal.query_one("#undo-note").render())
        assert "does NOT revert" in note and "replica count" in note and "HPA" in note
        assert "ConfigMaps or Secrets" in note
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [6]


async def test_returns_the_chosen_revision_and_skips_the_current_one() -> None:
    app = ModalHost(UndoModal("shop/api", REVISIONS, DIFFS))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        modal = app.screen
        options = modal.query_one(OptionList)
        assert options.get_option("rev-7").disabled
        await pilot.press("down")
        assert modal.chosen == 5
        assert "registry/api:1.4.0" in str(modal.query_one("#diff").render())
        await pilot.press("up")
        assert modal.chosen == 6
        await pilot.press("home")  # the current revision (top) cannot be highlighted
        assert modal.chosen == 6
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.results == [5]


async def test_warnings_and_nothing_to_roll_back_to() -> None:
    only = [RevisionRow(3, "first", ("api:1.0",), current=True)]
    app = ModalHost(UndoModal("shop/api", only, {},
                              warnings=["revision 2 was pruned (revisionHistoryLimit)"]))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        modal = app.screen
        assert modal.chosen is None
        assert modal.query_one("#undo").disabled
        assert [str(w.render()) for w in modal.query(".warning")] == [
            "⚠ revision 2 was pruned (revisionHistoryLimit)"]
        await pilot.press("enter")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


def test_default_revision() -> None:
    assert default_revision(REVISIONS) == 6
    assert default_revision([RevisionRow(9, None, (), current=True),
                             RevisionRow(4, None, ()), RevisionRow(8, None, ())]) == 8
    assert default_revision([RevisionRow(1, None, ())]) == 1
    assert default_revision([]) is None
    assert "does NOT revert" in UNDO_NOTE


async def test_on_a_paused_deployment_the_choice_is_resume_and_roll_back() -> None:
    warning = "the deployment is paused (paused at 2/5 new pods): resumes it and rolls back"
    app = ModalHost(UndoModal("shop/api", REVISIONS, DIFFS, [warning], resume_first=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, UndoModal)
        assert str(modal.query_one("#undo").label) == "Resume and roll back to rev 6"
        assert "rollout resume + undo" in str(modal.query_one("#undo-title").render())
        assert "Enter resume and roll back" in str(modal.query_one("#undo-keys").render())
        assert "paused at 2/5 new pods" in str(modal.query_one("#warnings Static").render())
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [6]
