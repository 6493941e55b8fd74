"""Bringing new log lines into the ledger: discover, read what is new, parse, price, commit.

Large first runs parse files in a process pool (both cores: one parses while the ledger is
written); small incremental runs stay in-process, because a warm run must cost milliseconds.
Each file commits its events with its cursor in one transaction.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spendlane.ledger import FileCursor, SqliteLedger
from spendlane.ledger.sqlite import FileBatch
from spendlane.sources import LOG_SOURCES

if TYPE_CHECKING:
    import sqlite3
    from types import TracebackType

    from spendlane.ingest_pool import Workers
    from spendlane.ingest_worker import FileResult, Setup
    from spendlane.pricing.overrides import PriceOverride

POOL_MIN_BYTES = 32 * 1024 * 1024
# A write transaction covers a few files: short enough that other writers wait only briefly
# (it is open for a second at most while rows go in as files are parsed), long enough that
# thousands of small files do not cost thousands of commits. Batches grow with what this run
# has written, up to twice the first size: each commit writes out every index page its batch
# touched, and ids are hashes, so once the id index is large a batch touches most of it (on a
# first import of 317,000 calls, a quarter fewer page writes), while the first commits of a
# run still come soon.
BATCH_EVENTS = 20_000
BATCH_EVENTS_MAX = 40_000
BATCH_SECONDS = 1.0  # and at least this often, so a long first run keeps what it has read
# Rows go into the open transaction in groups this size (events or files), so that little is
# left to write when the last file is parsed.
WRITE_EVENTS = 5_000
WRITE_FILES = 100
# When the workers send nothing for this long, what is written is committed (see `idle`).
IDLE_SECONDS = 0.25
# When this share of a large ingest is parsed, the log starts being copied back into the
# database file beside the last writes (see `SqliteLedger.checkpoint_in_background`).
CHECKPOINT_AT = 0.9

Progress = Callable[[int, int], None]  # (bytes done, bytes total)


@dataclass(slots=True)
class SourceStats:
    """What one ingest did for one source. Every skipped thing is counted, never hidden."""

    roots: list[str] = field(default_factory=list)
    files_seen: int = 0
    files_read: int = 0
    files_reset: int = 0
    files_vanished: int = 0
    bytes_read: int = 0
    new_events: int = 0
    replaced: int = 0
    duplicates: int = 0
    malformed_lines: int = 0
    unpriced_events: int = 0
    limit_notices: int = 0
    rate_limit_readings: int = 0


@dataclass(slots=True)
class IngestReport:
    sources: dict[str, SourceStats]
    unpriced_models: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def files_seen(self) -> int:
        return sum(s.files_seen for s in self.sources.values())

    @property
    def new_events(self) -> int:
        return sum(s.new_events for s in self.sources.values())

    def to_json(self) -> dict[str, Any]:
        """What `spendlane ingest --json` prints."""
        return {
            "sources": {
                name: {
                    "roots": s.roots,
                    "filesSeen": s.files_seen,
                    "filesRead": s.files_read,
                    "filesReread": s.files_reset,
                    "filesVanished": s.files_vanished,
                    "bytesRead": s.bytes_read,
                    "newEvents": s.new_events,
                    "replacedByLargerCopy": s.replaced,
                    "duplicates": s.duplicates,
                    "malformedLines": s.malformed_lines,
                    "unpricedEvents": s.unpriced_events,
                    "limitNotices": s.limit_notices,
                    "rateLimitReadings": s.rate_limit_readings,
                }
                for name, s in self.sources.items()
            },
            "unpricedModels": sorted(self.unpriced_models),
            "seconds": round(self.seconds, 3),
        }


@dataclass(slots=True)
class Task:
    source: str
    path: str
    cursor: FileCursor | None
    pending: int  # bytes to read, for scheduling and progress
    mtime_ns: int = 0  # when the file was last written, for the order of a large ingest


@dataclass(slots=True)
class Outcome:
    source: str
    cursor: FileCursor | None  # None: the file vanished or was unreadable; retried next run
    start: int  # where this read began
    reset: bool = False  # read from the start: the file was replaced or truncated
    payload: bytes = b""  # the msgpack-encoded FileResult


def ingest(
    ledger: SqliteLedger,
    *,
    sources: Iterable[str] = tuple(LOG_SOURCES),
    roots: dict[str, list[Path]] | None = None,
    overrides: list[PriceOverride] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    accounts: Mapping[str, tuple[str, str]] | None = None,
) -> IngestReport:
    """Bring every new model call from the local logs into the ledger.

    `overrides` None: the user's prices.toml (a bad one raises ConfigError before anything is
    read). `accounts` maps an agent folder (`sources.locations.log_root`) to the (account,
    auth mode) its calls are attributed to (see `policy.accounts`); None: the configured
    accounts, read only when there is something new to attribute.
    """
    started = time.perf_counter()
    if overrides is None:
        overrides = user_overrides()
    report = IngestReport(sources={})
    pool = _Pool(ledger, workers)
    try:
        tasks = _plan(ledger, sources, roots or {}, report, pool.planned)
        _execute(ledger, tasks, report, overrides, progress, pool, accounts)
    finally:
        pool.close()
    report.seconds = time.perf_counter() - started
    return report


def ingest_files(
    ledger: SqliteLedger,
    source: str,
    paths: Iterable[str | Path],
    *,
    overrides: list[PriceOverride] | None = None,
    accounts: Mapping[str, tuple[str, str]] | None = None,
) -> IngestReport:
    """Bring new calls in from these files of one source only (no discovery): the transcript
    a Claude Code SessionEnd hook names, say. The same cursors, reads and commits as `ingest`,
    so a later full ingest reads none of these bytes again."""
    started = time.perf_counter()
    if overrides is None:
        overrides = user_overrides()
    report = IngestReport(sources={})
    stats = report.sources.setdefault(source, SourceStats())
    cursors = ledger.cursors()
    tasks: list[Task] = []
    seen: set[tuple[int, int]] = set()
    for path in paths:
        _add_task(source, str(path), cursors, seen, stats, tasks)
    _execute(ledger, tasks, report, overrides, None, _Pool(ledger, 1), accounts)
    report.seconds = time.perf_counter() - started
    return report


def user_overrides() -> list[PriceOverride]:
    """The user's prices.toml in the config dir: none when there is no file, ConfigError
    (file, line, field) when it is bad. The pricing modules load only when the file exists."""
    from spendlane.paths import config_dir

    prices = config_dir() / "prices.toml"
    if not prices.exists():
        return []
    from spendlane.pricing.overrides import load_overrides

    return load_overrides(prices)


def _execute(
    ledger: SqliteLedger,
    tasks: list[Task],
    report: IngestReport,
    overrides: list[PriceOverride] | None,
    progress: Progress | None,
    pool: _Pool,
    accounts: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Read, parse and commit the planned files (the part `ingest` and `ingest_files` share)."""
    if not tasks:
        return
    from spendlane.pricing.memory import catalog_version

    remembered = ledger.price_cache(catalog_version())
    committer = _Committer(ledger, report, sum(t.pending for t in tasks), progress)
    if accounts is None:
        from spendlane.policy.accounts import configured_folders

        accounts = configured_folders()
    setup = (overrides or [], remembered, dict(accounts))
    from spendlane.ingest_worker import few_collections

    with few_collections(), committer:
        for outcome in _run(tasks, setup, committer.total, pool):
            if outcome is None:
                committer.idle()
            else:
                committer.add(outcome)
    if committer.learned_prices:
        ledger.remember_prices(list(committer.learned_prices.values()))


