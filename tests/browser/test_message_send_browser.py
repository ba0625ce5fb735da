"""In real Chromium: write a message in a send step's panel (no offer), see it autosaved and named on the
canvas, then test-run the journey and read the message rendered for the test customer."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from playwright.async_api import Page

from engine.delivery import channels_admin
from engine.engine import Engine
from engine.journeys import lifecycle
from models.channels import ChannelCreate
from models.journey import JourneyCreate
from tests.browser.conftest import AUTH

pytestmark = pytest.mark.browser

STEP = {"id": "hello", "type": "send", "name": "Welcome", "config": {"channelId": "ch_inapp"},
        "position": {"x": 340, "y": 120}}


async def saved_template(base: str, journey_id: str) -> dict[str, Any] | None:
    async with httpx.AsyncClient(base_url=base, headers=AUTH) as client:
        document = (await client.get(f"/api/v1/journeys/{journey_id}")).json()
    return document["steps"][0]["config"].get("template")


async def test_write_a_message_and_see_it_rendered_in_the_test_run(engine: Engine, live_server: str,
                                                                   browser_page: Page) -> None:
    page = browser_page
    channels_admin.create_channel(engine, ChannelCreate(id="ch_inapp", name="In-app", type="in_app"))
    journey_id = lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Hello", "steps": [STEP]})).id
    await page.goto(f"{live_server}/journeys/{journey_id}")
    await page.click('[data-step-id="hello"] .fc-name')
    await page.get_by_label("Subject").fill("Hi {{ customer.firstName }}")
    await page.get_by_label("Message (Jinja2)").fill("Hello {{ customer.firstName }},\nwelcome aboard!")
    await page.get_by_text("customer.<attribute>", exact=False).wait_for()
    summary = page.locator('[data-step-id="hello"]').get_by_text("In-app · “Hi {{ customer.firstName }}”")
    await summary.wait_for()
    wanted = {"subject": "Hi {{ customer.firstName }}",
              "body": "Hello {{ customer.firstName }},\nwelcome aboard!"}
    for _ in range(100):  # autosave runs about a second after the last keystroke
        if await saved_template(live_server, journey_id) == wanted:
            break
        await asyncio.sleep(0.1)
    assert await saved_template(live_server, journey_id) == wanted
    await page.get_by_role("button", name="Test run").click()
    await page.get_by_label("…or these attributes (JSON)").fill('{"firstName": "Ann"}')
    await page.get_by_role("button", name="Run", exact=True).click()
    await page.get_by_text("Completed: the path ends after 'Welcome'").wait_for()
    await page.get_by_text("Send 'Welcome' via 'In-app'").wait_for()
    await page.get_by_text("Hi Ann", exact=True).wait_for()
    body = page.get_by_text("Hello Ann,", exact=False)
    await body.wait_for()
    assert "welcome aboard!" in await body.inner_text()
