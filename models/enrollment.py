"""Enrollments (where each customer is in each journey), their step history, and maintained counters.

Times are naive UTC (NaiveDatetime: sqlmodel otherwise demands an offset).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field as PydanticField
from pydantic import NaiveDatetime, StrictFloat, model_validator
from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from models.common import CamelModel, DateTime, JsonObject, json_field


class Enrollment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_enrollment_due", "status", "next_run_at"),
        Index("ix_enrollment_journey_step", "journey_id", "status", "step_id"),
        Index("ix_enrollment_customer", "customer_id", "journey_id"),
        Index("ix_enrollment_wait_event", "customer_id", "wait_event"),
        # The maxDuration sweep: a journey's active enrollments by age.
        Index("ix_enrollment_journey_entered", "journey_id", "status", "entered_at"),
    )

    id: str = Field(primary_key=True, max_length=64)
    journey_id: str = Field(max_length=64)
    version: int
    customer_id: str = Field(max_length=128)
    step_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="active", max_length=16)
    # When the runner should next look at it; None while it waits on nothing due (e.g. ended).
    next_run_at: NaiveDatetime | None = None
    # storeResultAs results, the triggering/resuming event, split choices, wait bookkeeping.
    context: dict[str, Any] = json_field(dict)
    # How many steps this enrollment has executed: part of idempotency keys (enrollment + step + visit).
    visits: int = 0
    # The event type an `untilEvent` wait listens for while the enrollment waits there (None otherwise).
    wait_event: str | None = Field(default=None, max_length=120)
    entered_at: NaiveDatetime
    ended_at: NaiveDatetime | None = None
    exit_reason: str | None = None
    error: str | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: NaiveDatetime | None = None
    updated_at: NaiveDatetime


class EnrollmentHistory(SQLModel, table=True):
    """One row per step execution (and per lifecycle exit): what happened and why."""

    __table_args__ = (
        Index("ix_history_journey_at", "journey_id", "at"),
        # Which branch each enrollment took at each split step (goal results per branch), read from the index
        # alone; partial, so only split rows pay for it.
        Index("ix_history_split", "journey_id", "step_id", "outcome", "enrollment_id",
              sqlite_where=text("type = 'split'"), postgresql_where=text("type = 'split'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: str = Field(max_length=64, index=True)
    journey_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=128)
    step_id: str | None = Field(default=None, max_length=64)
    type: str = Field(max_length=16)
    version: int
    at: NaiveDatetime
    outcome: str = Field(max_length=64)
    # Next step taken, if any (edge counts), and the explanation (branch values, decision trace, delivery id).
    next_step_id: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = json_field(dict)


class StepCounter(SQLModel, table=True):
    """Maintained in the runner's batch transaction: customers at a step now, and passed through in total."""

    journey_id: str = Field(primary_key=True, max_length=64)
    step_id: str = Field(primary_key=True, max_length=64)
    current: int = 0
    passed: int = 0


class EdgeCounter(SQLModel, table=True):
    """Customers who took the edge source -> target (target '' means the journey ended there)."""

    journey_id: str = Field(primary_key=True, max_length=64)
    source: str = Field(primary_key=True, max_length=64)
    target: str = Field(primary_key=True, max_length=64)
    count: int = 0


class SeriesCounter(SQLModel, table=True):
    """Entries and completions per journey per time slot, kept at each bucket width the monitor shows
    (5 minutes, an hour, a day), so any window is a read of at most a few dozen rows."""

    journey_id: str = Field(primary_key=True, max_length=64)
    width: int = Field(primary_key=True)  # seconds
    slot: NaiveDatetime = Field(primary_key=True)
    name: str = Field(primary_key=True, max_length=16)  # entered | completed
    count: int = 0


class JourneyCounter(SQLModel, table=True):
    """Per-journey totals by name: entered, completed, failed, exited, exited:<reason>."""

    journey_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(primary_key=True, max_length=120)
    value: int = 0


class SegmentBackfill(SQLModel, table=True):
    """Enrolling an entry segment's members after activation, in keyset batches (progress is visible)."""

    journey_id: str = Field(primary_key=True, max_length=64)
    segment_id: str = Field(max_length=64)
    # Last customer id enrolled; the next batch starts after it.
    after: str | None = Field(default=None, max_length=128)
    enrolled: int = 0
    skipped: int = 0
    done: bool = False
    started_at: NaiveDatetime
    finished_at: NaiveDatetime | None = None


# ---- API bodies -------------------------------------------------------------------------------------------

MAX_ENROLL = 1000


class EnrollRequest(CamelModel):
    """`customerId` or `customerIds` (up to 1000); duplicates are skipped and counted."""

    # What `_some_customer` checks, stated for the OpenAPI document.
    model_config = {"json_schema_extra": {"anyOf": [
        {"required": ["customerId"], "properties": {"customerId": {"type": "string"}}},
        {"required": ["customerIds"], "properties": {"customerIds": {"type": "array", "minItems": 1}}},
    ]}}

    customer_id: str | None = PydanticField(None, min_length=1, max_length=128)
    customer_ids: list[str] | None = PydanticField(None, max_length=MAX_ENROLL)

    @model_validator(mode="after")
    def _some_customer(self) -> EnrollRequest:
        if not self.customer_id and not self.customer_ids:
            raise ValueError("give customerId or customerIds")
        return self

    def ids(self) -> list[str]:
        return ([self.customer_id] if self.customer_id else []) + list(self.customer_ids or [])


class SimulatedEvent(CamelModel):
    """An event injected into a simulation at a virtual time: `at` (ISO) or `afterMinutes` from the start.

    An event of type `response` with `properties.outcome` (click, conversion, ...) sets `outcome` from then.
    """

    type: str = PydanticField(min_length=1, max_length=120)
    at: DateTime | None = None
    after_minutes: StrictFloat | None = PydanticField(None, ge=0, le=60 * 24 * 366, allow_inf_nan=False)
    properties: JsonObject = PydanticField(default_factory=dict)


class SimulationRequest(CamelModel):
    customer_id: str | None = PydanticField(None, max_length=128)
    customer_attributes: JsonObject | None = None
    events: list[SimulatedEvent] = PydanticField(default_factory=list, max_length=100)
