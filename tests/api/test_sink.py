"""The demo webhook sink (ui/api/sink.py): mounted in demo mode only, with its own small body cap, keeping a
bounded number and size of the latest requests, reached by a webhook channel without an allowlist."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.delivery import outbound
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from tests.delivery_kit import free_port, seed_customer, seed_offer
from ui import api as api_package
from ui.api import sink

SINK = "/api/v1/sink/webhook"


@pytest.fixture
def engine(engine: Engine) -> Iterator[Engine]:
    """The shared engine with demo mode on, so `api` mounts the sink."""
    engine.settings.demo = True
    sink.clear()
    yield engine
    sink.clear()


def test_sink_records_webhooks_and_flags_a_repeated_idempotency_key(api: TestClient) -> None:
    first = api.post(SINK, json={"n": 1}, headers={"Idempotency-Key": "k1"})
    again = api.post(SINK, json={"n": 1}, headers={"Idempotency-Key": "k1"})
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    received = api.get(SINK).json()
    assert received["pagination"]["total"] == 2
    assert received["data"][0] == {"receivedAt": "2026-01-05T09:00:00.000Z", "idempotencyKey": "k1",
                                   "duplicate": True, "body": {"n": 1}}
    assert api.post(SINK, content=b"not json \xff").json() == {"received": True, "duplicate": False}
    assert api.get(SINK).json()["data"][0]["body"] == "not json \ufffd"


def test_without_demo_mode_the_sink_is_not_there(engine: Engine) -> None:
    engine.settings.demo = False
    app = FastAPI()
    api_package.mount(app, engine)
    with TestClient(app) as client:
        assert client.post(SINK, json={"n": 1}).status_code == 404
    assert sink.kept_bytes() == 0


def test_a_body_over_the_sinks_own_cap_is_413(api: TestClient, engine: Engine) -> None:
    limit = engine.settings.sink_max_bytes
    assert limit < engine.settings.max_body_bytes
    response = api.post(SINK, content=b"x" * (limit + 1), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.json()["error"] == {"code": "too_large", "details": {"limit": limit},
                                        "message": f"the request body is larger than {limit} bytes"}
    assert api.post(SINK, content=b"x" * limit).status_code == 200


def test_the_sink_keeps_a_bounded_count_and_size_of_bodies(api: TestClient) -> None:
    pad = "x" * 60_000
    for n in range(40):
        assert api.post(SINK, json={"n": n, "pad": pad}).status_code == 200
    kept = api.get(SINK, params={"limit": 200}).json()
    assert 0 < kept["pagination"]["total"] < 40  # 40 x 60 kB is more than the sink keeps
    assert kept["data"][0]["body"]["n"] == 39 and sink.kept_bytes() <= sink.KEEP_BYTES
    for n in range(sink.KEEP + 5):
        api.post(SINK, json={"n": n})
    kept = api.get(SINK, params={"limit": 1}).json()
    assert kept["pagination"]["total"] == sink.KEEP
    assert kept["data"][0]["body"] == {"n": sink.KEEP + 4}


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "offset=-1", "limit=0", "limit=201",
                                   "limit=99999999999999999999999"])
def test_the_sinks_listing_pages_within_bounds(api: TestClient, query: str) -> None:
    response = api.get(f"{SINK}?{query}")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == query.split("=")[0]


def test_the_demo_webhook_reaches_the_apps_own_sink_without_an_allowlist(api: TestClient,
                                                                         engine: Engine) -> None:
    """The exemption for the app's own sink, end to end: the API served on a real port, the channel
    pointing at its sink, the delivery arriving there."""
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=free_port(), lifespan="off",
                                           log_level="warning"))
    engine.settings.port = server.config.port
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        channel = {"id": "ch_sink", "name": "Sink", "type": "webhook",
                   "config": {"url": outbound.own_sink_url(engine)}}
        assert api.post("/api/v1/channels", json=channel).status_code == 201
        api.post("/api/v1/channels/ch_sink/test", json={"customerId": "cus_ann", "offerId": "off_tea"})
        assert dispatch_due(engine) == 1
    finally:
        server.should_exit = True
        thread.join(10)
    [received] = api.get(SINK).json()["data"]
    assert received["body"]["channelId"] == "ch_sink"
    assert engine.settings.outbound_allowlist == ""
