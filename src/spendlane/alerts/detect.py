"""Spend that looks wrong: an hour far above the usual, a session burning fast (a loop?).

Detectors read the ledger and raise alerts (`alerts.state.raise_alert`); raising is once per
kind, subject and period, so running a detector again (every prompt, every minute, from two
processes) raises nothing new. Delivery is `alerts.deliver`'s job. Money is integer nano-USD;
an alert's text shows exact dollars rounded to the cent.

- **Spike**: the last complete UTC hour's spend (the sum of its four quarter hours in the
  rollup, reported cost where an agent logged one, else computed) is above `spike_factor` ×
  the median spend of the *hours that had any spend* in the 7 days before it. Idle hours are
  left out of the median on purpose: most people code a third of the day, so counting idle
  hours would make the usual hour $0 and no spike could ever be measured. Nothing is said
  until at least 24 such hours exist (a new ledger has no "usual" yet). One SPIKE alert per
  hour, subject `all`.
- **Runaway session**: a session whose calls in the last 60 minutes (exactly, from the events
  table: a sliding hour does not fall on quarter hours) cost more than `session_usd_per_hour`.
  One SESSION alert per session per clock hour, subject the session id.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from fractions import Fraction
from statistics import median

from spendlane.alerts.state import AlertKind, raise_alert
from spendlane.ledger import SqliteLedger
from spendlane.money import format_usd, usd_to_nano
from spendlane.periods import BUCKET_MS
from spendlane.policy.config import AlertSettings

__all__ = [
    "HOUR_MS",
    "MIN_HOURS",
    "TRAILING_DAYS",
    "detect_all",
    "detect_runaway_sessions",
    "detect_spikes",
    "format_usd",
]

HOUR_MS = 3_600_000
TRAILING_DAYS = 7
MIN_HOURS = 24  # hours with spend needed in the trailing window before spikes are judged
_QUARTERS = HOUR_MS // BUCKET_MS


def detect_all(
    ledger: SqliteLedger, settings: AlertSettings, now_ms: int, zone: dt.tzinfo = dt.UTC
) -> list[int]:
    """Run every detector; the ids of the alerts newly raised."""
    return [
        *detect_spikes(ledger, settings, now_ms, zone),
        *detect_runaway_sessions(ledger, settings, now_ms, zone),
    ]


def detect_spikes(
    ledger: SqliteLedger, settings: AlertSettings, now_ms: int, zone: dt.tzinfo = dt.UTC
) -> list[int]:
    """Raise a SPIKE alert when the last complete hour spent far more than the usual hour.

    `zone` only says how times are written in the message.
    """
    hour_start = (now_ms // HOUR_MS - 1) * HOUR_MS
    first_bucket = hour_start // BUCKET_MS
    db = ledger.connection
    spent: int = db.execute(
        "SELECT COALESCE(SUM(auto_cost_nano), 0) FROM rollup_15m WHERE bucket >= ? AND bucket < ?",
        (first_bucket, first_bucket + _QUARTERS),
    ).fetchone()[0]
    if spent <= 0:
        return []
    trailing_from = first_bucket - TRAILING_DAYS * 24 * _QUARTERS
    hourly = [
        total
        for (total,) in db.execute(
            f"SELECT SUM(auto_cost_nano) FROM rollup_15m WHERE bucket >= ? AND bucket < ? "
            f"GROUP BY bucket / {_QUARTERS} HAVING SUM(auto_cost_nano) > 0",
            (trailing_from, first_bucket),
        )
    ]
    if len(hourly) < MIN_HOURS:
        return []
    usual = Fraction(median(sorted(hourly)))  # the mean of two ints at most: exact
    factor = Fraction(Decimal(repr(float(settings.spike_factor))))
    if usual <= 0 or spent <= factor * usual:
        return []
    session, session_project, session_nano = _top(db, "c.session_id", first_bucket)
    project, _, project_nano = _top(db, "c.project", first_bucket)
    times = _hour_label(hour_start, zone)
    ratio = Fraction(spent) / usual
    title = f"Spend spike: {format_usd(spent)} in the hour {times} ({_times(ratio)} the usual)"
    lines = [
        f"Spend in the hour {times} was {format_usd(spent)}, {_times(ratio)} the usual hour "
        f"({format_usd(round(usual))}: the median of the {len(hourly)} hours with spend in the "
        f"last {TRAILING_DAYS} days). Alerts fire above {_number(factor)}× the usual.",
    ]
    if session is not None:
        where = f" in {session_project}" if session_project else ""
        lines.append(f"Top session: {session}{where}, {format_usd(session_nano)}.")
    if project is not None:
        lines.append(f"Top project: {project}, {format_usd(project_nano)}.")
    new = raise_alert(ledger, AlertKind.SPIKE, "all", "warn", hour_start, title,
                      "\n".join(lines), now_ms=now_ms)  # fmt: skip
    return [new] if new is not None else []


def detect_runaway_sessions(
    ledger: SqliteLedger, settings: AlertSettings, now_ms: int, zone: dt.tzinfo = dt.UTC
) -> list[int]:
    """Raise a SESSION alert for each session that spent more than `session_usd_per_hour`
    in the last 60 minutes (at most one per session per clock hour)."""
    if settings.session_usd_per_hour is None:
        return []
    limit = usd_to_nano(settings.session_usd_per_hour)
    since = now_ms - HOUR_MS
    db = ledger.connection
    rows = db.execute(
        "SELECT c.session_id, SUM(COALESCE(e.reported_cost_nano, e.cost_nano, 0)) AS spent, "
        "MIN(e.ts_ms) FROM events e JOIN contexts c ON c.id = e.context_id "
        "WHERE e.ts_ms > ? AND e.ts_ms <= ? AND c.session_id IS NOT NULL "
        "GROUP BY c.session_id HAVING spent > ? ORDER BY spent DESC, c.session_id",
        (since, now_ms, limit),
    ).fetchall()
    period = now_ms // HOUR_MS * HOUR_MS
    raised = []
    for session, spent, first_ms in rows:
        detail = db.execute(
            "SELECT c.project, e.model, SUM(COALESCE(e.reported_cost_nano, e.cost_nano, 0)) "
            "AS spent FROM events e JOIN contexts c ON c.id = e.context_id "
            "WHERE e.ts_ms > ? AND e.ts_ms <= ? AND c.session_id = ? "
            "GROUP BY 1, 2 ORDER BY spent DESC, 1, 2",
            (since, now_ms, session),
        ).fetchall()
        projects = _ranked(project for project, _, _ in detail)
        models = _ranked(model for _, model, _ in detail)
        project_text = ", ".join(projects) if projects else "no project recorded"
        title = f"Runaway session? {session} spent {format_usd(spent)} in the last hour"
        body = "\n".join(
            [
                f"Session {session} ({project_text}) spent {format_usd(spent)} in the 60 "
                f"minutes to {_clock(now_ms, zone)}: {format_usd(spent)}/h, above the "
                f"{format_usd(limit)}/h alert line.",
                f"Model{'s' if len(models) > 1 else ''}: {', '.join(models)}.",
                f"Its first call in these 60 minutes: {_clock(first_ms, zone)}. Stuck in a loop?",
            ]
        )
        new = raise_alert(ledger, AlertKind.SESSION, session, "warn", period, title, body,
                          now_ms=now_ms)  # fmt: skip
        if new is not None:
            raised.append(new)
    return raised


# --- helpers -------------------------------------------------------------------------------


def _top(
    db: sqlite3.Connection, column: str, first_bucket: int
) -> tuple[str | None, str | None, int]:
    """The session or project that spent most in the hour, its project, and what it spent."""
    row = db.execute(
        f"SELECT {column}, MAX(c.project), SUM(r.auto_cost_nano) AS spent FROM rollup_15m r "
        f"JOIN contexts c ON c.id = r.context_id WHERE r.bucket >= ? AND r.bucket < ? "
        f"AND {column} IS NOT NULL GROUP BY 1 ORDER BY spent DESC, 1 LIMIT 1",
        (first_bucket, first_bucket + _QUARTERS),
    ).fetchone()
    return (row[0], row[1], row[2]) if row else (None, None, 0)


def _ranked(values: Iterable[str | None]) -> list[str]:
    """Distinct non-empty values, in first-seen order (the caller sorts by spend)."""
    seen: dict[str, None] = {}
    for value in values:
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _times(ratio: Fraction) -> str:
    return f"{float(ratio):.1f}×"


def _number(value: Fraction) -> str:
    return f"{float(value):g}"


def _hour_label(start_ms: int, zone: dt.tzinfo) -> str:
    start = dt.datetime.fromtimestamp(start_ms / 1000, zone)
    end = dt.datetime.fromtimestamp((start_ms + HOUR_MS) / 1000, zone)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M} {start.tzname() or ''}".rstrip()


def _clock(ms: int, zone: dt.tzinfo) -> str:
    when = dt.datetime.fromtimestamp(ms / 1000, zone)
    return f"{when:%Y-%m-%d %H:%M} {when.tzname() or ''}".rstrip()
