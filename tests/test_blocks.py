"""Five-hour blocks: edges, gaps, the running block's burn rate and projection."""

from __future__ import annotations

import datetime as dt

from tests.conftest import Env

from spendlane.events import UsageEvent
from spendlane.ledger import SqliteLedger
from spendlane.reports.blocks import block_report
from spendlane.reports.render_json import blocks_json

T0 = dt.datetime(2026, 11, 20, 9, 17, tzinfo=dt.UTC)
MS = 1000


def store(ledger: SqliteLedger, *minutes: float) -> None:
    ledger.insert_events([
        UsageEvent(key=f"k{m}", ts_ms=int((T0 + dt.timedelta(minutes=m)).timestamp() * MS),
                   source="claude_code", provider="anthropic", model="claude-opus-4-6",
                   output_tokens=1000, cost_nano=25_000_000)
        for m in minutes
    ])  # fmt: skip


def test_block_edges_and_gaps(env: Env) -> None:
    # start 09:17 -> block 09:00-14:00; 13:59 still inside; 14:00 starts a new block (5 h
    # after the block start); then 6 h of silence -> a gap, and a block starting 20:00 -> 01:00
    with env.ledger() as ledger:
        store(ledger, 0, 282, 283, 283 + 60 * 6 + 5)
        blocks = block_report(ledger, zone=dt.UTC, now_ms=2_000_000_000_000)
    shape = [(b.gap, dt.datetime.fromtimestamp(b.start_ms / MS, tz=dt.UTC).strftime("%H:%M"),
              b.entries) for b in blocks]  # fmt: skip
    assert shape == [(False, "09:00", 2), (False, "14:00", 1), (True, "19:00", 0),
                     (False, "20:00", 1)]  # fmt: skip


def test_running_block_has_burn_rate_and_projection(env: Env) -> None:
    now = T0 + dt.timedelta(minutes=60)
    with env.ledger() as ledger:
        store(ledger, 0, 30, 60)
        blocks = block_report(ledger, zone=dt.UTC, now_ms=int(now.timestamp() * MS))
    (block,) = blocks
    assert block.active
    tokens_per_minute, usd_per_hour = block.burn(int(now.timestamp() * MS)) or (0, 0)
    assert tokens_per_minute == 3000 / 60
    assert usd_per_hour == 0.075
    out = blocks_json(blocks, int(now.timestamp() * MS), token_limit=10_000)["blocks"][0]
    # 4 h 43 m left (block ends 14:00) at 50 tokens/min
    assert out["projection"]["remainingMinutes"] == 223
    assert out["projection"]["totalTokens"] == 3000 + 50 * 223
    assert out["tokenLimitStatus"]["status"] == "exceeds"


def test_finished_block_is_not_active(env: Env) -> None:
    with env.ledger() as ledger:
        store(ledger, 0)
        later = int((T0 + dt.timedelta(hours=6)).timestamp() * MS)
        (block,) = block_report(ledger, zone=dt.UTC, now_ms=later)
    assert not block.active and block.burn(later) is None
