"""`spendlane mcp`: a real stdio session with the SDK's own client, against a real ledger."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from tests.conftest import READING, Env

from spendlane.recording import record_many

CONFIG = """\
timezone = "UTC"

[[budget]]
name = "daily"
period = "day"
limit_usd = 5.00

[[budget]]
name = "anthropic-monthly"
provider = "anthropic"
period = "month"
limit_usd = "1.70"
fallback = "codex"
"""

# The same file with a typo on line 11.
BAD_CONFIG = CONFIG.replace('period = "month"', 'perod = "month"')


def _fill(env: Env, now_ms: int) -> None:
    at = now_ms - 60_000
    with env.ledger() as ledger:
        record_many(ledger, [
            {"timestamp": at / 1000, "backend": "claude", "model": "claude-sonnet-4-5",
             "input_tokens": 1000, "output_tokens": 200, "cost_usd": 1.25, "event_id": "a"},
            # priced by spendlane: 100k input at $3/M + 10k output at $15/M = $0.45
            {"timestamp": at / 1000, "backend": "claude", "model": "claude-sonnet-4-5",
             "input_tokens": 100_000, "output_tokens": 10_000, "event_id": "b"},
            {"timestamp": at / 1000, "backend": "openai", "model": "gpt-5",
             "prompt_tokens": 3000, "completion_tokens": 500, "cost_usd": 0.40,
             "event_id": "c"},
            {"timestamp": at / 1000, "backend": "acme", "model": "mystery-1",
             "input_tokens": 70, "output_tokens": 30, "event_id": "d"},
        ])  # fmt: skip
        rows = [
            ("statusline", now_ms - 600_000, "five_hour", 10.0, 300, now_ms + 3_600_000, "s1"),
            ("statusline", now_ms - 120_000, "five_hour", 42.5, 300, now_ms + 3_600_000, "s1"),
            ("statusline", now_ms - 120_000, "seven_day", 61.0, 10080, now_ms + 86_400_000, "s1"),
            ("codex", now_ms - 7_200_000, "primary", 90.0, 300, now_ms - 3_600_000, None),
        ]
        with ledger.write() as db:
            db.executemany(
                READING + "(?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def _server(env: Env) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "spendlane", "mcp"],
        env={
            "SPENDLANE_HOME": str(env.home),
            "CLAUDE_CONFIG_DIR": str(env.claude),
            "CODEX_HOME": str(env.codex),
            "HOME": str(env.root / "userhome"),
            "TZ": "UTC",
        },
        cwd=str(env.root),
    )


def _session(env: Env, body: Callable[[ClientSession], Awaitable[None]]) -> None:
    async def run() -> None:
        with open(env.root / "server.stderr", "w") as errlog:
            async with (
                stdio_client(_server(env), errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                await body(session)

    asyncio.run(asyncio.wait_for(run(), timeout=30))


async def _call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    text = result.content[0]
    assert text.type == "text" and json.loads(text.text) == data
    return data


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="seconds")


def test_the_four_tools_over_stdio(env: Env) -> None:
    (env.home / "config.toml").write_text(CONFIG)
    now_ms = int(time.time() * 1000)
    _fill(env, now_ms)
    today = dt.datetime.now(dt.UTC).date()
    seen: dict[str, Any] = {}

    async def body(session: ClientSession) -> None:
        tools = await session.list_tools()
        seen["tools"] = {tool.name: tool for tool in tools.tools}
        seen["spend"] = await _call(session, "spend_summary", period="today")
        seen["default"] = await _call(session, "spend_summary")
        seen["budgets"] = await _call(session, "budget_status")
        seen["quota"] = await _call(session, "quota_status")
        seen["lane"] = await _call(session, "pick_lane", agent="nightly", model="claude-opus-4-6")
        wrong = await session.call_tool("spend_summary", {"period": "last-year"})
        seen["wrong_period"] = wrong

    _session(env, body)

    tools = seen["tools"]
    assert set(tools) == {"spend_summary", "budget_status", "quota_status", "pick_lane"}
    assert all(tool.description for tool in tools.values())
    period = tools["spend_summary"].input_schema["properties"]["period"]
    assert period["enum"] == ["today", "this-week", "this-month"]
    assert period["default"] == "today"
    assert set(tools["pick_lane"].input_schema["properties"]) == {"agent", "model"}

    spend = seen["spend"]
    assert spend == seen["default"]
    assert (spend["period"], spend["since"], spend["until"]) == (
        "today", today.isoformat(), today.isoformat())  # fmt: skip
    assert spend["timezone"] == "UTC"
    assert spend["total"] == {
        "costUsd": 2.1, "totalTokens": 114_800, "inputTokens": 104_070, "outputTokens": 10_730,
        "cacheCreationTokens": 0, "cacheReadTokens": 0, "calls": 4, "unpricedCalls": 1,
    }  # fmt: skip
    assert [(p["provider"], p["costUsd"], p["totalTokens"], p["calls"])
            for p in spend["providers"]] == [
        ("anthropic", 1.7, 111_200, 2), ("openai", 0.4, 3500, 1), ("acme", 0.0, 100, 1),
    ]  # fmt: skip
    assert [(m["model"], m["provider"], m["costUsd"], m["calls"]) for m in spend["models"]] == [
        ("claude-sonnet-4-5", "anthropic", 1.7, 2),
        ("gpt-5", "openai", 0.4, 1),
        ("mystery-1", "acme", 0.0, 1),
    ]
    assert spend["unpriced"] == [{"model": "mystery-1", "provider": "acme", "source": "record",
                                  "calls": 1, "totalTokens": 100}]  # fmt: skip
    assert spend["newCallsIngested"] == 0

    budgets = seen["budgets"]
    assert budgets["level"] == "block"
    assert budgets["config"] == str(env.home / "config.toml")
    by_name = {b["name"]: b for b in budgets["budgets"]}
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
    assert {k: by_name["daily"][k] for k in ("level", "spent", "limit", "percent", "remaining",
                                             "resetsAt", "unit", "unpricedEvents")} == {
        "level": "ok", "spent": 2.1, "limit": 5.0, "percent": 42.0, "remaining": 2.9,
        "resetsAt": tomorrow.isoformat(), "unit": "usd", "unpricedEvents": 1,
    }  # fmt: skip
    monthly = by_name["anthropic-monthly"]
    assert (monthly["level"], monthly["spent"], monthly["percent"], monthly["remaining"]) == (
        "block", 1.7, 100.0, 0.0)  # fmt: skip
    assert monthly["scope"] == {"provider": "anthropic"}
    assert monthly["recommendedLane"] == "codex"

    quota = seen["quota"]
    assert quota["timezone"] == "UTC"
    readings = quota["readings"]
    ages = [reading.pop("ageSeconds") for reading in readings]
    assert {reading.pop("account") for reading in readings} == {"default"}  # none configured
    # 10% -> 42.5% in 8 minutes: 243.75%/h, so the 5-hour window runs out before its reset.
    projected = readings[1].pop("projectedPercent")
    assert readings == [
        {"source": "codex", "window": "primary", "name": "Codex 5-hour", "usedPercent": 90.0,
         "windowMinutes": 300, "resetsAt": _iso(now_ms - 3_600_000), "reset": True,
         "readAt": _iso(now_ms - 7_200_000), "burnPerHour": None, "projectedPercent": None,
         "level": None, "sessionId": None},
        {"source": "statusline", "window": "five_hour", "name": "Claude 5-hour",
         "usedPercent": 42.5, "windowMinutes": 300, "resetsAt": _iso(now_ms + 3_600_000),
         "reset": False, "readAt": _iso(now_ms - 120_000), "burnPerHour": 243.75,
         "level": "limit", "sessionId": "s1"},
        {"source": "statusline", "window": "seven_day", "name": "Claude 7-day",
         "usedPercent": 61.0, "windowMinutes": 10080, "resetsAt": _iso(now_ms + 86_400_000),
         "reset": False, "readAt": _iso(now_ms - 120_000), "burnPerHour": None,
         "projectedPercent": None, "level": "ok", "sessionId": "s1"},
    ]  # fmt: skip
    assert projected == pytest.approx(42.5 + 243.75, abs=1)
    assert 7200 <= ages[0] < 7260 and 120 <= ages[1] < 180 and 120 <= ages[2] < 180

    # Default lanes: the Claude plan's 5-hour window will be full before it resets (and the
    # month budget blocks too), so the work goes to anthropic's on_block lane.
    reason = seen["lane"].pop("reason")
    assert seen["lane"] == {
        "lane": "codex", "provider": "openai", "kind": "codex", "refused": False,
        "path": ["anthropic", "codex"], "decision": "allow", "resetsAt": None,
    }  # fmt: skip
    assert reason.startswith("anthropic is limited by its provider until ")

    wrong = seen["wrong_period"]
    assert wrong.is_error
    assert "period" in wrong.content[0].text


def test_a_bad_config_is_a_tool_error_and_the_server_keeps_serving(env: Env) -> None:
    config = env.home / "config.toml"
    config.write_text(BAD_CONFIG)
    seen: dict[str, Any] = {}

    async def body(session: ClientSession) -> None:
        for tool in ("budget_status", "spend_summary", "pick_lane", "quota_status"):
            seen[tool] = await session.call_tool(tool, {})
        config.write_text(CONFIG)  # fixed while the server runs: the next call reads it
        seen["fixed"] = await _call(session, "budget_status")

    _session(env, body)

    problem = f"{config}, line 11, field 'perod': unknown key; did you mean 'period'?"
    for tool in ("budget_status", "spend_summary", "pick_lane", "quota_status"):
        result = seen[tool]
        assert result.is_error, tool
        # The SDK says which tool failed; the rest is the config error, as the CLI says it.
        assert [block.text for block in result.content] == [
            f"Error executing tool {tool}: {problem}"
        ], tool
    assert [b["level"] for b in seen["fixed"]["budgets"]] == ["ok", "ok"]


def test_no_other_command_loads_the_sdk() -> None:
    code = (
        "import sys; from spendlane.cli import main; "
        "import spendlane.reports.costs, spendlane.integrations.mcp_server; "
        "assert not any(m == 'mcp' or m.startswith('mcp.') for m in sys.modules), 'mcp loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ},
                   cwd=Path(__file__).parent.parent)  # fmt: skip


def test_everything_blocked_but_the_free_lane(env: Env) -> None:
    """The tool bodies without the SDK: the local-only answer, and a period out of range."""
    from spendlane.integrations.mcp_server import ToolFailure, pick_lane, spend_summary

    (env.home / "config.toml").write_text(CONFIG.replace("limit_usd = 5.00", "limit_usd = 2.00"))
    _fill(env, int(time.time() * 1000))
    pick = pick_lane(agent="nightly")
    assert (pick["lane"], pick["kind"], pick["refused"], pick["decision"]) == (
        "local", "claude", False, None)  # fmt: skip
    assert pick["path"] == ["anthropic", "codex", "local"]
    assert pick["reason"].startswith("Cloud budget exhausted, operating local-only until ")
    assert pick["resetsAt"] is not None
    with pytest.raises(ToolFailure, match="period: expected one of today, this-week"):
        spend_summary("yesterday")
