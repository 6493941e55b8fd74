"""A run's own output -> events and outcome: the parsers on the fakes' real formats and on
hand-written edge cases."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from spendlane.events import implausible
from spendlane.lanes.output import (
    LimitHit,
    detect_limit,
    parse_claude_result,
    parse_codex_exec,
)
from spendlane.money import usd_to_nano

FAKES = Path(__file__).parent / "fakes"
TS = 1_764_000_000_000  # 2025-11-24T16:00:00Z
RESET = 1_764_010_000


def run_fake(
    name: str, args: list[str], tmp_path: Path, timeout: float = 30, **env: str
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "FAKE_AGENT_LOG": str(tmp_path / "flags.jsonl"), **env}
    return subprocess.run(
        [sys.executable, str(FAKES / name), *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, check=False, cwd=tmp_path,
    )  # fmt: skip


def logged_flags(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "flags.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def result_object(stdout: str) -> dict[str, Any]:
    last = json.loads(stdout.strip().splitlines()[-1])
    if isinstance(last, list):
        last = last[-1]
    assert isinstance(last, dict) and last["type"] == "result"
    return last


# ---------------------------------------------------------------------------------------------
# claude -p on the fake


@pytest.mark.parametrize(
    "fmt", [["json"], ["stream-json", "--verbose"], ["json", "--verbose"]], ids=str
)
def test_claude_success_one_event_per_model(tmp_path: Path, fmt: list[str]) -> None:
    proc = run_fake("claude", ["-p", "fix it", "--output-format", *fmt,
                               "--model", "claude-sonnet-4-5-20250929"], tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    raw = result_object(proc.stdout)
    out = parse_claude_result(proc.stdout, run_id="r1", ts_ms=TS)
    assert out.ok and not out.crashed and out.limit is None and not out.overloaded
    assert out.subtype == "success" and out.result_text == "Done." and out.num_turns == 3
    assert out.session_id == raw["session_id"]
    assert out.malformed_lines == 0
    assert out.reported_cost_nano == usd_to_nano(raw["total_cost_usd"])
    assert out.duration_ms == raw["duration_ms"]
    by_model = {e.model: e for e in out.events}
    assert set(by_model) == set(raw["modelUsage"])
    for model, usage in raw["modelUsage"].items():
        e = by_model[model]
        assert e.key == f"run:r1:{model}"
        assert (e.source, e.provider, e.ts_ms, e.session_id) == ("run", "anthropic", TS,
                                                                 raw["session_id"])  # fmt: skip
        assert e.input_tokens == usage["inputTokens"]
        assert e.output_tokens == usage["outputTokens"]
        assert e.cache_read_tokens == usage["cacheReadInputTokens"]
        assert e.cache_write_5m_tokens == usage["cacheCreationInputTokens"]
        assert e.cache_write_1h_tokens == 0
        assert e.web_search_requests == usage["webSearchRequests"]
        assert e.reported_cost_nano == usd_to_nano(usage["costUSD"])
        assert e.cost_nano is None  # the caller prices
        assert implausible(e) is None


def test_claude_fake_logs_the_guardrail_flags(tmp_path: Path) -> None:
    run_fake("claude", ["-p", "task", "--output-format", "json", "--max-turns", "7",
                        "--max-budget-usd", "0.25", "--model", "claude-haiku-4-5",
                        "--session-id", "11111111-2222-3333-4444-555555555555"],
             tmp_path)  # fmt: skip
    (flags,) = logged_flags(tmp_path)
    assert flags["prompt"] == "task" and flags["print"] is True
    assert flags["max_turns"] == "7" and flags["max_budget_usd"] == "0.25"
    assert flags["model"] == "claude-haiku-4-5"
    assert flags["session_id"] == "11111111-2222-3333-4444-555555555555"


def test_claude_session_id_flag_is_the_runs_session(tmp_path: Path) -> None:
    sid = "11111111-2222-3333-4444-555555555555"
    proc = run_fake("claude", ["-p", "x", "--output-format", "json", "--session-id", sid],
                    tmp_path)  # fmt: skip
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.session_id == sid and all(e.session_id == sid for e in out.events)


def test_claude_stream_json_needs_verbose_like_the_real_cli(tmp_path: Path) -> None:
    proc = run_fake("claude", ["-p", "x", "--output-format", "stream-json"], tmp_path)
    assert proc.returncode == 1 and "requires --verbose" in proc.stderr
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.crashed and not out.ok and out.events == []


def test_claude_max_budget_reports_just_above_the_budget(tmp_path: Path) -> None:
    proc = run_fake("claude", ["-p", "x", "--output-format", "json", "--max-budget-usd", "0.5"],
                    tmp_path, FAKE_AGENT_MODE="max_budget")  # fmt: skip
    assert proc.returncode == 1
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.subtype == "error_max_budget_usd" and not out.ok and not out.crashed
    assert out.reported_cost_nano is not None and out.reported_cost_nano > 500_000_000
    assert out.reported_cost_nano < 510_000_000
    assert sum(e.reported_cost_nano or 0 for e in out.events) == pytest.approx(
        out.reported_cost_nano, abs=2
    )
    assert out.limit is None and out.result_text is None


def test_claude_max_turns(tmp_path: Path) -> None:
    args = ["-p", "x", "--output-format", "stream-json", "--verbose", "--max-turns", "2"]
    proc = run_fake("claude", args, tmp_path, FAKE_AGENT_MODE="max_turns")
    assert proc.returncode == 1
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.subtype == "error_max_turns" and out.num_turns == 3 and not out.ok
    assert out.events and not out.crashed and out.limit is None


@pytest.mark.parametrize("fmt", [["json"], ["stream-json", "--verbose"]], ids=str)
def test_claude_crash_with_zero_cost_sends_the_caller_to_the_transcript(
    tmp_path: Path, fmt: list[str]
) -> None:
    proc = run_fake("claude", ["-p", "x", "--output-format", *fmt], tmp_path,
                    FAKE_AGENT_MODE="crash_zero_cost")  # fmt: skip
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.crashed and not out.ok and out.subtype == "error_during_execution"
    assert out.events == [] and out.reported_cost_nano == 0
    assert out.session_id == result_object(proc.stdout)["session_id"]


def test_claude_rate_limit_pipe_form(tmp_path: Path) -> None:
    proc = run_fake("claude", ["-p", "x", "--output-format", "json"], tmp_path,
                    FAKE_AGENT_MODE="rate_limit", FAKE_AGENT_RESET=str(RESET))  # fmt: skip
    assert proc.returncode == 1
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    text = f"Claude AI usage limit reached|{RESET}"
    assert out.limit == LimitHit("usage_limit", RESET * 1000, text)
    assert not out.ok and out.events == [] and not out.overloaded


def test_claude_rate_limit_resets_form_in_stream(tmp_path: Path) -> None:
    args = ["-p", "x", "--output-format", "stream-json", "--verbose"]
    env = {"FAKE_AGENT_MODE": "rate_limit", "FAKE_AGENT_LIMIT_FORM": "resets"}
    proc = run_fake("claude", args, tmp_path, **env)
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.limit is not None and out.limit.kind == "usage_limit"
    # 16:00 UTC now -> the next 3pm UTC is tomorrow
    three_pm = dt.datetime(2025, 11, 25, 15, tzinfo=dt.UTC)
    assert out.limit.reset_at_ms == int(three_pm.timestamp()) * 1000


def test_claude_overloaded_is_not_a_limit(tmp_path: Path) -> None:
    proc = run_fake("claude", ["-p", "x", "--output-format", "json"], tmp_path,
                    FAKE_AGENT_MODE="overloaded")  # fmt: skip
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.limit is None and out.overloaded and not out.ok


def test_claude_exit_error_prints_nothing(tmp_path: Path) -> None:
    proc = run_fake("claude", ["-p", "x", "--output-format", "json"], tmp_path,
                    FAKE_AGENT_MODE="exit_error")  # fmt: skip
    assert proc.returncode == 1 and proc.stdout == ""
    out = parse_claude_result(proc.stdout, run_id="r", ts_ms=TS)
    assert out.crashed and out.session_id is None and out.malformed_lines == 0


@pytest.mark.parametrize("name", ["claude", "codex"])
def test_hang_mode_and_a_process_group_kill_reaches_the_child(tmp_path: Path, name: str) -> None:
    pidfile = tmp_path / "pids"
    args = ["-p", "x", "--output-format", "json"] if name == "claude" else ["exec", "--json", "x"]
    env = {**os.environ, "FAKE_AGENT_MODE": "hang", "FAKE_AGENT_PIDFILE": str(pidfile)}
    proc = subprocess.Popen([sys.executable, str(FAKES / name), *args], env=env,
                            stdout=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not pidfile.exists():
            assert time.monotonic() < deadline, "the fake never started its child"
            assert proc.poll() is None
            time.sleep(0.02)
        parent, child = map(int, pidfile.read_text().split())
        assert parent == proc.pid and proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the child survived the group kill"
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie waiting for init to reap it is dead


# ---------------------------------------------------------------------------------------------
# claude -p, hand-written


def test_claude_usage_without_model_usage() -> None:
    text = "\n".join([
        json.dumps({"type": "system", "subtype": "init", "session_id": "s",
                    "model": "claude-opus-4-1"}),
        "not json at all",
        json.dumps({"type": "result", "subtype": "success", "is_error": False, "session_id": "s",
                    "total_cost_usd": 0.75, "num_turns": 1, "result": "ok",
                    "usage": {"input_tokens": 10, "output_tokens": 20,
                              "cache_creation_input_tokens": 300, "cache_read_input_tokens": 40,
                              "cache_creation": {"ephemeral_1h_input_tokens": 100},
                              "server_tool_use": {"web_search_requests": 2}}}),
    ])  # fmt: skip
    out = parse_claude_result(text, run_id="u", ts_ms=TS)
    (e,) = out.events
    assert (e.key, e.model, e.provider) == ("run:u:claude-opus-4-1", "claude-opus-4-1", "anthropic")
    assert (e.input_tokens, e.output_tokens, e.cache_read_tokens) == (10, 20, 40)
    assert (e.cache_write_5m_tokens, e.cache_write_1h_tokens) == (200, 100)
    assert e.web_search_requests == 2
    assert e.reported_cost_nano == 750_000_000
    assert out.malformed_lines == 1 and out.ok


def test_claude_usage_with_the_model_unknown() -> None:
    text = json.dumps({"type": "result", "subtype": "success", "is_error": False,
                       "total_cost_usd": 0.1, "usage": {"input_tokens": 5}})  # fmt: skip
    (e,) = parse_claude_result(text, run_id="u", ts_ms=TS).events
    assert (e.key, e.model, e.provider) == ("run:u:unknown", "unknown", "unknown")
    assert e.input_tokens == 5


def test_claude_non_claude_model_and_bad_fields() -> None:
    result = {
        "type": "result", "subtype": "success", "is_error": False, "session_id": 7,
        "num_turns": "three", "total_cost_usd": "NaN", "errors": "boom",
        "modelUsage": {
            "qwen3.5-plus": {"inputTokens": 3, "outputTokens": -4, "costUSD": True},
            "claude-x": "not an object",
            "  ": {"inputTokens": 1, "costUSD": 1e400},
        },
    }  # fmt: skip
    text = json.dumps(result).replace('"NaN"', "NaN")
    out = parse_claude_result(text, run_id="b", ts_ms=TS)
    by_model = {e.model: e for e in out.events}
    assert set(by_model) == {"qwen3.5-plus", "unknown"}
    assert by_model["qwen3.5-plus"].provider == "unknown"
    assert by_model["qwen3.5-plus"].output_tokens == 0  # a negative count is no count
    assert by_model["qwen3.5-plus"].reported_cost_nano is None
    assert by_model["unknown"].reported_cost_nano is None  # inf dollars: not a cost
    assert out.session_id is None and out.num_turns is None and out.reported_cost_nano is None
    assert out.errors == []


@pytest.mark.parametrize(
    "text",
    ["", "\n\n", "garbage\n{not json", "[]", "null", "42", '{"type":"assistant"}',
     '{"type":"result"', "[" * 100_000,
     '{"type":"result","modelUsage":{"m":{"inputTokens":1e999}}}',
     '{"type":"result","total_cost_usd":1' + "0" * 5000 + "}"],
)  # fmt: skip
def test_claude_edge_texts_never_raise(text: str) -> None:
    out = parse_claude_result(text, run_id="e", ts_ms=TS)
    assert not out.ok
    for e in out.events:
        assert implausible(e) is None


def test_claude_half_written_stream_is_a_crash_and_counts_the_cut_line() -> None:
    init = json.dumps({"type": "system", "subtype": "init", "session_id": "sess-1"})
    out = parse_claude_result(init + '\n{"type":"assistant","mess', run_id="h", ts_ms=TS)
    assert out.crashed and out.session_id == "sess-1" and out.malformed_lines == 1


def test_claude_success_text_mentioning_rate_limits_is_not_a_limit() -> None:
    text = json.dumps({"type": "result", "subtype": "success", "is_error": False,
                       "result": "Added a rate limit (429) handler and usage limit docs.",
                       "total_cost_usd": 0.2, "modelUsage": {}})  # fmt: skip
    out = parse_claude_result(text, run_id="ok", ts_ms=TS)
    assert out.ok and out.limit is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_claude_never_raises_on_any_text(text: str) -> None:
    out = parse_claude_result(text, run_id="h", ts_ms=TS)
    assert out.malformed_lines >= 0


_json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)  # fmt: skip
_costs = st.floats(min_value=0, max_value=1000, allow_nan=False) | st.integers(0, 10**6)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=20).filter(str.strip), _costs, max_size=5),
    st.dictionaries(st.sampled_from(["is_error", "subtype", "usage", "num_turns", "result",
                                     "session_id", "errors", "total_cost_usd"]), _json),
    st.booleans(),
)  # fmt: skip
@example(costs={"0\r": 0.0, "0": 1.0}, noise={}, stream=False)
def test_claude_event_costs_equal_reported_cost_usd_exactly(
    costs: dict[str, float | int], noise: dict[str, Any], stream: bool
) -> None:
    model_usage = {m: {"inputTokens": 1, "outputTokens": 2, "costUSD": c} for m, c in costs.items()}
    result = {**noise, "type": "result", "modelUsage": model_usage}
    text = json.dumps(result)
    if stream:
        text = json.dumps({"type": "system", "subtype": "init"}) + "\nnoise\n" + text
    out = parse_claude_result(text, run_id="p", ts_ms=TS)
    by_model = {e.model: e for e in out.events}
    expected: dict[str, int] = {}
    for raw_model, cost in costs.items():  # two spellings of one name: one event of both
        model = raw_model.strip()
        expected[model] = expected.get(model, 0) + usd_to_nano(cost)
    assert {m: e.reported_cost_nano for m, e in by_model.items()} == expected
    assert all(e.key == f"run:p:{e.model}" for e in out.events)


# ---------------------------------------------------------------------------------------------
# Limits


def test_detect_limit_claude_pipe_and_resets_forms() -> None:
    pipe = detect_limit(f"Claude AI usage limit reached|{RESET}", TS)
    assert pipe is not None and (pipe.kind, pipe.reset_at_ms) == ("usage_limit", RESET * 1000)
    berlin = detect_limit("You've hit your limit · resets 9am (Europe/Berlin)", TS)
    # 17:00 in Berlin when seen -> 9am Berlin the next day (08:00 UTC)
    expected = int(dt.datetime(2025, 11, 25, 8, tzinfo=dt.UTC).timestamp()) * 1000
    assert berlin is not None and (berlin.kind, berlin.reset_at_ms) == ("usage_limit", expected)
    bare = detect_limit("Claude usage limit reached. Your limit will reset soon.", TS)
    assert bare is not None and bare.reset_at_ms is None


def test_detect_limit_codex_forms() -> None:
    raw = detect_limit('unexpected status 429 Too Many Requests: {"error": {"type": '
                       f'"usage_limit_reached", "resets_at": {RESET}}}}}', TS)  # fmt: skip
    assert raw is not None and (raw.kind, raw.reset_at_ms) == ("usage_limit", RESET * 1000)
    friendly = detect_limit("You've hit your usage limit. Upgrade to Pro or try again in "
                            "5 days 22 hours 11 minutes.", TS)  # fmt: skip
    assert friendly is not None and friendly.kind == "usage_limit"
    assert friendly.reset_at_ms == TS + ((5 * 24 + 22) * 3600 + 11 * 60) * 1000
    seconds = detect_limit('{"type":"usage_limit_reached","resets_in_seconds":600}', TS)
    assert seconds is not None and seconds.reset_at_ms == TS + 600_000


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("exceeded retry limit, last status: 429 Too Many Requests", "rate_limit"),
        ("API Error: Rate limit exceeded", "rate_limit"),
        ('{"type":"rate_limit_error"}', "rate_limit"),
        ("API Error: 529 Overloaded", None),
        ('{"type":"overloaded_error","message":"Overloaded"}', None),
        ("Reached maximum number of turns (3)", None),
        ("cost 1429 tokens", None),
        ("", None),
        (None, None),
    ],
)
def test_detect_limit_kinds(text: str | None, kind: str | None) -> None:
    hit = detect_limit(text, TS)
    assert (hit.kind if hit else None) == kind


# ---------------------------------------------------------------------------------------------
# codex exec --json


def test_codex_success_on_the_fake(tmp_path: Path) -> None:
    proc = run_fake("codex", ["exec", "--json", "--model", "gpt-5-codex", "--full-auto", "go"],
                    tmp_path, FAKE_AGENT_INPUT="1000", FAKE_AGENT_CACHED="600",
                    FAKE_AGENT_OUTPUT="50")  # fmt: skip
    assert proc.returncode == 0
    thread = json.loads(proc.stdout.splitlines()[0])["thread_id"]
    out = parse_codex_exec(proc.stdout, run_id="c1", ts_ms=TS, model="gpt-5-codex")
    assert out.ok and not out.crashed and out.limit is None and out.malformed_lines == 0
    assert out.session_id == thread and out.result_text == "Done." and out.num_turns == 1
    (e,) = out.events
    assert (e.key, e.source, e.provider) == ("run:c1:turn:1", "run", "openai")
    assert e.model == "gpt-5-codex"
    assert (e.input_tokens, e.cache_read_tokens, e.output_tokens) == (400, 600, 50)
    assert e.session_id == thread and e.reported_cost_nano is None
    (flags,) = logged_flags(tmp_path)
    assert flags["subcommand"] == "exec" and flags["json"] and flags["model"] == "gpt-5-codex"
    assert flags["prompt"] == "go" and "--full-auto" in flags["other"]


def test_codex_fake_logs_oss(tmp_path: Path) -> None:
    run_fake("codex", ["exec", "--json", "--oss", "-m", "gpt-oss:20b", "hello"], tmp_path)
    (flags,) = logged_flags(tmp_path)
    assert flags["oss"] is True and flags["model"] == "gpt-oss:20b"


@pytest.mark.parametrize("form", ["raw429", "friendly"])
def test_codex_rate_limit_on_the_fake(tmp_path: Path, form: str) -> None:
    proc = run_fake("codex", ["exec", "--json", "go"], tmp_path, FAKE_AGENT_MODE="rate_limit",
                    FAKE_AGENT_LIMIT_FORM=form, FAKE_AGENT_RESET=str(RESET))  # fmt: skip
    assert proc.returncode == 1
    out = parse_codex_exec(proc.stdout, run_id="c", ts_ms=TS, model=None)
    assert not out.ok and not out.crashed and out.events == [] and out.session_id
    assert out.limit is not None and out.limit.kind == "usage_limit"
    expected = RESET * 1000 if form == "raw429" else TS + (26 * 3600 + 180) * 1000
    assert out.limit.reset_at_ms == expected
    assert len(out.errors) == 1  # the error event and turn.failed repeat one message


def test_codex_killed_mid_turn_is_a_crash(tmp_path: Path) -> None:
    proc = run_fake("codex", ["exec", "--json", "go"], tmp_path, FAKE_AGENT_MODE="crash_zero_cost")
    out = parse_codex_exec(proc.stdout, run_id="c", ts_ms=TS, model="gpt-5")
    assert out.crashed and not out.ok and out.events == [] and out.session_id is not None
    assert out.malformed_lines == 1


def test_codex_exit_error(tmp_path: Path) -> None:
    proc = run_fake("codex", ["exec", "--json", "go"], tmp_path, FAKE_AGENT_MODE="exit_error")
    assert proc.returncode == 1 and proc.stdout == ""
    out = parse_codex_exec(proc.stdout, run_id="c", ts_ms=TS, model="gpt-5")
    assert out.crashed and out.session_id is None


def test_codex_turns_summed_with_cached_input_inside_input() -> None:
    turns = [(1200, 200, 345), (5000, 4800, 10), (70, 0, 7), (10, 30, 1)]  # last: bad cached
    lines = [json.dumps({"type": "thread.started", "thread_id": "t-1"})]
    for i, (inp, cached, out_tokens) in enumerate(turns):
        lines += [
            json.dumps({"type": "turn.started"}),
            json.dumps({"type": "item.completed",
                        "item": {"id": f"item_{i}", "type": "agent_message", "text": f"m{i}"}}),
            json.dumps({"type": "turn.completed", "usage": {
                "input_tokens": inp, "cached_input_tokens": cached, "output_tokens": out_tokens}}),
        ]  # fmt: skip
    out = parse_codex_exec("\n".join(lines) + "\n", run_id="m", ts_ms=TS, model="gpt-5.1-codex")
    assert out.ok and out.num_turns == 4 and out.result_text == "m3"
    assert [e.key for e in out.events] == [f"run:m:turn:{n}" for n in (1, 2, 3, 4)]
    assert sum(e.input_tokens + e.cache_read_tokens for e in out.events) == sum(t[0] for t in turns)
    assert sum(e.cache_read_tokens for e in out.events) == 200 + 4800 + 0 + 10
    assert sum(e.output_tokens for e in out.events) == sum(t[2] for t in turns)
    assert [e.input_tokens for e in out.events] == [1000, 200, 70, 0]
    assert all(e.session_id == "t-1" for e in out.events)


def test_codex_model_unknown_and_nonfatal_item_errors() -> None:
    lines = [
        {"type": "thread.started", "thread_id": "t"},
        {"type": "item.completed", "item": {"id": "item_0", "type": "error",
                                             "message": "Under-development features enabled"}},
        {"type": "turn.completed", "usage": {"input_tokens": 5, "output_tokens": 1}},
    ]  # fmt: skip
    out = parse_codex_exec("\n".join(map(json.dumps, lines)), run_id="u", ts_ms=TS, model=None)
    (e,) = out.events
    assert out.ok and e.model == "unknown" and e.input_tokens == 5 and e.cache_read_tokens == 0


def test_codex_turn_failed_with_overload_is_not_a_limit() -> None:
    lines = [
        {"type": "thread.started", "thread_id": "t"},
        {"type": "turn.failed", "error": {"message": "stream error: 529 overloaded"}},
    ]
    out = parse_codex_exec("\n".join(map(json.dumps, lines)), run_id="o", ts_ms=TS, model="m")
    assert not out.ok and not out.crashed and out.limit is None and out.overloaded


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_codex_never_raises_on_any_text(text: str) -> None:
    out = parse_codex_exec(text, run_id="h", ts_ms=TS, model=None)
    assert out.malformed_lines >= 0
