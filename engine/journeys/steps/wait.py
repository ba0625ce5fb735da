"""wait: park the enrollment for a duration, or until a moment in the customer's local time (a date attribute
± an offset, the next of some weekdays, a fixed instant); an `untilEvent` event arriving first ends it early.

A wait until a moment that has passed, or a date attribute that is missing or not a date, does not wait: by
`ifPast` the customer moves on at once (outcome `past`) or exits (reason `date_passed` / `date_unreadable`),
and the detail keeps what was read so the timeline can say why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine import local_time
from engine.journeys.steps.base import Checks, Detail, Run, Said, StepKind, StepResult
from models.journey import WaitOffset, WaitStep, WaitUntil

UNITS = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1)}
DAYS_PER_UNIT = {unit: length / timedelta(days=1) for unit, length in UNITS.items()}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
OFFSET_UNITS = ("days", "hours", "minutes")
# Why a wait until a date did not wait; the exit reason each gives with ifPast=exit.
EXIT_REASONS = {"past": "date_passed", "missing": "date_unreadable", "unreadable": "date_unreadable"}


@dataclass(slots=True)
class WaitDetail(Detail):
    duration: int | None
    unit: str
    until: str | None  # ISO time with Z, None without a deadline
    until_event: str | None = None
    # A wait until a local moment: the customer's zone, what it was computed from (the attribute and the
    # value read, the offset, the time of day, the weekdays), and why it did not wait ("past", "missing",
    # "unreadable"); `until` then holds the moment that had passed, if one was computed.
    zone: str | None = None
    attribute: str | None = None
    value: str | None = None
    offset: dict[str, int] | None = None
    at: str | None = None
    weekdays: list[str] | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"duration": self.duration, "unit": self.unit, "until": self.until}
        extra = {"untilEvent": self.until_event, "zone": self.zone, "attribute": self.attribute,
                 "value": self.value, "offset": self.offset, "at": self.at, "weekdays": self.weekdays,
                 "problem": self.problem}
        data.update((key, value) for key, value in extra.items() if value is not None)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WaitDetail:
        return cls(data.get("duration"), data.get("unit") or "days", data.get("until"),
                   data.get("untilEvent"), data.get("zone"), data.get("attribute"), data.get("value"),
                   data.get("offset"), data.get("at"), data.get("weekdays"), data.get("problem"))


def duration_words(duration: int | None, unit: str) -> str:
    """e.g. "1 day", "3 hours" ("" without a duration)."""
    return f"{duration} {unit[:-1] if duration == 1 else unit}" if duration else ""


def offset_parts(offset: WaitOffset | None) -> dict[str, int]:
    """The non-zero parts of an offset, e.g. {"days": -3}."""
    return {unit: getattr(offset, unit) for unit in OFFSET_UNITS if offset and getattr(offset, unit)}


def offset_words(parts: Mapping[str, Any]) -> str:
    """e.g. " + 1 day 2 hours", or with a minus sign before it ("" without an offset); `parts` is an offset
    in wire form."""
    values = [(unit, int(parts.get(unit) or 0)) for unit in OFFSET_UNITS if parts.get(unit)]
    if not values:
        return ""
    sign = "−" if values[0][1] < 0 else "+"
    return f" {sign} " + " ".join(duration_words(abs(value), unit) for unit, value in values)


def moment_words(iso: str, zone: str | None) -> str:
    """An ISO instant as local wall time in `zone`, e.g. "Tue 8 Dec 2026 09:00 Asia/Tokyo"."""
    where = ZoneInfo(zone) if local_time.is_zone(zone) else ZoneInfo("UTC")
    wall = local_time.local(datetime.fromisoformat(iso.removesuffix("Z")), where)
    return f"{wall:%a} {wall.day} {wall:%b %Y %H:%M} {where.key}"


def _parse_moment(value: Any) -> datetime | date | None:
    """An attribute read as an ISO date, or an ISO date-time (aware; naive means UTC); None if neither."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _clock(at: str | None) -> time | None:
    return time.fromisoformat(at) if at else None


def _from_attribute(until: WaitUntil, value: datetime | date, where: ZoneInfo) -> datetime:
    """The naive UTC end of an attribute wait: the date (or the date-time as local wall time) plus the
    offset in wall time, at `at` local when given."""
    if isinstance(value, datetime):
        wall = value.astimezone(where).replace(tzinfo=None)
    else:
        wall = datetime.combine(value, time())
    offset = until.offset or WaitOffset()
    wall += timedelta(days=offset.days, hours=offset.hours, minutes=offset.minutes)
    return local_time.instant(wall.date(), _clock(until.at) or wall.time(), where)


def _next_weekday(weekdays: list[str], at: time, now: datetime, where: ZoneInfo) -> datetime:
    """The first of `weekdays` at `at` local strictly after `now` (today counts while `at` is ahead); eight
    days from today hold each weekday after now."""
    today = local_time.local(now, where).date()
    days = (today + timedelta(days=ahead) for ahead in range(8))
    return min(moment for moment in (local_time.instant(day, at, where) for day in days
                                     if WEEKDAYS[day.weekday()] in weekdays) if moment > now)


