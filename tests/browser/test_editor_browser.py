"""The editor in real Chromium: palette drop, port-to-port connect, panel edit, node drag, live validation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from engine.engine import Engine
from engine.journeys import lifecycle
from models.journey import JourneyCreate
from tests.browser.conftest import AUTH

pytestmark = pytest.mark.browser

STEPS = [
    {
        "id": "welcome",
        "type": "wait",
        "name": "Welcome pause",
        "config": {"duration": 1, "unit": "days"},
        "next": "bye",
        "position": {"x": 340, "y": 120},
    },
    {
        "id": "bye",
        "type": "exit",
        "name": "Bye",
        "config": {"reason": "done"},
        "position": {"x": 700, "y": 120},
    },
]


def new_journey(engine: Engine, name: str) -> str:
    return lifecycle.create_journey(engine, JourneyCreate.model_validate({"name": name, "steps": STEPS})).id


async def api_journey(base: str, journey_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers=AUTH) as client:
        answer = await client.get(f"/api/v1/journeys/{journey_id}")
    assert answer.status_code == 200
    return answer.json()


async def eventually(check: Any, timeout: float = 5.0) -> Any:
    """Poll the server until `check()` returns something truthy (autosave runs about 1 s after an edit)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


async def centre(page: Page, selector: str) -> tuple[float, float]:
    box = await page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    await page.mouse.move(*start)
    await page.mouse.down()
    await page.mouse.move(*end, steps=10)
    await page.mouse.up()


async def open_editor(page: Page, base: str, journey_id: str) -> None:
    await page.goto(f"{base}/journeys/{journey_id}")
    await page.wait_for_selector('[data-step-id="bye"]')


async def test_palette_drop_connect_and_configure_a_wait(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    journey_id = new_journey(engine, "Browser build")
    await open_editor(page, live_server, journey_id)
    surface = await page.locator("[data-canvas]").bounding_box()
    assert surface is not None
    await page.drag_and_drop(
        '[data-palette-type="wait"]',
        "[data-canvas]",
        target_position={"x": surface["width"] / 2, "y": surface["height"] - 150},
    )
    new_node = '[data-step-id="wait_1"]'
    await page.wait_for_selector(new_node)
    await drag(
        page, await centre(page, '[data-step-id="welcome"] [data-port="out"]'), await centre(page, new_node)
    )
    await page.wait_for_selector('[data-source="welcome"][data-target="wait_1"]')
    assert await page.evaluate("window.journeysUnsaved") is True, "leaving now would ask first"
    duration = page.get_by_label("Wait for")
    await duration.fill("2")
    await duration.press("Tab")
    await page.get_by_role("button", name="Save", exact=True).click()

    async def saved() -> dict[str, Any] | None:
        document = await api_journey(live_server, journey_id)
        steps = {step["id"]: step for step in document["steps"]}
        return steps if steps.get("wait_1", {}).get("config", {}).get("duration") == 2 else None

    steps = await eventually(saved)
    assert steps, "the new wait step was not saved with 2 days"
    assert steps["welcome"]["next"] == "wait_1"
    assert steps["wait_1"]["config"]["unit"] == "days"
    assert steps["wait_1"]["next"] == "bye"  # connected into an existing edge: it takes over the old target
    assert await page.evaluate("window.journeysUnsaved") is False


async def test_dragging_a_node_saves_its_new_position(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    journey_id = new_journey(engine, "Browser move")
    await open_editor(page, live_server, journey_id)
    x, y = await centre(page, '[data-step-id="bye"] .fc-name')
    await drag(page, (x, y), (x + 90, y + 120))

    async def moved() -> dict[str, Any] | None:
        document = await api_journey(live_server, journey_id)
        position = document["steps"][1]["position"]
        return position if position != {"x": 700, "y": 120} else None

    position = await eventually(moved)
    assert position, "the dragged position was not autosaved"
    assert position["y"] > 120 and position["x"] > 700


async def test_unreachable_step_shows_an_error_badge_and_blocks_activation(
    engine: Engine, live_server: str, browser_page: Page
) -> None:
    page = browser_page
    journey_id = new_journey(engine, "Browser validation")
    await open_editor(page, live_server, journey_id)
    activate = page.get_by_role("button", name="Activate")
    assert await activate.is_enabled()
    start = await centre(page, '[data-step-id="welcome"] [data-port="out"]')
    end = await centre(page, '[data-step-id="bye"] [data-port="in"]')
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    await drag(page, middle, (middle[0], middle[1] + 160))  # pull the edge off: bye is now unreachable
    await page.wait_for_selector('[data-step-id="bye"] [data-badge="error"]')
    assert await activate.is_disabled()
    await page.get_by_text("Cannot activate").wait_for()
    await page.keyboard.press("Control+z")  # undo brings the edge back
    await page.wait_for_selector('[data-step-id="bye"] [data-badge="error"]', state="detached")
    await page.keyboard.press("Control+Shift+z")  # redo takes it away again
    await page.wait_for_selector('[data-step-id="bye"] [data-badge="error"]')
    await drag(page, start, end)  # reconnect by hand: the error goes away
    await page.wait_for_selector('[data-step-id="bye"] [data-badge="error"]', state="detached")
    assert await activate.is_enabled()
    await activate.click()

    async def active() -> bool:
        return (await api_journey(live_server, journey_id))["status"] == "active"

    assert await eventually(active)
