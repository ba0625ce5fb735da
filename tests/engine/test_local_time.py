"""Local time: zone names, the customer's zone, local date-times as UTC instants across daylight saving."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engine.errors import Invalid
from engine.local_time import instant, is_zone, local, zone, zone_of

BERLIN, NEW_YORK, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(("day", "at", "where", "expected"), [
    # An ordinary day: the zone's offset.
    (date(2026, 12, 8), time(9, 0), TOKYO, datetime(2026, 12, 8, 0, 0)),
    (date(2026, 12, 8), time(9, 0), NEW_YORK, datetime(2026, 12, 8, 14, 0)),
    # Spring forward: 02:30 does not exist; the first valid instant after the gap is 03:00 summer time.
    (date(2026, 3, 29), time(2, 30), BERLIN, datetime(2026, 3, 29, 1, 0)),
    (date(2026, 3, 8), time(2, 30), NEW_YORK, datetime(2026, 3, 8, 7, 0)),
    # Fall back: the repeated hour is read as its first occurrence (still summer time).
    (date(2026, 10, 25), time(2, 30), BERLIN, datetime(2026, 10, 25, 0, 30)),
    (date(2026, 11, 1), time(1, 30), NEW_YORK, datetime(2026, 11, 1, 5, 30)),
])
def test_a_local_time_is_the_instant_the_daylight_saving_rule_says(
        day: date, at: time, where: ZoneInfo, expected: datetime) -> None:
    assert instant(day, at, where) == expected


def test_an_instant_reads_back_as_its_local_wall_time() -> None:
    assert local(datetime(2026, 3, 29, 1, 0), BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)


def test_only_iana_names_are_zones() -> None:
    assert is_zone("Europe/Berlin") and is_zone("UTC")
    assert not is_zone("Mars/Olympus") and not is_zone("") and not is_zone(None) and not is_zone(3)


def test_an_unknown_zone_is_invalid_naming_the_field() -> None:
    with pytest.raises(Invalid) as raised:
        zone("Europe/Atlantis", "attributes.timezone")
    assert raised.value.details == {"field": "attributes.timezone"}


def test_the_customer_s_zone_falls_back_to_the_journey_s_then_the_default() -> None:
    assert zone_of({"timezone": "Asia/Tokyo"}, "Europe/Berlin", "UTC") == TOKYO
    assert zone_of({"timezone": "nowhere"}, "Europe/Berlin", "UTC") == BERLIN
    assert zone_of({}, None, "America/New_York") == NEW_YORK
    assert zone_of({"tz": "Asia/Tokyo"}, None, "UTC", attribute="tz") == TOKYO
    assert zone_of({}, None, "not a zone") == ZoneInfo("UTC")
