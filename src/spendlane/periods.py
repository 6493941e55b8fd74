"""Calendar periods in a report time zone, mapped onto the ledger's UTC quarter hours."""

from __future__ import annotations

import datetime as dt
import os
import re
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


def day_start_ms(day: dt.date, zone: dt.tzinfo) -> int:
    """The UTC instant (ms) at which `day` begins in `zone` (DST-aware)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return int(local.timestamp()) * 1000


class BucketDates:
    """Local date of each UTC quarter hour, memoised: a report maps thousands of buckets."""

    def __init__(self, zone: dt.tzinfo) -> None:
        self._zone = zone
        self._cache: dict[int, dt.date] = {}

    def __call__(self, bucket: int) -> dt.date:
        day = self._cache.get(bucket)
        if day is None:
            instant = dt.datetime.fromtimestamp(bucket * BUCKET_MS / 1000, tz=self._zone)
            day = self._cache[bucket] = instant.date()
        return day
