"""Responses: recorded against the delivery (and so the enrollment), read back as the latest outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from engine import signals
from engine.audience import events
from engine.clock import VirtualClock
from engine.core import Core, session
from engine.delivery.responses import latest_outcome, list_responses, record_response
from engine.errors import Invalid, NotFound
from models.audience import EventIn
from models.channels import Response
from tests.delivery_kit import queue, seed_customer, seed_offer


@pytest.fixture(autouse=True)
def _audience(engine_core: Core) -> None:
    seed_customer("cus_ann")
    seed_offer("off_tea")


@pytest.fixture
def wakes() -> Iterator[list[int]]:
    """Counts work_available signals, checking each one comes after the response is committed."""
    seen: list[int] = []

    def receiver() -> None:
        with session() as s:
            seen.append(len(s.execute(select(Response.id)).all()))

    signals.work_available.connect(receiver)
    yield seen
    signals.work_available.disconnect(receiver)


def _latest(enrollment_id: str) -> str | None:
    with session() as s:
        return latest_outcome(s, enrollment_id)


def test_response_to_a_delivery_carries_its_journey_enrollment_and_step(wakes: list[int]) -> None:
    queued = queue(enrollment_id="enr_7", journey_id="jrn_3")
    answer = record_response("click", delivery_id=queued.id)
    answer.pop("id"), answer.pop("at")
    assert answer == {
        "deliveryId": queued.id, "customerId": "cus_ann", "offerId": "off_tea", "journeyId": "jrn_3",
        "enrollmentId": "enr_7", "stepId": "send1", "outcome": "click"}
    assert wakes == [1]


def test_customer_and_offer_find_the_latest_delivery(clock: VirtualClock) -> None:
    queue("old", enrollment_id="enr_old")
    clock.advance(hours=1)
    newer = queue("new", enrollment_id="enr_new")
    answer = record_response("conversion", customer_id="cus_ann", offer_id="off_tea")
    assert (answer["deliveryId"], answer["enrollmentId"]) == (newer.id, "enr_new")


def test_customer_and_offer_without_any_delivery_still_record() -> None:
    answer = record_response("impression", customer_id="cus_ann", offer_id="off_tea")
    assert (answer["deliveryId"], answer["enrollmentId"], answer["outcome"]) == (None, None, "impression")


def test_latest_outcome_is_the_most_recent_response_of_the_enrollment(clock: VirtualClock) -> None:
    first = queue("a", enrollment_id="enr_1")
    second = queue("b", enrollment_id="enr_1", offer_id="off_other")
    assert _latest("enr_1") is None
    record_response("click", delivery_id=first.id)
    clock.advance(minutes=1)
    record_response("dismiss", delivery_id=second.id)
    assert _latest("enr_1") == "dismiss"
    assert _latest("enr_2") is None


def test_responses_at_the_same_instant_rank_by_how_far_the_customer_went() -> None:
    queued = queue(enrollment_id="enr_1")
    record_response("conversion", delivery_id=queued.id)
    record_response("click", delivery_id=queued.id)
    assert _latest("enr_1") == "conversion"


def test_unknown_outcome_is_invalid_naming_the_field() -> None:
    queued = queue()
    with pytest.raises(Invalid) as error:
        record_response("bought", delivery_id=queued.id)
    assert error.value.details == {"field": "outcome"}


def test_unknown_delivery_customer_or_offer_is_not_found() -> None:
    with pytest.raises(NotFound):
        record_response("click", delivery_id="dlv_nope")
    with pytest.raises(NotFound):
        record_response("click", customer_id="cus_nope", offer_id="off_tea")
    with pytest.raises(NotFound):
        record_response("click", customer_id="cus_ann", offer_id="off_nope")


def test_neither_delivery_nor_customer_and_offer_is_invalid() -> None:
    with pytest.raises(Invalid):
        record_response("click", customer_id="cus_ann")


def test_responses_are_listed_newest_first_and_filtered(clock: VirtualClock) -> None:
    queued = queue(enrollment_id="enr_1")
    record_response("impression", delivery_id=queued.id)
    clock.advance(seconds=5)
    record_response("click", delivery_id=queued.id)
    other = queue("other", enrollment_id="enr_2")
    record_response("dismiss", delivery_id=other.id)
    page = list_responses(enrollment_id="enr_1")
    assert [item["outcome"] for item in page["data"]] == ["click", "impression"]
    assert page["pagination"]["total"] == 2
    assert list_responses(customer_id="cus_ann")["pagination"]["total"] == 3
    assert [item["outcome"] for item in list_responses(delivery_id=other.id)["data"]] == ["dismiss"]


def test_an_outcome_event_naming_a_delivery_is_recorded_as_a_response() -> None:
    seed_customer("cus_bob")
    mine = queue("a", enrollment_id="enr_1")
    bobs = queue("b", enrollment_id="enr_2", customer_id="cus_bob")
    events.accept([
        EventIn(customer_id="cus_ann", type="click", properties={"deliveryId": mine.id}),
        EventIn(customer_id="cus_ann", type="conversion", properties={"deliveryId": bobs.id}),  # not hers
        EventIn(customer_id="cus_ann", type="page_view", properties={"deliveryId": mine.id}),
        EventIn(customer_id="cus_ann", type="dismiss", properties={"deliveryId": "dlv_nope"}),
    ])
    assert _latest("enr_1") == "click"
    assert _latest("enr_2") is None
    assert list_responses()["pagination"]["total"] == 1
