"""The editor's layout under the simulated user: the issue strip, the compact toolbar, the docked panel."""

from __future__ import annotations

from typing import Any

from nicegui import ui
from nicegui.testing import User

from engine.engine import Engine
from engine.journeys import lifecycle
from models.journey import JourneyCreate
from tests.ui.kit import eventually


def waits(count: int, *, broken: bool) -> list[dict[str, Any]]:
    """A chain of `count` waits; broken ones have no duration (one error each)."""
    return [
        {"id": f"w{n}", "type": "wait", "name": f"Pause {n}",
         "config": {"unit": "days"} if broken else {"duration": 1, "unit": "days"},
         **({"next": f"w{n + 1}"} if n + 1 < count else {}), "position": {"x": 300 * n + 300, "y": 80}}
        for n in range(count)
    ]


def make(engine: Engine, steps: list[dict[str, Any]], status: str = "draft") -> str:
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate(
        {"name": "Layout", "steps": steps, "entryConditions": {"eventType": "signed_up"}}))
    if status != "draft":
        lifecycle.change_status(engine, journey.id, status)
    return journey.id


def element(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


async def test_issues_show_as_chips_under_the_toolbar_and_all_in_the_summary_menu(
    engine: Engine, user: User
) -> None:
    await user.open(f"/journeys/{make(engine, waits(6, broken=True))}")
    await user.should_see(marker="issue-item")
    chips = user.find(marker="issue-item").elements
    assert len(chips) == 4  # the strip stays one line; the rest are one click away
    assert isinstance(next(iter(chips)), ui.chip)
    menu = user.find(marker="issue-menu-item").elements
    assert len(menu) >= 6  # every issue, each selecting its step
    await eventually(lambda: "6 errors" in element(user, "issues-summary").text)
    await user.should_see("Cannot activate: 6 errors to fix")
    assert any(item.props.get("data-issue-menu-step") == "w5" for item in menu)  # beyond the chips
    user.find(marker="issue-w0").click()
    await user.should_see(marker="wait-duration")


async def test_a_journey_without_problems_says_so(engine: Engine, user: User) -> None:
    await user.open(f"/journeys/{make(engine, waits(2, broken=False))}")
    await eventually(lambda: any("No problems" in getattr(e, "text", "")
                                 for e in user.find(marker="issues-summary").elements))


async def test_secondary_actions_are_named_icons_and_the_status_action_keeps_its_label(
    engine: Engine, user: User
) -> None:
    await user.open(f"/journeys/{make(engine, waits(2, broken=False), 'active')}")
    await user.should_see(marker="pause")
    for marker, name in (("undo", "Undo"), ("redo", "Redo"), ("auto-layout", "Auto-layout"),
                         ("fit", "Fit to view"), ("open-monitor", "Monitor"), ("save", "Save"),
                         ("archive", "Archive")):
        button = element(user, marker)
        assert button.props.get("aria-label") == name and not button.props.get("label"), marker
    assert element(user, "pause").props["label"] == "Pause"
    await user.should_see(marker="locked-banner")
    await user.should_not_see(marker="activate")


async def test_buttons_share_one_style_on_every_page(engine: Engine, user: User) -> None:
    journey_id = make(engine, waits(2, broken=False))
    for path in ("/journeys", f"/journeys/{journey_id}", "/offers", "/decision-flows", "/segments",
                 "/customers", "/channels", "/deliveries", "/monitor"):
        await user.open(path)
        buttons = [button for button in user.find(ui.button).elements]
        assert buttons, path
        for button in buttons:
            assert button.props.get("no-caps") is True, (path, button.props.get("label"))
