"""What parsing a chunk of any log yields, and small helpers every source shares."""

from __future__ import annotations

import datetime as dt

import msgspec

from spendlane.events import LimitNotice, RateLimitReading, UsageEvent


class Parsed(msgspec.Struct):
    """Events and side observations from one chunk; `state` is what the next chunk needs."""

    events: list[UsageEvent]
    notices: list[LimitNotice] = []
    readings: list[RateLimitReading] = []
    malformed: int = 0
    state: str | None = None


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)


def iso_to_ms(value: str | None) -> int | None:
    """ISO 8601 to epoch milliseconds; a time without a zone is taken as UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return (parsed - _EPOCH) // _MS