def _plan(
    ledger: SqliteLedger,
    sources: Iterable[str],
    roots: dict[str, list[Path]],
    report: IngestReport,
    planned: Callable[[int], None],
) -> list[Task]:
    """The files with something new, found without reading any: a stat each, compared with
    the (inode, size, mtime) the cursors recorded. Most runs find nothing new, so the full
    cursors (head hashes, parser state) are loaded only when some file changed. `planned` is
    told, as planning goes on, how many bytes the changed files so far hold to read."""
    # The columns of `ledger.cursors()` that `sources.reading.unchanged` compares, and where
    # reading resumes.
    stamps = {row[0]: row[1:] for row in ledger.connection.execute(
        "SELECT path, inode, size, mtime_ns, offset FROM files")}  # fmt: skip
    changed: list[tuple[str, str, int, int]] = []  # (source, path, bytes to read, mtime)
    changed_bytes = 0
    seen: set[tuple[int, int]] = set()
    for name in sources:
        source = LOG_SOURCES[name]
        stats = report.sources.setdefault(name, SourceStats())
        source_roots = roots.get(name) or source.default_roots()
        stats.roots = [str(r) for r in source_roots]
        for path in source.discover(source_roots):
            st = _stat_once(path, seen, stats)
            if st is None:
                continue
            stamp = stamps.get(path)
            if stamp is None or stamp[:3] != (st.st_ino, st.st_size, st.st_mtime_ns):
                # Bytes to read: from the cursor on, or all of a new or replaced file.
                resume = stamp[3] if stamp and stamp[0] == st.st_ino else 0
                pending = st.st_size - resume if st.st_size >= resume else st.st_size
                changed.append((name, path, pending, st.st_mtime_ns))
                changed_bytes += pending
                planned(changed_bytes)
    if not changed:
        return []
    cursors = ledger.cursors()
    return [Task(name, path, cursors.get(path), pending, mtime)
            for name, path, pending, mtime in changed]  # fmt: skip


