"""The send panel's two modes (write a message / use an offer) and the test run's trace in words, with the
rendered preview of each message, under NiceGUI's simulated user; and the wording functions on their own."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User

from engine.audience import customers
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.references import References
from models.audience import CustomerIn
from models.channels import Channel
from models.journey import JourneyCreate
from tests.ui.kit import eventually
from ui.components.flow_canvas import FlowCanvas
from ui.components.step_words import describe, lines
from ui.components.test_run import ending

REFS = References(channels={"ch_inapp": "In-app"}, offers={"off_sale": "Summer sale"})
HELLO = {"subject": "Hi {{ customer.firstName }}", "body": "Hello {{ customer.firstName }}"}


# ---- the words on their own ------------------------------------------------------------------------------

def item(kind: str, name: str, outcome: str, **detail: Any) -> dict[str, Any]:
    return {"stepId": name.lower(), "name": name, "type": kind, "outcome": outcome, "detail": detail}


def test_trace_items_read_in_names() -> None:
    decide = item("decide", "Pick offer", "offers", offers=["off_sale"], eligible=3,
                  chosen=[{"offerId": "off_sale", "name": "Summer sale", "score": 0.42}])
    assert describe(decide, REFS) == "Decide 'Pick offer': chose 'Summer sale' (score 0.42) of 3 eligible"
    send = item("send", "Welcome", "would_send", channelId="ch_inapp", offerId=None)
    assert describe(send, REFS) == "Send 'Welcome' via 'In-app'"
    with_offer = item("send", "Welcome", "would_send", channelId="ch_inapp", offerId="off_sale")
    assert describe(with_offer, REFS) == "Send 'Welcome' via 'In-app', offer 'Summer sale'"
    assert describe(item("wait", "Pause", "waiting", duration=2, unit="days"), REFS) == "Wait 2 days"
    branch = item("branch", "Young?", "yes", matched="yes", conditions=[
        {"label": "yes", "value": True, "expression": "customer.age < 30", "values": {"customer.age": 23}}])
    assert describe(branch, REFS) == "Branch 'Young?' → 'yes'"
    assert lines(branch) == ["✓ 'yes': customer.age < 30 with customer.age = 23"]


def test_a_condition_on_a_missing_attribute_says_so() -> None:
    branch = item("branch", "Rich?", "no_match", matched=None, conditions=[
        {"label": "rich", "value": False, "expression": "customer.income > 100",
         "values": {"customer.income": None}, "error": "no such key: income"}])
    assert lines(branch) == ["✗ 'rich': customer.income > 100 with customer.income = missing "
                             "(counts as false: no such key: income)"]


def test_the_end_is_worded_by_how_the_path_ended() -> None:
    done = item("exit", "Done", "exited", reason="finished")
    assert ending({"endedAs": "exited", "exitReason": "finished", "trace": [done]}) == "Reached Exit 'Done'"
    last = item("send", "Welcome", "would_send")
    assert ending({"endedAs": "completed", "trace": [last]}) == "Completed: the path ends after 'Welcome'"
    assert ending({"endedAs": "exited", "exitReason": "max_duration", "trace": [last]}) == (
        "Exited: the journey's maximum duration passed")
    failed = item("decide", "Pick", "failed", error="no flow")
    assert ending({"endedAs": "failed", "error": "no flow", "trace": [failed]}) == "Failed at 'Pick': no flow"


# ---- in the editor ---------------------------------------------------------------------------------------

def seed_in_app(engine: Engine) -> None:
    with engine.session() as s:
        s.add(Channel(id="ch_inapp", name="In-app", type="in_app", config={}, created_at=engine.now(),
                      updated_at=engine.now()))


def make_journey(engine: Engine, config: dict[str, Any]) -> str:
    steps = [{"id": "hello", "type": "send", "name": "Welcome", "config": config,
              "position": {"x": 340, "y": 80}}]
    return lifecycle.create_journey(
        engine, JourneyCreate.model_validate({"name": "Hello", "steps": steps})).id


def set_value(user: User, marker: str, value: Any) -> None:
    with user.client:
        for element in user.find(marker=marker).elements:
            element.value = value


def element(user: User, marker: str) -> Any:
    return next(iter(user.find(marker=marker).elements))


async def test_send_panel_writes_a_message_or_picks_an_offer(engine: Engine, user: User) -> None:
    seed_in_app(engine)
    customers.create_customer(engine, CustomerIn(id="cus_ann", attributes={"firstName": "Ann", "age": 31}))
    journey_id = make_journey(engine, {"channelId": "ch_inapp"})
    await user.open(f"/journeys/{journey_id}")
    canvas: FlowCanvas = element(user, "canvas")
    user.find(marker="canvas").trigger("selection", {"ids": ["hello"]})
    assert element(user, "send-mode").value == "message"
    await user.should_not_see(marker="send-offer")
    assert "customer.<attribute>" in element(user, "send-template-hint").text
    assert "customer.firstName" in element(user, "send-template-paths").text  # what customers carry
    set_value(user, "send-subject", "Hi")
    set_value(user, "send-body", "Hello {{ customer.firstName }}")
    node = next(n for n in canvas.props["nodes"] if n["id"] == "hello")
    assert node["summary"] == "In-app · “Hi”"
    await eventually(lambda: lifecycle.get_journey(engine, journey_id).steps[0]["config"].get("template") == {
        "subject": "Hi", "body": "Hello {{ customer.firstName }}"})  # autosaved
    set_value(user, "send-body", "Hello {{ customer.firstName")
    await user.should_see(marker="send-body-feedback")
    assert element(user, "send-body-feedback").text.startswith("✗ ")
    set_value(user, "send-mode", "offer")
    await user.should_see(marker="send-offer")
    set_value(user, "send-offer", "off_sale")
    assert next(n for n in canvas.props["nodes"] if n["id"] == "hello")["summary"] == "In-app · off_sale"
    set_value(user, "send-mode", "message")  # back to a message: the offer is cleared
    await user.should_not_see(marker="send-offer")
    assert "offerId" not in canvas.props["nodes"][1]["summary"]
    await eventually(lambda: "offerId" not in lifecycle.get_journey(engine, journey_id).steps[0]["config"])


async def test_test_run_words_the_trace_and_previews_the_message(engine: Engine, user: User) -> None:
    seed_in_app(engine)
    journey_id = make_journey(engine, {"channelId": "ch_inapp", "template": HELLO})
    await user.open(f"/journeys/{journey_id}")
    user.find(marker="open-test").click()
    set_value(user, "test-attributes", '{"firstName": "Ann"}')
    user.find(marker="test-run").click()
    await user.should_see(marker="test-ended")
    assert element(user, "test-ended").text == "Completed: the path ends after 'Welcome'"
    await user.should_see("Send 'Welcome' via 'In-app'")
    assert element(user, "test-preview-subject").text == "Hi Ann"
    assert element(user, "test-preview-body").text == "Hello Ann"
