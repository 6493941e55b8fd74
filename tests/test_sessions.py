"""The session report: one row per session, its models, first and last activity."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from tests.conftest import Env

from spendlane.demo import claude_assistant, write_jsonl
from spendlane.reports.calendar import CostMode
from spendlane.reports.render_json import sessions_json
from spendlane.reports.sessions import session_report

T0 = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def call(session: str, mid: str, minutes: int, output: int, **kw: object) -> dict[str, object]:
    return claude_assistant(when=T0 + dt.timedelta(minutes=minutes), session_id=session,
                            message_id=mid, request_id="r", output_tokens=output,
                            **kw)  # type: ignore[arg-type]  # fmt: skip


def test_sessions_sum_their_calls_and_models(env: Env) -> None:
    write_jsonl(env.session_file("a"), [
        call("a", "m1", 0, 1_000_000, cwd="/w/shop"),
        call("a", "m2", 30, 10, cwd="/w/shop", model="claude-haiku-4-5-20251001"),
    ])  # fmt: skip
    write_jsonl(env.session_file("b"), [call("b", "m3", 5, 7, cwd="/w/infra")])
    with env.ledger() as ledger:
        env.ingest(ledger)
        report = session_report(ledger, zone=dt.UTC, order_desc=True)
    out = sessions_json(report)
    assert [s["sessionId"] for s in out["sessions"]] == ["a", "b"]  # latest activity first
    first = out["sessions"][0]
    assert first["projectPath"] == "/w/shop"
    assert first["outputTokens"] == 1_000_010
    assert first["modelsUsed"] == ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
    assert first["firstActivity"] == "2026-11-20T09:00:00.000Z"
    assert first["lastActivity"] == "2026-11-20T09:30:00.000Z"
    assert first["totalCost"] == 15.00005
    assert out["totals"]["outputTokens"] == 1_000_017


def test_range_counts_only_calls_inside_it(env: Env) -> None:
    write_jsonl(env.session_file("a"), [
        call("a", "m1", 0, 1), call("a", "m2", 24 * 60, 2),  # the next day
    ])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
        day2 = session_report(ledger, zone=dt.UTC, since=dt.date(2026, 11, 21))
        none = session_report(ledger, zone=dt.UTC, until=dt.date(2026, 11, 19))
        display = session_report(ledger, zone=dt.UTC, cost_mode=CostMode.DISPLAY)
    assert [(s.session_id, s.total.output_tokens) for s in day2.sessions] == [("a", 2)]
    assert none.sessions == []
    assert display.total.cost_nano == 0  # no agent-reported cost in these logs


def test_session_command_json(env: Env) -> None:
    write_jsonl(env.session_file("a"), [call("a", "m1", 0, 5)])
    done = subprocess.run([sys.executable, "-m", "spendlane", "session", "--json"],
                          capture_output=True, text=True, env=os.environ.copy(),
                          check=True)  # fmt: skip
    out = json.loads(done.stdout)
    assert out["sessions"][0]["sessionId"] == "a"
    assert out["totals"]["outputTokens"] == 5
