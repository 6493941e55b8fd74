"""Token totals equal what ccusage reports for the same files.

Runs the real ccusage (its native binary) when it is installed: `make test` installs it into
.cache/ccusage when npm is available; $CCUSAGE points at another copy. Without it these tests
are skipped, and say so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from spendlane.demo import (
    claude_assistant,
    claude_user,
    codex_line,
    codex_token_count,
    codex_usage,
    write_demo_logs,
    write_jsonl,
)

REPO = Path(__file__).resolve().parent.parent


def find_ccusage() -> str | None:
    candidates = [os.environ.get("CCUSAGE"), str(REPO / ".cache/ccusage/node_modules/.bin/ccusage")]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    return shutil.which("ccusage")


CCUSAGE = find_ccusage()
pytestmark = pytest.mark.skipif(CCUSAGE is None, reason="ccusage not installed (needs npm)")
TOKENS = ("inputTokens", "outputTokens", "cacheCreationTokens", "cacheReadTokens", "totalTokens")
T0 = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def edge_cases(root: Path) -> None:
    """The cases formats.md warns about, written the way the agents write them."""
    claude = root / "claude" / "projects" / "-home-dev-edge"

    def a(mid: str, out: int, minutes: int = 0, **kw: Any) -> dict[str, Any]:
        kw.setdefault("request_id", f"req_{mid}")
        for name, value in (("input_tokens", 12), ("cache_read", 3000), ("cache_5m", 40)):
            kw.setdefault(name, value)
        return claude_assistant(when=T0 + dt.timedelta(minutes=minutes), session_id="edge",
                                message_id=mid, output_tokens=out, **kw)  # fmt: skip

    write_jsonl(claude / "edge.jsonl", [
        a("m1", 8), a("m1", 322), a("m1", 322),  # streamed copies, growing
        a("m2", 400), a("m2", 9),  # a larger copy first
        claude_user(when=T0, session_id="edge", text="go",
                    task_usage={"input_tokens": 9000, "output_tokens": 9000}),
        # Claude Code's own message: all-zero usage, as it writes them
        a("m3", 0, model="<synthetic>", text="Claude AI usage limit reached|1795179600",
          input_tokens=0, cache_read=0, cache_5m=0, extra={"isApiErrorMessage": True}),
        a("m4", 60, minutes=600, cache_1h=500),  # a 1-hour cache write, next day in Asia
    ])  # fmt: skip
    write_jsonl(claude / "edge" / "subagents" / "agent-a1.jsonl",
                [a("m5", 70, sidechain=True, agent_id="a1")])  # fmt: skip
    # A resumed session starts with copies of the old session's lines; its own lines carry
    # its own session id.
    resumed = a("m6", 33, minutes=3)
    resumed["sessionId"] = "resumed"
    write_jsonl(claude / "resumed.jsonl", [a("m2", 400), resumed])
    rollout = (
        root / "codex" / "sessions" / "2026" / "11" / "20" / "rollout-2026-11-20T09-00-00-e.jsonl"
    )
    t1, t2 = codex_usage(5000, 4000, 300, 100), codex_usage(9000, 7000, 700, 150)
    write_jsonl(rollout, [
        codex_line(T0, "session_meta", {"id": "e", "cwd": "/w", "model_provider": "openai"}),
        codex_line(T0, "turn_context", {"model": "gpt-5-codex"}),
        codex_token_count(T0, None, None),
        codex_token_count(T0 + dt.timedelta(minutes=1), t1, t1),
        codex_token_count(T0 + dt.timedelta(minutes=1), t1, t1),
        codex_line(T0, "turn_context", {"model": "gpt-5.2-codex"}),
        codex_token_count(T0 + dt.timedelta(minutes=2), t2, codex_usage(4000, 3000, 400, 50)),
        codex_token_count(T0 + dt.timedelta(minutes=2), t2, codex_usage(4000, 3000, 400, 50)),
    ])  # fmt: skip


def run_both(root: Path, agent: str, source: str, zone: str) -> tuple[dict[str, Any], ...]:
    env = {**os.environ, "HOME": str(root / "home"), "CLAUDE_CONFIG_DIR": str(root / "claude"),
           "CODEX_HOME": str(root / "codex"), "SPENDLANE_HOME": str(root / "spendlane"),
           "TZ": zone}  # fmt: skip
    (root / "home").mkdir(exist_ok=True)
    theirs = subprocess.run([str(CCUSAGE), agent, "daily", "--json", "--offline", "--timezone",
                             zone], capture_output=True, text=True, env=env, timeout=120,
                            check=True)  # fmt: skip
    ours = subprocess.run([sys.executable, "-m", "spendlane", "daily", "--json", "--source",
                           source, "--timezone", zone], capture_output=True, text=True, env=env,
                          timeout=120, check=True)  # fmt: skip
    return json.loads(theirs.stdout), json.loads(ours.stdout)


def by_day(report: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    return {day["date"]: tuple(day[k] for k in TOKENS) for day in report["daily"]}


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize(("agent", "source"), [("claude", "claude"), ("codex", "codex")])
def test_tokens_per_day_equal_ccusage(tmp_path: Path, agent: str, source: str, zone: str) -> None:
    write_demo_logs(tmp_path, T0, seed=11)
    edge_cases(tmp_path)
    theirs, ours = run_both(tmp_path, agent, source, zone)
    assert by_day(ours) == by_day(theirs)
    assert ours["totals"]["totalTokens"] == theirs["totals"]["totalTokens"]


def test_claude_cost_equals_ccusage_below_the_long_context_tier(tmp_path: Path) -> None:
    write_demo_logs(tmp_path, T0, seed=5)
    theirs, ours = run_both(tmp_path, "claude", "claude", "UTC")
    assert ours["totals"]["totalCost"] == pytest.approx(theirs["totals"]["totalCost"], abs=1e-9)


def test_tokens_per_session_equal_ccusage(tmp_path: Path) -> None:
    write_demo_logs(tmp_path, T0, seed=17)
    edge_cases(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "TZ": "UTC",
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex"),
           "SPENDLANE_HOME": str(tmp_path / "spendlane")}  # fmt: skip
    (tmp_path / "home").mkdir(exist_ok=True)
    theirs = json.loads(subprocess.run(
        [str(CCUSAGE), "claude", "session", "--json", "--offline"], capture_output=True,
        text=True, env=env, check=True, timeout=120).stdout)  # fmt: skip
    ours = json.loads(subprocess.run(
        [sys.executable, "-m", "spendlane", "session", "--json", "--source", "claude"],
        capture_output=True, text=True, env=env, check=True, timeout=120).stdout)  # fmt: skip

    def per_session(report: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
        return {s["sessionId"]: (*(s[k] for k in TOKENS), s["firstActivity"], s["lastActivity"])
                for s in report["sessions"]}  # fmt: skip

    assert per_session(ours) == per_session(theirs)


def test_blocks_equal_ccusage(tmp_path: Path) -> None:
    write_demo_logs(tmp_path, T0, seed=23)
    env = {**os.environ, "HOME": str(tmp_path / "home"), "TZ": "UTC",
           "CLAUDE_CONFIG_DIR": str(tmp_path / "claude"), "CODEX_HOME": str(tmp_path / "codex"),
           "SPENDLANE_HOME": str(tmp_path / "spendlane")}  # fmt: skip
    (tmp_path / "home").mkdir(exist_ok=True)
    theirs = json.loads(subprocess.run(
        [str(CCUSAGE), "claude", "blocks", "--json", "--offline"], capture_output=True,
        text=True, env=env, check=True, timeout=120).stdout)  # fmt: skip
    ours = json.loads(subprocess.run(
        [sys.executable, "-m", "spendlane", "blocks", "--json", "--source", "claude"],
        capture_output=True, text=True, env=env, check=True, timeout=120).stdout)  # fmt: skip

    def shape(report: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [(b["id"], b["startTime"], b["endTime"], b["actualEndTime"], b["isGap"],
                 b["entries"], b["tokenCounts"], b["totalTokens"], round(b["costUSD"], 9))
                for b in report["blocks"]]  # fmt: skip

    assert len(ours["blocks"]) > 3
    assert shape(ours) == shape(theirs)
