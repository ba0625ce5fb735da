"""What a journey may refer to: segments, decision flows, channels and offers, by id.

The validator checks ids against these; the editor's selects list them (`catalog()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from engine.core import session
from models.audience import Segment
from models.channels import Channel
from models.offers import DecisionFlow, Offer


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


def catalog() -> References:
    """The current references, in their own session (for the editor's selects)."""
    with session() as s:
        return load_references(s)
