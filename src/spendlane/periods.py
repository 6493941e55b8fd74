"""Calendar periods in a report time zone, mapped onto the ledger's UTC quarter hours."""

from __future__ import annotations

import datetime as dt
import os
import re
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

BUCKET_MS = 900_000  # a quarter hour: every real zone's midnight falls on one


class PeriodError(ValueError):
    """A date or time zone the user gave that cannot be used."""


def local_zone(name: str | None) -> dt.tzinfo:
    """The named IANA zone, or this machine's: $TZ, then /etc/localtime, then its offset.

    An IANA zone is preferred over a fixed offset so that DST changes inside a report's range
    land on the right days.
    """
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise PeriodError(
                f"unknown time zone {name!r}: expected an IANA name such as "
                "'Europe/Berlin' or 'UTC'"
            ) from None
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    except OSError:
        pass
    for candidate in candidates:
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    local = dt.datetime.now().astimezone().tzinfo
    return local if local is not None else dt.UTC


_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


def parse_date(text: str, option: str) -> dt.date:
    """YYYY-MM-DD or YYYYMMDD."""
    match = _DATE.match(text.strip())
    if not match:
        raise PeriodError(f"{option}: expected YYYY-MM-DD or YYYYMMDD, got {text!r}")
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise PeriodError(f"{option}: {text!r} is not a date ({exc})") from None


_LAST_DAYS = re.compile(r"^(\d{1,4})d$")
RANGE_NAMES = ("today", "yesterday", "this-week", "last-week", "this-month", "last-month", "Nd")


def named_range(name: str, today: dt.date, week_start: int = 0) -> tuple[dt.date, dt.date] | None:
    """First and last day of a range people say: today, yesterday, this-week, last-week,
    this-month, last-month, or Nd (the last N days, today included). None if not a name."""
    key = name.strip().lower()
    if key == "today":
        return today, today
    if key == "yesterday":
        day = today - dt.timedelta(days=1)
        return day, day
    week = today - dt.timedelta(days=(today.weekday() - week_start) % 7)
    if key == "this-week":
        return week, today
    if key == "last-week":
        return week - dt.timedelta(days=7), week - dt.timedelta(days=1)
    month = today.replace(day=1)
    if key == "this-month":
        return month, today
    if key == "last-month":
        previous = (month - dt.timedelta(days=1)).replace(day=1)
        return previous, month - dt.timedelta(days=1)
    days = _LAST_DAYS.match(key)
    if days and int(days.group(1)) > 0:
        return today - dt.timedelta(days=int(days.group(1)) - 1), today
    return None


def parse_range(
    text: str, today: dt.date, week_start: int = 0, option: str = "range"
) -> tuple[dt.date, dt.date]:
    """A range name, or one date (that day), or FROM..TO with dates or names."""
    if ".." in text:
        start, _, end = text.partition("..")
        return (
            parse_range(start, today, week_start, option)[0],
            parse_range(end, today, week_start, option)[1],
        )
    found = named_range(text, today, week_start)
    if found is not None:
        return found
    try:
        day = parse_date(text, option)
    except PeriodError:
        names = ", ".join(RANGE_NAMES)
        raise PeriodError(
            f"{option}: expected a date (YYYY-MM-DD or YYYYMMDD) or one of {names}, got {text!r}"
        ) from None
    return day, day


def local_iso(ms: int | None, zone: dt.tzinfo) -> str | None:
    """An instant as ISO 8601 to the second in `zone` (None stays None), for JSON outputs."""
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=zone).isoformat(timespec="seconds")


def day_start_ms(day: dt.date, zone: dt.tzinfo) -> int:
    """The UTC instant (ms) at which `day` begins in `zone` (DST-aware)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return int(local.timestamp()) * 1000


def offset_segments(zone: dt.tzinfo, first_bucket: int, last_bucket: int) -> list[tuple[int, int]]:
    """[(from_bucket, utc_offset_seconds)] covering the buckets, one entry per offset change.

    Offsets are sampled once a day and each change is pinned to its quarter hour by bisection,
    so a year costs a few hundred lookups however many events it holds.
    """
    per_day = 86_400_000 // BUCKET_MS

    def offset(bucket: int) -> int:
        instant = dt.datetime.fromtimestamp(bucket * BUCKET_MS / 1000, tz=zone)
        delta = instant.utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    segments = [(first_bucket, offset(first_bucket))]
    probe = first_bucket
    while probe < last_bucket:
        step = min(per_day, last_bucket - probe)
        if offset(probe + step) != segments[-1][1]:
            low, high = probe, probe + step  # offset(low) == current, offset(high) differs
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == segments[-1][1]:
                    low = middle
                else:
                    high = middle
            segments.append((high, offset(high)))
        probe += step
    return segments


def local_day_sql(segments: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """SQL turning a `bucket` column into the local day number (days since 1970-01-01)."""
    if len(segments) == 1:
        return f"(bucket * {BUCKET_MS // 1000} + ?) / 86400", [segments[0][1]]
    cases = " ".join("WHEN bucket < ? THEN ?" for _ in segments[1:])
    params: list[int] = []
    for (_, offset), (next_start, _) in pairwise(segments):
        params += [next_start, offset]
    params.append(segments[-1][1])
    return f"(bucket * {BUCKET_MS // 1000} + CASE {cases} ELSE ? END) / 86400", params


EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


def day_from_number(number: int) -> dt.date:
    return dt.date.fromordinal(EPOCH_DAY + number)
