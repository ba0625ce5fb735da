"""Text holding a NUL character is refused with a 422 naming where it was, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from engine.audience.customer_import import BATCH
from ui.api.text_guard import RefuseNulText, nul_field


def field_of(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    return response.json()["error"]["details"]["field"]


def test_an_event_with_nul_in_its_customer_id_is_refused_naming_the_field(api: TestClient) -> None:
    response = api.post("/api/v1/events", json={"customerId": "c\x001", "type": "login"})
    assert field_of(response) == "customerId"


def test_nul_in_a_nested_value_names_its_path(api: TestClient) -> None:
    body = {"id": "c1", "attributes": {"tags": ["ok", "bad\x00"]}}
    assert field_of(api.post("/api/v1/customers", json=body)) == "attributes.tags.1"


def test_nul_in_a_path_segment_or_query_value_is_refused(api: TestClient) -> None:
    assert field_of(api.get("/api/v1/customers/c%001")) == "path"
    assert field_of(api.get("/api/v1/journeys", params={"search": "a\x00"})) == "search"


def test_nul_in_an_uploaded_csv_is_refused(api: TestClient) -> None:
    response = api.post("/api/v1/customers/import", content=b"id,name\nc1,A\x00n\n",
                        headers={"Content-Type": "text/csv"})
    assert field_of(response) == "body"


def test_text_without_nul_passes_through_untouched(api: TestClient) -> None:
    assert api.post("/api/v1/customers", json={"id": "c1", "attributes": {"name": "Ann"}}).status_code == 201
    assert api.get("/api/v1/customers/c1").json()["attributes"] == {"name": "Ann"}


def test_keys_are_checked_like_values() -> None:
    assert nul_field({"a": {"b\x00": 1}}) == "a.b\x00"
    assert nul_field({"a": [1, 2.5, None, True]}) is None


async def _chunks_seen_by_the_app(content_type: bytes | None, chunks: list[bytes]) -> list[int]:
    """Send `chunks` through RefuseNulText to an app that reads the whole body: for each chunk the app
    got, how many chunks had been read from the client by then."""
    pending = list(chunks)
    read = 0
    seen: list[int] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}

    async def app(_scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen.append(read)
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def send(_message: Message) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/api/v1/customers/import", "query_string": b"",
             "headers": [(b"content-type", content_type)] if content_type else []}
    await RefuseNulText(app)(scope, receive, send)
    return seen


@pytest.mark.parametrize("content_type", [b"text/csv", b"application/x-ndjson", b"text/plain"])
async def test_a_body_that_is_not_json_reaches_the_app_chunk_by_chunk_as_it_arrives(
        content_type: bytes) -> None:
    assert await _chunks_seen_by_the_app(content_type, [b"id\n", b"c1\n", b"c2\n", b"c3\n"]) == [1, 2, 3, 4]


@pytest.mark.parametrize("content_type",
                         [b"application/json", b"application/merge-patch+json; charset=utf-8", None])
async def test_a_json_body_is_read_whole_before_the_app_sees_it(content_type: bytes | None) -> None:
    """No content type counts as JSON: FastAPI parses such a body as JSON."""
    assert await _chunks_seen_by_the_app(content_type, [b'{"a":', b' "b"', b"}"]) == [3, 3, 3]


async def test_nul_in_a_streamed_csv_is_422_naming_the_body_and_batches_before_it_stay_written(
        api: TestClient) -> None:
    """The NUL is met as its chunk arrives: the batches already written stay, nothing from that chunk on."""
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield b"id,name\n"
        for chunk in range(4):
            pulled += 1
            rows = b"".join(b"c%05d,Ann\n" % (chunk * BATCH + n) for n in range(BATCH))
            yield rows.replace(b"Ann", b"A\x00n", 1) if chunk == 2 else rows

    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=dict(api.headers)) as client:
        response = await client.post("/api/v1/customers/import", content=body(),
                                     headers={"Content-Type": "text/csv"})
    assert field_of(response) == "body"
    assert response.json()["error"]["details"]["errors"] == [
        {"field": "body", "message": "body: text may not contain the NUL character"}]
    assert pulled == 3  # the chunk after the NUL was never read
    assert api.get("/api/v1/customers").json()["pagination"]["total"] == 2 * BATCH


def test_an_imported_json_line_with_an_escaped_nul_is_a_rejected_line(api: TestClient) -> None:
    lines = (b'{"id": "c1", "name": "Ann"}\n{"id": "c2", "name": "A\\u0000n"}\n'
             b'{"id": "c3", "attributes": {"a\\u0000": 1}}\n')
    response = api.post("/api/v1/customers/import", content=lines,
                        headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["created"] == 1
    assert [(line["line"], "NUL" in line["reason"]) for line in result["rejected"]] == [(2, True), (3, True)]


def test_a_customer_with_an_escaped_nul_in_an_attribute_is_422_naming_it(api: TestClient) -> None:
    response = api.post("/api/v1/customers", content=b'{"id": "c1", "attributes": {"name": "A\\u0000n"}}',
                        headers={"Content-Type": "application/json"})
    assert field_of(response) == "attributes.name"
    assert api.get("/api/v1/customers").json()["pagination"]["total"] == 0


def test_an_imported_id_with_an_escaped_nul_is_a_rejected_line(api: TestClient) -> None:
    body = '{"id": "c\\u00001"}\n{"id": "c2"}\n'
    answer = api.post("/api/v1/customers/import", content=body,
                      headers={"Content-Type": "application/x-ndjson"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["created"] == 1
    assert [line["line"] for line in answer.json()["rejected"]] == [1]
