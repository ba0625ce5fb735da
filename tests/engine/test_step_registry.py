"""The step-type registry: every type the journey schema knows has its module, and what the history already
holds reads back through the typed details unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from engine.journeys.steps import KINDS
from models.journey import STEP_TYPES

# Details as the runner has written them to history (and a test run's additions).
STORED: list[tuple[str, dict[str, Any]]] = [
    ("wait", {"duration": 2, "unit": "days", "until": "2026-01-07T09:00:00Z"}),
    ("wait", {"duration": None, "unit": "days", "until": None, "untilEvent": "purchase"}),
    ("decide", {"decisionFlowId": "dfl", "storedAs": "best", "offers": ["off_a"], "filtered": 1,
                "trace": [{"offerId": "off_b", "rule": "maxOffers"}]}),
    ("decide", {"decisionFlowId": "dfl", "storedAs": "best", "offers": ["off_a"], "filtered": 0, "trace": [],
                "chosen": [{"offerId": "off_a", "name": "A", "score": 0.5}], "eligible": 1}),
    ("branch", {"conditions": [{"label": "young", "value": False, "error": "no such key: age"},
                               {"label": "rich", "value": True}], "matched": "rich"}),
    ("branch", {"conditions": [], "matched": None}),
    ("send", {"channelId": "ch", "offerId": "off_a", "deliveryId": "dlv_1", "status": "queued"}),
    ("send", {"channelId": "ch", "offerId": None, "deliveryId": "dlv_2", "status": "suppressed",
              "reason": "frequency cap"}),
    ("send", {"channelId": "ch", "reason": "no offer in best"}),
    ("send", {"channelId": "ch", "offerId": None, "preview": {"subject": "Hi", "body": "Hello"}}),
    ("update", {"operations": [{"op": "set", "attribute": "vip", "value": True}]}),
    ("split", {"path": "A", "roll": 12.5}),
    ("exit", {"reason": "done"}),
]


def test_every_schema_step_type_has_its_module_in_schema_order() -> None:
    assert list(KINDS) == list(STEP_TYPES)
    for kind in STEP_TYPES:
        assert KINDS[kind].type == kind
        assert KINDS[kind].schema.model_fields["type"].annotation.__args__ == (kind,)


@pytest.mark.parametrize(("kind", "stored"), STORED)
def test_a_stored_history_detail_reads_back_as_it_was_written(kind: str, stored: dict[str, Any]) -> None:
    assert KINDS[kind].detail.from_json(stored).to_json() == stored
