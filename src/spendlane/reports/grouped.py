"""Sums grouped by any attribution (`--by`), read from the quarter-hour rollup.

The rollup is keyed by quarter hour, context (session, project, agent, task, …) and model, so
grouping by any of them, per local day or over a whole range, reads sums rather than events.
Every zone's days start on a quarter hour, so local days are exact in any zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spendlane.ledger import SqliteLedger
from spendlane.ledger.columns import AGENT_SQL, BUCKET_MS
from spendlane.periods import day_start_ms, local_day_sql, offset_segments

# What users type for --by, and the column it groups on (r: rollup, c: contexts).
GROUP_KEYS = {
    "model": "r.model", "project": "c.project", "agent": AGENT_SQL,
    "session": "c.session_id", "source": "r.source", "provider": "r.provider",
    "task": "c.task_id", "task-type": "c.task_type", "skill": "c.skill",
    "machine": "c.machine", "lane": "c.lane", "account": "c.account",
    # how the call was made: a dispatched run, a subagent of a session, or a person's session
    "action": "CASE WHEN r.source = 'run' THEN 'scheduled' WHEN c.agent_id IS NOT NULL "
              "THEN 'subagent' ELSE 'interactive' END",
}  # fmt: skip

# Sums in the order `GroupRow.sums` holds them; the cost column is chosen by the cost mode.
SUM_COLUMNS = (
    "events", "input_tokens", "output_tokens",
    "cache_write_5m_tokens + cache_write_1h_tokens", "cache_read_tokens", "reasoning_tokens",
    "{cost}", "unpriced_events", "estimated_events",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Window:
    """Which calls to sum: local days [since, until] in `zone`, from `sources`."""

    zone: dt.tzinfo
    since: dt.date | None = None
    until: dt.date | None = None
    sources: Sequence[str] | None = None

    def bucket_range(self) -> tuple[int | None, int | None]:
        start = day_start_ms(self.since, self.zone) // BUCKET_MS if self.since else None
        end = (
            day_start_ms(self.until + dt.timedelta(days=1), self.zone) // BUCKET_MS
            if self.until
            else None
        )
        return start, end


def grouped_rows(
    ledger: SqliteLedger,
    window: Window,
    by: Sequence[str],
    *,
    cost_column: str,
    per_day: bool = False,
    extra: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Rows of `[day,] *keys, *extra, *sums` (see SUM_COLUMNS) for the window.

    `extra` are more SQL aggregates appended before the sums (e.g. "MIN(r.first_ms)").
    """
    start, end = window.bucket_range()
    where = ["1"]
    params: list[Any] = []
    if start is not None:
        where.append("r.bucket >= ?")
        params.append(start)
    if end is not None:
        where.append("r.bucket < ?")
        params.append(end)
    if window.sources is not None:
        where.append(f"r.source IN ({','.join('?' * len(window.sources))})")
        params.extend(window.sources)
    keys = [GROUP_KEYS[key] for key in by]
    select = list(keys)
    day_params: list[int] = []
    if per_day:
        low, high = _bounds(ledger, start, end)
        expr, day_params = local_day_sql(offset_segments(window.zone, low, high))
        select.insert(0, expr.replace("bucket", "r.bucket"))
    sums = [f"SUM(r.{c})" if "+" not in c else f"SUM({_prefixed(c)})" for c in SUM_COLUMNS]
    sums = [s.replace("{cost}", cost_column) for s in sums]
    needs_context = any("c." in k for k in [*keys, *extra])
    join = " JOIN contexts c ON c.id = r.context_id" if needs_context else ""
    group = ", ".join(str(i + 1) for i in range(len(select)))
    sql = (
        f"SELECT {', '.join([*select, *extra, *sums])} FROM rollup_15m r{join} "
        f"WHERE {' AND '.join(where)}" + (f" GROUP BY {group}" if group else "")
    )
    return ledger.connection.execute(sql, [*day_params, *params]).fetchall()


def _prefixed(expression: str) -> str:
    return " + ".join(f"r.{part.strip()}" for part in expression.split("+"))


def _bounds(ledger: SqliteLedger, start: int | None, end: int | None) -> tuple[int, int]:
    """The first and last bucket the window covers (the stored range when open-ended)."""
    if start is None or end is None:
        low, high = ledger.connection.execute(
            "SELECT MIN(bucket), MAX(bucket) FROM rollup_15m"
        ).fetchone()
        start = start if start is not None else (low or 0)
        end = end if end is not None else (high or 0) + 1
    return start, max(start, end - 1)
