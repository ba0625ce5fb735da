"""The journey document: tables, step configs (one per step type) and the API bodies.

Drafts may be saved incomplete, so configs only enforce shape (types, enums, lengths, limits); whether a
step is complete and the graph sound is for `engine.journeys.validation` to say.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    NaiveDatetime,
    StrictBool,
    StrictFloat,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import JSON as SA_JSON
from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from models.common import CamelModel, DateTime, Pagination, WholeNumber, json_field, json_problem

STEP_TYPES = ("wait", "decide", "branch", "send", "update", "split", "exit")
STATUSES = ("draft", "active", "paused", "archived")
STEP_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MAX_STEPS = 200

JourneyStatus = Literal["draft", "active", "paused", "archived"]
ReentryPolicy = Literal["skip_if_active", "never", "allow_multiple", "restart"]
WaitUnit = Literal["minutes", "hours", "days"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# A local time of day, "HH:MM" (24 h).
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]
# What a wait until a date does when that date has passed or cannot be read.
IfPast = Literal["continue", "exit"]

StepRef = Annotated[str, Field(max_length=64)]
Expression = Annotated[str, Field(max_length=4000)]
Label = Annotated[str, Field(max_length=120)]


# ---- step configs -------------------------------------------------------------------------------------

class Position(CamelModel):
    x: StrictFloat = Field(0, allow_inf_nan=False)
    y: StrictFloat = Field(0, allow_inf_nan=False)


class WaitOffset(CamelModel):
    """Added to a date attribute (negative: before it)."""

    days: Annotated[int, Field(ge=-3650, le=3650), WholeNumber] = 0
    hours: Annotated[int, Field(ge=-1000, le=1000), WholeNumber] = 0
    minutes: Annotated[int, Field(ge=-10000, le=10000), WholeNumber] = 0


class WaitUntil(CamelModel):
    """When a wait ends, in the customer's local time; one of: a date or date-time attribute plus `offset`
    (at `at` when given), the next of `weekdays` at `at`, or a fixed instant `datetime`."""

    attribute: str | None = Field(None, max_length=120)
    offset: WaitOffset | None = None
    at: LocalTime | None = None
    weekdays: list[Weekday] | None = Field(None, min_length=1, max_length=7)
    instant: DateTime | None = Field(None, alias="datetime")


class WaitConfig(CamelModel):
    duration: Annotated[int, Field(ge=1, le=1_000_000), WholeNumber] | None = None
    unit: WaitUnit = "days"
    until_event: str | None = Field(None, max_length=120)
    until: WaitUntil | None = None
    # None: "continue" (left out of the stored document, like every default-free field).
    if_past: IfPast | None = None


class DecideConfig(CamelModel):
    decision_flow_id: str | None = Field(None, max_length=64)
    max_offers: Annotated[int, Field(ge=1, le=10), WholeNumber] = 1
    store_result_as: str | None = Field(None, max_length=64)


class BranchCondition(CamelModel):
    label: Label = ""
    expression: Expression = ""
    target_step_id: StepRef | None = None


class BranchConfig(CamelModel):
    conditions: list[BranchCondition] = Field(default_factory=list, max_length=50)
    default_step_id: StepRef | None = None


class MessageTemplate(CamelModel):
    subject: str | None = Field(None, max_length=1000)
    body: str | None = Field(None, max_length=20_000)


class SendConfig(CamelModel):
    channel_id: str | None = Field(None, max_length=64)
    offer_from: str | None = Field(None, max_length=64)
    offer_id: str | None = Field(None, max_length=64)
    template: MessageTemplate | None = None


class UpdateOperation(CamelModel):
    op: Literal["set", "increment", "unset", "addSegment", "removeSegment", "setFlag"]
    attribute: str | None = Field(None, max_length=120)
    # Any JSON; what may be stored is checked where documents come in (`storable_steps`), so a stored
    # journey that predates that check still loads.
    value: Any = None
    segment_id: str | None = Field(None, max_length=64)
    flag: str | None = Field(None, max_length=120)


class UpdateConfig(CamelModel):
    operations: list[UpdateOperation] = Field(default_factory=list, max_length=50)


class SplitPath(CamelModel):
    label: Label = ""
    percent: StrictFloat = Field(0, ge=0, le=100, allow_inf_nan=False)
    target_step_id: StepRef | None = None


class SplitConfig(CamelModel):
    paths: list[SplitPath] = Field(default_factory=list, max_length=20)


class ExitConfig(CamelModel):
    reason: str = Field("exited", max_length=255)


# ---- steps (a discriminated union on `type`) ---------------------------------------------------------

class StepBase(CamelModel):
    id: str = Field(pattern=STEP_ID_PATTERN)
    name: str = Field("", max_length=255)
    next: StepRef | None = None
    position: Position | None = None


class WaitStep(StepBase):
    type: Literal["wait"]
    config: WaitConfig = Field(default_factory=WaitConfig)


class DecideStep(StepBase):
    type: Literal["decide"]
    config: DecideConfig = Field(default_factory=DecideConfig)


class BranchStep(StepBase):
    type: Literal["branch"]
    config: BranchConfig = Field(default_factory=BranchConfig)


class SendStep(StepBase):
    type: Literal["send"]
    config: SendConfig = Field(default_factory=SendConfig)


class UpdateStep(StepBase):
    type: Literal["update"]
    config: UpdateConfig = Field(default_factory=UpdateConfig)


class SplitStep(StepBase):
    type: Literal["split"]
    config: SplitConfig = Field(default_factory=SplitConfig)


class ExitStep(StepBase):
    type: Literal["exit"]
    config: ExitConfig = Field(default_factory=ExitConfig)


Step = Annotated[
    WaitStep | DecideStep | BranchStep | SendStep | UpdateStep | SplitStep | ExitStep,
    Field(discriminator="type"),
]


def storable_steps(steps: list[Any] | None) -> list[Any] | None:
    """`steps` as given, unless an update value cannot be stored (see `json_problem`): then an error whose
    `field` names it, relative to the steps (e.g. `0.config.operations.1.value`)."""
    for index, step in enumerate(steps or ()):
        operations = step.config.operations if isinstance(step, UpdateStep) else ()
        for number, operation in enumerate(operations):
            problem = json_problem(operation.value)
            if problem:
                raise PydanticCustomError("unstorable", "{problem}", {
                    "problem": problem, "field": f"{index}.config.operations.{number}.value"})
    return steps


# ---- entry conditions ----------------------------------------------------------------------------------

class EntryConditions(CamelModel):
    segment_id: str | None = Field(None, max_length=64)
    event_type: str | None = Field(None, max_length=120)
    condition: Expression | None = None
    reentry: ReentryPolicy = "skip_if_active"
    cooldown_hours: StrictFloat = Field(0, ge=0, le=24 * 365, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _event_alias(cls, data: Any) -> Any:
        # The original product's API spells the event type `event`.
        if isinstance(data, dict) and "event" in data:
            data = dict(data)
            event = data.pop("event")
            data.setdefault("eventType", event)
        return data


# ---- goal -------------------------------------------------------------------------------------------------

class JourneyGoal(CamelModel):
    """What counts as a conversion: an event of `eventType` within `withinDays` days of entering the journey.
    A blank event type may be saved in a draft; validation reports it."""

    event_type: str = Field("", max_length=120)
    within_days: Annotated[int, Field(ge=1, le=365), WholeNumber] = 7


# ---- API bodies -----------------------------------------------------------------------------------------

class AcceptsAliases(CamelModel):
    """Accepts the original product's spellings `maxDurationDays` and `entryCondition` on input."""

    @model_validator(mode="before")
    @classmethod
    def _accept_aliases(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "maxDurationDays" in data:
                data.setdefault("maxDuration", data.pop("maxDurationDays"))
            if "entryCondition" in data:
                data.setdefault("entryConditions", data.pop("entryCondition"))
        return data


class JourneyDefinition(AcceptsAliases):
    """The structural part of a journey: what versions are made of (the goal rides along, like layout)."""

    max_duration: Annotated[int, Field(ge=1, le=365), WholeNumber] = 30
    entry_conditions: EntryConditions = Field(default_factory=EntryConditions)
    steps: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)
    goal: JourneyGoal | None = None
    # The IANA zone of customers without their own (None: the workspace default); validation checks the name.
    timezone: str | None = Field(None, max_length=64)


