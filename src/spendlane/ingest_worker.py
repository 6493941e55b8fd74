"""The part of an ingest that runs per file, in a worker process or in-process.

Read the new bytes, parse them, keep the best copy of each call, price, and prepare ledger
rows: everything but the write, so that it runs on every core.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import msgspec

from spendlane.events import (
    MAX_COST_NANO,
    USAGE_LIMIT_WINDOW,
    AgentType,
    LimitNotice,
    RateLimitReading,
    best_copies,
    implausible,
)
from spendlane.ingest import Outcome, Task
from spendlane.ledger.rows import Prepared, prepare
from spendlane.pricing import Pricer
from spendlane.pricing.memory import from_row, to_row
from spendlane.pricing.overrides import PriceOverride
from spendlane.sources import LOG_SOURCES
from spendlane.sources.locations import log_root
from spendlane.sources.parsed import Parsed
from spendlane.sources.reading import Chunk, read_new

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.sharedctypes import Synchronized


class FileResult(msgspec.Struct, gc=False):
    """What a worker sends back for one file: rows ready to write, and what it noticed."""

    prepared: Prepared
    notices: list[LimitNotice]
    readings: list[RateLimitReading]
    agent_types: list[AgentType]
    malformed: int
    unpriced_models: list[str]
    learned_prices: list[tuple[Any, ...]]  # catalog answers to remember (pricing.memory rows)


# What a worker needs besides its files: price overrides, remembered catalog answers
# (pricing.memory rows), and the agent folder -> (account, auth mode) attribution.
Setup = tuple[list[PriceOverride], list[tuple[Any, ...]], dict[str, tuple[str, str]]]

_worker_pricer: Pricer | None = None
_learned_sent = 0
_accounts: dict[str, tuple[str, str]] = {}  # agent folder -> (account, auth mode)


def init_worker(
    overrides: list[PriceOverride],
    remembered: list[tuple[Any, ...]],
    accounts: dict[str, tuple[str, str]] | None = None,
) -> None:
    global _worker_pricer, _learned_sent, _accounts
    _worker_pricer = Pricer(overrides, [from_row(row) for row in remembered])
    _learned_sent = 0
    _accounts = accounts or {}


def serve(
    jobs: Connection,
    connection: Connection,
    counter: Synchronized[int],
    load_catalog: bool,
) -> None:
    """A worker process (see `ingest_pool`): wait for the plan, then take the next task from
    the shared counter until none is left, sending each outcome (or the exception that
    stopped it) to the ingest's writer. `load_catalog`: load the price catalog while waiting.
    """
    if hasattr(os, "nice"):
        os.nice(5)  # yield the CPU to the writer, which is the one that cannot be split
    try:
        with few_collections():  # already so when forked from the writer; not when spawned
            if load_catalog:
                from spendlane.pricing.catalog import load_catalog as load

                load()
            try:
                job: tuple[list[Task], Setup] | None = jobs.recv()
            except EOFError:
                return  # the writer went away before sending work
            if job is None:
                return
            tasks, setup = job
            init_worker(*setup)
            while True:
                with counter.get_lock():
                    index = counter.value
                    counter.value += 1
                if index >= len(tasks):
                    break
                connection.send(process(tasks[index]))
    except BaseException as exc:  # the writer re-raises it
        connection.send(exc)
    finally:
        jobs.close()
        connection.close()


@contextmanager
def few_collections() -> Iterator[None]:
    """Run the cycle collector rarely while a large ingest runs.

    Parsing and writing make millions of short-lived tuples and no cycles, yet the default
    collector runs after every 700 new objects and walks everything still held: 4-5 % of a
    first import's time. What exists on entry is frozen out of its walks, too.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _new_learned_prices() -> list[tuple[Any, ...]]:
    global _learned_sent
    assert _worker_pricer is not None
    learned = _worker_pricer.learned[_learned_sent:]
    _learned_sent = len(_worker_pricer.learned)
    return [to_row(answer) for answer in learned]


