"""Which alerts have been raised: once per kind, subject, level and period, across processes.

An alert is a row in the ledger's `alerts` table. Raising it is an `INSERT OR IGNORE` on its
unique key, so of any number of processes that see the same crossing, exactly one raises it;
delivery (see `alerts.deliver`) then moves the row from `pending` to `sent` or `failed`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from spendlane.ledger import SqliteLedger


class AlertKind(StrEnum):
    LEVEL = "level"  # a budget crossed warn / throttle / block
    UNDERUSE = "underuse"  # paid-for capacity going unused
    SPIKE = "spike"  # hourly spend far above the usual
    SESSION = "session"  # one session burning fast (a loop?)
    LANE = "lane"  # a provider is blocked and work moves to another lane
    TEST = "test"  # `spendlane alerts test`


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    subject: str
    level: str
    period_start_ms: int
    ts_ms: int
    title: str
    body: str
    status: str  # pending | sent | failed | no-channel
    attempts: int
    last_error: str | None
    sent_ms: int | None


_COLUMNS = ("id, kind, subject, level, period_start_ms, ts_ms, title, body, status, attempts, "
            "last_error, sent_ms")  # fmt: skip


def raise_alert(
    ledger: SqliteLedger,
    kind: AlertKind,
    subject: str,
    level: str,
    period_start_ms: int,
    title: str,
    body: str,
    now_ms: int | None = None,
) -> int | None:
    """Record an alert unless it was raised before for this period; its id when new.

    The caller delivers new alerts (`alerts.deliver.deliver_pending`); a repeat returns None.
    """
    stamp = now_ms if now_ms is not None else int(time.time() * 1000)
    key = (str(kind), subject, level, period_start_ms)
    seen = ledger.connection.execute(
        "SELECT 1 FROM alerts WHERE kind = ? AND subject = ? AND level = ? AND period_start_ms = ?",
        key,
    ).fetchone()
    if seen is not None:
        return None  # raised before: no write (this runs on every check while a level holds)
    with ledger.write() as db:
        cursor = db.execute(
            "INSERT OR IGNORE INTO alerts (kind, subject, level, period_start_ms, ts_ms, title, "
            "body) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(kind), subject, level, period_start_ms, stamp, title, body),
        )
        return cursor.lastrowid if cursor.rowcount == 1 else None


def list_alerts(ledger: SqliteLedger, limit: int = 50) -> list[Alert]:
    """The latest alerts, newest first."""
    rows = ledger.connection.execute(
        f"SELECT {_COLUMNS} FROM alerts ORDER BY ts_ms DESC, id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [Alert(*row) for row in rows]


def pending_alerts(ledger: SqliteLedger) -> list[Alert]:
    """Alerts raised but not yet delivered (or whose delivery is to be retried)."""
    rows = ledger.connection.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE status = 'pending' ORDER BY id"
    ).fetchall()
    return [Alert(*row) for row in rows]
