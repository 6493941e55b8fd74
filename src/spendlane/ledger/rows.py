"""Events as ledger rows, prepared away from the ledger.

Turning events into rows (context ids, flags, rollup sums) is pure Python work per event; the
ledger's writer is one process. So parse workers prepare rows in parallel, and the writer only
checks which calls it already holds and hands rows to SQLite.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import msgspec

from spendlane.events import UsageEvent, key_id
from spendlane.ledger.columns import (
    BUCKET_MS,
    FLAG_ESTIMATED,
    FLAG_SIDECHAIN,
    ROLLUP_KEY,
    ROLLUP_SUMS,
)

# Positions in an event row.
_TS, _SOURCE, _PROVIDER, _MODEL = 1, 2, 3, 4
# Positions 5..11: the seven counts, in ROLLUP_SUMS order.
_BILLED = slice(5, 10)  # input, output, both cache writes, cache read: the call's total
_COST, _REPORTED, _FLAGS, _CONTEXT = 12, 13, 14, 16

Row = tuple[Any, ...]
RollupKey = tuple[int, int, str, str, str]  # ROLLUP_KEY: bucket, context, source, provider, model
_NSUMS = len(ROLLUP_SUMS)


class Prepared(msgspec.Struct, gc=False):
    """Rows for a batch of events, deduplicated, with their contexts and rollup sums.

    `rollup` holds `[*key, *sums, first_ms, last_ms]` (see `Rollup.entries`) as if every row
    were new.
    """

    rows: list[Row]
    contexts: list[Row]
    rollup: list[list[Any]]
    duplicates: int = 0


class Rollup:
    """Rollup sums being gathered for one write.

    A cell's sums go up and down as copies replace each other; its first and last call times
    only widen (a replaced copy is seconds from the one that replaces it).
    """

    def __init__(self) -> None:
        self.sums: dict[RollupKey, list[Any]] = {}  # sums, then [first_ms, last_ms]

    def _cell(self, key: RollupKey) -> list[Any]:
        cell = self.sums.get(key)
        if cell is None:
            cell = self.sums[key] = [0] * _NSUMS + [None, None]
        return cell

    def add(self, row: Row, sign: int = 1) -> None:
        """Add (sign=1) or take away (sign=-1) one event row's share."""
        ts = row[_TS]
        key = (ts // BUCKET_MS, row[_CONTEXT], row[_SOURCE], row[_PROVIDER], row[_MODEL])
        sums = self._cell(key)
        cost, reported = row[_COST], row[_REPORTED]
        sums[0] += sign
        sums[1] += sign * row[5]
        sums[2] += sign * row[6]
        sums[3] += sign * row[7]
        sums[4] += sign * row[8]
        sums[5] += sign * row[9]
        sums[6] += sign * row[10]
        sums[7] += sign * row[11]
        sums[8] += sign * (cost or 0)
        sums[9] += sign * (reported or 0)
        sums[10] += sign * (reported if reported is not None else (cost or 0))
        sums[11] += sign * (cost is None)
        sums[12] += sign * bool(row[_FLAGS] & FLAG_ESTIMATED)
        if sign > 0:
            if sums[13] is None or ts < sums[13]:
                sums[13] = ts
            if sums[14] is None or ts > sums[14]:
                sums[14] = ts

    def add_rows(self, rows: list[Row]) -> None:
        """`add(row)` for each of many new rows: the same sums, without the sign.

        The first import of a history adds hundreds of thousands of rows; this is `add` with
        the sign and the per-row call taken out (tests check the two agree).
        """
        cells = self.sums
        for row in rows:
            ts, cost, reported = row[_TS], row[_COST], row[_REPORTED]
            key = (ts // BUCKET_MS, row[_CONTEXT], row[_SOURCE], row[_PROVIDER], row[_MODEL])
            estimated = row[_FLAGS] & FLAG_ESTIMATED
            cell = cells.get(key)
            if cell is None:
                cells[key] = [
                    1, row[5], row[6], row[7], row[8], row[9], row[10], row[11], cost or 0,
                    reported or 0, (cost or 0) if reported is None else reported,
                    int(cost is None), int(bool(estimated)), ts, ts,
                ]  # fmt: skip
                continue
            cell[0] += 1
            cell[1] += row[5]
            cell[2] += row[6]
            cell[3] += row[7]
            cell[4] += row[8]
            cell[5] += row[9]
            cell[6] += row[10]
            cell[7] += row[11]
            if cost is None:
                cell[11] += 1
            else:
                cell[8] += cost
            if reported is not None:
                cell[9] += reported
                cell[10] += reported
            elif cost is not None:
                cell[10] += cost
            if estimated:
                cell[12] += 1
            if cell[13] is None or ts < cell[13]:
                cell[13] = ts
            if cell[14] is None or ts > cell[14]:
                cell[14] = ts

    def merge(self, prepared: list[list[Any]]) -> None:
        n = len(ROLLUP_KEY)
        for entry in prepared:
            key = (entry[0], entry[1], entry[2], entry[3], entry[4])
            sums = self.sums.get(key)
            if sums is None:
                self.sums[key] = list(entry[n:])
                continue
            for i in range(_NSUMS):
                sums[i] += entry[n + i]
            first, last = entry[n + _NSUMS], entry[n + _NSUMS + 1]
            if first is not None and (sums[_NSUMS] is None or first < sums[_NSUMS]):
                sums[_NSUMS] = first
            if last is not None and (sums[_NSUMS + 1] is None or last > sums[_NSUMS + 1]):
                sums[_NSUMS + 1] = last

    def entries(self) -> list[list[Any]]:
        """`[*key, *sums, first_ms, last_ms]` for every cell that changed."""
        return [
            [*key, *sums]
            for key, sums in self.sums.items()
            if sums[0] or any(sums[1:_NSUMS])  # (most cells hold calls: no need to look on)
        ]


def prepare(best: dict[int, UsageEvent], duplicates: int = 0) -> Prepared:
    """Turn deduplicated events (see `best_copies`) into rows."""
    context_ids: dict[tuple[Any, ...], int] = {}
    contexts: list[Row] = []
    rows: list[Row] = []
    rollup = Rollup()
    last_values: tuple[Any, ...] = ()
    last_id = 0
    for ident, e in best.items():
        values = (
            e.session_id, e.project, e.project_dir, e.agent_id, e.git_branch, e.version,
            e.machine, e.agent, e.task_id, e.task_type, e.skill, e.account, e.lane, e.auth_mode,
        )  # fmt: skip
        if values == last_values:  # most calls share the previous call's context
            context_id = last_id
        else:
            known = context_ids.get(values)
            if known is None:
                known = context_ids[values] = key_id(
                    "\x1f".join("" if v is None else v for v in values)
                )
                contexts.append((known, *values))
            context_id = last_id = known
            last_values = values
        flags = (FLAG_SIDECHAIN if e.is_sidechain else 0) | (
            FLAG_ESTIMATED if e.model_estimated else 0
        )
        row = (
            ident, e.ts_ms, e.source, e.provider, e.model,
            e.input_tokens, e.output_tokens, e.cache_write_5m_tokens, e.cache_write_1h_tokens,
            e.cache_read_tokens, e.reasoning_tokens, e.web_search_requests,
            e.cost_nano, e.reported_cost_nano, flags, e.speed, context_id,
        )  # fmt: skip
        rows.append(row)
    rollup.add_rows(rows)
    return Prepared(rows=rows, contexts=contexts, rollup=rollup.entries(), duplicates=duplicates)


def better_row(new: Row, old: Row) -> bool:
    """`better_copy` for rows: the main-thread copy, then the larger total."""
    new_side, old_side = bool(new[_FLAGS] & FLAG_SIDECHAIN), bool(old[_FLAGS] & FLAG_SIDECHAIN)
    if new_side != old_side:
        return old_side
    return bool(sum(new[_BILLED]) > sum(old[_BILLED]))


def unpriced_count(rows: list[Row]) -> int:
    """How many of these rows could not be priced."""
    return list(map(_cost_of, rows)).count(None)


_cost_of = itemgetter(_COST)
