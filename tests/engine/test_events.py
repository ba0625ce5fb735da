"""Events: stored, announced inside the transaction, then the engine is woken; unknown customers refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from engine import signals
from engine.audience import customers, events
from engine.engine import Engine
from engine.errors import Invalid
from models.audience import CustomerIn, EventIn


@pytest.fixture
def heard(engine: Engine) -> Iterator[list[str]]:
    """What the signals saw, in order: accepted event types (with an open transaction), then wake-ups."""
    log: list[str] = []

    def on_events(engine: Engine, session: Any, events: list[Any], now: Any, **_: Any) -> None:
        assert session.in_transaction()
        log.extend(f"event:{row.type}" for row in events)

    def on_wake(engine: Engine) -> None:
        log.append("wake")

    signals.events_accepted.connect(on_events)
    signals.work_available.connect(on_wake)
    yield log
    signals.events_accepted.disconnect(on_events)
    signals.work_available.disconnect(on_wake)


def test_accepted_events_are_stored_announced_then_wake_the_engine(engine: Engine, heard: list[str]) -> None:
    customers.create_customer(engine, CustomerIn(id="c1"))
    ids = events.accept(engine, [EventIn(customer_id="c1", type="purchase", properties={"amount": 20}),
                         EventIn(customer_id="c1", type="click")])
    assert len(ids) == 2
    assert heard == ["event:purchase", "event:click", "wake"]
    page = events.list_events(engine, customer_id="c1", type="purchase")
    assert [(e["id"], e["properties"]) for e in page["data"]] == [(ids[0], {"amount": 20})]


def test_unknown_customer_rejects_the_whole_batch_naming_the_item(engine: Engine, heard: list[str]) -> None:
    customers.create_customer(engine, CustomerIn(id="c1"))
    with pytest.raises(Invalid) as raised:
        events.accept(engine, [EventIn(customer_id="c1", type="a"), EventIn(customer_id="ghost", type="b")])
    assert raised.value.details == {"field": "events.1.customerId"}
    assert heard == []
    assert events.list_events(engine)["pagination"]["total"] == 0


def test_occurred_at_is_kept_in_utc_and_defaults_to_now(engine: Engine) -> None:
    customers.create_customer(engine, CustomerIn(id="c1"))
    events.accept(engine, [EventIn(customer_id="c1", type="late",
                           occurred_at=datetime(2026, 1, 1, 12, tzinfo=UTC).astimezone()),
                   EventIn(customer_id="c1", type="now")])
    times = {e["type"]: e["occurredAt"] for e in events.list_events(engine)["data"]}
    assert times == {"late": "2026-01-01T12:00:00.000Z", "now": "2026-01-05T09:00:00.000Z"}
