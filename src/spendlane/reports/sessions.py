"""Tokens and cost per session: `spendlane session`.

Sessions are read from the events (joined with their attribution), not from the rollup: a
session is an attribution, not a time bucket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from spendlane.ledger import SqliteLedger
from spendlane.periods import day_start_ms
from spendlane.reports.calendar import CostMode, Tally

_COST = {
    CostMode.AUTO: "COALESCE(e.reported_cost_nano, e.cost_nano, 0)",
    CostMode.CALCULATE: "COALESCE(e.cost_nano, 0)",
    CostMode.DISPLAY: "COALESCE(e.reported_cost_nano, 0)",
}


@dataclass(slots=True)
class Session:
    session_id: str
    project: str
    sources: set[str]
    first_ms: int
    last_ms: int
    total: Tally = field(default_factory=Tally)
    models: dict[str, Tally] = field(default_factory=dict)


@dataclass(slots=True)
class SessionReport:
    sessions: list[Session]
    total: Tally
    zone: dt.tzinfo
    cost_mode: CostMode


def session_report(
    ledger: SqliteLedger,
    *,
    zone: dt.tzinfo,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Iterable[str] | None = None,
    cost_mode: CostMode = CostMode.AUTO,
    order_desc: bool = False,
) -> SessionReport:
    """Sum events per session (and model); a session is in range if any of its calls is."""
    where = ["1"]
    params: list[object] = []
    if since is not None:
        where.append("e.ts_ms >= ?")
        params.append(day_start_ms(since, zone))
    if until is not None:
        where.append("e.ts_ms < ?")
        params.append(day_start_ms(until + dt.timedelta(days=1), zone))
    if sources is not None:
        source_list = list(sources)
        where.append(f"e.source IN ({','.join('?' * len(source_list))})")
        params.extend(source_list)
    rows = ledger.connection.execute(
        "SELECT COALESCE(c.session_id, ''), MAX(COALESCE(c.project, '')), e.source, e.model, "
        "COUNT(*), SUM(e.input_tokens), SUM(e.output_tokens), "
        "SUM(e.cache_write_5m_tokens + e.cache_write_1h_tokens), SUM(e.cache_read_tokens), "
        f"SUM(e.reasoning_tokens), SUM({_COST[cost_mode]}), SUM(e.cost_nano IS NULL), "
        "SUM((e.flags & 2) != 0), MIN(e.ts_ms), MAX(e.ts_ms) "
        "FROM events e JOIN contexts c ON c.id = e.context_id "
        f"WHERE {' AND '.join(where)} GROUP BY 1, 3, 4",
        params,
    ).fetchall()
    sessions: dict[str, Session] = {}
    total = Tally()
    for row in rows:
        session_id, project, source, model = row[0], row[1], row[2], row[3]
        tally = Tally(
            events=row[4], input_tokens=row[5], output_tokens=row[6],
            cache_creation_tokens=row[7], cache_read_tokens=row[8], reasoning_tokens=row[9],
            cost_nano=row[10], unpriced_events=row[11], estimated_events=row[12],
        )  # fmt: skip
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = Session(session_id, project, set(), row[13], row[14])
        session.project = max(session.project, project)
        session.sources.add(source)
        session.first_ms = min(session.first_ms, row[13])
        session.last_ms = max(session.last_ms, row[14])
        session.total.add(tally)
        session.models.setdefault(model, Tally()).add(tally)
        total.add(tally)
    ordered = sorted(sessions.values(), key=lambda s: (s.last_ms, s.session_id),
                     reverse=order_desc)  # fmt: skip
    return SessionReport(sessions=ordered, total=total, zone=zone, cost_mode=cost_mode)
