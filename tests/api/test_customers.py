"""Customers API: CRUD, search envelope, bulk import formats, errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
from fastapi.testclient import TestClient


def test_customer_lifecycle(api: TestClient) -> None:
    # "alpha" cannot occur inside a generated id (cus_ + hex), so the search below finds it alone.
    created = api.post("/api/v1/customers", json={"id": "alpha", "attributes": {"tier": "gold"}})
    assert created.status_code == 201
    assert created.json()["attributes"] == {"tier": "gold"}
    assert api.post("/api/v1/customers", json={"attributes": {}}).json()["id"].startswith("cus_")

    patched = api.patch("/api/v1/customers/alpha", json={"attributes": {"age": 40}, "flags": {"vip": True}})
    assert patched.status_code == 200
    assert patched.json()["attributes"] == {"tier": "gold", "age": 40}
    put = api.put("/api/v1/customers/alpha", json={"attributes": {"tier": None}})
    assert put.json()["attributes"] == {"age": 40}
    assert api.get("/api/v1/customers/alpha").json()["flags"] == {"vip": True}

    listing = api.get("/api/v1/customers", params={"search": "alpha", "limit": 10}).json()
    assert [c["id"] for c in listing["data"]] == ["alpha"]
    assert listing["pagination"] == {"total": 1, "limit": 10, "offset": 0, "hasMore": False}

    assert api.delete("/api/v1/customers/alpha").status_code == 204
    missing = api.get("/api/v1/customers/alpha")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_duplicate_and_bad_bodies(api: TestClient) -> None:
    api.post("/api/v1/customers", json={"id": "c1"})
    assert api.post("/api/v1/customers", json={"id": "c1"}).status_code == 409
    bad = api.post("/api/v1/customers", json={"id": "c2", "attributes": "nope"})
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "attributes"
    assert api.get("/api/v1/customers", params={"limit": 500}).status_code == 422
    assert api.patch("/api/v1/customers/ghost", json={"attributes": {}}).status_code == 404


def test_import_jsonl_and_csv(api: TestClient) -> None:
    api.post("/api/v1/segments", json={"id": "gold", "name": "Gold", "rule": "customer.tier == 'gold'"})
    lines = "\n".join([json.dumps({"id": "a", "tier": "gold"}), "oops", json.dumps({"id": "b", "tier": "x"})])
    result = api.post("/api/v1/customers/import", content=lines,
                      headers={"Content-Type": "application/x-ndjson"})
    assert result.status_code == 200
    assert result.json()["created"] == 2
    assert result.json()["rejected"][0]["line"] == 2

    csv = "id,tier,age\nb,gold,41\nc,silver,7\n"
    result = api.post("/api/v1/customers/import", content=csv,
                      headers={"Content-Type": "text/csv; charset=utf-8"})
    assert result.json() == {"created": 1, "updated": 1, "rejected": []}
    assert api.get("/api/v1/customers/b").json()["attributes"] == {"tier": "gold", "age": 41}
    assert api.get("/api/v1/customers/b/segments").json()[0]["id"] == "gold"
    assert api.get("/api/v1/segments/gold/count").json()["count"] == 2

    jsonl = api.post("/api/v1/customers/import", content=json.dumps({"id": "d"}),
                     headers={"Content-Type": "application/jsonl"})
    assert jsonl.json()["created"] == 1
    wrong = api.post("/api/v1/customers/import", content="{}", headers={"Content-Type": "application/json"})
    assert wrong.status_code == 415
    assert "error" in wrong.json()
    no_id = api.post("/api/v1/customers/import", content="name\nx\n", headers={"Content-Type": "text/csv"})
    assert no_id.status_code == 422
    assert no_id.json()["error"]["details"]["field"] == "id"


CSV = {"Content-Type": "text/csv"}


def test_a_csv_cell_over_the_csv_field_limit_is_a_rejected_row_not_a_500(api: TestClient) -> None:
    body = "id,note\nc1," + "y" * 140_000 + "\nc2,short\n"
    result = api.post("/api/v1/customers/import", content=body, headers=CSV)
    assert result.status_code == 200, result.text
    assert result.json() == {"created": 1, "updated": 0, "rejected": [
        {"line": 2, "reason": "not CSV: field larger than field limit (131072)"}]}
    assert api.get("/api/v1/customers/c2").json()["attributes"] == {"note": "short"}


def test_unreadable_csv_answers_cleanly(api: TestClient) -> None:
    unterminated = api.post("/api/v1/customers/import", content='id,note\nc1,"open\nc2,x\n', headers=CSV)
    assert unterminated.status_code == 200
    assert api.get("/api/v1/customers/c1").json()["attributes"] == {"note": "open\nc2,x\n"}
    nul = api.post("/api/v1/customers/import", content="id,note\nc3,a\x00b\n", headers=CSV)
    assert nul.status_code == 422 and nul.json()["error"]["details"]["field"] == "body"
    huge_header = api.post("/api/v1/customers/import", content="id," + "h" * 140_000 + "\nc4,1\n",
                           headers=CSV)
    assert huge_header.status_code == 422
    assert huge_header.json()["error"]["details"]["field"] == "body"
    not_utf8 = api.post("/api/v1/customers/import", content=b"id,note\nc5,\xff\xfe\nc6,ok\n", headers=CSV)
    assert not_utf8.json() == {"created": 1, "updated": 0,
                               "rejected": [{"line": 2, "reason": "not UTF-8 text"}]}


async def test_an_import_is_read_as_it_streams(api: TestClient) -> None:
    """A chunked body whose chunks split lines, CRLF pairs and a multi-byte character."""
    lines = "\ufeffid,city\r\n" + "".join(f"s{n},Köln\r\n" for n in range(1200))
    data = lines.encode()

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 7):
            yield data[start:start + 7]

    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers=dict(api.headers)) as client:
        result = await client.post("/api/v1/customers/import", content=body(), headers=CSV)
    assert result.json() == {"created": 1200, "updated": 0, "rejected": []}
    assert api.get("/api/v1/customers/s1199").json()["attributes"] == {"city": "Köln"}
