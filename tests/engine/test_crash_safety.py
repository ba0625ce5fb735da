"""Crash safety: a separate engine process is SIGKILLed again and again in the middle of a run of 2,000
enrollments through a journey with a webhook send. After restarts every enrollment finishes and the sink has
each delivery exactly once (the receiver deduplicates on the Idempotency-Key header, as receivers of an
at-least-once outbox do; repeats can only come from a kill between a POST and its recording)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.decisioning import offers
from engine.delivery import channels_admin
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.runtime import entry
from models.audience import Customer
from models.channels import ChannelCreate, Delivery
from models.enrollment import Enrollment
from models.journey import Journey, JourneyCreate
from models.offers import OfferIn

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "tests" / "perf" / "crash_driver.py"
COUNT = 2000
KILLS = 6


class Sink:
    """A webhook receiver that records every request's Idempotency-Key and body."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if len(raw) < length:
                    return  # the sender died mid-request: a receiver never accepts a truncated body
                body = json.loads(raw or b"{}")
                with sink.lock:
                    sink.received.append((self.headers.get("Idempotency-Key", ""), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def sink() -> Iterator[Sink]:
    receiver = Sink()
    yield receiver
    receiver.server.shutdown()


def start_worker() -> subprocess.Popen[str]:
    command = [sys.executable, str(DRIVER), "--lease-seconds", "2"]
    worker = subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def progress(engine: Engine) -> tuple[int, int]:
    """(enrollments still active, deliveries not yet sent)."""
    with engine.session() as s:
        active = s.execute(select(func.count()).select_from(Enrollment).where(Enrollment.status == "active"))
        unsent = s.execute(select(func.count()).select_from(Delivery).where(Delivery.status != "sent"))
        return active.scalar_one(), unsent.scalar_one()


def test_sigkilled_workers_lose_and_duplicate_nothing(engine: Engine, sink: Sink,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # The sink listens on loopback, which the outbound guard refuses unless allowed (here and in the workers).
    monkeypatch.setattr(engine.settings, "outbound_allowlist", "127.0.0.1")
    monkeypatch.setenv("JOURNEYS_OUTBOUND_ALLOWLIST", "127.0.0.1")
    creative = {"webhook": {"subject": "Hi", "body": "{{ customer.id }}"}}
    offers.create_offer(engine, OfferIn(id="o1", name="Offer", creatives=creative))
    channels_admin.create_channel(
        engine, ChannelCreate(id="hook", name="Hook", type="webhook", config={"url": sink.url})
    )
    journey = lifecycle.create_journey(
        engine, JourneyCreate.model_validate(
            {
                "name": "crash",
                "steps": [
                    {
                        "id": "hello",
                        "type": "send",
                        "next": "ab",
                        "config": {"channelId": "hook", "offerId": "o1"},
                    },
                    {
                        "id": "ab",
                        "type": "split",
                        "config": {
                            "paths": [
                                {"label": "A", "percent": 50, "targetStepId": "bye"},
                                {"label": "B", "percent": 50, "targetStepId": "bye"},
                            ]
                        },
                    },
                    {"id": "bye", "type": "exit", "config": {"reason": "done"}},
                ],
            }
        )
    )
    lifecycle.change_status(engine, journey.id, "active")
    moment = engine.now()
    with engine.session() as s:
        s.execute(
            Customer.__table__.insert(),
            [  # type: ignore[attr-defined]
                {"id": f"c{i}", "attributes": {}, "flags": {}, "created_at": moment, "updated_at": moment}
                for i in range(COUNT)
            ],
        )
        row = s.get(Journey, journey.id)
        ids = entry.enter(s, row, [f"c{i}" for i in range(COUNT)], moment).enrollment_ids

    kills = 0
    for _ in range(KILLS):
        worker = start_worker()
        time.sleep(random.uniform(0.3, 1.2))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        kills += 1
        if progress(engine) == (0, 0):
            break
    worker = start_worker()
    try:
        deadline = time.monotonic() + 45
        while progress(engine) != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()

    assert kills >= 2
    assert progress(engine) == (0, 0)
    with engine.session() as s:
        statuses = dict(s.execute(select(Enrollment.status, func.count()).group_by(Enrollment.status)).all())
        keys = set(s.execute(select(Delivery.idempotency_key)).scalars())
    assert statuses == {"exited": COUNT}
    assert keys == {f"{eid}:hello:0" for eid in ids}
    received = {}
    for key, body in sink.received:
        assert received.setdefault(key, body) == body  # a repeat is the same delivery, never a new one
    assert set(received) == keys
    repeats = len(sink.received) - len(received)
    print(f"{kills} kills, {len(received)} deliveries, {repeats} repeated POSTs deduplicated by key")
