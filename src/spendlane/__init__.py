"""spendlane: what every AI coding agent call costs, kept in a durable ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.1.0"
__all__ = ["record"]


def record(*, db: str | Path | None = None, **fields: Any) -> Any:
    """Record one model call in the ledger; returns a `spendlane.recording.Recorded`.

    Fields: timestamp, backend (or provider), model, input_tokens or prompt_tokens,
    output_tokens or completion_tokens, cache_read_tokens or cached_tokens,
    cache_creation_tokens, cost_usd (optional: computed when absent), task_id, task_type,
    agent, session_id, duration_ms, event_id (idempotency key). A bad field raises
    `spendlane.recording.RecordError` naming it.
    """
    from spendlane.ledger import SqliteLedger
    from spendlane.paths import default_ledger_path
    from spendlane.recording import record_many

    with SqliteLedger(Path(db) if db else default_ledger_path()) as ledger:
        return record_many(ledger, [fields])[0][0]
