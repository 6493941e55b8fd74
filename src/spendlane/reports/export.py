"""Exporting events, or sums grouped by attribution, as CSV, JSON or JSON lines.

Rows are streamed from SQLite in pages, so a million events export in constant memory. Money
is written as exact decimal dollars (from integer nano-USD), never as a rounded float.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from spendlane.ledger import SqliteLedger
from spendlane.periods import day_start_ms
from spendlane.reports.grouped import Window, grouped_rows

FORMATS = ("csv", "json", "jsonl")
EVENT_FIELDS = (
    "timestamp", "source", "provider", "model", "input_tokens", "output_tokens",
    "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "reasoning_tokens",
    "web_search_requests", "total_tokens", "cost_usd", "reported_cost_usd", "cost_basis",
    "session_id", "project", "agent_id", "is_sidechain", "git_branch", "version", "machine",
    "agent", "task_id", "task_type", "skill", "account", "lane", "auth_mode",
)  # fmt: skip
_SUMS = ("events", "input_tokens", "output_tokens", "cache_write_5m_tokens",
         "cache_write_1h_tokens", "cache_read_tokens", "reasoning_tokens", "total_tokens",
         "cost_usd", "reported_cost_usd", "unpriced_events")  # fmt: skip
PAGE = 5000


def usd_text(nano: int | None) -> str | None:
    """Exact dollars from nano-USD: 1234567 -> '0.001234567'."""
    if nano is None:
        return None
    sign = "-" if nano < 0 else ""
    whole, fraction = divmod(abs(nano), 1_000_000_000)
    return f"{sign}{whole}.{fraction:09d}"


def _where(
    zone: dt.tzinfo, since: dt.date | None, until: dt.date | None, sources: Sequence[str] | None
) -> tuple[str, list[Any]]:
    where: list[str] = ["1"]
    params: list[Any] = []
    if since is not None:
        where.append("ts_ms >= ?")
        params.append(day_start_ms(since, zone))
    if until is not None:
        where.append("ts_ms < ?")
        params.append(day_start_ms(until + dt.timedelta(days=1), zone))
    if sources is not None:
        where.append(f"source IN ({','.join('?' * len(sources))})")
        params.extend(sources)
    return " AND ".join(where), params


def _usd_sql(column: str) -> str:
    """SQL for `usd_text`: exact decimal dollars from integer nano-USD, NULL stays NULL."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} < 0 THEN printf('-%d.%09d', "
        f"-{column} / 1000000000, -{column} % 1000000000) ELSE printf('%d.%09d', "
        f"{column} / 1000000000, {column} % 1000000000) END"
    )


# The agents' own timestamp form, made by SQLite from integer milliseconds (exact).
_TIMESTAMP_SQL = (
    "strftime('%Y-%m-%dT%H:%M:%S', ts_ms / 1000, 'unixepoch') || printf('.%03dZ', ts_ms % 1000)"
)
# event_rows columns behind EVENT_FIELDS, in order; timestamp and money are formatted by
# SQLite so that rows go from the cursor to the writer without a Python step per value.
_EVENT_SQL = {"timestamp": _TIMESTAMP_SQL, "cost_usd": _usd_sql("cost_nano"),
              "reported_cost_usd": _usd_sql("reported_cost_nano")}  # fmt: skip


def export_rows(
    ledger: SqliteLedger,
    *,
    zone: dt.tzinfo,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Sequence[str] | None = None,
    by: Sequence[str] = (),
) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """Field names, and the rows (every event, or sums per `by` keys) as a lazy stream."""
    # A one-pass read gains nothing from a large page cache; keep memory flat however many
    # rows there are.
    ledger.connection.execute("PRAGMA cache_size = -4096")
    ledger.connection.execute("PRAGMA shrink_memory")
    if by:
        return _grouped(ledger, Window(zone, since, until, sources), by)
    where, params = _where(zone, since, until, sources)
    columns = [_EVENT_SQL.get(name, name) for name in EVENT_FIELDS]
    # A range reads its rows through the time index. Everything is faster read in storage
    # order and sorted by SQLite's external sorter ("+" keeps it off the index): following
    # the index visits the table's pages at random, which a small page cache pays for on
    # every row.
    order = "ts_ms, id" if since or until else "+ts_ms, id"
    sql = f"SELECT {', '.join(columns)} FROM event_rows WHERE {where} ORDER BY {order}"
    return list(EVENT_FIELDS), _stream(ledger.connection.execute(sql, params))


def _grouped(
    ledger: SqliteLedger, window: Window, by: Sequence[str]
) -> tuple[list[str], Iterator[Sequence[Any]]]:
    """Sums per `by` keys over the window, from the rollup (costliest first)."""
    tokens = ("input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
              "cache_read_tokens", "reasoning_tokens")  # fmt: skip
    total = " + ".join(f"r.{c}" for c in tokens if c != "reasoning_tokens")
    rows = grouped_rows(
        ledger, window, by, cost_column="cost_nano",
        extra=("SUM(r.events)", *(f"SUM(r.{c})" for c in tokens), f"SUM({total})",
               "SUM(r.cost_nano)", "SUM(r.reported_cost_nano)", "SUM(r.unpriced_events)"),
    )  # fmt: skip
    n = len(by)
    kept = [row[: n + 11] for row in rows if row[n]]  # the `extra` sums, without SUM_COLUMNS
    kept.sort(key=lambda row: -row[n + 8])
    out = [[*row[: n + 8], usd_text(row[n + 8]), usd_text(row[n + 9]), row[n + 10]] for row in kept]
    return [key.replace("-", "_") for key in by] + list(_SUMS), iter(out)


def _stream(cursor: Any) -> Iterator[Sequence[Any]]:
    while page := cursor.fetchmany(PAGE):
        yield from page


def write(out: IO[str], fmt: str, names: list[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write rows in `fmt` as they come; returns how many were written."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")  # None is written as an empty field
        writer.writerow(names)
        for row in rows:
            writer.writerow(row)
            count += 1
        return count
    import msgspec

    encode = msgspec.json.Encoder().encode
    first = True
    if fmt == "json":
        out.write("[")
    for row in rows:
        line = encode(dict(zip(names, row, strict=True))).decode()
        if fmt == "jsonl":
            out.write(line + "\n")
        else:
            out.write(("\n" if first else ",\n") + line)
            first = False
        count += 1
    if fmt == "json":
        out.write("\n]\n")
    return count
