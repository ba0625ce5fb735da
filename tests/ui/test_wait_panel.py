"""The wait panel: choosing how a wait ends rewrites its config, the fields write the until, the node says
it in words."""

from __future__ import annotations

from nicegui.testing import User

from engine.engine import Engine
from engine.journeys import lifecycle
from engine.references import References
from tests.ui.test_editor import make_journey, node, open_editor, set_value
from ui.components.step_panels.wait import mode_of, summary


def test_the_summary_says_each_mode_in_words() -> None:
    refs = References()
    assert summary({"duration": 3, "unit": "days", "untilEvent": "buy"}, refs, {}) == "3 days or until buy"
    assert summary({"until": {"attribute": "renewalDate", "offset": {"days": -3}, "at": "09:00"}}, refs, {}) \
        == "until renewalDate − 3 d at 09:00"
    assert summary({"until": {"weekdays": ["mon", "fri"], "at": "09:00"}}, refs, {}) \
        == "next mon, fri at 09:00"
    assert summary({"until": {"datetime": "2026-03-01T09:00:00Z"}}, refs, {}) == "until 2026-03-01T09:00:00Z"
    assert summary({"until": {"attribute": None, "at": "09:00"}}, refs, {}) == "until (attribute) at 09:00"


async def test_switching_to_a_date_attribute_writes_the_until_and_save_stores_it(
    engine: Engine, user: User
) -> None:
    journey_id = make_journey(engine)
    canvas = await open_editor(user, journey_id)
    user.find(marker="canvas").trigger("selection", {"ids": ["wait"]})
    set_value(user, "wait-mode", "attribute")
    await user.should_see(marker="wait-attribute")
    set_value(user, "wait-attribute", "renewalDate")
    set_value(user, "wait-offset-days", -3)
    set_value(user, "wait-if-past", "exit")
    assert node(canvas, "wait")["summary"] == "until renewalDate − 3 d at 09:00"
    user.find(marker="save").click()
    await user.should_see("All changes saved")
    saved = lifecycle.get_journey(engine, journey_id).steps[0]["config"]  # stored with the model's defaults
    until = saved["until"]
    assert (until["attribute"], until["offset"]["days"], until["at"], saved["ifPast"]) == (
        "renewalDate", -3, "09:00", "exit")
    assert saved.get("duration") is None
    set_value(user, "wait-mode", "weekdays")
    await user.should_see(marker="wait-weekdays")
    set_value(user, "wait-weekdays", ["fri", "mon"])
    assert node(canvas, "wait")["summary"] == "next mon, fri at 09:00"


def test_a_stored_config_with_every_key_reads_as_the_mode_filled_in() -> None:
    stored = {"duration": None, "unit": "days", "until": {"attribute": None, "offset": None, "at": "09:00",
                                                          "weekdays": ["sun"], "datetime": None}}
    assert mode_of(stored) == "weekdays"
