"""Wait until a moment in the customer's local time, on the virtual clock (it starts Monday 2026-01-05 09:00
UTC): a date attribute ± an offset at a time of day, the next weekday at a time of day, a fixed instant; a
date that has passed or cannot be read moves on at once or exits, and says why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.clock import VirtualClock
from engine.delivery import channels_admin
from engine.engine import Engine
from engine.journeys import lifecycle
from engine.journeys.steps.base import Said
from engine.journeys.steps.wait import KIND, WaitDetail
from engine.journeys.validation import validate
from engine.references import References
from engine.runtime import runner
from engine.runtime.simulator import simulate
from models.channels import ChannelCreate, Delivery
from models.journey import JourneyDefinition
from tests.engine.test_runtime import enroll, exit_step, make_customers, make_journey, state

EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def until(
    step_id: str, next_step: str | None = None, if_past: str | None = None, **spec: Any
) -> dict[str, Any]:
    config: dict[str, Any] = {"until": spec}
    if if_past:
        config["ifPast"] = if_past
    return {"id": step_id, "type": "wait", "config": config, "next": next_step}


def utc_of(year: int, month: int, day: int, hour: int, minute: int, zone: str) -> str:
    """What zoneinfo says a local wall time is in UTC, as the API writes it."""
    moment = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def said(outcome: str) -> Said:
    return Said("Wait 'w'", "'w'", outcome, References())


def words(item: dict[str, Any]) -> str:
    return KIND.words(WaitDetail.from_json(item["detail"]), said(item["outcome"]))


# ---- two zones, one instant of entry, two local 09:00s ----------------------------------------------------


def test_customers_in_tokyo_and_los_angeles_are_sent_at_their_own_nine_oclock(
    engine: Engine, clock: VirtualClock
) -> None:
    channels_admin.create_channel(engine, ChannelCreate(id="inapp", name="In-app", type="in_app"))
    make_customers(engine, "tokyo", timezone="Asia/Tokyo")
    make_customers(engine, "la", timezone="America/Los_Angeles")
    send = {"id": "send", "type": "send", "config": {"channelId": "inapp", "template": {"body": "Morning"}}}
    journey_id = make_journey(engine, [until("w", "send", weekdays=EVERY_DAY, at="09:00"), send])
    tokyo, la = enroll(engine, journey_id, "tokyo", "la")
    runner.run_due(engine)
    # 09:00 UTC Monday is 18:00 in Tokyo (09:00 is tomorrow) and 01:00 in Los Angeles (09:00 is today).
    assert state(engine, tokyo)["nextRunAt"] == utc_of(2026, 1, 6, 9, 0, "Asia/Tokyo") \
        == "2026-01-06T00:00:00.000Z"
    assert state(engine, la)["nextRunAt"] == utc_of(2026, 1, 5, 9, 0, "America/Los_Angeles") \
        == "2026-01-05T17:00:00.000Z"
    sent: dict[str, datetime] = {}
    for _ in range(16):  # hour by hour through the next 16 hours
        clock.advance(hours=1)
        runner.run_due(engine)
        with engine.session() as s:
            for row in s.execute(select(Delivery)).scalars():
                sent.setdefault(row.customer_id, clock.now())
    assert sent == {"la": datetime(2026, 1, 5, 17), "tokyo": datetime(2026, 1, 6, 0)}


# ---- attribute mode -------------------------------------------------------------------------------------


def test_renewal_date_minus_three_days_at_nine_local_is_the_exact_utc_instant(
    engine: Engine, clock: VirtualClock
) -> None:
    make_customers(engine, "c1", timezone="Europe/Berlin", renewalDate="2026-03-31")
    journey_id = make_journey(engine, [until("w", attribute="renewalDate", offset={"days": -3}, at="09:00")],
                              maxDuration=365)
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    current = state(engine, eid)
    assert current["nextRunAt"] == utc_of(2026, 3, 28, 9, 0, "Europe/Berlin") == "2026-03-28T08:00:00.000Z"
    [item] = current["history"]
    assert item["outcome"] == "waiting"
    assert words(item) == "Wait until Sat 28 Mar 2026 09:00 Europe/Berlin (renewalDate − 3 days)"


def test_a_past_renewal_date_moves_on_at_once_and_says_why(engine: Engine) -> None:
    make_customers(engine, "c1", timezone="Asia/Tokyo", renewalDate="2026-01-01")
    journey_id = make_journey(
        engine, [until("w", "bye", attribute="renewalDate", at="09:00"), exit_step("bye")]
    )
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    current = state(engine, eid)
    assert (current["status"], current["exitReason"]) == ("exited", "done")
    wait_item = current["history"][0]
    assert (wait_item["outcome"], wait_item["detail"]["problem"]) == ("past", "past")
    assert words(wait_item) == \
        "Wait moved on: renewalDate 2026-01-01 has passed (Thu 1 Jan 2026 09:00 Asia/Tokyo)"


def test_a_missing_or_unreadable_date_exits_with_if_past_exit(engine: Engine) -> None:
    make_customers(engine, "none")
    make_customers(engine, "bad", renewalDate="soon")
    journey_id = make_journey(engine, [until("w", "bye", "exit", attribute="renewalDate"), exit_step("bye")])
    missing, bad = enroll(engine, journey_id, "none", "bad")
    runner.run_due(engine)
    for eid, sentence in ((missing, "Wait exited: renewalDate is missing"),
                          (bad, "Wait exited: renewalDate 'soon' is not a date")):
        current = state(engine, eid)
        assert (current["status"], current["exitReason"]) == ("exited", "date_unreadable")
        [item] = current["history"]
        assert words(item) == sentence


def test_a_past_date_with_if_past_exit_exits_as_date_passed(engine: Engine) -> None:
    make_customers(engine, "c1", renewalDate="2025-12-01")
    journey_id = make_journey(engine, [until("w", "bye", "exit", attribute="renewalDate"), exit_step("bye")])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert state(engine, eid)["exitReason"] == "date_passed"


@pytest.mark.parametrize(("value", "at", "expected"), [
    # A date-time keeps its time without `at` (naive is UTC); with `at` it takes its local date at `at`.
    ("2026-02-01T15:30:00", None, "2026-02-01T15:30:00.000Z"),
    ("2026-02-01T15:30:00+09:00", None, "2026-02-01T06:30:00.000Z"),
    ("2026-02-01T23:30:00Z", "09:00", utc_of(2026, 2, 2, 9, 0, "Asia/Tokyo")),  # 08:30 on the 2nd in Tokyo
    ("2026-02-01", None, utc_of(2026, 2, 1, 0, 0, "Asia/Tokyo")),
])
def test_a_date_time_attribute_keeps_its_time_or_takes_its_local_date_at_the_time_of_day(
    engine: Engine, value: str, at: str | None, expected: str
) -> None:
    make_customers(engine, "c1", timezone="Asia/Tokyo", due=value)
    spec: dict[str, Any] = {"attribute": "due", **({"at": at} if at else {})}
    [eid] = enroll(engine, make_journey(engine, [until("w", **spec)]), "c1")
    runner.run_due(engine)
    assert state(engine, eid)["nextRunAt"] == expected


def test_hours_and_minutes_offsets_and_the_fallback_zones(engine: Engine) -> None:
    make_customers(engine, "c1", due="2026-02-01T12:00:00Z")  # no timezone attribute: the journey's zone
    journey_id = make_journey(engine, [until("w", attribute="due", offset={"hours": 2, "minutes": -30})],
                              timezone="America/New_York")
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    current = state(engine, eid)
    assert current["nextRunAt"] == "2026-02-01T13:30:00.000Z"
    assert current["history"][0]["detail"]["zone"] == "America/New_York"


# ---- weekday and fixed modes ----------------------------------------------------------------------------


def test_the_next_weekday_counts_today_while_its_time_is_ahead(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1", timezone="UTC")
    journey_id = make_journey(engine, [
        until("later", "next_week", weekdays=["mon"], at="10:00"),
        until("next_week", weekdays=["mon"], at="10:00"),
    ])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert state(engine, eid)["nextRunAt"] == "2026-01-05T10:00:00.000Z"  # Monday, still ahead
    clock.advance(hours=1)
    runner.run_due(engine)
    current = state(engine, eid)
    assert (current["stepId"], current["nextRunAt"]) == ("next_week", "2026-01-12T10:00:00.000Z")
    assert words(current["history"][-1]) == "Wait until Mon 12 Jan 2026 10:00 UTC (next mon)"


def test_a_weekday_time_in_a_daylight_saving_gap_moves_to_its_end(
    engine: Engine, clock: VirtualClock
) -> None:
    clock.advance(days=81)  # Friday 2026-03-27
    make_customers(engine, "c1", timezone="Europe/Berlin")
    [eid] = enroll(engine, make_journey(engine, [until("w", weekdays=["sun"], at="02:30")]), "c1")
    runner.run_due(engine)
    assert state(engine, eid)["nextRunAt"] == "2026-03-29T01:00:00.000Z"  # 03:00 CEST


def test_a_fixed_datetime_waits_until_that_instant_or_moves_on_when_past(engine: Engine) -> None:
    make_customers(engine, "c1", timezone="Asia/Tokyo")
    journey_id = make_journey(engine, [
        until("past", "fixed", datetime="2025-06-01T00:00:00Z"),
        until("fixed", datetime="2026-01-10T12:00:00+01:00"),
    ])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    current = state(engine, eid)
    assert (current["stepId"], current["nextRunAt"]) == ("fixed", "2026-01-10T11:00:00.000Z")
    past, fixed = current["history"]
    assert words(past) == "Wait moved on: Sun 1 Jun 2025 09:00 Asia/Tokyo has passed"
    assert words(fixed) == "Wait until Sat 10 Jan 2026 20:00 Asia/Tokyo"


# ---- pause/resume, maxDuration, the test run ----------------------------------------------------------


def test_max_duration_still_ends_a_long_wait(engine: Engine, clock: VirtualClock) -> None:
    make_customers(engine, "c1", renewalDate="2027-01-01")
    journey_id = make_journey(engine, [until("w", attribute="renewalDate")], maxDuration=30)
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert state(engine, eid)["nextRunAt"] == "2027-01-01T00:00:00.000Z"
    clock.advance(days=30, seconds=1)
    assert runner.sweep(engine) == 1
    assert (state(engine, eid)["status"], state(engine, eid)["exitReason"]) == ("exited", "max_duration")


def test_resume_with_extend_waits_moves_a_local_deadline_by_the_paused_time(
    engine: Engine, clock: VirtualClock
) -> None:
    make_customers(engine, "c1", timezone="America/Los_Angeles")
    journey_id = make_journey(engine, [until("w", weekdays=EVERY_DAY, at="09:00")])
    [eid] = enroll(engine, journey_id, "c1")
    runner.run_due(engine)
    assert state(engine, eid)["nextRunAt"] == "2026-01-05T17:00:00.000Z"
    lifecycle.change_status(engine, journey_id, "paused")
    clock.advance(hours=2)
    lifecycle.change_status(engine, journey_id, "active", extend_waits=True)
    assert state(engine, eid)["nextRunAt"] == "2026-01-05T19:00:00.000Z"


def test_the_test_run_waits_until_the_local_moment_in_virtual_time(engine: Engine) -> None:
    steps = [until("w", "bye", attribute="renewalDate", offset={"days": -3}, at="09:00"), exit_step("bye")]
    outcome = simulate(engine, document={"name": "Renewal", "maxDuration": 365, "steps": steps},
                       customer_attributes={"timezone": "Asia/Tokyo", "renewalDate": "2026-03-01"})
    assert outcome["endedAs"] == "exited"
    wait_item, bye = outcome["trace"]
    assert wait_item["detail"]["until"] == "2026-02-26T00:00:00Z"
    assert bye["at"] == "2026-02-26T00:00:00.000Z"
    past = simulate(engine, document={"name": "Renewal", "steps": steps},
                    customer_attributes={"renewalDate": "2020-01-01"})
    assert [item["outcome"] for item in past["trace"]] == ["past", "exited"]


# ---- validation and the detail ------------------------------------------------------------------------


def codes(config: dict[str, Any]) -> list[tuple[str, str]]:
    definition = JourneyDefinition.model_validate({"steps": [{"id": "w", "type": "wait", "config": config}]})
    return [(issue.code, issue.message) for issue in validate(definition, References())
            if issue.step_id == "w"]


@pytest.mark.parametrize(("config", "code", "says"), [
    ({}, "missing_config", "no duration and no until"),
    ({"duration": 1, "until": {"weekdays": ["mon"], "at": "09:00"}}, "invalid_config", "both"),
    ({"until": {}}, "missing_config", "attribute, weekdays or a datetime"),
    ({"until": {"attribute": "d", "weekdays": ["mon"], "at": "09:00"}}, "invalid_config",
     "not attribute and"),
    ({"until": {"weekdays": ["mon"]}}, "missing_config", "time of day"),
    ({"until": {"weekdays": ["mon"], "at": "09:00", "offset": {"days": 1}}}, "invalid_config", "offset"),
    ({"until": {"datetime": "2026-02-01T00:00:00Z", "at": "09:00"}}, "invalid_config", "fixed datetime"),
])
def test_an_until_takes_exactly_one_mode_with_what_it_needs(
    config: dict[str, Any], code: str, says: str
) -> None:
    found = codes(config)
    assert any(c == code and says in message for c, message in found), found


@pytest.mark.parametrize("config", [
    {"duration": 2, "unit": "hours", "untilEvent": "purchase"},
    {"until": {"attribute": "renewalDate", "offset": {"days": -3}, "at": "09:00"}, "ifPast": "exit"},
    {"until": {"weekdays": ["mon", "fri"], "at": "09:00"}, "untilEvent": "purchase"},
    {"until": {"datetime": "2026-02-01T00:00:00Z"}},
])
def test_valid_waits_have_no_findings(config: dict[str, Any]) -> None:
    assert codes(config) == []


@pytest.mark.parametrize("stored", [
    {"duration": None, "unit": "days", "until": "2026-02-26T00:00:00Z", "zone": "Asia/Tokyo",
     "attribute": "renewalDate", "value": "2026-03-01", "offset": {"days": -3}, "at": "09:00"},
    {"duration": None, "unit": "days", "until": None, "zone": "UTC", "attribute": "renewalDate",
     "problem": "missing"},
    {"duration": None, "unit": "days", "until": "2026-01-06T00:00:00Z", "untilEvent": "purchase",
     "zone": "Asia/Tokyo", "at": "09:00", "weekdays": ["mon", "tue"]},
])
def test_an_until_detail_reads_back_as_written(stored: dict[str, Any]) -> None:
    assert WaitDetail.from_json(stored).to_json() == stored
