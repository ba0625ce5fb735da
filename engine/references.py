"""What a journey may refer to: segments, decision flows, channels and offers, by id.

The validator checks ids against these; the editor's selects list them (`catalog()`). Deleting one that
a journey still uses is refused (`check_unused`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session

from engine.engine import Engine
from engine.errors import Conflict
from models.audience import Segment
from models.channels import Channel
from models.journey import Journey
from models.offers import DecisionFlow, Offer

Kind = Literal["segment", "channel", "decision flow", "offer"]


@dataclass(frozen=True)
class References:
    """id -> name of everything a journey can point at (and each channel's type)."""

    segments: dict[str, str] = field(default_factory=dict)
    decision_flows: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    channel_types: dict[str, str] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)


def load_references(s: Session) -> References:
    """Read every referable id and name (a few small indexed scans) in the caller's session."""

    def names(model: type) -> dict[str, str]:
        rows = s.execute(select(model.id, model.name).order_by(model.name, model.id)).all()  # type: ignore[attr-defined]
        return {row[0]: row[1] for row in rows}

    channel_rows = s.execute(select(Channel.id, Channel.name, Channel.type).order_by(Channel.name)).all()
    return References(
        segments=names(Segment),
        decision_flows=names(DecisionFlow),
        channels={row[0]: row[1] for row in channel_rows},
        channel_types={row[0]: row[2] for row in channel_rows},
        offers=names(Offer),
    )


def catalog(engine: Engine) -> References:
    """The current references, in their own read-only session (for the editor's selects)."""
    with engine.reader() as s:
        return load_references(s)


def check_unused(s: Session, kind: Kind, ref_id: str, decision_flows: Sequence[str] = ()) -> None:
    """Refuse (409) to delete what a journey that is not archived still refers to, or what the given
    decision flows list (offers); the details name every user."""
    journeys = referring_journeys(s, kind, ref_id)
    if not journeys and not decision_flows:
        return
    users: dict[str, Any] = {"journeys": journeys}
    named = [f"journey {journey['name']} ({journey['id']})" for journey in journeys]
    if decision_flows:
        users["decisionFlows"] = list(decision_flows)
        named.append(f"decision flow(s) {', '.join(decision_flows)}")
    raise Conflict(f"{kind} {ref_id} is in use by {'; '.join(named)}", users, code="in_use")


def referring_journeys(s: Session, kind: Kind, ref_id: str) -> list[dict[str, Any]]:
    """The journeys, not archived, whose current definition refers to `ref_id` as a `kind`, by name."""
    rows = s.execute(
        select(Journey.id, Journey.name, Journey.status, Journey.entry_conditions, Journey.steps)
        .where(Journey.status != "archived").order_by(Journey.name, Journey.id)
    )
    return [{"id": row.id, "name": row.name, "status": row.status} for row in rows
            if (kind, ref_id) in set(_pointers(row.entry_conditions or {}, row.steps or []))]


def _pointers(entry: dict[str, Any], steps: list[dict[str, Any]]) -> Iterator[tuple[Kind, Any]]:
    """(kind, id) of everything a stored (wire-form) definition points at."""
    yield "segment", entry.get("segmentId")
    for step in steps:
        config = step.get("config") or {}
        if step.get("type") == "send":
            yield "channel", config.get("channelId")
            yield "offer", config.get("offerId")
        elif step.get("type") == "decide":
            yield "decision flow", config.get("decisionFlowId")
        elif step.get("type") == "update":
            for operation in config.get("operations") or []:
                if isinstance(operation, dict) and operation.get("op") in ("addSegment", "removeSegment"):
                    yield "segment", operation.get("segmentId")