class JourneyCreate(JourneyDefinition):
    name: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=2000)

    _storable = field_validator("steps")(storable_steps)


class JourneyImport(JourneyCreate):
    """An exported document; id, status, version and timestamps are ignored (the copy is a new draft)."""

    model_config = {"extra": "ignore"}


class JourneyUpdate(AcceptsAliases):
    # Optional to send, never null (a default the type refuses: an explicit null is a 422).
    name: str = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=2000)
    max_duration: Annotated[int, Field(ge=1, le=365), WholeNumber] | None = None
    entry_conditions: EntryConditions | None = None
    steps: list[Step] | None = Field(None, max_length=MAX_STEPS)
    # Sent: the new goal; sent as null: no goal any more; left out: unchanged.
    goal: JourneyGoal | None = None
    # Sent: the new zone; sent as null: the workspace default again; left out: unchanged.
    timezone: str | None = Field(None, max_length=64)
    status: JourneyStatus | None = None
    # On resume (paused -> active): push pending wait deadlines back by the time spent paused.
    extend_waits: StrictBool = False

    _storable = field_validator("steps")(storable_steps)


class JourneyOut(CamelModel):
    id: str
    name: str
    description: str
    status: JourneyStatus
    max_duration: int
    entry_conditions: dict[str, Any]
    steps: list[dict[str, Any]]
    version: int
    # Bumped by every change to the journey; the API's ETag (optimistic concurrency with If-Match).
    revision: int
    created_at: str
    updated_at: str
    # Set while the journey is paused.
    paused_at: str | None = None
    goal: dict[str, Any] | None = None
    # The IANA zone of customers without their own; None: the workspace default.
    timezone: str | None = None


