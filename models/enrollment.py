"""Enrollments (where each customer is in each journey), their step history, and maintained counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.common import json_field

ENROLLMENT_STATUSES = ("active", "completed", "exited", "failed")


class Enrollment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_enrollment_due", "status", "next_run_at"),
        Index("ix_enrollment_journey_step", "journey_id", "status", "step_id"),
        Index("ix_enrollment_customer", "customer_id", "journey_id"),
    )

    id: str = Field(primary_key=True, max_length=64)
    journey_id: str = Field(max_length=64)
    version: int
    customer_id: str = Field(max_length=128)
    step_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="active", max_length=16)
    # When the runner should next look at it; None while it waits on nothing due (e.g. ended).
    next_run_at: datetime | None = None
    # storeResultAs results, the triggering/resuming event, split choices, wait bookkeeping.
    context: dict[str, Any] = json_field(dict)
    # How many steps this enrollment has executed: part of idempotency keys (enrollment + step + visit).
    visits: int = 0
    entered_at: datetime
    ended_at: datetime | None = None
    exit_reason: str | None = None
    error: str | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    updated_at: datetime


class EnrollmentHistory(SQLModel, table=True):
    """One row per step execution (and per lifecycle exit): what happened and why."""

    __table_args__ = (Index("ix_history_journey_at", "journey_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    enrollment_id: str = Field(max_length=64, index=True)
    journey_id: str = Field(max_length=64)
    customer_id: str = Field(max_length=128)
    step_id: str | None = Field(default=None, max_length=64)
    type: str = Field(max_length=16)
    version: int
    at: datetime
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


class JourneyCounter(SQLModel, table=True):
    """Per-journey totals by name: entered, completed, failed, exited, exited:<reason>."""

    journey_id: str = Field(primary_key=True, max_length=64)
    name: str = Field(primary_key=True, max_length=120)
    value: int = 0