def process(task: Task) -> Outcome:
    """Read, parse, price and prepare one file's new lines. Runs in a worker or in-process.

    A large file is read in slices, carrying the parser's state from one to the next, so
    memory holds one slice of text at a time (and the events, which are far smaller).
    """
    assert _worker_pricer is not None
    source = LOG_SOURCES[task.source]
    parsed = Parsed([])
    checked = True  # every part's events are known plausible (`Parsed.plausible`)
    cursor = task.cursor
    first: Chunk | None = None
    try:
        while True:
            chunk = read_new(task.path, task.source, cursor)
            if chunk is None:
                break
            first = first or chunk
            cursor = chunk.cursor
            if chunk.data:
                part = source.parse(chunk, task.path)
                parsed.events.extend(part.events)
                checked = checked and part.plausible
                parsed.notices.extend(part.notices)
                parsed.readings.extend(part.readings)
                parsed.agent_types.extend(part.agent_types)
                parsed.malformed += part.malformed
                parsed.duplicates += part.duplicates
                cursor.malformed_lines += part.malformed
                if part.state is not None:
                    cursor.state = part.state
                if part.resume_at is not None:
                    if chunk.at_end or part.resume_at > chunk.start:
                        cursor.offset = part.resume_at  # read the cut-off object next time
                        if chunk.at_end:
                            break
                        continue
                    parsed.malformed += 1  # one object larger than a whole slice: give up on it
                    cursor.malformed_lines += 1
            if chunk.at_end or not chunk.data:
                break
    except OSError:
        return Outcome(task.source, None, 0)  # vanished or unreadable: retried next run
    if first is None or cursor is None:
        return Outcome(task.source, None, 0)
    root = log_root(task.path)
    parsed.readings.extend(_limit_readings(parsed.notices))
    for reading in parsed.readings:
        reading.root = root
    account = _accounts.get(os.path.abspath(root)) if root and _accounts else None
    if account is not None:
        for event in parsed.events:
            if event.account is None:
                event.account, event.auth_mode = account
    plausible = parsed.events if checked else [e for e in parsed.events if implausible(e) is None]
    corrupt = len(parsed.events) - len(plausible)  # counted as malformed, never stored
    best, duplicates = best_copies(plausible)
    duplicates += parsed.duplicates
    price = _worker_pricer.price
    for ident, event in list(best.items()):
        price(event)
        cost = event.cost_nano  # the one field pricing set; the rest were checked above
        if cost is not None and not -MAX_COST_NANO <= cost <= MAX_COST_NANO:
            del best[ident]  # priced beyond any real call
            corrupt += 1
    parsed.malformed += corrupt
    cursor.malformed_lines += corrupt
    result = FileResult(
        prepared=prepare(best, duplicates),
        notices=parsed.notices,
        readings=parsed.readings,
        agent_types=parsed.agent_types,
        malformed=parsed.malformed,
        unpriced_models=sorted({e.model for e in best.values() if e.cost_nano is None}),
        learned_prices=_new_learned_prices(),
    )
    return Outcome(
        task.source, cursor, first.start, first.reset and task.cursor is not None,
        msgspec.msgpack.encode(result),
    )  # fmt: skip


def _limit_readings(notices: list[LimitNotice]) -> list[RateLimitReading]:
    """A usage-limit message is a plan window seen full: a reading at 100 % until its reset,
    so `quota` shows it and the lanes of that account wait for the reset."""
    return [
        RateLimitReading(
            ts_ms=n.ts_ms,
            source=n.source,
            window=USAGE_LIMIT_WINDOW,
            used_percent=100.0,
            window_minutes=None,
            resets_at_ms=n.reset_at_ms,
            session_id=n.session_id,
        )
        for n in notices
        if n.reset_at_ms is not None
    ]


def decode_result(payload: bytes) -> FileResult:
    return msgspec.msgpack.decode(payload, type=FileResult)
