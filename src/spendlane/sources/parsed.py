"""What parsing a chunk of any log yields, and small helpers every source shares."""

from __future__ import annotations

import datetime as dt

import msgspec

from spendlane.events import MAX_TS_MS, AgentType, LimitNotice, RateLimitReading, UsageEvent


class Parsed(msgspec.Struct):
    """Events and side observations from one chunk; `state` is what the next chunk needs."""

    events: list[UsageEvent]
    notices: list[LimitNotice] = []
    readings: list[RateLimitReading] = []
    agent_types: list[AgentType] = []
    malformed: int = 0
    duplicates: int = 0  # copies of a call this chunk holds a better copy of
    state: str | None = None
    resume_at: int | None = None  # an object cut off at the chunk's end starts here
    # Every event is within `events.implausible`'s bounds: the parser applied them to each
    # copy before ranking it (so that a corrupt copy never outranks a real one), and the
    # ingest need not look again (a tenth of a microsecond a field, for every call).
    plausible: bool = False


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)
_HOURS: dict[str, int] = {}  # "YYYY-MM-DDTHH" -> epoch ms, for the common UTC form
# "MM:SS" and "mmm" -> ms: two lookups cost less than three int() calls, and take only what
# fromisoformat takes (a 61st second goes the slow way and is refused there).
_WITHIN_HOUR = {f"{m:02}:{s:02}": (m * 60 + s) * 1000 for m in range(60) for s in range(60)}
_MILLIS = {f"{ms:03}": ms for ms in range(1000)}


# Times outside 1970..9998 are not from an agent's log; refusing them here keeps date
# arithmetic downstream (pricing by date, "resets 3pm" tomorrow) clear of the calendar's ends.


def iso_to_ms(value: str | None) -> int | None:
    """ISO 8601 to epoch milliseconds, or None when it is not a time in 1970..9998; a time
    without a zone is taken as UTC.

    The agents write "2026-11-20T10:00:01.123Z"; that form takes a fast path (it is parsed
    millions of times on a first run), anything else goes through `fromisoformat`.
    """
    if not value:
        return None
    if len(value) == 24 and value[23] == "Z" and value[19] == "." and value[13] == ":":
        hour = _HOURS.get(value[:13])
        if hour is None:
            start = _slow_iso_to_ms(value[:13] + ":00:00Z")
            if start is None:
                return None
            hour = _HOURS[value[:13]] = start
        within = _WITHIN_HOUR.get(value[14:19])
        millis = _MILLIS.get(value[20:23])
        if within is None or millis is None:
            return _slow_iso_to_ms(value)
        return hour + within + millis
    return _slow_iso_to_ms(value)


def _slow_iso_to_ms(value: str) -> int | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    ms = (parsed - _EPOCH) // _MS
    return ms if 0 <= ms < MAX_TS_MS else None
