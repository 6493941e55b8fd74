"""What a budget's scope has spent in a window, and what is reserved against it.

Sums come from the quarter-hour rollup (keyed by context, so agent/project/task scopes read
sums too); only the ragged edge of a rolling window reads events. Money is the auto cost:
the agent's reported cost where it gave one, else the computed cost.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fnmatch import fnmatchcase
from typing import Any

from spendlane.ledger import SqliteLedger
from spendlane.ledger.columns import AGENT_SQL, BUCKET_MS
from spendlane.policy.config import Scope
from spendlane.policy.windows import BudgetWindow

# Scope key -> SQL; "c" is contexts, "{t}" the rollup or events alias.
_COLUMNS = {
    "provider": "{t}.provider", "model": "{t}.model", "source": "{t}.source",
    "agent": AGENT_SQL, "project": "c.project", "task_type": "c.task_type",
    "machine": "c.machine", "account": "c.account",
}  # fmt: skip
_TOKENS = ("input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
           "cache_read_tokens")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Call:
    """What is known of a call about to be made (or a reservation); None = not known."""

    provider: str | None = None
    model: str | None = None
    agent: str | None = None
    project: str | None = None
    task_type: str | None = None
    source: str | None = None
    machine: str | None = None
    account: str | None = None


def covers(scope: Scope, call: Call) -> bool:
    """Does a budget with `scope` count this call? Every key the scope sets must be known for
    the call and match it (the model as a case-insensitive glob)."""
    for f in fields(Scope):
        wanted = getattr(scope, f.name)
        if wanted is None:
            continue
        value = getattr(call, f.name)
        if value is None:
            return False
        if f.name == "model":
            if not fnmatchcase(value.lower(), wanted.lower()):
                return False
        elif value != wanted:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Spent:
    nano: int
    tokens: int
    unpriced_events: int


def spent(ledger: SqliteLedger, scope: Scope, window: BudgetWindow) -> Spent:
    """The scope's spend in the window, exact to the millisecond at both ends.

    A rolling window ends now and includes it ([start, end]); a calendar window ends at its
    reset ([start, end)). Whole quarter hours are read from the rollup, ragged ends from events.
    """
    first_full = -(-window.start_ms // BUCKET_MS)
    if window.rolling:
        last_ms = window.end_ms + 1
        bucket_end = last_ms // BUCKET_MS
    else:
        last_ms = window.end_ms
        bucket_end = -(-last_ms // BUCKET_MS)
    if bucket_end <= first_full:  # inside one quarter hour: events only
        return Spent(*_events_between(ledger, scope, window.start_ms, last_ms))
    where, params = _scope_sql(scope, "r")
    join = " JOIN contexts c ON c.id = r.context_id" if "c." in where else ""
    row = ledger.connection.execute(
        f"SELECT COALESCE(SUM(r.auto_cost_nano), 0), "
        f"COALESCE(SUM({' + '.join(f'r.{t}' for t in _TOKENS)}), 0), "
        f"COALESCE(SUM(r.unpriced_events), 0) FROM rollup_15m r{join} "
        f"WHERE r.bucket >= ? AND r.bucket < ?{where}",
        [first_full, bucket_end, *params],
    ).fetchone()
    nano, tokens, unpriced = row
    for low, high in ((window.start_ms, first_full * BUCKET_MS), (bucket_end * BUCKET_MS, last_ms)):
        if low < high:
            edge = _events_between(ledger, scope, low, high)
            nano, tokens, unpriced = nano + edge[0], tokens + edge[1], unpriced + edge[2]
    return Spent(nano, tokens, unpriced)


def _events_between(ledger: SqliteLedger, scope: Scope, low: int, high: int) -> tuple[int, ...]:
    where, params = _scope_sql(scope, "e")
    join = " JOIN contexts c ON c.id = e.context_id" if "c." in where else ""
    row: tuple[int, ...] = ledger.connection.execute(
        f"SELECT COALESCE(SUM(COALESCE(e.reported_cost_nano, e.cost_nano, 0)), 0), "
        f"COALESCE(SUM({' + '.join(f'e.{t}' for t in _TOKENS)}), 0), "
        f"COALESCE(SUM(e.cost_nano IS NULL), 0) FROM events e{join} "
        f"WHERE e.ts_ms >= ? AND e.ts_ms < ?{where}",
        [low, high, *params],
    ).fetchone()
    return row


def _scope_sql(scope: Scope, alias: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for name, column in _COLUMNS.items():
        value = getattr(scope, name)
        if value is None:
            continue
        qualified = column.replace("{t}", alias)
        if name == "model":
            clauses.append(f"lower({qualified}) GLOB ?")
            params.append(_glob(value.lower()))
        else:
            clauses.append(f"{qualified} = ?")
            params.append(value)
    return "".join(f" AND {c}" for c in clauses), params


def _glob(pattern: str) -> str:
    """fnmatch's pattern in SQLite GLOB terms (they differ only in negated classes)."""
    return pattern.replace("[!", "[^")


def reserved(ledger: SqliteLedger, now_ms: int) -> list[tuple[int, Call]]:
    """Open reservations: (amount in nano-USD, what they are for)."""
    rows = ledger.connection.execute(
        "SELECT amount_nano, provider, model, agent, project, task_type, source, machine, "
        "account FROM reservations WHERE expires_ms > ?",
        (now_ms,),
    ).fetchall()
    return [(row[0], Call(*row[1:])) for row in rows]
