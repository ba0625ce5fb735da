"""Host header check and security headers: a Host not allowed gets 400 in the error envelope (a DNS-rebinding
page never reaches the app), every answer carries nosniff, frame, referrer and content-security policies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, WebSocket
from fastapi.testclient import TestClient
from nicegui.testing import User
from starlette.websockets import WebSocketDisconnect

from engine.engine import Engine
from ui import security


def _client(engine: Engine, **settings: str) -> Iterator[TestClient]:
    for name, value in settings.items():
        setattr(engine.settings, name, value)
    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.websocket("/ws")
    async def echo(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hi")
        await socket.close()

    security.install(app, engine)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def app_client(own_engine: Engine) -> Iterator[TestClient]:
    """An app with the default allowed hosts (bind host 127.0.0.1 and the loopback names)."""
    yield from _client(own_engine)


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost", "LOCALHOST.:80", "[::1]:8080", "127.0.0.1"])
def test_the_bind_host_and_loopback_names_are_served(app_client: TestClient, host: str) -> None:
    assert app_client.get("/hello", headers={"Host": host}).json() == {"hello": "world"}


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "",
                                  "[::2]:8080", "2130706433"])
def test_any_other_host_gets_400_in_the_error_envelope(app_client: TestClient, host: str) -> None:
    response = app_client.get("/hello", headers={"Host": host})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("bad_host", {"host": host})
    assert "JOURNEYS_ALLOWED_HOSTS" in error["message"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_configured_hosts_replace_the_bind_host_and_keep_loopback(own_engine: Engine) -> None:
    for client in _client(own_engine, host="0.0.0.0",
                          allowed_hosts="journeys.example.com, Ops.Example.com"):
        assert client.get("/hello", headers={"Host": "journeys.example.com"}).status_code == 200
        assert client.get("/hello", headers={"Host": "ops.example.com:443"}).status_code == 200
        assert client.get("/hello", headers={"Host": "localhost:8080"}).status_code == 200
        assert client.get("/hello", headers={"Host": "0.0.0.0"}).status_code == 400
        assert client.get("/hello", headers={"Host": "other.example.com"}).status_code == 400


def test_a_star_serves_any_host(own_engine: Engine) -> None:
    for client in _client(own_engine, allowed_hosts="*"):
        assert client.get("/hello", headers={"Host": "anything.example"}).status_code == 200


def test_a_websocket_from_another_host_is_refused(app_client: TestClient) -> None:
    with app_client.websocket_connect("/ws", headers={"Host": "localhost"}) as socket:
        assert socket.receive_text() == "hi"
    with pytest.raises(WebSocketDisconnect) as refused, \
            app_client.websocket_connect("/ws", headers={"Host": "evil.example"}):
        pass
    assert refused.value.code == 1008


def test_every_answer_carries_the_security_headers(app_client: TestClient) -> None:
    headers = app_client.get("/hello", headers={"Host": "localhost"}).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy
    assert "cdn.jsdelivr.net" not in policy  # only the API docs pages may load from their CDN
    docs = app_client.get("/docs", headers={"Host": "localhost"}).headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in docs


async def test_the_app_serves_nicegui_pages_with_the_headers_and_refuses_other_hosts(user: User) -> None:
    """main.py installs the check; NiceGUI's simulated user (Host "test") still gets its pages (or the way to
    sign in to them), with the headers."""
    page = await user.http_client.get("/journeys")
    assert page.status_code in (200, 303), page.text
    assert "script-src 'self' 'unsafe-inline' 'unsafe-eval'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    rebound = await user.http_client.get("/journeys", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400
    assert rebound.json()["error"]["code"] == "bad_host"


async def test_the_live_channel_answers_only_the_session_of_its_page(user: User) -> None:
    """A socket.io request naming a page's client gets through with that page's session cookie alone."""
    await user.open("/journeys")
    query = {"EIO": "4", "transport": "polling", "client_id": user.client.id, "implicit_handshake": "true"}
    opened = await user.http_client.get("/_nicegui_ws/socket.io/", params=query)
    assert (opened.status_code, opened.text[:2]) == (200, "0{")
    user.http_client.cookies.clear()
    refused = await user.http_client.get("/_nicegui_ws/socket.io/", params=query)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "not_this_session"
