"""A page's live channel (NiceGUI's socket.io at /_nicegui_ws/socket.io) answers only the browser session the
page was built for: without that session's cookie, over polling or websocket, the connection is refused, so
nobody can drive a signed-in page through it."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
import socketio
from playwright.async_api import Page

from tests.browser.conftest import sign_in

SOCKET_PATH = "/_nicegui_ws/socket.io"

pytestmark = pytest.mark.browser


async def _live_page(page: Page, base: str) -> tuple[str, str, dict[str, str]]:
    """The client id, tab id and cookies of a signed-in page whose live channel is up."""
    await page.goto(f"{base}/journeys")
    await page.wait_for_function("window.did_handshake === true")
    client_id, tab_id = await page.evaluate("[window.clientId, window.socket.io.opts.query.tab_id]")
    cookies = {cookie["name"]: cookie["value"] for cookie in await page.context.cookies()}
    return client_id, tab_id, cookies


def _query(client_id: str | None, tab_id: str, **extra: str) -> dict[str, str]:
    query = {"tab_id": tab_id, "document_id": "forged", "implicit_handshake": "true", **extra}
    return query if client_id is None else {"client_id": client_id, **query}


def _polling_open(base: str, cookies: dict[str, str], query: dict[str, str]) -> httpx.Response:
    """Engine.io's first request over the polling transport."""
    return httpx.get(f"{base}{SOCKET_PATH}/", params={"EIO": "4", "transport": "polling", **query},
                     cookies=cookies, timeout=5)


def _anonymous_session(base: str) -> dict[str, str]:
    """The cookies a browser gets by opening the sign-in page: a real session, just not the page's."""
    return dict(httpx.get(f"{base}/login", timeout=5).cookies)


async def _signed_in_session(page: Page, base: str) -> dict[str, str]:
    """The cookies of another browser signed in as the same admin: a session, but not the page's."""
    context = await page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        await sign_in(await context.new_page(), base)
        return {cookie["name"]: cookie["value"] for cookie in await context.cookies()}
    finally:
        await context.close()


async def _socket_connects(base: str, cookies: dict[str, str], query: dict[str, str]) -> bool:
    """Whether a socket.io client (websocket transport) gets connected with these cookies and query."""
    client = socketio.AsyncClient(reconnection=False)
    header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    try:
        await client.connect(f"{base}?{urlencode(query)}", headers={"Cookie": header} if header else {},
                             socketio_path=SOCKET_PATH, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return False
    await client.disconnect()
    return True


async def test_polling_without_the_pages_session_is_refused(browser_page: Page, live_server: str) -> None:
    client_id, tab_id, cookies = await _live_page(browser_page, live_server)
    query = _query(client_id, tab_id)
    assert _polling_open(live_server, {}, query).status_code == 403
    assert _polling_open(live_server, _anonymous_session(live_server), query).status_code == 403
    other_user = await _signed_in_session(browser_page, live_server)
    assert _polling_open(live_server, other_user, query).status_code == 403
    opened = _polling_open(live_server, cookies, query)
    assert opened.status_code == 200
    assert opened.text.startswith("0{")  # engine.io's open packet: the page's own session gets through


async def test_a_websocket_without_the_pages_session_is_refused(browser_page: Page, live_server: str) -> None:
    client_id, tab_id, _ = await _live_page(browser_page, live_server)
    query = _query(client_id, tab_id)
    assert not await _socket_connects(live_server, {}, query)
    assert not await _socket_connects(live_server, _anonymous_session(live_server), query)
    assert not await _socket_connects(live_server, await _signed_in_session(browser_page, live_server), query)
    await browser_page.get_by_text("New journey").first.wait_for()  # the page itself is undisturbed


async def test_a_socket_naming_no_page_is_refused(browser_page: Page, live_server: str) -> None:
    """Without a client id, or without the implicit handshake, a connected socket could still send events
    naming any page's client id: it is refused unless it names a live page of its session."""
    _, tab_id, cookies = await _live_page(browser_page, live_server)
    assert not await _socket_connects(live_server, {}, _query(None, tab_id))
    assert not await _socket_connects(live_server, cookies, _query(None, tab_id))
    explicit = _query("not-a-client", tab_id, implicit_handshake="false")
    assert not await _socket_connects(live_server, {}, explicit)
    assert _polling_open(live_server, {}, _query(None, tab_id)).status_code == 403
