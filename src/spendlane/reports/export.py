"""Exporting events, or sums grouped by attribution, as CSV, JSON or JSON lines.

Rows are streamed from SQLite in pages, so a million events export in constant memory. Money
is written as exact decimal dollars (from integer nano-USD), never as a rounded float.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from spendlane.ledger import SqliteLedger
from spendlane.periods import day_start_ms

FORMATS = ("csv", "json", "jsonl")
# What users type for --by, and the event_rows column it groups on.
GROUP_KEYS = {
    "model": "model", "project": "project", "agent": "agent", "session": "session_id",
    "source": "source", "provider": "provider", "task": "task_id", "task-type": "task_type",
    "skill": "skill", "machine": "machine", "lane": "lane", "account": "account",
}  # fmt: skip
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


def _iso(ms: int) -> str:
    when = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


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


# event_rows columns behind EVENT_FIELDS, in order; timestamp and money are converted.
_EVENT_SQL = {"timestamp": "ts_ms", "cost_usd": "cost_nano",
              "reported_cost_usd": "reported_cost_nano"}  # fmt: skip


def export_rows(
    ledger: SqliteLedger,
    *,
    zone: dt.tzinfo,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Sequence[str] | None = None,
    by: Sequence[str] = (),
) -> tuple[list[str], Iterator[list[Any]]]:
    """Field names, and the rows (every event, or sums per `by` keys) as a lazy stream."""
    # A one-pass read gains nothing from a large page cache; keep memory flat however many
    # rows there are.
    ledger.connection.execute("PRAGMA cache_size = -4096")
    ledger.connection.execute("PRAGMA shrink_memory")
    where, params = _where(zone, since, until, sources)
    if by:
        keys = [GROUP_KEYS[key] for key in by]
        sql = (
            f"SELECT {', '.join(keys)}, COUNT(*), SUM(input_tokens), SUM(output_tokens), "
            "SUM(cache_write_5m_tokens), SUM(cache_write_1h_tokens), SUM(cache_read_tokens), "
            "SUM(reasoning_tokens), SUM(total_tokens), SUM(COALESCE(cost_nano, 0)), "
            "SUM(reported_cost_nano), SUM(cost_nano IS NULL) "
            f"FROM event_rows WHERE {where} GROUP BY {', '.join(keys)} "
            "ORDER BY SUM(COALESCE(cost_nano, 0)) DESC"
        )
        names = [key.replace("-", "_") for key in by] + list(_SUMS)
        money = [len(keys) + 8, len(keys) + 9]
        stamp = None
    else:
        columns = [_EVENT_SQL.get(name, name) for name in EVENT_FIELDS]
        sql = f"SELECT {', '.join(columns)} FROM event_rows WHERE {where} ORDER BY ts_ms, id"
        names = list(EVENT_FIELDS)
        money = [names.index("cost_usd"), names.index("reported_cost_usd")]
        stamp = names.index("timestamp")
    return names, _stream(ledger, sql, params, money, stamp)


def _stream(
    ledger: SqliteLedger, sql: str, params: list[Any], money: list[int], stamp: int | None
) -> Iterator[list[Any]]:
    cursor = ledger.connection.execute(sql, params)
    while page := cursor.fetchmany(PAGE):
        for row in page:
            values = list(row)
            for i in money:
                values[i] = usd_text(values[i])
            if stamp is not None:
                values[stamp] = _iso(values[stamp])
            yield values


def write(out: IO[str], fmt: str, names: list[str], rows: Iterable[list[Any]]) -> int:
    """Write rows in `fmt` as they come; returns how many were written."""
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(dict(zip(names, row, strict=True))) + "\n")
            count += 1
    else:
        out.write("[")
        for row in rows:
            out.write(("," if count else "") + "\n" + json.dumps(dict(zip(names, row,
                                                                        strict=True))))  # fmt: skip
            count += 1
        out.write("\n]\n")
    return count
