"""The embedded ledger: SQLite in WAL mode, short write transactions, idempotent inserts.

Readers never wait in WAL mode; writers take the lock with BEGIN IMMEDIATE and wait for each
other through the busy timeout, so two processes may ingest at once without a "database is
locked" error. A file's new events and its advanced cursor commit in one transaction: a crash
at any moment leaves both as they were, and the next run reads those bytes again.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spendlane.ledger.columns import CONTEXT_COLUMNS, EVENT_COLUMNS, ROLLUP_KEY, ROLLUP_SUMS
from spendlane.ledger.migrations import MIGRATIONS

if TYPE_CHECKING:
    from spendlane.events import AgentType, LimitNotice, RateLimitReading, UsageEvent
    from spendlane.ledger.rows import Prepared

BUSY_TIMEOUT_S = 60.0
CHECKPOINT_WAIT_S = 10.0  # at most, for a background checkpoint to end (see `close`)
CACHE_KIB = 64 * 1024  # page cache: random-key inserts into a large ledger stay in memory

# Python 3.11's sqlite3 binds None through its adapter protocol, and on the way looks up an
# `__adapt__` that is not there: the AttributeError it formats and drops costs 0.2 µs per
# None, and a first import binds a million of them (an unreported cost, a speed, …). With an
# adapter registered for None (a C callable that returns None, so it binds NULL as before),
# the lookup is a dictionary hit. Values other than None are not affected.
_NO_VALUES: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NO_VALUES.get)

_ID = itemgetter(0)  # an event row's id
_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_REPLACE = f"UPDATE events SET {', '.join(f'{c} = ?' for c in EVENT_COLUMNS[1:])} WHERE id = ?"
_INSERT_CONTEXT = (
    f"INSERT OR IGNORE INTO contexts (id, {', '.join(CONTEXT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(CONTEXT_COLUMNS) + 1))})"
)
_APPLY_ROLLUP = (
    f"INSERT INTO rollup_15m ({', '.join(ROLLUP_KEY)}, {', '.join(ROLLUP_SUMS)}, first_ms, "
    f"last_ms) VALUES ({', '.join('?' * (len(ROLLUP_KEY) + len(ROLLUP_SUMS) + 2))}) "
    f"ON CONFLICT ({', '.join(ROLLUP_KEY)}) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in ROLLUP_SUMS)
    + ", first_ms = COALESCE(MIN(first_ms, excluded.first_ms), first_ms, excluded.first_ms)"
    ", last_ms = COALESCE(MAX(last_ms, excluded.last_ms), last_ms, excluded.last_ms)"
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
class FileBatch:
    """What one read of one file yields, to be committed with its cursor."""

    cursor: FileCursor
    events: Prepared
    notices: Sequence[LimitNotice] = ()
    readings: Sequence[RateLimitReading] = ()
    agent_types: Sequence[AgentType] = ()


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


class SqliteLedger:
    """The ledger in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Ids this connection inserted into a ledger that had no events, while no other
        # connection has written since: then "is it stored?" needs no query. None = unknown.
        self._known_ids: set[int] | None = None
        self._known_checked = False
        self._data_version: int | None = None
        self._checkpointer: threading.Thread | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._use_wal()
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            # Checkpoint the WAL every ~40 MB rather than every 4: a first import's commits
            # then spend their time inserting, not copying pages back.
            self._db.execute("PRAGMA wal_autocheckpoint = 10000")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"cannot open the ledger at {path}: {exc}") from exc

    def _use_wal(self) -> None:
        """Switch a new ledger to WAL (a ledger stays in WAL once set).

        Switching needs a moment alone with the file, and SQLite answers "locked" at once
        rather than waiting when two processes create a ledger together: retry for a while.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.005
        while self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.2)

    def close(self) -> None:
        if self._checkpointer is not None:
            # It waits on no lock, so it ends within its copy; the bound is a safety net.
            self._checkpointer.join(timeout=CHECKPOINT_WAIT_S)
            self._checkpointer = None
        self._db.close()

    def checkpoint_in_background(self) -> None:
        """Start copying the write-ahead log back into the database file, on a connection of
        its own in a thread (SQLite works without the GIL), while this connection goes on.

        A large ingest leaves up to 40 MB in the log, and the last connection to close copies
        what is left: after a first import, the report waited 0.1-0.15 s for that copy on its
        way out. Started near the end of the ingest, the copy runs beside its last writes and
        the report instead. It takes no lock that readers or writers wait for (a passive
        checkpoint), and waits for none itself: it is best effort, and what it does not copy
        the last connection to close does. `close` waits for it. Once per connection.
        """
        if self._checkpointer is not None:
            return

        def copy_back() -> None:
            try:
                db = sqlite3.connect(self.path, timeout=0, isolation_level=None)
            except sqlite3.Error:
                return  # nothing lost: the last connection to close copies it instead
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:
                pass  # (as above)
            finally:
                db.close()

        self._checkpointer = threading.Thread(target=copy_back, name="wal-checkpoint", daemon=True)
        self._checkpointer.start()

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
            self._known_ids = None  # it may hold ids of the rolled-back rows
            raise
        self._db.execute("COMMIT")

    def _others_wrote(self) -> bool:
        """Has another connection committed since this was last asked? (Inside a write
        transaction, so nobody can commit while we look.) `data_version` moves only for other
        connections' commits, never for our own, so reading it under the lock is exact."""
        version: int = self._db.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._data_version
        self._data_version = version
        return changed

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

    # -- remembered catalog answers --------------------------------------------------------

    def price_cache(self, catalog: str) -> list[tuple[Any, ...]]:
        return list(self._db.execute("SELECT * FROM price_cache WHERE catalog = ?", (catalog,)))

    def remember_prices(self, rows: Sequence[tuple[Any, ...]]) -> None:
        with self.write() as db:
            db.executemany(
                "INSERT OR REPLACE INTO price_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows
            )

    # -- file cursors -------------------------------------------------------------------

    def cursors(self) -> dict[str, FileCursor]:
        rows = self._db.execute(
            "SELECT path, source, inode, size, mtime_ns, offset, head_len, head_hash, state, "
            "malformed_lines, id FROM files"
        )
        return {row[0]: FileCursor(*row) for row in rows}

    def commit_files(self, batch: Sequence[FileBatch]) -> dict[str, WriteResult]:
        """Store files' new events and advanced cursors in one transaction: all or nothing.

        Returns what was written per source.
        """
        with self.write() as db:
            return self.store_files(db, batch)

    def store_files(
        self, db: sqlite3.Connection, batch: Sequence[FileBatch]
    ) -> dict[str, WriteResult]:
        """`commit_files` inside a write transaction the caller holds (`write()`), so that a
        large ingest can put rows in as files are parsed and commit several batches at once.

        The batch goes in as a few statements, not a few per file: a first import of
        thousands of small files is dominated by them.
        """
        by_source: dict[str, list[Prepared]] = {}
        for item in batch:
            by_source.setdefault(item.cursor.source, []).append(item.events)
        now = int(time.time() * 1000)
        notices = [(n.source, n.ts_ms, n.reset_at_ms, n.text, n.session_id)
                   for item in batch for n in item.notices]  # fmt: skip
        readings = [(r.source, r.ts_ms, r.window, r.used_percent, r.window_minutes,
                     r.resets_at_ms, r.session_id, r.root)
                    for item in batch for r in item.readings]  # fmt: skip
        db.executemany(_SAVE_CURSOR, [_cursor_row(item.cursor, now) for item in batch])
        results = {source: self._insert(db, parts) for source, parts in by_source.items()}
        if notices:
            db.executemany("INSERT OR IGNORE INTO limit_notices VALUES (?, ?, ?, ?, ?)",
                           notices)  # fmt: skip
        if readings:
            db.executemany(
                "INSERT OR IGNORE INTO quota_readings (source, ts_ms, window, used_percent, "
                "window_minutes, resets_at_ms, session_id, root) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                readings,
            )
        agent_types = [(a.agent_id, a.agent_type, int(a.authoritative))
                       for item in batch for a in item.agent_types]  # fmt: skip
        if agent_types:
            db.executemany(_SAVE_AGENT_TYPE, agent_types)
        return results

    def commit_file(
        self,
        cursor: FileCursor,
        events: Sequence[UsageEvent],
        notices: Sequence[LimitNotice] = (),
        readings: Sequence[RateLimitReading] = (),
    ) -> WriteResult:
        from spendlane.events import best_copies
        from spendlane.ledger.rows import prepare

        batch = FileBatch(cursor, prepare(*best_copies(list(events))), notices, readings)
        return self.commit_files([batch])[cursor.source]

    def insert_events(self, events: Sequence[UsageEvent]) -> WriteResult:
        """Store events that come from no file (record API, wrapped runs)."""
        from spendlane.events import best_copies
        from spendlane.ledger.rows import prepare

        with self.write() as db:
            return self._insert(db, [prepare(*best_copies(list(events)))])

    def _insert(self, db: sqlite3.Connection, parts: Sequence[Prepared]) -> WriteResult:
        """The one write path for events: insert new calls, replace by better copies, and
        keep the rollup in step, all inside the caller's transaction."""
        from spendlane.ledger.rows import Rollup, better_row, unpriced_count

        result = WriteResult()
        rollup = Rollup()  # filled as if every row were new; corrected below
        contexts: list[tuple[Any, ...]] = []
        every: list[tuple[Any, ...]] = []
        for prepared in parts:
            result.duplicates += prepared.duplicates
            rollup.merge(prepared.rollup)
            contexts.extend(prepared.contexts)
            every.extend(prepared.rows)
        rows = dict(zip(map(_ID, every), every, strict=True))
        if len(rows) < len(every):  # the same call in two files of this batch: the best wins
            rows = {}
            for row in every:
                held = rows.get(row[0])
                if held is None:
                    rows[row[0]] = row
                    continue
                result.duplicates += 1
                loser = held if better_row(row, held) else row
                rollup.add(loser, -1)
                if loser is held:
                    rows[row[0]] = row
        if not rows:
            return result
        db.executemany(_INSERT_CONTEXT, contexts)
        known = self._known_stored_ids(db)
        if known is not None:
            # (usually none of them: one set operation instead of a loop over the rows)
            repeats = [] if known.isdisjoint(rows) else [i for i in rows if i in known]
            stored = self._stored(db, repeats) if repeats else {}
        else:
            stored = self._stored(db, list(rows))
        fresh = list(rows.values())
        if stored:
            fresh = []
            replacements = []
            for row in rows.values():
                old = stored.get(row[0])
                if old is None:
                    fresh.append(row)
                    continue
                result.duplicates += 1
                rollup.add(row, -1)
                if better_row(row, old):
                    replacements.append((*row[1:], row[0]))
                    rollup.add(old, -1)
                    rollup.add(row, 1)
                    result.replaced += 1
            db.executemany(_REPLACE, replacements)
        db.executemany(_INSERT, fresh)
        if self._known_ids is not None:
            self._known_ids.update(map(_ID, fresh))
        entries = rollup.entries()
        db.executemany(_APPLY_ROLLUP, entries)
        if entries:
            buckets = [entry[0] for entry in entries]
            db.execute(
                "INSERT INTO rollup_changes (min_bucket, max_bucket) VALUES (?, ?)",
                (min(buckets), max(buckets)),
            )
        result.inserted = len(fresh)
        result.unpriced = unpriced_count(fresh)
        return result

    def _known_stored_ids(self, db: sqlite3.Connection) -> set[int] | None:
        """Every id in the ledger, if this connection can know them without asking: it began
        writing to an empty ledger and nobody else has written since."""
        if not self._known_checked:
            self._known_checked = True
            self._others_wrote()  # from here on, any other writer is noticed
            if db.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None:
                self._known_ids = set()
        elif self._known_ids is not None and self._others_wrote():
            self._known_ids = None
        return self._known_ids

    def _stored(self, db: sqlite3.Connection, ids: list[int]) -> dict[int, tuple[Any, ...]]:
        """The stored rows among `ids` (one indexed probe each)."""
        found: dict[int, tuple[Any, ...]] = {}
        columns = ", ".join(EVENT_COLUMNS)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in db.execute(f"SELECT {columns} FROM events WHERE id IN ({marks})", chunk):
                found[row[0]] = row
        return found


_SAVE_CURSOR = (
    "INSERT INTO files (path, source, inode, size, mtime_ns, offset, head_len, head_hash, "
    "state, malformed_lines, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (path) DO UPDATE SET source = excluded.source, inode = excluded.inode, "
    "size = excluded.size, mtime_ns = excluded.mtime_ns, offset = excluded.offset, "
    "head_len = excluded.head_len, head_hash = excluded.head_hash, state = excluded.state, "
    "malformed_lines = excluded.malformed_lines, updated_ms = excluded.updated_ms"
)


def _cursor_row(c: FileCursor, now_ms: int) -> tuple[Any, ...]:
    return (c.path, c.source, c.inode, c.size, c.mtime_ns, c.offset, c.head_len, c.head_hash,
            c.state, c.malformed_lines, now_ms)  # fmt: skip


# A sidecar's answer replaces a Task link's; a Task link never replaces a sidecar's.
_SAVE_AGENT_TYPE = (
    "INSERT INTO agent_types VALUES (?, ?, ?) ON CONFLICT (agent_id) DO UPDATE SET "
    "agent_type = excluded.agent_type, authoritative = excluded.authoritative "
    "WHERE excluded.authoritative >= agent_types.authoritative"
)


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
