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

from spendlane.events import CostBasis
from spendlane.ledger import FileCursor, SqliteLedger, WriteResult
from spendlane.pricing import Pricer
from spendlane.pricing.overrides import PriceOverride
from spendlane.sources import LOG_SOURCES
from spendlane.sources.jsonl import read_new, unchanged
from spendlane.sources.parsed import Parsed

POOL_MIN_BYTES = 32 * 1024 * 1024

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
    payload: bytes = b""  # the msgpack-encoded Parsed


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
    for event in parsed.events:
        _worker_pricer.price(event)
    cursor = chunk.cursor
    cursor.malformed_lines += parsed.malformed
    if parsed.state is not None:
        cursor.state = parsed.state
    return _Outcome(task.source, cursor, chunk.start, msgspec.msgpack.encode(parsed))


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
    cursors = ledger.cursors()
    tasks: list[_Task] = []
    for name in sources:
        source = LOG_SOURCES[name]
        stats = report.sources.setdefault(name, SourceStats())
        source_roots = (roots or {}).get(name) or source.default_roots()
        stats.roots = [str(r) for r in source_roots]
        for path in source.discover(source_roots):
            stats.files_seen += 1
            cursor = cursors.get(path)
            try:
                st = os.stat(path)
            except OSError:
                stats.files_vanished += 1
                continue
            if unchanged(cursor, st):
                continue
            pending = st.st_size - (cursor.offset if cursor else 0)
            tasks.append(_Task(name, path, cursor, max(pending, 0)))

    total = sum(t.pending for t in tasks)
    done = 0
    for outcome in _run(tasks, overrides or [], total, workers):
        stats = report.sources[outcome.source]
        cursor = outcome.cursor
        if cursor is None:
            stats.files_vanished += 1
            continue
        parsed = msgspec.msgpack.decode(outcome.payload, type=Parsed)
        result = ledger.commit_file(cursor, parsed.events, parsed.notices, parsed.readings)
        _count(stats, parsed, result)
        stats.files_reset += int(outcome.start == 0 and cursor.path in cursors)
        stats.bytes_read += cursor.offset - outcome.start
        report.unpriced_models.update(
            e.model for e in parsed.events if e.cost_basis == CostBasis.UNPRICED
        )
        done += cursor.offset - outcome.start
        if progress is not None:
            progress(min(done, total), total)
    report.seconds = time.perf_counter() - started
    return report


def _count(stats: SourceStats, parsed: Parsed, result: WriteResult) -> None:
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
