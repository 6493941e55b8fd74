"""Per-zone sums by local day, kept up to date from the quarter-hour rollup.

A report over months in one zone would otherwise sum tens of thousands of quarter-hour rows on
every run. Days are computed once per zone and then only the days a later write touched (the
ledger logs each write's bucket range in `rollup_changes`) are computed again, so a warm report
reads a few hundred rows.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from spendlane.ledger import SqliteLedger
from spendlane.periods import (
    BUCKET_MS,
    EPOCH_DAY,
    day_start_ms,
    local_day_sql,
    offset_segments,
)

SUMS = (
    "events", "input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "cache_read_tokens", "reasoning_tokens", "web_search_requests", "cost_nano",
    "reported_cost_nano", "auto_cost_nano", "unpriced_events", "estimated_events",
)  # fmt: skip


def zone_key(zone: dt.tzinfo) -> str:
    return str(zone)


def local_day(ms: int, zone: dt.tzinfo) -> int:
    """The local day number (days since 1970-01-01 in `zone`) of an instant."""
    return dt.datetime.fromtimestamp(ms / 1000, tz=zone).date().toordinal() - EPOCH_DAY


def refresh_days(ledger: SqliteLedger, zone: dt.tzinfo) -> None:
    """Bring `zone`'s day sums up to date; two indexed lookups when nothing changed."""
    db = ledger.connection
    key = zone_key(zone)
    last = db.execute("SELECT MAX(seq) FROM rollup_changes").fetchone()[0]
    if last is None:
        return
    state = db.execute("SELECT through_seq FROM rollup_day_state WHERE zone = ?", (key,)).fetchone()
    if state is not None and state[0] >= last:
        return
    with ledger.write() as w:
        state = w.execute(
            "SELECT through_seq FROM rollup_day_state WHERE zone = ?", (key,)
        ).fetchone()
        if state is None:  # a zone seen for the first time: every day
            low, high, through = w.execute(
                "SELECT MIN(bucket), MAX(bucket), (SELECT MAX(seq) FROM rollup_changes) "
                "FROM rollup_15m"
            ).fetchone()
        else:
            low, high, through = w.execute(
                "SELECT MIN(min_bucket), MAX(max_bucket), MAX(seq) FROM rollup_changes "
                "WHERE seq > ?",
                (state[0],),
            ).fetchone()
        if through is None:
            return
        if low is not None:
            _recompute(w, zone, key, low, high)
        w.execute("INSERT OR REPLACE INTO rollup_day_state VALUES (?, ?)", (key, through))
        oldest = w.execute("SELECT MIN(through_seq) FROM rollup_day_state").fetchone()[0]
        w.execute("DELETE FROM rollup_changes WHERE seq < ?", (oldest,))


def _recompute(db: sqlite3.Connection, zone: dt.tzinfo, key: str, low: int, high: int) -> None:
    first_day, last_day = local_day(low * BUCKET_MS, zone), local_day(high * BUCKET_MS, zone)
    start = day_start_ms(_date(first_day), zone) // BUCKET_MS
    end = day_start_ms(_date(last_day + 1), zone) // BUCKET_MS
    expr, params = local_day_sql(offset_segments(zone, start, end))
    db.execute("DELETE FROM rollup_day WHERE zone = ? AND day BETWEEN ? AND ?",
               (key, first_day, last_day))  # fmt: skip
    sums = ", ".join(f"SUM({c})" for c in SUMS)
    db.execute(
        f"INSERT INTO rollup_day (zone, day, source, provider, model, {', '.join(SUMS)}) "
        f"SELECT ?, {expr} AS day, source, provider, model, {sums} FROM rollup_15m "
        "WHERE bucket >= ? AND bucket < ? GROUP BY day, source, provider, model "
        "HAVING SUM(events) != 0",
        [key, *params, start, end],
    )


def _date(day_number: int) -> dt.date:
    return dt.date.fromordinal(EPOCH_DAY + day_number)
