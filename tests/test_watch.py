"""`spendlane watch --once`: one frame with the block, budgets, windows, who and latest calls."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

from tests.conftest import READING, Env

from spendlane.ledger import SqliteLedger
from spendlane.recording import record_many


def test_one_frame_shows_the_live_picture(env: Env) -> None:
    now = dt.datetime.now(dt.UTC)
    with SqliteLedger(env.ledger_path) as ledger:
        record_many(ledger, [
            {"timestamp": (now - dt.timedelta(minutes=m)).isoformat(), "model": "gpt-5",
             "output_tokens": 1000, "cost_usd": 0.5, "agent": "[fixer]", "task_id": "T-7",
             "session_id": "sess-abc", "event_id": f"e{m}"}
            for m in (50, 20, 5)
        ])  # fmt: skip
        with ledger.write() as db:
            at = int(time.time() * 1000)
            db.execute(READING + "('statusline', ?, 'five_hour', 64, 300, ?, 's')",
                       (at, at + 3_600_000))  # fmt: skip
    (env.home / "config.toml").write_text('[[budget]]\nname = "day"\nperiod = "day"\n'
                                          "limit_usd = 2\n")  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "spendlane", "watch", "--once", "--token-limit",
                          "100000"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "160"}, timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Block: $1.50 · 3,000 tokens" in text
    assert "$/h" in text
    assert "day" in text and "75%" in text and "warn" in text
    assert "Claude 5-hour" in text and "64%" in text
    assert "[fixer]" in text and "T-7" in text  # shown as written, not taken as markup
    assert text.count("gpt-5") >= 4  # one row in the who table, three latest calls
