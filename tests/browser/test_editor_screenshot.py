"""A screenshot of the editor with the demo journey after auto-layout (its own module: an empty database)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import Page

from engine import demo
from engine.engine import Engine
from engine.journeys import lifecycle

pytestmark = pytest.mark.browser


async def test_screenshot_of_the_demo_journey_after_auto_layout(
    engine: Engine, live_server: str, browser_page: Page, tmp_path: Path
) -> None:
    page = browser_page
    assert demo.seed_if_empty(engine), "the module starts from an empty database"
    source = next(
        j for j in lifecycle.list_journeys(engine, limit=200)["data"]
        if j["steps"] and j["status"] == "active"
    )
    copy = lifecycle.duplicate_journey(engine, source["id"])
    await page.goto(f"{live_server}/journeys/{copy.id}")
    await page.wait_for_selector(f'[data-step-id="{copy.steps[-1]["id"]}"]')
    await page.get_by_role("button", name="Auto-layout").click()
    await page.wait_for_timeout(300)  # the browser animates nothing, but let the redraw and fit settle
    shot = tmp_path / "editor.png"
    await page.screenshot(path=str(shot))
    shutil.copy(shot, "/tmp/editor.png")
    boxes = [await page.locator(f'[data-step-id="{step["id"]}"]').bounding_box() for step in copy.steps]
    assert all(box and box["width"] > 150 for box in boxes), "every node is drawn at a readable size"
    for index, a in enumerate(boxes):
        for b in boxes[index + 1 :]:
            assert a and b
            overlap = min(a["x"] + a["width"], b["x"] + b["width"]) > max(a["x"], b["x"]) and min(
                a["y"] + a["height"], b["y"] + b["height"]
            ) > max(a["y"], b["y"])
            assert not overlap, "auto-layout leaves no overlapping nodes"