def _stat_once(path: str, seen: set[tuple[int, int]], stats: SourceStats) -> os.stat_result | None:
    """The file's stat, counted as seen (or vanished); None when it vanished or was already
    seen through another root."""
    try:
        st = os.stat(path)
    except OSError:
        stats.files_seen += 1
        stats.files_vanished += 1
        return None
    if (st.st_dev, st.st_ino) in seen:
        return None  # the same file through another root
    seen.add((st.st_dev, st.st_ino))
    stats.files_seen += 1
    return st


def _add_task(
    source: str,
    path: str,
    cursors: dict[str, FileCursor],
    seen: set[tuple[int, int]],
    stats: SourceStats,
    tasks: list[Task],
) -> None:
    """Plan one file: a stat, and a task when it has bytes the cursor has not covered."""
    st = _stat_once(path, seen, stats)
    if st is None:
        return
    from spendlane.sources.reading import unchanged

    cursor = cursors.get(path)
    if not unchanged(cursor, st):
        pending = st.st_size - (cursor.offset if cursor else 0)
        tasks.append(Task(source, path, cursor, max(pending, 0), st.st_mtime_ns))


class _Committer:
    """Writes parsed files into the ledger as they come, commits them in short transactions,
    and keeps the tally. A context manager: leaving it commits what is written, or, on an
    exception, rolls the open transaction back.

    Rows go into the open transaction in groups of a few thousand while the workers parse on,
    and a commit writes out the pages they touched. Writing a whole batch only when it was
    complete made the writer's work come in bursts: when the last file was parsed, most of a
    batch was still to write, a third of a second with one core idle.
    """

    def __init__(
        self, ledger: SqliteLedger, report: IngestReport, total: int, progress: Progress | None
    ) -> None:
        self.ledger = ledger
        self.report = report
        self.total = total
        self.progress = progress
        self.done = 0
        self.pending: list[tuple[Outcome, FileCursor, FileResult]] = []  # parsed, not written
        self.pending_events = 0
        self.uncommitted = 0  # events written into the open transaction
        self.written = 0  # events committed by this run
        self.learned_prices: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.last_commit = time.monotonic()
        self._transaction: ExitStack | None = None
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> _Committer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is None:
            self.commit()
        elif self._transaction is not None:
            transaction, self._transaction, self._db = self._transaction, None, None
            transaction.__exit__(kind, error, trace)  # rolls back; the exception goes on

    def add(self, outcome: Outcome) -> None:
        if outcome.cursor is None:
            self.report.sources[outcome.source].files_vanished += 1
            return
        from spendlane.ingest_worker import decode_result

        parsed = decode_result(outcome.payload)
        for row in parsed.learned_prices:
            self.learned_prices[tuple(row[:5])] = row
        self.pending.append((outcome, outcome.cursor, parsed))
        self.pending_events += len(parsed.prepared.rows)
        self.done += outcome.cursor.offset - outcome.start
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)
        if self.total >= POOL_MIN_BYTES and self.done >= self.total * CHECKPOINT_AT:
            self.ledger.checkpoint_in_background()
        if (
            self.uncommitted + self.pending_events
            >= min(BATCH_EVENTS_MAX, max(BATCH_EVENTS, self.written // 4))
            or time.monotonic() - self.last_commit >= BATCH_SECONDS
        ):
            self.commit()
        elif self.pending_events >= WRITE_EVENTS or len(self.pending) >= WRITE_FILES:
            self.write()

    def write(self) -> None:
        """Put the parsed files' rows and cursors into the open transaction (opened here)."""
        if not self.pending:
            return
        if self._db is None:
            self._transaction = ExitStack()
            self._db = self._transaction.enter_context(self.ledger.write())
        batch = [
            FileBatch(c, p.prepared, p.notices, p.readings, p.agent_types)
            for _, c, p in self.pending
        ]
        results = self.ledger.store_files(self._db, batch)
        self.uncommitted += self.pending_events
        for source, result in results.items():
            stats = self.report.sources[source]
            stats.new_events += result.inserted
            stats.replaced += result.replaced
            stats.duplicates += result.duplicates
            stats.unpriced_events += result.unpriced
        for outcome, cursor, parsed in self.pending:
            stats = self.report.sources[outcome.source]
            stats.files_read += 1
            stats.files_reset += int(outcome.reset)
            stats.bytes_read += cursor.offset - outcome.start
            stats.malformed_lines += parsed.malformed
            stats.limit_notices += len(parsed.notices)
            stats.rate_limit_readings += len(parsed.readings)
            if results[outcome.source].unpriced:
                self.report.unpriced_models.update(parsed.unpriced_models)
        self.pending.clear()
        self.pending_events = 0

    def idle(self) -> None:
        """Nothing has come for a while (the workers are deep in large files): commit what
        is written, so that another writer does not wait on an open transaction meanwhile."""
        if self._transaction is not None or self.pending:
            self.commit()

    def commit(self) -> None:
        """Write what is parsed and commit the open transaction."""
        self.write()
        if self._transaction is not None:
            transaction, self._transaction, self._db = self._transaction, None, None
            transaction.close()
            self.written += self.uncommitted
        self.uncommitted = 0
        self.last_commit = time.monotonic()


class _Pool:
    """The worker processes of one ingest, started as soon as planning finds enough to read
    (see `ingest_pool`); none for a small run, which must cost milliseconds."""

    def __init__(self, ledger: SqliteLedger, workers: int | None) -> None:
        self.ledger = ledger
        self.size = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.workers: Workers | None = None

    def planned(self, pending: int) -> None:
        if self.workers is None and self.size > 1 and pending >= POOL_MIN_BYTES:
            from spendlane.ingest_pool import Workers

            # A ledger with no calls has no remembered prices: the workers will need the
            # catalog, and can load it while the writer plans.
            first = self.ledger.connection.execute("SELECT 1 FROM events LIMIT 1").fetchone()
            self.workers = Workers(self.size, load_catalog=first is None)

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()
            self.workers = None


def _run(tasks: list[Task], setup: Setup, total: int, pool: _Pool) -> Iterable[Outcome | None]:
    """Each file's outcome; None when the workers have sent nothing for a while."""
    if not tasks:
        return
    if len(tasks) >= 2:
        pool.planned(total)
        if pool.workers is not None and total >= POOL_MIN_BYTES:
            yield from pool.workers.run(_in_time_order(tasks), setup, IDLE_SECONDS)
            return
    pool.close()
    from spendlane.ingest_worker import init_worker, process

    init_worker(*setup)
    for task in tasks:
        yield process(task)


def _in_time_order(tasks: list[Task]) -> list[Task]:
    """The files by when they were last written, oldest first (then by path).

    Each commit writes out every page its rows touched, of the table and of each index and of
    the rollup. Files written in the same weeks hold calls of the same weeks, whose rows land
    on the same pages of the time index, the rollup and the plan-window readings; taken in
    that order, a batch touches a slice of those pages instead of nearly all of them (on a
    first import of 1 GB, 57,000 page writes instead of 88,000, and 5-7 % less time). Only the
    id index, keyed by hashes, still takes each batch everywhere. Sessions of every size happen
    every week, so small and large files stay mixed over the whole run and the workers finish
    together.
    """
    return sorted(tasks, key=lambda t: (t.mtime_ns, t.path))
