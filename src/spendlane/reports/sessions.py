"""Tokens and cost per session: `spendlane session`.

Read from the rollup, which is keyed by context (and so by session) as well as by quarter
hour: a month of sessions sums a few thousand cells, not every call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from spendlane.ledger import SqliteLedger
from spendlane.reports.calendar import COST_COLUMN, CostMode, Tally
from spendlane.reports.grouped import Window, grouped_rows


@dataclass(slots=True)
class Session:
    session_id: str
    project: str
    sources: set[str]
    first_ms: int
    last_ms: int
    total: Tally = field(default_factory=Tally)
    models: dict[str, Tally] = field(default_factory=dict)
    # values of the report's `by` keys -> sums (empty unless grouped)
    groups: dict[tuple[str | None, ...], Tally] = field(default_factory=dict)


@dataclass(slots=True)
class SessionReport:
    sessions: list[Session]
    total: Tally
    zone: dt.tzinfo
    cost_mode: CostMode
    by: tuple[str, ...] = ()


def session_report(
    ledger: SqliteLedger,
    *,
    zone: dt.tzinfo,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Iterable[str] | None = None,
    cost_mode: CostMode = CostMode.AUTO,
    order_desc: bool = False,
    by: Sequence[str] = (),
) -> SessionReport:
    """Sum calls per session, per model and per `by` keys; a session is in range if any of its
    calls is, and only its calls in range are counted."""
    window = Window(zone, since, until, list(sources) if sources is not None else None)
    others = [key for key in by if key not in ("session", "source", "model")]
    keys = ["session", "source", "model", *others]
    rows = grouped_rows(
        ledger, window, keys, cost_column=COST_COLUMN[cost_mode],
        extra=("MAX(COALESCE(c.project, ''))", "MIN(r.first_ms)", "MAX(r.last_ms)"),
    )  # fmt: skip
    sessions: dict[str, Session] = {}
    total = Tally()
    n = len(keys)
    for row in rows:
        tally = Tally(*row[n + 3 :])
        if not tally.events:
            continue
        session_id, source, model = row[0] or "", row[1], row[2]
        project, first_ms, last_ms = row[n], row[n + 1], row[n + 2]
        session = sessions.get(session_id)
        if session is None:
            session = sessions[session_id] = Session(session_id, project, set(), first_ms, last_ms)
        elif project > session.project:
            session.project = project
        session.sources.add(source)
        if first_ms is not None and first_ms < session.first_ms:
            session.first_ms = first_ms
        if last_ms is not None and last_ms > session.last_ms:
            session.last_ms = last_ms
        session.total.add(tally)
        _add(session.models, model, tally)
        if by:
            values = dict(zip(keys, row[:n], strict=True))
            _add(session.groups, tuple(values[key] for key in by), tally)
        total.add(tally)
    ordered = sorted(sessions.values(), key=lambda s: (s.last_ms, s.session_id),
                     reverse=order_desc)  # fmt: skip
    return SessionReport(
        sessions=ordered, total=total, zone=zone, cost_mode=cost_mode, by=tuple(by)
    )


def _add(sums: dict[Any, Tally], key: Any, tally: Tally) -> None:
    held = sums.get(key)
    if held is None:
        sums[key] = tally.copy()
    else:
        held.add(tally)
