"""GET /engine/status lists the engine processes that beat recently (web with its engine, workers)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from engine.clock import VirtualClock
from engine.engine import Engine
from engine.runtime import heartbeat
from engine.runtime.heartbeat import STALE_AFTER, Process
from models.common import iso

WORKER = Process(id="box-a:200:bbbb", host="box-a", pid=200)


def test_engine_status_lists_live_workers_and_drops_silent_ones(
    engine: Engine, api: TestClient, clock: VirtualClock
) -> None:
    assert api.get("/api/v1/engine/status").json()["workers"] == []
    heartbeat.beat(engine, "worker", WORKER)
    [listed] = api.get("/api/v1/engine/status").json()["workers"]
    assert {key: listed[key] for key in ("id", "host", "pid", "role")} == {
        "id": WORKER.id, "host": "box-a", "pid": 200, "role": "worker"}
    assert listed["startedAt"] == listed["lastBeatAt"] == iso(clock.now())
    clock.advance(STALE_AFTER + timedelta(seconds=1))
    assert api.get("/api/v1/engine/status").json()["workers"] == []