def _mode(until: WaitUntil) -> list[str]:
    """The ways `until` says when the wait ends (exactly one is valid)."""
    chosen = {"attribute": bool(until.attribute), "weekdays": bool(until.weekdays),
              "datetime": until.instant is not None}
    return [mode for mode, given in chosen.items() if given]


class Wait(StepKind):
    type = "wait"
    name = "Wait"
    schema = WaitStep
    detail = WaitDetail

    def wait_days(self, step: WaitStep) -> float:
        return step.config.duration * DAYS_PER_UNIT[step.config.unit] if step.config.duration else 0.0

    def pauses(self, step: WaitStep) -> bool:
        # A wait until a date that has passed moves on at once; a loop through it is still allowed (the
        # date may move on the way round), the runner's step limit guards the rest.
        return True

    def check(self, step: WaitStep, checks: Checks) -> None:
        config, until = step.config, step.config.until
        if until is None:
            if config.duration is None:
                checks.error("missing_config", "wait has no duration and no until", step.id)
            return
        if config.duration is not None:
            checks.error("invalid_config", "wait has both a duration and an until: keep one", step.id)
        modes = _mode(until)
        if not modes:
            checks.error("missing_config", "wait until needs an attribute, weekdays or a datetime", step.id)
        elif len(modes) > 1:
            checks.error("invalid_config", f"wait until takes one of attribute, weekdays and datetime, not "
                                           f"{' and '.join(modes)}", step.id)
        if until.weekdays and not until.at:
            checks.error("missing_config", "wait until weekdays needs a time of day (at)", step.id)
        if offset_parts(until.offset) and not until.attribute:
            checks.error("invalid_config", "wait until: an offset applies only to an attribute", step.id)
        if until.instant is not None and until.at:
            checks.error("invalid_config", "wait until a fixed datetime takes no time of day (at)", step.id)

    def execute(self, step: WaitStep, run: Run) -> StepResult:
        config = step.config
        if config.until is not None:
            return self._until(step, config.until, run)
        until = run.now + config.duration * UNITS[config.unit] if config.duration else None
        detail = WaitDetail(config.duration, config.unit, _iso(until), config.until_event)
        return StepResult(
            "waiting", step.next, detail, waits=True, wait_until=until, wait_event=config.until_event
        )

    def _until(self, step: WaitStep, until: WaitUntil, run: Run) -> StepResult:
        config, settings = step.config, run.engine.settings
        where = local_time.zone_of(run.customer(), run.journey.get("timezone"), settings.default_timezone,
                                   settings.timezone_attribute)
        detail = WaitDetail(None, config.unit, None, config.until_event, zone=where.key, at=until.at,
                            offset=offset_parts(until.offset) or None)
        end: datetime | None = None
        if until.attribute:
            raw = run.customer().get(until.attribute)
            detail.attribute, detail.value = until.attribute, None if raw is None else str(raw)[:100]
            value = _parse_moment(raw)
            if value is None:
                detail.problem = "missing" if raw in (None, "") else "unreadable"
            else:
                end = _from_attribute(until, value, where)
        elif until.weekdays:
            detail.weekdays = list(until.weekdays)
            end = _next_weekday(until.weekdays, _clock(until.at) or time(), run.now, where)
        elif until.instant is not None:
            moment = until.instant  # naive means UTC
            end = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        detail.until = _iso(end)
        if end is not None and end <= run.now:
            detail.problem = "past"
        if detail.problem is None and end is None:
            detail.problem = "missing"  # an until with no way to say when (validation reports it)
        if detail.problem is None:
            return StepResult("waiting", step.next, detail, waits=True, wait_until=end,
                              wait_event=config.until_event)
        if config.if_past == "exit":
            return StepResult("exited", None, detail, exit_reason=EXIT_REASONS[detail.problem])
        return StepResult("past", step.next, detail)

    def words(self, detail: WaitDetail, said: Said) -> str:
        if detail.zone is None:
            text = f"Wait {duration_words(detail.duration, detail.unit)}".rstrip()
        elif detail.problem is None:
            text = f"Wait until {moment_words(detail.until or '', detail.zone)}"
            basis = _basis_words(detail)
            text += f" ({basis})" if basis else ""
        else:
            verb = "exited" if said.outcome == "exited" else "moved on"
            return f"Wait {verb}: {_problem_words(detail)}"
        return f"{text} or until event {detail.until_event}" if detail.until_event else text


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None


def _basis_words(detail: WaitDetail) -> str:
    """What a wait until a local moment was computed from, e.g. "renewalDate + 2 days", "next mon, fri"."""
    if detail.attribute:
        return f"{detail.attribute}{offset_words(detail.offset or {})}"
    if detail.weekdays:
        return "next " + ", ".join(detail.weekdays) if len(detail.weekdays) < 7 else "next day"
    return ""


def _problem_words(detail: WaitDetail) -> str:
    """Why a wait until a local moment did not wait, e.g. "renewalDate 2026-01-01 has passed"."""
    if detail.problem == "missing":
        return f"{detail.attribute} is missing" if detail.attribute else "no date to wait for"
    if detail.problem == "unreadable":
        return f"{detail.attribute} '{detail.value}' is not a date"
    when = moment_words(detail.until, detail.zone) if detail.until else "the date"
    if detail.attribute:
        return f"{detail.attribute} {detail.value}{offset_words(detail.offset or {})} has passed ({when})"
    return f"{when} has passed"


KIND = Wait()
