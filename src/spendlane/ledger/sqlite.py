"""The embedded ledger: SQLite in WAL mode, short write transactions, idempotent inserts.

Readers never wait in WAL mode; writers take the lock with BEGIN IMMEDIATE and wait for each
other through the busy timeout, so two processes may ingest at once without a "database is
locked" error. A file's new events and its advanced cursor commit in one transaction: a crash
at any moment leaves both as they were, and the next run reads those bytes again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from spendlane.events import LimitNotice, RateLimitReading, UsageEvent, key_id
from spendlane.ledger.migrations import MIGRATIONS

BUSY_TIMEOUT_S = 60.0

EVENT_COLUMNS: tuple[str, ...] = (
    "id", "key", "ts_ms", "source", "provider", "model",
    "input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
    "cache_read_tokens", "reasoning_tokens", "web_search_requests", "total_tokens",
    "speed", "model_estimated", "cost_nano", "reported_cost_nano", "cost_basis",
    "session_id", "project", "project_dir", "agent_id", "is_sidechain", "git_branch", "version",
    "machine", "agent", "task_id", "task_type", "skill", "account", "lane", "auth_mode", "file_id",
)  # fmt: skip

_TOTAL = EVENT_COLUMNS.index("total_tokens")
_SIDECHAIN = EVENT_COLUMNS.index("is_sidechain")
_COST = EVENT_COLUMNS.index("cost_nano")

_INSERT_OR_IGNORE = (
    f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
# Replace a stored copy only by a better one: more tokens, or as many from the main thread.
_REPLACE = (
    f"UPDATE events SET {', '.join(f'{c} = ?' for c in EVENT_COLUMNS[1:])} "
    "WHERE id = ? AND (total_tokens < ? OR (total_tokens = ? AND is_sidechain > ?))"
)


class LedgerError(Exception):
    """The ledger cannot be opened or used (newer schema, not a database, …)."""


@dataclass(slots=True)
class FileCursor:
    """Where reading a log file resumes, and how to tell the file was replaced."""

    path: str
    source: str
    inode: int
    size: int
    mtime_ns: int
    offset: int
    head_len: int
    head_hash: str
    state: str | None = None
    malformed_lines: int = 0
    id: int | None = None


@dataclass(slots=True)
class WriteResult:
    """What one write did: new events (and how many of them unpriced), better copies that
    replaced stored ones, and duplicates of calls already known."""

    inserted: int = 0
    unpriced: int = 0
    replaced: int = 0
    duplicates: int = 0

    def add(self, other: WriteResult) -> None:
        self.inserted += other.inserted
        self.unpriced += other.unpriced
        self.replaced += other.replaced
        self.duplicates += other.duplicates


def _better(a: UsageEvent, b: UsageEvent) -> bool:
    """Is copy `a` of one model call better than copy `b`? Largest total, then main thread."""
    ta, tb = a.total_tokens, b.total_tokens
    return ta > tb or (ta == tb and b.is_sidechain and not a.is_sidechain)


def _row(event: UsageEvent, file_id: int | None) -> tuple[object, ...]:
    e = event
    return (
        key_id(e.key), e.key, e.ts_ms, e.source, e.provider, e.model,
        e.input_tokens, e.output_tokens, e.cache_write_5m_tokens, e.cache_write_1h_tokens,
        e.cache_read_tokens, e.reasoning_tokens, e.web_search_requests, e.total_tokens,
        e.speed, int(e.model_estimated), e.cost_nano, e.reported_cost_nano, str(e.cost_basis),
        e.session_id, e.project, e.project_dir, e.agent_id, int(e.is_sidechain), e.git_branch,
        e.version, e.machine, e.agent, e.task_id, e.task_type, e.skill, e.account, e.lane,
        e.auth_mode, file_id,
    )  # fmt: skip


class SqliteLedger:
    """The ledger in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"cannot open the ledger at {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connection(self) -> sqlite3.Connection:
        """For read queries by the report layer."""
        return self._db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once so concurrent writers queue, not fail."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise LedgerError(
                f"the ledger at {self.path} has schema version {version}, newer than this "
                f"spendlane knows ({len(MIGRATIONS)}); upgrade spendlane"
            )
        if version == len(MIGRATIONS):
            return
        with self.write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another process?
            for step in MIGRATIONS[version:]:
                for statement in _statements(step):
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    # -- file cursors -------------------------------------------------------------------

    def cursors(self) -> dict[str, FileCursor]:
        rows = self._db.execute(
            "SELECT path, source, inode, size, mtime_ns, offset, head_len, head_hash, state, "
            "malformed_lines, id FROM files"
        )
        return {row[0]: FileCursor(*row) for row in rows}

    def commit_file(
        self,
        cursor: FileCursor,
        events: Sequence[UsageEvent],
        notices: Iterable[LimitNotice] = (),
        readings: Iterable[RateLimitReading] = (),
    ) -> WriteResult:
        """Store a file's new events and its advanced cursor, all or nothing."""
        with self.write() as db:
            cursor.id = self._save_cursor(db, cursor)
            result = self._insert(db, events, cursor.id)
            db.executemany(
                "INSERT OR IGNORE INTO limit_notices VALUES (?, ?, ?, ?, ?)",
                [(n.source, n.ts_ms, n.reset_at_ms, n.text, n.session_id) for n in notices],
            )
            db.executemany(
                "INSERT OR IGNORE INTO quota_readings VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (r.source, r.ts_ms, r.window, r.used_percent, r.window_minutes,
                     r.resets_at_ms, r.session_id)
                    for r in readings
                ],
            )  # fmt: skip
        return result

    def insert_events(self, events: Sequence[UsageEvent]) -> WriteResult:
        """Store events that come from no file (record API, wrapped runs)."""
        with self.write() as db:
            return self._insert(db, events, None)

    def _save_cursor(self, db: sqlite3.Connection, c: FileCursor) -> int:
        row = db.execute(
            "INSERT INTO files (path, source, inode, size, mtime_ns, offset, head_len, head_hash, "
            "state, malformed_lines, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (path) DO UPDATE SET source = excluded.source, inode = excluded.inode, "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, offset = excluded.offset, "
            "head_len = excluded.head_len, head_hash = excluded.head_hash, "
            "state = excluded.state, malformed_lines = excluded.malformed_lines, "
            "updated_ms = excluded.updated_ms RETURNING id",
            (c.path, c.source, c.inode, c.size, c.mtime_ns, c.offset, c.head_len, c.head_hash,
             c.state, c.malformed_lines, int(time.time() * 1000)),
        ).fetchone()  # fmt: skip
        return int(row[0])

    def _insert(
        self, db: sqlite3.Connection, events: Sequence[UsageEvent], file_id: int | None
    ) -> WriteResult:
        result = WriteResult()
        best: dict[int, UsageEvent] = {}
        for event in events:
            ident = key_id(event.key)
            held = best.get(ident)
            if held is None:
                best[ident] = event
                continue
            result.duplicates += 1
            if _better(event, held):
                best[ident] = event
        if not best:
            return result
        rows = [_row(e, file_id) for e in best.values()]
        # Unpriced rows go in their own statement so its row count says how many were new.
        unpriced = [row for row in rows if row[_COST] is None]
        priced = [row for row in rows if row[_COST] is not None] if unpriced else rows
        result.unpriced = _insert_new(db, unpriced)
        inserted = result.unpriced + _insert_new(db, priced)
        result.inserted = inserted
        if inserted < len(rows):
            # Some calls were known already: keep whichever copy is better. Rows inserted a
            # moment ago compare equal to themselves and are left alone.
            updates = [
                (*row[1:], row[0], row[_TOTAL], row[_TOTAL], row[_SIDECHAIN]) for row in rows
            ]
            result.replaced = db.executemany(_REPLACE, updates).rowcount
            result.duplicates += len(rows) - inserted
        return result


def _insert_new(db: sqlite3.Connection, rows: list[tuple[object, ...]]) -> int:
    """Insert rows whose id is not stored yet; how many were."""
    return db.executemany(_INSERT_OR_IGNORE, rows).rowcount if rows else 0


def _statements(script: str) -> list[str]:
    """Split a migration script into statements, keeping trigger bodies whole."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements
