"""`spendlane run` end to end with fake `claude` and `codex` on PATH speaking the real formats."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import READING, Env

from spendlane.ledger import SqliteLedger

FAKES = Path(__file__).parent / "fakes"
CONFIG = """
timezone = "UTC"
[[budget]]
name = "claude-day"
provider = "anthropic"
period = "day"
limit_usd = 10

[[lanes]]
name = "claude"
provider = "anthropic"
on_block = "codex"

[[lanes]]
name = "codex"
provider = "openai"
kind = "codex"
model = "gpt-5-codex"
"""


def spendlane(env: Env, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
               "FAKE_AGENT_LOG": str(env.root / "agent.log"), **extra}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "spendlane", *args], capture_output=True,
                          text=True, env=environ, timeout=120)  # fmt: skip


def flags_seen(env: Env) -> list[dict[str, object]]:
    log = env.root / "agent.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def events(env: Env) -> list[tuple[object, ...]]:
    with SqliteLedger(env.ledger_path) as ledger:
        return ledger.connection.execute(
            "SELECT model, source, lane, agent, task_id, session_id, reported_cost_nano "
            "FROM event_rows ORDER BY model"
        ).fetchall()


def test_a_run_is_metered_attributed_and_guarded(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    out = spendlane(env, "run", "--json", "--agent", "fixer", "--task-id", "T-1", "fix it",
                    FAKE_AGENT_COST="0.25")  # fmt: skip
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["lane"], summary["subtype"], summary["newEvents"]) == ("claude", "success", 2)
    stored = events(env)
    assert {row[2:5] for row in stored} == {("claude", "fixer", "T-1")}
    assert all(row[1] == "run" and row[5] == summary["sessionId"] for row in stored)
    assert sum(int(row[6]) for row in stored) == round(summary["costUsd"] * 1e9)
    seen = flags_seen(env)[-1]
    assert "--max-budget-usd" in json.dumps(seen) and "--max-turns" in json.dumps(seen)


def test_a_blocked_lane_moves_the_work_to_codex(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    spendlane(env, "record", "--model", "claude-opus-4-6", "--backend", "claude",
              "--cost-usd", "9.8")  # fmt: skip
    out = spendlane(env, "run", "--json", "refactor")
    summary = json.loads(out.stdout)
    assert summary["lane"] == "codex"
    assert summary["reason"].startswith("claude: block by budget claude-day")
    assert any(row[2] == "codex" and row[0] == "gpt-5-codex" for row in events(env))


def test_a_usage_limit_marks_the_lane_and_the_retry_takes_the_next(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    out = spendlane(env, "run", "--json", "--retry-on-limit", "go", FAKE_AGENT_MODE="rate_limit")
    summary = json.loads(out.stdout)
    assert (summary["retriedFrom"], summary["lane"]) == ("claude", "codex")
    with SqliteLedger(env.ledger_path) as ledger:
        limited = dict(ledger.connection.execute("SELECT lane, until_ms FROM lane_limits"))
        # both fakes read the same mode, so codex hit its limit too; let it go again
        with ledger.write() as db:
            db.execute("DELETE FROM lane_limits WHERE lane = 'codex'")
    assert limited["claude"] > time.time() * 1000
    plan = json.loads(spendlane(env, "run", "--dry-run", "--json", "next").stdout)
    assert plan["lane"] == "codex"  # claude still limited: the next dispatch skips it too


def test_the_wall_clock_kills_the_whole_process_group(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    pidfile = env.root / "pids"
    started = time.monotonic()
    out = spendlane(env, "run", "--json", "--timeout", "2", "hang", FAKE_AGENT_MODE="hang",
                    FAKE_AGENT_PIDFILE=str(pidfile))  # fmt: skip
    assert time.monotonic() - started < 60
    summary = json.loads(out.stdout)
    assert (summary["timedOut"], out.returncode) == (True, 124)
    for pid in map(int, pidfile.read_text().split()):
        time.sleep(0.2)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        status = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(
            f"/proc/{pid}").exists() else "X"  # fmt: skip
        assert status in ("Z", "X"), f"{pid} still running"


def test_everything_blocked_refuses_with_the_notice(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG.replace('on_block = "codex"', ""))
    spendlane(env, "record", "--model", "claude-opus-4-6", "--backend", "claude",
              "--cost-usd", "9.8")  # fmt: skip
    out = spendlane(env, "run", "never")
    assert out.returncode == 30
    assert "Cloud budget exhausted: no lane can take the work until" in out.stderr
    assert flags_seen(env) == []  # nothing was started


def test_ten_parallel_runs_cannot_overshoot_a_hard_budget(env: Env) -> None:
    """Each run reserves its $2 cap first: against $10 (block at 95 %) four can hold at once;
    the others are refused or move on, and nothing runs on a lane the budget has closed."""
    config = CONFIG.replace('on_block = "codex"', "")  # no other lane: refused is refused
    (env.home / "config.toml").write_text(config)
    runs = [
        subprocess.Popen([sys.executable, "-m", "spendlane", "run", "--json",
                          "--max-budget-usd", "2", f"task {n}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PATH": f"{FAKES}{os.pathsep}{os.environ['PATH']}",
                              "FAKE_AGENT_LOG": str(env.root / "agent.log"),
                              "FAKE_AGENT_SLEEP": "2", "FAKE_AGENT_COST": "0.01"})
        for n in range(10)
    ]  # fmt: skip
    codes = [run.wait(timeout=120) for run in runs]
    assert set(codes) <= {0, 30}
    started = len(flags_seen(env))
    assert started == codes.count(0)
    assert 1 <= started <= 4  # 4 × $2 = $8 held; a fifth would reach $10 (100 % ≥ 95 %)


def test_the_python_api_picks_and_dispatches(env: Env, monkeypatch: object) -> None:
    import spendlane

    (env.home / "config.toml").write_text(CONFIG)
    os.environ["PATH"] = f"{FAKES}{os.pathsep}{os.environ['PATH']}"
    try:
        assert spendlane.pick_lane().lane.name == "claude"  # type: ignore[union-attr]
        result = spendlane.dispatch("summarise", agent="api", task_id="T-9")
    finally:
        os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
    assert (result.lane, result.exit_code) == ("claude", 0)
    assert result.outcome is not None and result.outcome.result_text == "Done."
    assert result.cost_nano > 0
    assert {row[3:5] for row in events(env)} == {("api", "T-9")}


def test_an_own_command_is_metered_on_a_named_lane(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    out = spendlane(env, "run", "--lane", "claude", "--json", "--agent", "wrapped", "--",
                    "claude", "-p", "my own flags", "--output-format", "json", "--max-turns", "2",
                    FAKE_AGENT_COST="0.5")  # fmt: skip
    summary = json.loads(out.stdout)
    assert (summary["lane"], summary["exitCode"], summary["newEvents"]) == ("claude", 0, 2)
    assert flags_seen(env)[-1]["max_turns"] in (2, "2")
    assert {row[3] for row in events(env)} == {"wrapped"}


def test_a_crash_with_zero_cost_is_counted_from_the_sessions_transcript(env: Env) -> None:
    """Claude Code writes its transcript as it goes; a run that dies reporting $0 still
    spent money, and the transcript says how much."""
    from spendlane.demo import claude_assistant

    (env.home / "config.toml").write_text(CONFIG)
    transcript = env.session_file("crashed-run")
    transcript.parent.mkdir(parents=True)
    line = claude_assistant(when=dt.datetime.now(dt.UTC), session_id="crashed-run", message_id="m1",
        request_id="r1", output_tokens=4321, model="claude-sonnet-4-5-20250929")  # fmt: skip
    transcript.write_text(json.dumps(line) + "\n")
    out = spendlane(env, "run", "--json", "doomed", FAKE_AGENT_MODE="crash_zero_cost")
    summary = json.loads(out.stdout)
    assert summary["costUsd"] == 0 and summary["exitCode"] != 0
    with SqliteLedger(env.ledger_path) as ledger:
        kept = ledger.connection.execute(
            "SELECT source, output_tokens FROM events WHERE source = 'claude_code'"
        ).fetchall()
    assert kept == [("claude_code", 4321)]


def test_budget_and_turn_trips_are_metered_and_reported(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    tripped = json.loads(spendlane(env, "run", "--json", "--max-budget-usd", "0.5", "big job",
                                   FAKE_AGENT_MODE="max_budget").stdout)  # fmt: skip
    assert tripped["subtype"] == "error_max_budget_usd"
    assert tripped["exitCode"] != 0
    assert 0.5 < tripped["costUsd"] < 0.6  # the estimate it stopped on, slightly over the cap
    turns = json.loads(spendlane(env, "run", "--json", "--max-turns", "2", "long job",
                                 FAKE_AGENT_MODE="max_turns").stdout)  # fmt: skip
    assert turns["subtype"] == "error_max_turns"
    assert turns["newEvents"] >= 1
    assert [f["max_turns"] for f in flags_seen(env)][-1] in (2, "2")


def test_a_full_plan_window_moves_work_off_the_subscription_lane(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    at = int(time.time() * 1000)
    with SqliteLedger(env.ledger_path) as ledger, ledger.write() as db:
        db.executemany(
            READING + "('statusline', ?, 'five_hour', ?, 300, ?, 's')",
            [(at - 3_600_000, 70.0, at + 3_600_000), (at, 95.0, at + 3_600_000)],
        )  # 25 points an hour: full before the reset
    plan = json.loads(spendlane(env, "run", "--dry-run", "--json", "next").stdout)
    assert plan["lane"] == "codex"
    assert "claude is limited by its provider until" in plan["reason"]
