"""Local time: a customer's time zone, and the instant a local date and time stand for in it.

A customer's zone is the IANA name in their time-zone attribute (`timezone` unless the settings name
another), else the journey's zone, else the workspace default (`JOURNEYS_DEFAULT_TIMEZONE`, UTC unless set).
Instants are naive UTC, as the engine stores them.

Daylight saving: a local time that a spring-forward gap skips moves to the first valid instant after it
(02:30 on 29 March 2026 in Europe/Berlin is 03:00 CEST, 01:00 UTC); a local time that a fall-back fold
repeats is its first occurrence (01:30 on 1 November 2026 in America/New_York is 01:30 EDT, 05:30 UTC).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from engine.errors import Invalid

DEFAULT_ATTRIBUTE = "timezone"


@cache
def _names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_zone(name: Any) -> bool:
    """Whether `name` is an IANA time-zone name this machine's tz database knows (tzdata ships it)."""
    return isinstance(name, str) and name in _names()


def zone(name: str, field: str = "timezone") -> ZoneInfo:
    """The zone named `name`; an unknown name is 422 naming `field`."""
    if not is_zone(name):
        raise Invalid(f"{field}: '{name}' is not an IANA time zone (such as Europe/Berlin)", field=field)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # listed but unreadable: say so, never crash later
        raise Invalid(f"{field}: '{name}' cannot be read from the tz database", field=field) from error


def zone_of(customer: Mapping[str, Any], journey_zone: str | None, default_zone: str,
            attribute: str = DEFAULT_ATTRIBUTE) -> ZoneInfo:
    """The customer's zone: their attribute when it names a zone, else the journey's, else the default."""
    for name in (customer.get(attribute), journey_zone, default_zone):
        if is_zone(name):
            return ZoneInfo(name)
    return ZoneInfo("UTC")


def instant(day: date, at: time, where: ZoneInfo) -> datetime:
    """The naive UTC instant of local `day` at `at` in `where`, by the daylight-saving rule above."""
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=where)  # fold=0: the first occurrence
    moment = local.astimezone(UTC)
    if moment.astimezone(where).replace(tzinfo=None) == local.replace(tzinfo=None):
        return moment.replace(tzinfo=None)
    # In a gap: fold=0 reads the wall time with the offset before the change and fold=1 with the one after,
    # so the change happened between the two readings; find its second and take it.
    before = local.utcoffset()
    early, late = int(local.replace(fold=1).timestamp()), int(moment.timestamp())
    while late - early > 1:
        middle = (early + late) // 2
        if datetime.fromtimestamp(middle, where).utcoffset() == before:
            early = middle
        else:
            late = middle
    return datetime.fromtimestamp(late, UTC).replace(tzinfo=None)


def local(moment: datetime, where: ZoneInfo) -> datetime:
    """The local wall time (aware) of naive UTC `moment` in `where`."""
    return moment.replace(tzinfo=UTC).astimezone(where)
