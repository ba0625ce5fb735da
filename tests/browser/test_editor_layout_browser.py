"""The editor's layout in real Chromium at common laptop sizes: a readable canvas with the panel open, the
validation list in view, a one-line toolbar whatever the status."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from engine.engine import Engine
from engine.journeys import lifecycle
from models.journey import JourneyCreate

pytestmark = pytest.mark.browser

SIZES = [(1280, 800), (1440, 900)]
# Eight steps over five columns; "second" waits for nothing (an error), so the issue list has something.
STEPS: list[dict[str, Any]] = [
    {"id": "welcome", "type": "wait", "name": "Welcome pause", "config": {"duration": 1, "unit": "days"},
     "next": "engaged"},
    {"id": "engaged", "type": "branch", "name": "Engaged?", "config": {
        "conditions": [{"label": "Adults", "expression": "customer.age >= 18", "targetStepId": "tag"}],
        "defaultStepId": "second"}},
    {"id": "tag", "type": "update", "name": "Tag adult", "config": {
        "operations": [{"op": "set", "attribute": "adult", "value": True}]}, "next": "ab"},
    {"id": "second", "type": "wait", "name": "Second pause", "config": {"duration": 2, "unit": "days"},
     "next": "ab"},
    {"id": "ab", "type": "split", "name": "A/B", "config": {"paths": [
        {"label": "A", "percent": 50, "targetStepId": "done_a"},
        {"label": "B", "percent": 50, "targetStepId": "later"}]}},
    {"id": "done_a", "type": "exit", "name": "Done A", "config": {"reason": "a"}},
    {"id": "later", "type": "wait", "name": "Later", "config": {"duration": 3, "unit": "hours"},
     "next": "done_b"},
    {"id": "done_b", "type": "exit", "name": "Done B", "config": {"reason": "b"}},
]


def journey(engine: Engine, name: str, *, broken: bool = True, active: bool = False) -> tuple[str, list[str]]:
    steps = [dict(step) for step in STEPS]
    if broken:
        steps[3] = {**steps[3], "config": {"unit": "days"}}
    created = lifecycle.create_journey(engine, JourneyCreate.model_validate({"name": name, "steps": steps}))
    if active:
        lifecycle.change_status(engine, created.id, "active")
    return created.id, [step["id"] for step in steps]


async def zoom_of(page: Page) -> float:
    return float(await page.get_attribute("[data-canvas]", "data-zoom") or "nan")


async def inside(page: Page, selector: str, area: dict[str, float]) -> bool:
    box = await page.locator(selector).bounding_box()
    return bool(box) and box["x"] >= area["x"] - 1 and box["y"] >= area["y"] - 1 and (
        box["x"] + box["width"] <= area["x"] + area["width"] + 1) and (
        box["y"] + box["height"] <= area["y"] + area["height"] + 1)


async def open_at(page: Page, base: str, journey_id: str, size: tuple[int, int], last: str) -> None:
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    await page.goto(f"{base}/journeys/{journey_id}")
    await page.wait_for_selector(f'[data-step-id="{last}"]')
    await page.wait_for_timeout(300)  # the first fit runs once the nodes are drawn


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_the_step_panel_keeps_the_canvas_readable_and_every_node_in_reach(
    engine: Engine, live_server: str, browser_page: Page, size: tuple[int, int], tmp_path: Path
) -> None:
    page = browser_page
    journey_id, ids = journey(engine, f"Layout {size[0]}")
    await open_at(page, live_server, journey_id, size, ids[-1])
    assert await zoom_of(page) >= 0.8
    # Open a step in the middle of the journey: its panel docks beside the canvas.
    await page.locator('[data-step-id="ab"]').click()
    await page.wait_for_selector("[data-dock] [data-panel=step]")
    await page.wait_for_timeout(300)  # the canvas has been resized: let the view settle
    await page.screenshot(path=str(tmp_path / "editor.png"))
    shutil.copy(tmp_path / "editor.png", f"/tmp/editor-layout-{size[0]}.png")
    assert await zoom_of(page) >= 0.8, "opening the panel does not shrink the canvas to an unreadable zoom"
    surface = await page.locator("[data-canvas]").bounding_box()
    assert surface is not None
    assert await inside(page, '[data-step-id="ab"]', surface), "the selected step stays in view"
    # Every node is in view or comes into view by dragging the canvas.
    for step_id in ["__entry__", *ids]:
        selector = f'[data-step-id="{step_id}"]'
        if await inside(page, selector, surface):
            continue
        node = await page.locator(selector).bounding_box()
        assert node is not None
        start = (surface["x"] + surface["width"] / 2, surface["y"] + surface["height"] - 12)
        dx = (surface["x"] + surface["width"] / 2) - (node["x"] + node["width"] / 2)
        dy = (surface["y"] + surface["height"] / 2) - (node["y"] + node["height"] / 2)
        await page.mouse.move(*start)
        await page.mouse.down()
        await page.mouse.move(start[0] + dx, start[1] + dy, steps=8)
        await page.mouse.up()
        assert await inside(page, selector, surface), f"{step_id} can be panned into view"
    assert await zoom_of(page) >= 0.8


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
async def test_validation_issues_are_in_view_and_select_their_step(
    engine: Engine, live_server: str, browser_page: Page, size: tuple[int, int]
) -> None:
    page = browser_page
    journey_id, ids = journey(engine, f"Issues {size[0]}")
    await open_at(page, live_server, journey_id, size, ids[-1])
    issue = page.locator('[data-issue-step="second"]').first
    await issue.wait_for()
    viewport = {"x": 0, "y": 0, "width": size[0], "height": size[1]}
    assert await inside(page, '[data-issue-step="second"] >> nth=0', viewport), "no scrolling to see it"
    assert await page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight + 1")
    await issue.click()
    await page.wait_for_selector('[data-step-id="second"].fc-selected')
    await page.wait_for_selector("[data-dock] [data-panel=step]")


@pytest.mark.parametrize("active", [False, True], ids=["draft", "active"])
async def test_the_toolbar_is_one_line_at_1280(
    engine: Engine, live_server: str, browser_page: Page, active: bool
) -> None:
    page = browser_page
    journey_id, ids = journey(engine, f"A journey with quite a long name to see the toolbar cope {active}",
                              broken=False, active=active)
    await open_at(page, live_server, journey_id, (1280, 800), ids[-1])
    await page.screenshot(path=f"/tmp/editor-toolbar-{'active' if active else 'draft'}.png")
    toolbar = page.locator("[data-toolbar]")
    box = await toolbar.bounding_box()
    assert box is not None
    row = await page.locator("[data-toolbar] button").first.bounding_box()
    assert row is not None
    assert box["height"] <= row["height"] + 12, "one row of buttons, no wrap"
    assert await toolbar.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "nothing overflows"
    status = "Pause" if active else "Activate"
    assert await inside(page, f'[data-toolbar] button:has-text("{status}")', box)
