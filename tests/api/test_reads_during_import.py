"""While a large customer import holds the write transaction, the engine status and the journeys list still
answer (readers never queue behind the writer on SQLite, nor fail with "database is locked")."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from engine.audience import customer_import, segments
from engine.engine import Engine
from engine.journeys import lifecycle
from models.audience import SegmentIn
from models.journey import JourneyCreate


def test_status_and_journeys_answer_while_an_import_runs(engine: Engine, api: TestClient) -> None:
    segments.create_segment(engine, SegmentIn(id="big", name="Big spenders", rule="customer.spend > 750"))
    journey = lifecycle.create_journey(engine, JourneyCreate.model_validate({
        "name": "Welcome big", "entryConditions": {"segmentId": "big"},
        "steps": [{"id": "w", "type": "wait", "config": {"duration": 1, "unit": "days"}}]}))
    lifecycle.change_status(engine, journey.id, "active")
    body = "id,spend\n" + "".join(f"p{n:05d},{n % 1000}\n" for n in range(5000))
    outcome: dict[str, object] = {}
    importer = threading.Thread(
        target=lambda: outcome.update(customer_import.import_customers(engine, body, "csv")))
    answers: list[tuple[bool, int, str]] = []
    # Warm up first: the client's first request (app start-up) took as long as the whole import at times,
    # and then no read overlapped it.
    assert api.get("/api/v1/engine/status").status_code == 200
    importer.start()
    while importer.is_alive():
        for path in ("/api/v1/engine/status", "/api/v1/journeys"):
            response = api.get(path)
            answers.append((importer.is_alive(), response.status_code, response.text[:200]))
    importer.join()
    assert outcome["created"] == 5000
    assert any(during for during, _, _ in answers)  # some reads overlapped the import
    assert [(code, text) for _, code, text in answers if code != 200] == []
    assert not any("locked" in text for _, _, text in answers)
