"""A send step with a message of its own (subject and body templates) and no offer: valid, delivered with the
customer's attributes rendered, answered like any delivery, and previewed by the simulator."""

from __future__ import annotations

from typing import Any

from engine.clock import VirtualClock
from engine.delivery import deliveries, responses
from engine.delivery.dispatcher import dispatch_due
from engine.engine import Engine
from engine.journeys.validation import validate
from engine.references import References
from engine.runtime import enrollments, runner
from engine.runtime.simulator import simulate
from models.journey import JourneyDefinition
from tests.delivery_kit import seed_channel
from tests.engine.test_runtime import enroll, make_customers, make_journey

REFS = References(channels={"ch_inapp": "In-app"}, channel_types={"ch_inapp": "in_app"},
                  offers={"off_1": "Ten percent"})
HELLO = {"subject": "Hi", "body": "Hello {{ customer.firstName }}"}


def message_send(template: dict[str, Any] | None = None, **config: Any) -> dict[str, Any]:
    return {"id": "hello", "type": "send", "name": "Welcome",
            "config": {"channelId": "ch_inapp", "template": template or HELLO, **config}}


def findings(step: dict[str, Any]) -> list[tuple[str, str]]:
    document = {"entryConditions": {"eventType": "signup"}, "steps": [step]}
    definition = JourneyDefinition.model_validate(document)
    return [(issue.code, issue.message) for issue in validate(definition, REFS)]


def test_a_send_with_a_message_and_no_offer_is_valid() -> None:
    assert findings(message_send()) == []


def test_a_send_with_neither_offer_nor_message_body_needs_one_or_the_other() -> None:
    for template in ({"subject": "Hi"}, {"subject": "Hi", "body": "   "}):
        [(code, message)] = findings(message_send(template))
        assert code == "missing_config"
        assert "message" in message and "offer" in message
    [(code, _)] = findings({"id": "hello", "type": "send", "config": {"channelId": "ch_inapp"}})
    assert code == "missing_config"


def test_message_template_syntax_is_checked_like_offer_creatives() -> None:
    problems = findings(message_send({"subject": "{{ customer.firstName", "body": "{% if %}x"}))
    assert [code for code, _ in problems] == ["invalid_template", "invalid_template"]
    assert problems[0][1].startswith("message subject: ")
    assert problems[1][1].startswith("message body: ")
    # An offer with a broken override is refused too, not only a message-only send.
    with_offer = message_send({"body": "{{ }}"}, offerId="off_1")
    assert [code for code, _ in findings(with_offer)] == ["invalid_template"]


def test_message_only_send_delivers_the_rendered_text_to_the_in_app_inbox(
    engine: Engine, clock: VirtualClock
) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    make_customers(engine, "cus_ann", firstName="Ann")
    journey_id = make_journey(engine, [message_send()], name="Hello")
    [enrollment_id] = enroll(engine, journey_id, "cus_ann")
    runner.run_due(engine)
    history = enrollments.get_enrollment(engine, enrollment_id)["history"]
    assert [(item["stepId"], item["outcome"]) for item in history] == [("hello", "queued")]
    assert dispatch_due(engine) == 1
    [delivery] = deliveries.list_deliveries(engine, journey_id=journey_id)["data"]
    assert (delivery["status"], delivery["offerId"], delivery["stepId"]) == ("sent", None, "hello")
    [message] = deliveries.inbox(engine, "cus_ann")["data"]
    assert (message["subject"], message["body"], message["offerId"]) == ("Hi", "Hello Ann", None)
    # A response to a message with no offer is recorded like any other.
    recorded = responses.record_response(engine, delivery_id=delivery["id"], outcome="click")
    assert (recorded["offerId"], recorded["outcome"]) == (None, "click")


def test_simulation_previews_the_message_rendered_for_the_test_customer(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    document = {"name": "Hello", "steps": [message_send()]}
    outcome = simulate(engine, document=document, customer_attributes={"firstName": "Bo"})
    [item] = outcome["trace"]
    assert item["outcome"] == "would_send"
    assert item["detail"]["preview"] == {"subject": "Hi", "body": "Hello Bo"}


def test_simulation_shows_a_template_failure_inline_instead_of_failing_the_run(engine: Engine) -> None:
    seed_channel(engine, "ch_inapp", "in_app", {})
    broken = message_send({"subject": "Hi", "body": "{{ 1 / 0 }}"})
    outcome = simulate(engine, document={"name": "Hello", "steps": [broken]}, customer_attributes={})
    [item] = outcome["trace"]
    assert outcome["endedAs"] == "completed"
    assert "preview" not in item["detail"]
    assert item["detail"]["previewError"].startswith("template error in body: ZeroDivisionError")
