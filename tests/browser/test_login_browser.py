"""Signing in with a real browser: without a session a page leads to the login form; the bootstrap admin
signs in and sees the journeys list; signing out ends the session; the session cookie does not let another
site (or a script without this site's Origin) change anything, while API keys are not affected; a new
password set through the API ends the user's other sessions, not the caller's."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Page

from engine.engine import Engine
from engine.journeys import lifecycle
from models.journey import JourneyCreate
from tests.browser.conftest import AUTH, sign_in

pytestmark = pytest.mark.browser


async def test_without_a_session_journeys_leads_to_the_login_form_and_signing_in_shows_the_list(
    engine: Engine, anonymous_page: Page, live_server: str
) -> None:
    lifecycle.create_journey(engine, JourneyCreate(name="Signed-in only"))
    await anonymous_page.goto(f"{live_server}/journeys")
    await anonymous_page.wait_for_selector("[data-login=email]")
    assert anonymous_page.url.startswith(f"{live_server}/login")
    assert await anonymous_page.locator("[data-login=password]").count() == 1
    assert await anonymous_page.get_by_text("Signed-in only").count() == 0
    await sign_in(anonymous_page, live_server)
    await anonymous_page.get_by_text("Signed-in only").wait_for()


async def test_a_wrong_password_stays_on_the_form(anonymous_page: Page, live_server: str) -> None:
    await anonymous_page.goto(f"{live_server}/login")
    await anonymous_page.fill("[data-login=email]", "admin@example.test")
    await anonymous_page.fill("[data-login=password]", "not the password")
    await anonymous_page.click("[data-login=submit]")
    await anonymous_page.get_by_text("Wrong e-mail or password").wait_for()
    assert anonymous_page.url.startswith(f"{live_server}/login")


async def test_docs_need_a_session_or_key(anonymous_page: Page, live_server: str) -> None:
    await anonymous_page.goto(f"{live_server}/docs")
    await anonymous_page.wait_for_selector("[data-login=email]")
    assert httpx.get(f"{live_server}/openapi.json").status_code == 401
    assert httpx.get(f"{live_server}/openapi.json", headers=AUTH).status_code == 200


async def test_session_changes_must_come_from_this_origin_keys_are_not_affected(
    browser_page: Page, live_server: str
) -> None:
    url = f"{live_server}/api/v1/journeys"
    assert (await browser_page.request.get(url)).status == 200  # the session cookie reads
    forged = await browser_page.request.post(url, data={"name": "Forged"})
    assert forged.status == 403 and (await forged.json())["error"]["code"] == "csrf"
    cross = await browser_page.request.post(url, data={"name": "Forged"}, headers={"Origin": "http://evil.test"})
    assert cross.status == 403
    own = await browser_page.request.post(url, data={"name": "Mine"}, headers={"Origin": live_server})
    assert own.status == 201
    assert httpx.post(url, json={"name": "Keyed"}, headers=AUTH).status_code == 201


async def test_signing_out_ends_the_session(browser_page: Page, live_server: str) -> None:
    await browser_page.click(".q-btn:has(i:text('account_circle'))")
    await browser_page.get_by_text("Sign out").click()
    await browser_page.wait_for_selector("[data-login=email]")
    await browser_page.goto(f"{live_server}/journeys")
    await browser_page.wait_for_selector("[data-login=email]")
    assert (await browser_page.request.get(f"{live_server}/api/v1/journeys")).status == 401


async def test_a_new_password_through_the_api_signs_out_the_other_browser_not_this_one(
    anonymous_page: Page, live_server: str
) -> None:
    # Its own admin, so the bootstrap admin's password (which the other tests sign in with) stays.
    made = httpx.post(f"{live_server}/api/v1/users", headers=AUTH, json={
        "email": "second-admin@example.test", "role": "admin", "password": "first password"})
    assert made.status_code == 201
    user_id, me = made.json()["id"], f"{live_server}/api/v1/me"
    other = await anonymous_page.context.browser.new_context()  # type: ignore[union-attr]
    this = await other.new_page()
    await sign_in(this, live_server, "second-admin@example.test", "first password")
    await sign_in(anonymous_page, live_server, "second-admin@example.test", "first password")
    changed = await this.request.put(f"{live_server}/api/v1/users/{user_id}",
                                     data={"password": "second password"}, headers={"Origin": live_server})
    assert changed.status == 200
    assert (await this.request.get(me)).status == 200
    assert (await anonymous_page.request.get(me)).status == 401
    await anonymous_page.goto(f"{live_server}/journeys")
    await anonymous_page.wait_for_selector("[data-login=email]")
    await other.close()