class JourneyDocument(JourneyOut):
    """JourneyOut with typed entry conditions and steps, so the OpenAPI document describes them."""

    entry_conditions: EntryConditions
    steps: list[Step]
    goal: JourneyGoal | None = None


class JourneyPage(CamelModel):
    data: list[JourneyDocument]
    pagination: Pagination


class JourneyVersionOut(JourneyDefinition):
    """One structural definition a journey has had."""

    version: int
    created_at: str


class JourneyVersionList(CamelModel):
    data: list[JourneyVersionOut]


class ValidationIssue(CamelModel):
    severity: Literal["error", "warning"]
    code: str
    step_id: str | None = None
    message: str


class ValidationResult(CamelModel):
    valid: bool
    issues: list[ValidationIssue]


# ---- tables ---------------------------------------------------------------------------------------------
# Times are naive UTC; NaiveDatetime makes sqlmodel store them as such (plain `datetime` demands an offset).

class Journey(SQLModel, table=True):
    id: str = SQLField(primary_key=True, max_length=64)
    name: str = SQLField(max_length=255)
    description: str = ""
    status: str = SQLField(default="draft", index=True, max_length=16)
    max_duration: int = 30
    # Stored in wire form (camelCase dicts), exactly as the API shows them.
    entry_conditions: dict[str, Any] = json_field(dict)
    steps: list[dict[str, Any]] = json_field(list)
    # The journey's goal in wire form ({"eventType", "withinDays"}); NULL when it has none.
    goal: dict[str, Any] | None = SQLField(default=None, sa_column=Column(SA_JSON(none_as_null=True),
                                                                           nullable=True))
    # IANA zone name of customers without their own; NULL: the workspace default.
    timezone: str | None = SQLField(default=None, max_length=64)
    version: int = 1
    # Every change bumps it (versions count structural definitions only); writers send what they read.
    revision: int = SQLField(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    paused_at: NaiveDatetime | None = None


class JourneyVersion(SQLModel, table=True):
    """Every structural definition a journey has had, the current one included."""

    __table_args__ = (UniqueConstraint("journey_id", "version"),)

    id: int | None = SQLField(default=None, primary_key=True)
    journey_id: str = SQLField(index=True, max_length=64)
    version: int
    definition: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(SA_JSON, nullable=False))
    created_at: NaiveDatetime

