"""Responses: recorded against the delivery (and so the enrollment), read back as the latest outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from engine import signals
from engine.audience import events
from engine.clock import VirtualClock
from engine.delivery.responses import latest_outcome, list_responses, record_response
from engine.engine import Engine
from engine.errors import Invalid, NotFound
from models.audience import EventIn
from models.channels import Response
from tests.delivery_kit import queue, seed_customer, seed_offer


@pytest.fixture(autouse=True)
def _audience(engine: Engine) -> None:
    seed_customer(engine, "cus_ann")
    seed_offer(engine, "off_tea")


@pytest.fixture
def wakes(engine: Engine) -> Iterator[list[int]]:
    """Counts work_available signals, checking each one comes after the response is committed."""
    seen: list[int] = []

    def receiver(**_: object) -> None:
        with engine.session() as s:
            seen.append(len(s.execute(select(Response.id)).all()))

    signals.work_available.connect(receiver)
    yield seen
    signals.work_available.disconnect(receiver)


def _latest(engine: Engine, enrollment_id: str) -> str | None:
    with engine.session() as s:
        return latest_outcome(s, enrollment_id)


def test_response_to_a_delivery_carries_its_journey_enrollment_and_step(
        engine: Engine, wakes: list[int]) -> None:
    queued = queue(engine, enrollment_id="enr_7", journey_id="jrn_3")
    answer = record_response(engine, "click", delivery_id=queued.id)
    answer.pop("id"), answer.pop("at")
    assert answer == {
        "deliveryId": queued.id, "customerId": "cus_ann", "offerId": "off_tea", "journeyId": "jrn_3",
        "enrollmentId": "enr_7", "stepId": "send1", "outcome": "click"}
    assert wakes == [1]


def test_customer_and_offer_find_the_latest_delivery(engine: Engine, clock: VirtualClock) -> None:
    queue(engine, "old", enrollment_id="enr_old")
    clock.advance(hours=1)
    newer = queue(engine, "new", enrollment_id="enr_new")
    answer = record_response(engine, "conversion", customer_id="cus_ann", offer_id="off_tea")
    assert (answer["deliveryId"], answer["enrollmentId"]) == (newer.id, "enr_new")


def test_customer_and_offer_without_any_delivery_still_record(engine: Engine) -> None:
    answer = record_response(engine, "impression", customer_id="cus_ann", offer_id="off_tea")
    assert (answer["deliveryId"], answer["enrollmentId"], answer["outcome"]) == (None, None, "impression")


def test_latest_outcome_is_the_most_recent_response_of_the_enrollment(
        engine: Engine, clock: VirtualClock) -> None:
    first = queue(engine, "a", enrollment_id="enr_1")
    second = queue(engine, "b", enrollment_id="enr_1", offer_id="off_other")
    assert _latest(engine, "enr_1") is None
    record_response(engine, "click", delivery_id=first.id)
    clock.advance(minutes=1)
    record_response(engine, "dismiss", delivery_id=second.id)
    assert _latest(engine, "enr_1") == "dismiss"
    assert _latest(engine, "enr_2") is None


def test_responses_at_the_same_instant_rank_by_how_far_the_customer_went(engine: Engine) -> None:
    queued = queue(engine, enrollment_id="enr_1")
    record_response(engine, "conversion", delivery_id=queued.id)
    record_response(engine, "click", delivery_id=queued.id)
    assert _latest(engine, "enr_1") == "conversion"


def test_unknown_outcome_is_invalid_naming_the_field(engine: Engine) -> None:
    queued = queue(engine)
    with pytest.raises(Invalid) as error:
        record_response(engine, "bought", delivery_id=queued.id)
    assert error.value.details == {"field": "outcome"}


def test_unknown_delivery_customer_or_offer_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        record_response(engine, "click", delivery_id="dlv_nope")
    with pytest.raises(NotFound):
        record_response(engine, "click", customer_id="cus_nope", offer_id="off_tea")
    with pytest.raises(NotFound):
        record_response(engine, "click", customer_id="cus_ann", offer_id="off_nope")


def test_neither_delivery_nor_customer_and_offer_is_invalid(engine: Engine) -> None:
    with pytest.raises(Invalid):
        record_response(engine, "click", customer_id="cus_ann")


def test_responses_are_listed_newest_first_and_filtered(engine: Engine, clock: VirtualClock) -> None:
    queued = queue(engine, enrollment_id="enr_1")
    record_response(engine, "impression", delivery_id=queued.id)
    clock.advance(seconds=5)
    record_response(engine, "click", delivery_id=queued.id)
    other = queue(engine, "other", enrollment_id="enr_2")
    record_response(engine, "dismiss", delivery_id=other.id)
    page = list_responses(engine, enrollment_id="enr_1")
    assert [item["outcome"] for item in page["data"]] == ["click", "impression"]
    assert page["pagination"]["total"] == 2
    assert list_responses(engine, customer_id="cus_ann")["pagination"]["total"] == 3
    assert [item["outcome"] for item in list_responses(engine, delivery_id=other.id)["data"]] == ["dismiss"]


def test_an_outcome_event_naming_a_delivery_is_recorded_as_a_response(engine: Engine) -> None:
    seed_customer(engine, "cus_bob")
    mine = queue(engine, "a", enrollment_id="enr_1")
    bobs = queue(engine, "b", enrollment_id="enr_2", customer_id="cus_bob")
    events.accept(engine, [
        EventIn(customer_id="cus_ann", type="click", properties={"deliveryId": mine.id}),
        EventIn(customer_id="cus_ann", type="conversion", properties={"deliveryId": bobs.id}),  # not hers
        EventIn(customer_id="cus_ann", type="page_view", properties={"deliveryId": mine.id}),
        EventIn(customer_id="cus_ann", type="dismiss", properties={"deliveryId": "dlv_nope"}),
    ])
    assert _latest(engine, "enr_1") == "click"
    assert _latest(engine, "enr_2") is None
    assert list_responses(engine)["pagination"]["total"] == 1
