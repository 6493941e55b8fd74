"""`spendlane statusline`: one line on every message, fast, never failing, never hanging."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Env

from spendlane.ledger import SqliteLedger
from spendlane.recording import record_many

NOW = time.time()
PAYLOAD = {
    "session_id": "live-session",
    "transcript_path": "/nonexistent/transcript.jsonl",
    "model": {"id": "claude-opus-4-6", "display_name": "Opus 4.6"},
    "workspace": {"current_dir": "/home/dev/p", "project_dir": "/home/dev/p"},
    "cost": {"total_cost_usd": 2.5, "total_duration_ms": 60_000},
    "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": int(NOW) + 3600},
                    "seven_day": {"used_percentage": 17.5, "resets_at": int(NOW) + 300_000}},
}  # fmt: skip


def statusline(env: Env, stdin: bytes) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "spendlane", "statusline"], input=stdin,
                          capture_output=True, env={**os.environ, "TZ": "UTC"},
                          timeout=30)  # fmt: skip
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(),
                                       done.stderr.decode())  # fmt: skip


def test_the_line_has_model_session_today_block_budget_and_windows(env: Env) -> None:
    now = dt.datetime.fromtimestamp(NOW, dt.UTC)
    with SqliteLedger(env.ledger_path) as ledger:
        record_many(ledger, [
            # this session's first call is in the ledger ($1.00 of its $2.50)…
            {"timestamp": (now - dt.timedelta(minutes=30)).isoformat(), "model": "claude-opus-4-6",
             "backend": "claude", "cost_usd": 1.0, "session_id": "live-session",
             "event_id": "a"},
            # …and another session spent $3.00 today
            {"timestamp": (now - dt.timedelta(minutes=20)).isoformat(), "model": "gpt-5",
             "cost_usd": 3.0, "session_id": "other", "event_id": "b"},
        ])  # fmt: skip
    (env.home / "status.json").write_text(json.dumps({"level": "warn"}))
    out = statusline(env, json.dumps(PAYLOAD).encode())
    assert out.returncode == 0
    parts = out.stdout.strip().split(" · ")
    assert parts[:3] == ["Opus 4.6", "session $2.50", "today $5.50"]  # $4.00 + $1.50 unseen
    assert parts[3].startswith("block ") and parts[3].endswith("/h")
    assert parts[4] == "budget warn"
    reset = dt.datetime.fromtimestamp(int(NOW) + 3600, dt.UTC).strftime("%H:%M")
    assert parts[5] == f"5h 42% ↺{reset}"
    assert parts[6].startswith("7d 18% ↺")


def test_each_new_window_reading_is_kept_once(env: Env) -> None:
    SqliteLedger(env.ledger_path).close()
    for _ in range(2):
        statusline(env, json.dumps(PAYLOAD).encode())
    moved = json.loads(json.dumps(PAYLOAD))
    moved["rate_limits"]["five_hour"]["used_percentage"] = 43
    statusline(env, json.dumps(moved).encode())
    with SqliteLedger(env.ledger_path) as ledger:
        rows = ledger.connection.execute(
            "SELECT window, used_percent, window_minutes, session_id FROM quota_readings "
            "WHERE source = 'statusline' ORDER BY ts_ms, window"
        ).fetchall()
    assert sorted(rows) == sorted([("five_hour", 42.0, 300, "live-session"),
                                   ("seven_day", 17.5, 10080, "live-session"),
                                   ("five_hour", 43.0, 300, "live-session")])  # fmt: skip


def test_without_rate_limits_or_a_ledger_it_says_what_it_knows(env: Env) -> None:
    bare = {k: v for k, v in PAYLOAD.items() if k != "rate_limits"}
    out = statusline(env, json.dumps(bare).encode())
    assert (out.returncode, out.stdout.strip()) == (0, "Opus 4.6 · session $2.50")


def test_malformed_input_prints_a_fallback_and_exits_0(env: Env) -> None:
    for junk in (b"", b"{not json", b"[1, 2]", b"\xff\xfe"):
        out = statusline(env, junk)
        assert out.returncode == 0
        assert "(no statusline data on stdin)" in out.stdout


def test_a_caller_that_never_closes_stdin_does_not_hang_it(env: Env) -> None:
    process = subprocess.Popen([sys.executable, "-m", "spendlane", "statusline"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=os.environ.copy())  # fmt: skip
    assert process.stdin is not None
    process.stdin.write(json.dumps(PAYLOAD))
    process.stdin.flush()  # and never closed
    assert process.stdout is not None
    started = time.monotonic()
    out = process.stdout.read()  # returns when the process has answered and exited
    assert process.wait(timeout=20) == 0
    assert time.monotonic() - started < 10
    assert out.startswith("Opus 4.6")
    process.stdin.close()


def test_statusline_reads_no_log_file(env: Env) -> None:
    transcript = env.session_file("live-session")
    transcript.parent.mkdir(parents=True)
    transcript.write_text("this would be malformed if it were read\n")
    payload = dict(PAYLOAD, transcript_path=str(transcript))
    statusline(env, json.dumps(payload).encode())
    assert not Path(env.ledger_path).exists()  # nothing was ingested, nothing was created
