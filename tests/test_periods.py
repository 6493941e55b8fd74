"""Ranges people say, and local days mapped onto UTC instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spendlane.periods import PeriodError, day_start_ms, named_range, parse_date, parse_range

D = dt.date


@pytest.mark.parametrize(
    ("name", "today", "expected"),
    [
        ("today", D(2026, 3, 1), (D(2026, 3, 1), D(2026, 3, 1))),
        ("yesterday", D(2026, 3, 1), (D(2026, 2, 28), D(2026, 2, 28))),
        ("yesterday", D(2028, 3, 1), (D(2028, 2, 29), D(2028, 2, 29))),  # leap year
        ("this-week", D(2026, 11, 22), (D(2026, 11, 16), D(2026, 11, 22))),  # a Sunday
        ("last-week", D(2026, 11, 22), (D(2026, 11, 9), D(2026, 11, 15))),
        ("this-month", D(2026, 12, 31), (D(2026, 12, 1), D(2026, 12, 31))),
        ("last-month", D(2026, 1, 15), (D(2025, 12, 1), D(2025, 12, 31))),
        ("last-month", D(2026, 3, 31), (D(2026, 2, 1), D(2026, 2, 28))),
        ("7d", D(2026, 3, 2), (D(2026, 2, 24), D(2026, 3, 2))),
        ("1d", D(2026, 3, 2), (D(2026, 3, 2), D(2026, 3, 2))),
    ],
)
def test_named_ranges(name: str, today: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert named_range(name, today) == expected


def test_week_start_sunday() -> None:
    assert named_range("this-week", D(2026, 11, 22), week_start=6) == (
        D(2026, 11, 22), D(2026, 11, 22),
    )  # fmt: skip
    assert named_range("last-week", D(2026, 11, 21), week_start=6) == (
        D(2026, 11, 8), D(2026, 11, 14),
    )  # fmt: skip


def test_parse_range_forms() -> None:
    today = D(2026, 11, 22)
    assert parse_range("20261101", today) == (D(2026, 11, 1), D(2026, 11, 1))
    assert parse_range("2026-11-01..yesterday", today) == (D(2026, 11, 1), D(2026, 11, 21))
    with pytest.raises(PeriodError, match="last-week"):
        parse_range("fortnight", today)
    with pytest.raises(PeriodError, match="not a date"):
        parse_date("2026-02-30", "--since")


@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2100, 1, 1)))
def test_ranges_are_ordered_and_contain_no_future(today: dt.date) -> None:
    for name in ("today", "yesterday", "this-week", "last-week", "this-month", "last-month",
                 "30d"):  # fmt: skip
        found = named_range(name, today)
        assert found is not None
        first, last = found
        assert first <= last <= today


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", D(2026, 3, 29), 23),  # spring forward
        ("Europe/Berlin", D(2026, 10, 25), 25),  # fall back
        ("America/New_York", D(2026, 11, 1), 25),
        ("Australia/Lord_Howe", D(2026, 4, 5), 24.5),  # a half-hour DST change
        ("UTC", D(2026, 6, 1), 24),
    ],
)
def test_local_days_have_their_real_length(zone: str, day: dt.date, hours: float) -> None:
    tz = ZoneInfo(zone)
    length = day_start_ms(day + dt.timedelta(days=1), tz) - day_start_ms(day, tz)
    assert length == hours * 3_600_000
