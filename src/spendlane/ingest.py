"""Bringing new log lines into the ledger: discover, read what is new, parse, price, commit.

Large first runs parse files in a process pool (both cores: one parses while the ledger is
written); small incremental runs stay in-process, because a warm run must cost milliseconds.
Each file commits its events with its cursor in one transaction.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from spendlane.events import LimitNotice, RateLimitReading, best_copies
from spendlane.ledger import FileCursor, SqliteLedger, WriteResult
from spendlane.ledger.rows import Prepared, prepare
from spendlane.ledger.sqlite import FileBatch
from spendlane.pricing import Pricer
from spendlane.pricing.overrides import PriceOverride
from spendlane.sources import LOG_SOURCES
from spendlane.sources.jsonl import read_new, unchanged
from spendlane.sources.parsed import Parsed

POOL_MIN_BYTES = 32 * 1024 * 1024
# A write transaction covers a few files: short enough that other writers wait only briefly,
# long enough that thousands of small files do not cost thousands of commits.
BATCH_EVENTS = 20_000
BATCH_FILES = 200

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


@dataclass(slots=True)
class _Task:
    source: str
    path: str
    cursor: FileCursor | None
    pending: int  # bytes to read, for scheduling and progress


@dataclass(slots=True)
class _Outcome:
    source: str
    cursor: FileCursor | None  # None: the file vanished or was unreadable; retried next run
    start: int  # where this read began
    reset: bool = False  # read from the start: the file was replaced or truncated
    payload: bytes = b""  # the msgpack-encoded Parsed


class _FileResult(msgspec.Struct, gc=False):
    """What a worker sends back for one file: rows ready to write, and what it noticed."""

    prepared: Prepared
    notices: list[LimitNotice]
    readings: list[RateLimitReading]
    malformed: int
    unpriced_models: list[str]


_worker_pricer: Pricer | None = None


def _init_worker(overrides: list[PriceOverride]) -> None:
    global _worker_pricer
    _worker_pricer = Pricer(overrides)


def _process(task: _Task) -> _Outcome:
    """Read, parse and price one file. Runs in a worker or in-process."""
    assert _worker_pricer is not None
    try:
        chunk = read_new(task.path, task.source, task.cursor)
    except OSError:
        return _Outcome(task.source, None, 0)
    if chunk is None:
        return _Outcome(task.source, None, 0)
    parsed = LOG_SOURCES[task.source].parse(chunk, task.path) if chunk.data else Parsed([])
    best, duplicates = best_copies(parsed.events)
    for event in best.values():
        _worker_pricer.price(event)
    cursor = chunk.cursor
    cursor.malformed_lines += parsed.malformed
    if parsed.state is not None:
        cursor.state = parsed.state
    result = _FileResult(
        prepared=prepare(best, duplicates),
        notices=parsed.notices,
        readings=parsed.readings,
        malformed=parsed.malformed,
        unpriced_models=sorted({e.model for e in best.values() if e.cost_nano is None}),
    )
    return _Outcome(
        task.source, cursor, chunk.start, chunk.reset and task.cursor is not None,
        msgspec.msgpack.encode(result),
    )  # fmt: skip


def ingest(
    ledger: SqliteLedger,
    *,
    sources: Iterable[str] = tuple(LOG_SOURCES),
    roots: dict[str, list[Path]] | None = None,
    overrides: list[PriceOverride] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Bring every new model call from the local logs into the ledger."""
    started = time.perf_counter()
    report = IngestReport(sources={})
    tasks = _plan(ledger.cursors(), sources, roots or {}, report)
    committer = _Committer(ledger, report, sum(t.pending for t in tasks), progress)
    for outcome in _run(tasks, overrides or [], committer.total, workers):
        committer.add(outcome)
    committer.flush()
    report.seconds = time.perf_counter() - started
    return report


def _plan(
    cursors: dict[str, FileCursor],
    sources: Iterable[str],
    roots: dict[str, list[Path]],
    report: IngestReport,
) -> list[_Task]:
    """The files with something new, found without reading any: a stat each."""
    tasks: list[_Task] = []
    for name in sources:
        source = LOG_SOURCES[name]
        stats = report.sources.setdefault(name, SourceStats())
        source_roots = roots.get(name) or source.default_roots()
        stats.roots = [str(r) for r in source_roots]
        for path in source.discover(source_roots):
            stats.files_seen += 1
            cursor = cursors.get(path)
            try:
                st = os.stat(path)
            except OSError:
                stats.files_vanished += 1
                continue
            if not unchanged(cursor, st):
                pending = st.st_size - (cursor.offset if cursor else 0)
                tasks.append(_Task(name, path, cursor, max(pending, 0)))
    return tasks


class _Committer:
    """Groups parsed files into short write transactions and keeps the tally."""

    def __init__(
        self, ledger: SqliteLedger, report: IngestReport, total: int, progress: Progress | None
    ) -> None:
        self.ledger = ledger
        self.report = report
        self.total = total
        self.progress = progress
        self.done = 0
        self.pending: list[tuple[_Outcome, FileCursor, _FileResult]] = []
        self.pending_events = 0

    def add(self, outcome: _Outcome) -> None:
        if outcome.cursor is None:
            self.report.sources[outcome.source].files_vanished += 1
            return
        parsed = msgspec.msgpack.decode(outcome.payload, type=_FileResult)
        self.pending.append((outcome, outcome.cursor, parsed))
        self.pending_events += len(parsed.prepared.rows)
        if self.pending_events >= BATCH_EVENTS or len(self.pending) >= BATCH_FILES:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch = [FileBatch(c, p.prepared, p.notices, p.readings) for _, c, p in self.pending]
        results = self.ledger.commit_files(batch)
        for (outcome, cursor, parsed), result in zip(self.pending, results, strict=True):
            stats = self.report.sources[outcome.source]
            _count(stats, parsed, result)
            stats.files_reset += int(outcome.reset)
            stats.bytes_read += cursor.offset - outcome.start
            self.done += cursor.offset - outcome.start
            if result.unpriced:
                self.report.unpriced_models.update(parsed.unpriced_models)
        self.pending.clear()
        self.pending_events = 0
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)


def _count(stats: SourceStats, parsed: _FileResult, result: WriteResult) -> None:
    stats.files_read += 1
    stats.new_events += result.inserted
    stats.replaced += result.replaced
    stats.duplicates += result.duplicates
    stats.malformed_lines += parsed.malformed
    stats.unpriced_events += result.unpriced
    stats.limit_notices += len(parsed.notices)
    stats.rate_limit_readings += len(parsed.readings)


def _run(
    tasks: list[_Task], overrides: list[PriceOverride], total: int, workers: int | None
) -> Iterable[_Outcome]:
    if not tasks:
        return
    n = workers if workers is not None else min(2, os.cpu_count() or 1)
    if n <= 1 or total < POOL_MIN_BYTES or len(tasks) < 2:
        _init_worker(overrides)
        for task in tasks:
            yield _process(task)
        return
    method = "fork" if sys.platform == "linux" else "spawn"
    context = multiprocessing.get_context(method)
    ordered = sorted(tasks, key=lambda t: -t.pending)  # big files first: balanced workers
    with context.Pool(n, initializer=_init_worker, initargs=(overrides,)) as pool:
        yield from pool.imap_unordered(_process, ordered, chunksize=1)
