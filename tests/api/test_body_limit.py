"""The request-body cap at the edge (ui/api/body_limit.py): a declared length over the cap is refused before
anything is read, a streamed body is cut off once it passes the cap; both answer 413 (the API's envelope
on /api/ paths)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from fastapi.testclient import TestClient
from starlette.types import Message, Scope

from engine.engine import Engine
from ui.api.body_limit import BodyLimit

LIMIT = 1000


def _scope(path: str, length: int | None) -> Scope:
    headers = [(b"content-length", str(length).encode())] if length is not None else []
    return {"type": "http", "method": "POST", "path": path, "headers": headers, "query_string": b""}


async def _call(middleware: BodyLimit, scope: Scope, chunks: list[bytes]) -> tuple[int, bytes, int]:
    """Run one request through `middleware`: (status, body, how many body messages it read)."""
    pending = list(chunks)
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        body = pending.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), read


async def _drain(scope: Scope, receive: object, send: object) -> None:
    """An app that reads its whole body, then answers 200."""
    while (message := await receive())["more_body"]:  # type: ignore[operator]
        assert message["type"] == "http.request"
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


async def test_a_declared_length_over_the_cap_is_refused_without_reading_the_body() -> None:
    middleware = BodyLimit(_drain, limit=lambda _path: LIMIT)
    status, body, read = await _call(middleware, _scope("/api/v1/events", LIMIT + 1), [b"x" * (LIMIT + 1)])
    assert (status, read) == (413, 0)
    assert json.loads(body)["error"] == {"code": "too_large", "details": {"limit": LIMIT},
                                         "message": f"the request body is larger than {LIMIT} bytes"}


async def test_a_streamed_body_is_cut_off_once_it_passes_the_cap() -> None:
    middleware = BodyLimit(_drain, limit=lambda _path: LIMIT)
    chunks = [b"x" * 400] * 10
    status, body, read = await _call(middleware, _scope("/api/v1/events", None), chunks)
    assert (status, read) == (413, 3)  # 1200 bytes in: over the cap, the other 7 chunks never read
    assert json.loads(body)["error"]["details"] == {"limit": LIMIT}


async def test_a_body_within_the_cap_passes_and_pages_get_a_plain_413() -> None:
    middleware = BodyLimit(_drain, limit=lambda _path: LIMIT)
    assert await _call(middleware, _scope("/api/v1/events", None), [b"x" * 500] * 2) == (200, b"ok", 2)
    status, body, _read = await _call(middleware, _scope("/_nicegui/client/c/upload/1", LIMIT + 1), [b""])
    assert (status, body) == (413, b"the request body is larger than 1000 bytes")


def test_the_api_answers_413_for_a_body_over_max_body_bytes(api: TestClient, engine: Engine) -> None:
    engine.settings.max_body_bytes = LIMIT
    response = api.post("/api/v1/customers/import", content=b"id\n" + b"c1\n" * LIMIT,
                        headers={"Content-Type": "text/csv"})
    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"limit": LIMIT}
    assert api.get("/api/v1/customers").json()["pagination"]["total"] == 0
    small = api.post("/api/v1/customers/import", content=b"id\nc1\n", headers={"Content-Type": "text/csv"})
    assert small.json()["created"] == 1


async def test_a_streamed_json_body_over_the_cap_is_413_before_any_route_sees_it(
        api: TestClient, engine: Engine) -> None:
    engine.settings.max_body_bytes = LIMIT
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(50):
            pulled += 1
            yield b'{"type": "x", "customerId": "c1", "properties": {"pad": "' if pulled == 1 else b"y" * 100

    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=dict(api.headers)) as client:
        response = await client.post("/api/v1/events", content=body(),
                                     headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert pulled < 50


def test_openapi_lists_413_for_routes_that_take_a_body(api: TestClient) -> None:
    paths = api.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert "413" in paths["/api/v1/customers/import"]["post"]["responses"]
    assert "413" in paths["/api/v1/journeys"]["post"]["responses"]
    assert "413" not in paths["/api/v1/journeys"]["get"]["responses"]


async def test_a_streamed_import_cut_off_at_the_cap_is_413_and_writes_nothing_past_it(
        api: TestClient, engine: Engine) -> None:
    engine.settings.max_body_bytes = 20_000

    async def body() -> AsyncIterator[bytes]:
        yield b"id\n"
        for chunk in range(100):
            yield b"".join(b"c%05d\n" % (chunk * 100 + n) for n in range(100))

    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=dict(api.headers)) as client:
        response = await client.post("/api/v1/customers/import", content=body(),
                                     headers={"Content-Type": "text/csv"})
    assert response.status_code == 413
    assert response.json()["error"]["details"] == {"limit": 20_000}
    kept = api.get("/api/v1/customers", params={"limit": 1}).json()["pagination"]["total"]
    assert kept < 20_000 / 7  # at most the batches read before the cut-off


async def test_a_streamed_body_a_json_route_parses_is_413_over_the_cap_whatever_its_content_type(
        api: TestClient, engine: Engine) -> None:
    # Not JSON by its content type, so the NUL check streams it; the route still reads it as its body.
    engine.settings.max_body_bytes = LIMIT

    async def body() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"y" * 100

    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=dict(api.headers)) as client:
        plain = {"Content-Type": "text/plain"}
        too_large = await client.post("/api/v1/events", content=body(), headers=plain)

        async def with_nul() -> AsyncIterator[bytes]:
            yield b'{"type": "x", '
            yield b'"customerId": "c\x001"}'

        nul = await client.post("/api/v1/events", content=with_nul(), headers={"Content-Type": "text/plain"})
    assert (too_large.status_code, too_large.json()["error"]["code"]) == (413, "too_large")
    assert nul.status_code == 422
    assert nul.json()["error"]["message"] == "body: text may not contain the NUL character"
