"""Editor saves under the simulated user: panel edits autosave like canvas edits, a closing tab saves what
is pending, a save on top of someone else's save is refused with an offer to reload, and a layout made on
opening is stored for editors of an active journey and only shown to viewers."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from engine.engine import Engine
from engine.journeys import lifecycle
from models.journey import JourneyUpdate
from tests.ui.conftest import sign_in
from tests.ui.kit import eventually
from tests.ui.test_editor import STEPS, make_journey, node, open_editor, set_value
from tests.ui.test_login import add_user


def duration(engine: Engine, journey_id: str) -> int:
    return lifecycle.get_journey(engine, journey_id).steps[0]["config"]["duration"]


async def test_a_panel_edit_autosaves_without_pressing_save(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    set_value(user, "wait-duration", 7)
    await user.should_see("Unsaved changes")
    await eventually(lambda: duration(engine, journey_id) == 7)
    await user.should_see("All changes saved")
    # A draft save, not a version.
    assert [v["version"] for v in lifecycle.list_versions(engine, journey_id)] == [1]


async def test_closing_the_tab_saves_what_the_debounce_had_not_yet(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    set_value(user, "wait-duration", 9)
    assert duration(engine, journey_id) == 3  # not saved yet
    for handler in user.client.disconnect_handlers:  # what a closed tab's dropped connection runs
        user.client.safe_invoke(handler)
    await eventually(lambda: duration(engine, journey_id) == 9)


async def test_a_save_over_someone_elses_is_refused_and_offers_a_reload(engine: Engine, user: User) -> None:
    journey_id = make_journey(engine)
    await open_editor(user, journey_id)
    lifecycle.update_journey(engine, journey_id, JourneyUpdate(name="Saved in another tab"))
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    set_value(user, "wait-duration", 5)
    save_state = next(iter(user.find(marker="save-state").elements))
    await eventually(lambda: "changed elsewhere" in save_state.text)  # once the autosave has tried
    await user.should_see(marker="stale-dialog")
    await user.should_see(marker="reload-journey")
    await user.should_see("Not saved: changed elsewhere since you opened it")
    journey = lifecycle.get_journey(engine, journey_id)
    assert (journey.name, journey.steps[0]["config"]["duration"]) == ("Saved in another tab", 3)


async def test_an_active_journey_laid_out_on_opening_keeps_its_positions_and_nothing_stays_unsaved(
    engine: Engine, user: User,
) -> None:
    unplaced = [{key: value for key, value in step.items() if key != "position"} for step in STEPS]
    journey_id = make_journey(engine, unplaced)
    lifecycle.change_status(engine, journey_id, "active")
    await open_editor(user, journey_id)
    await eventually(
        lambda: all(step.get("position") for step in lifecycle.get_journey(engine, journey_id).steps))
    await user.should_see("All changes saved")
    assert lifecycle.get_journey(engine, journey_id).version == 1  # positions only: no new version


class TestAsViewer:
    @pytest.fixture
    def sign_in_as(self) -> None:
        return None

    async def test_a_viewer_opening_an_unplaced_journey_sees_it_laid_out_and_nothing_unsaved(
        self, engine: Engine, user: User,
    ) -> None:
        unplaced = [{key: value for key, value in step.items() if key != "position"} for step in STEPS]
        journey_id = make_journey(engine, unplaced)
        await sign_in(user, *add_user(engine, "viewer"))
        canvas = await open_editor(user, journey_id)
        assert node(canvas, "wait")["x"] < node(canvas, "bye")["x"]  # laid out for the eye
        await user.should_see("All changes saved")
        await user.should_not_see("Unsaved changes")
        steps = lifecycle.get_journey(engine, journey_id).steps
        assert not any(step.get("position") for step in steps)  # not stored
