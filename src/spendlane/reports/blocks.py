"""Five-hour blocks, as users of ccusage and claude-monitor know them.

A block starts at its first call's hour and lasts five hours; a call five hours or more after
the block started, or after the previous call, starts a new block. An idle stretch longer than
a block between two blocks is shown as a gap. The block still running has a burn rate and a
projection to its end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spendlane.ledger import SqliteLedger
from spendlane.periods import day_start_ms
from spendlane.reports.calendar import CostMode, Tally
from spendlane.reports.grouped import GROUP_KEYS

BLOCK_MS = 5 * 3_600_000
HOUR_MS = 3_600_000
_COST = {
    CostMode.AUTO: "COALESCE(e.reported_cost_nano, e.cost_nano, 0)",
    CostMode.CALCULATE: "COALESCE(e.cost_nano, 0)",
    CostMode.DISPLAY: "COALESCE(e.reported_cost_nano, 0)",
}


@dataclass(slots=True)
class Block:
    start_ms: int
    end_ms: int
    gap: bool = False
    first_ms: int | None = None
    last_ms: int | None = None
    entries: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    cost_nano: int = 0
    models: list[str] = field(default_factory=list)
    active: bool = False
    reset_at_ms: int | None = None  # a usage-limit message in the block said when it resets
    # values of the report's `--by` keys -> sums (empty unless grouped)
    groups: dict[tuple[str | None, ...], Tally] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return (self.input_tokens + self.output_tokens + self.cache_creation_tokens
                + self.cache_read_tokens)  # fmt: skip

    def burn(self, now_ms: int) -> tuple[float, float] | None:
        """(tokens per minute, USD per hour) over the block's active time so far."""
        if not self.active or self.first_ms is None:
            return None
        minutes = max((max(now_ms, self.last_ms or now_ms) - self.first_ms) / 60_000, 1.0)
        return self.total_tokens / minutes, self.cost_nano / 1e9 / (minutes / 60)

    def projection(self, now_ms: int) -> tuple[int, float, int] | None:
        """(tokens, USD, minutes left) by the block's end at the current burn rate."""
        burn = self.burn(now_ms)
        if burn is None:
            return None
        minutes_left = max((self.end_ms - now_ms) / 60_000, 0.0)
        tokens = self.total_tokens + int(burn[0] * minutes_left)
        cost = self.cost_nano / 1e9 + burn[1] * minutes_left / 60
        return tokens, cost, round(minutes_left)


def block_report(
    ledger: SqliteLedger,
    *,
    zone: dt.tzinfo,
    now_ms: int,
    since: dt.date | None = None,
    until: dt.date | None = None,
    sources: Iterable[str] | None = None,
    cost_mode: CostMode = CostMode.AUTO,
    by: Sequence[str] = (),
) -> list[Block]:
    """Blocks over the calls in range, oldest first, gaps included; with `by`, each block's
    sums per those attribution keys too."""
    where: list[str] = ["1"]
    params: list[object] = []
    if since is not None:
        where.append("e.ts_ms >= ?")
        params.append(day_start_ms(since, zone))
    if until is not None:
        where.append("e.ts_ms < ?")
        params.append(day_start_ms(until + dt.timedelta(days=1), zone))
    if sources is not None:
        names = list(sources)
        where.append(f"e.source IN ({','.join('?' * len(names))})")
        params.extend(names)
    keys = [GROUP_KEYS[key].replace("r.", "e.") for key in by]
    join = " JOIN contexts c ON c.id = e.context_id" if any("c." in k for k in keys) else ""
    rows = ledger.connection.execute(
        "SELECT e.ts_ms, e.input_tokens, e.output_tokens, "
        "e.cache_write_5m_tokens + e.cache_write_1h_tokens, e.cache_read_tokens, "
        f"{_COST[cost_mode]}, e.model{''.join(', ' + k for k in keys)} FROM events e{join} "
        f"WHERE {' AND '.join(where)} ORDER BY e.ts_ms",
        params,
    )
    blocks: list[Block] = []
    current: Block | None = None
    for ts, inp, out, write, read, cost, model, *group in rows:
        if (
            current is None
            or ts - current.start_ms >= BLOCK_MS
            or (current.last_ms is not None and ts - current.last_ms >= BLOCK_MS)
        ):
            start = ts - ts % HOUR_MS
            if current is not None and current.last_ms is not None:
                idle_from = current.last_ms + BLOCK_MS
                if ts > idle_from:
                    blocks.append(Block(idle_from, ts, gap=True))
            current = Block(start, start + BLOCK_MS, first_ms=ts)
            blocks.append(current)
        current.last_ms = ts
        current.entries += 1
        current.input_tokens += inp
        current.output_tokens += out
        current.cache_creation_tokens += write
        current.cache_read_tokens += read
        current.cost_nano += cost
        if model not in current.models:
            current.models.append(model)
        if keys:
            tally = current.groups.get(tuple(group))
            if tally is None:
                tally = current.groups[tuple(group)] = Tally()
            tally.add(Tally(1, inp, out, write, read, 0, cost))
    if current is not None and current.last_ms is not None:
        current.active = current.end_ms > now_ms and now_ms - current.last_ms < BLOCK_MS
    _attach_resets(ledger, blocks)
    return blocks


def _attach_resets(ledger: SqliteLedger, blocks: list[Block]) -> None:
    real = [b for b in blocks if not b.gap]
    if not real:
        return
    notices = ledger.connection.execute(
        "SELECT ts_ms, reset_at_ms FROM limit_notices WHERE reset_at_ms IS NOT NULL "
        "AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms",
        (real[0].start_ms, real[-1].end_ms),
    ).fetchall()
    for ts, reset in notices:
        for block in real:
            if block.start_ms <= ts < block.end_ms:
                block.reset_at_ms = reset
