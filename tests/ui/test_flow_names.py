"""Canvas summaries and figures read in names: decision flows, channels, offers and segments by their names
(ids only when the catalogue does not know them), and the Entry node counts everyone who entered."""

from __future__ import annotations

from engine.journeys.graph import ENTRY_ID
from engine.references import References
from ui.components.flow_model import build_nodes, entry_summary, step_summary
from ui.components.monitor_charts import counts_for_canvas

REFS = References(segments={"seg_young": "Under 30"}, decision_flows={"dfl_welcome": "Welcome offers"},
                  channels={"ch_inapp": "In-app"}, channel_types={"ch_inapp": "in_app"},
                  offers={"off_sale": "Summer sale"})


def send(**config: object) -> dict[str, object]:
    return {"type": "send", "config": {"channelId": "ch_inapp", **config}}


def test_step_summaries_name_what_the_step_points_at() -> None:
    decide = {"type": "decide", "config": {"decisionFlowId": "dfl_welcome", "maxOffers": 2}}
    assert step_summary(decide, REFS) == "Welcome offers → 2 offers"
    assert step_summary(send(offerId="off_sale"), REFS) == "In-app · Summer sale"
    decided_by = {"best": "Pick offer"}
    assert step_summary(send(offerFrom="best"), REFS, decided_by) == "In-app · offer from Pick offer"
    assert step_summary(send(template={"subject": "Hi", "body": "Hello"}), REFS) == "In-app · “Hi”"
    assert step_summary(send(template={"body": "Hello"}), REFS) == "In-app · message"
    update = {"type": "update", "config": {"operations": [{"op": "addSegment", "segmentId": "seg_young"},
                                                          {"op": "set", "attribute": "vip"}]}}
    assert step_summary(update, REFS) == "add to Under 30 +1 more"


def test_an_id_the_catalogue_does_not_know_is_shown_as_it_is() -> None:
    assert step_summary(send(offerId="off_gone"), REFS) == "In-app · off_gone"
    assert step_summary({"type": "decide", "config": {"decisionFlowId": "dfl_x"}}) == "dfl_x → 1 offer"


def test_entry_summary_names_the_segment() -> None:
    entry = {"segmentId": "seg_young", "eventType": "signup"}
    assert entry_summary(entry, REFS) == "joins Under 30 · event signup"


def test_nodes_use_the_decide_step_name_for_offer_from() -> None:
    steps = [{"id": "pick", "type": "decide", "name": "Pick offer",
              "config": {"decisionFlowId": "dfl_welcome", "storeResultAs": "best"}, "next": "tell"},
             {"id": "tell", "type": "send", "config": {"channelId": "ch_inapp", "offerFrom": "best"}}]
    nodes = {node["id"]: node for node in build_nodes({"entryConditions": {"segmentId": "seg_young"},
                                                       "steps": steps}, refs=REFS)}
    assert nodes[ENTRY_ID]["summary"] == "joins Under 30"
    assert nodes["pick"]["summary"] == "Welcome offers → 1 offer"
    assert nodes["tell"]["summary"] == "In-app · offer from Pick offer"


def test_entry_node_counts_everyone_who_entered() -> None:
    data = {"totals": {"entered": 51}, "steps": [{"id": "w", "current": 40, "passed": 11}],
            "edges": [{"source": ENTRY_ID, "target": "w", "count": 51}]}
    counts, edges = counts_for_canvas(data)
    assert counts[ENTRY_ID] == {"current": 0, "passed": 51}
    assert edges[f"{ENTRY_ID}->w"] == 51
