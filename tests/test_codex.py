"""Codex rollouts: turns counted when the running total moves, never from repeats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Env

from spendlane.demo import codex_line, codex_token_count, codex_usage, write_jsonl
from spendlane.policy.quota import window_states
from spendlane.sources import locations

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def meta(session: str = "sess-1", provider: str = "openai") -> dict[str, Any]:
    return codex_line(T0, "session_meta", {"id": session, "cwd": "/w/app", "cli_version": "0.58.0",
                                           "model_provider": provider})  # fmt: skip


def context(model: str, minutes: float = 0) -> dict[str, Any]:
    return codex_line(at(minutes), "turn_context", {"cwd": "/w/app", "model": model})


def rows(env: Env, sql: str) -> list[tuple[object, ...]]:
    with env.ledger() as ledger:
        return list(ledger.connection.execute(sql))


def test_repeated_token_counts_count_once(env: Env) -> None:
    t1 = codex_usage(1000, 800, 100, 40)
    t2 = codex_usage(3000, 2000, 250, 90)
    last2 = codex_usage(2000, 1200, 150, 50)
    write_jsonl(env.rollout(), [
        meta(), context("gpt-5-codex"),
        codex_token_count(at(0), None, None),  # info: null at start
        codex_token_count(at(1), t1, t1), codex_token_count(at(1), t1, t1),
        codex_token_count(at(1), t1, t1),
        codex_token_count(at(2), t2, last2), codex_token_count(at(2), t2, last2),
    ])  # fmt: skip
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["codex"].new_events == 2
    got = rows(env, "SELECT input_tokens, cache_read_tokens, output_tokens, reasoning_tokens "
                    "FROM event_rows ORDER BY ts_ms")  # fmt: skip
    # input is stored uncached; cached input becomes cache reads; reasoning stays in output.
    assert got == [(200, 800, 100, 40), (800, 1200, 150, 50)]
    total = "SELECT SUM(input_tokens + cache_read_tokens + output_tokens) FROM events"
    assert rows(env, total) == [(3250,)]


def test_model_follows_turn_context_changes(env: Env) -> None:
    t1, t2 = codex_usage(100, 0, 10, 0), codex_usage(300, 0, 30, 0)
    write_jsonl(env.rollout(), [
        meta(), context("gpt-5-codex"), codex_token_count(at(1), t1, t1),
        context("gpt-5.2-codex", 2), codex_token_count(at(3), t2, t2),
    ])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT model, cost_basis FROM event_rows ORDER BY ts_ms") == [
        ("gpt-5-codex", "computed"),
        ("gpt-5.2-codex", "computed"),
    ]


def test_missing_model_priced_as_the_default_of_the_time_and_marked(env: Env) -> None:
    t1 = codex_usage(1_000_000, 0, 0, 0)
    write_jsonl(env.rollout(), [meta(), codex_token_count(at(1), t1, t1)])
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT model, model_estimated, cost_basis, cost_nano FROM event_rows") == [
        ("gpt-5.1-codex-max", 1, "estimated", 1_250_000_000)
    ]


def test_total_going_backwards_uses_that_turns_own_usage(env: Env) -> None:
    big, small = codex_usage(5000, 0, 500, 0), codex_usage(100, 0, 10, 0)
    write_jsonl(env.rollout(), [
        meta(), context("gpt-5-codex"),
        codex_token_count(at(1), big, big),
        codex_token_count(at(2), small, small),  # restarted process: running total reset
    ])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT SUM(input_tokens), SUM(output_tokens) FROM events") == [(5100, 510)]


def test_incremental_read_keeps_the_running_total(env: Env) -> None:
    t1, t2 = codex_usage(1000, 0, 100, 0), codex_usage(1500, 0, 160, 0)
    path = env.rollout()
    write_jsonl(path, [meta(), context("gpt-5-codex"), codex_token_count(at(1), t1, t1)])
    with env.ledger() as ledger:
        env.ingest(ledger)
        write_jsonl(path, [codex_token_count(at(1), t1, t1), codex_token_count(at(2), t2, t2)])
        report = env.ingest(ledger)
    assert report.sources["codex"].new_events == 1
    assert rows(env, "SELECT input_tokens, output_tokens, model FROM events ORDER BY ts_ms") == [
        (1000, 100, "gpt-5-codex"),
        (500, 60, "gpt-5-codex"),
    ]


def test_rate_limits_captured(env: Env) -> None:
    t1 = codex_usage(10, 0, 1, 0)
    write_jsonl(
        env.rollout(),
        [meta(), context("gpt-5-codex"), codex_token_count(at(1), t1, t1, primary_used=42.5)],
    )
    with env.ledger() as ledger:
        env.ingest(ledger)
    readings = rows(env, "SELECT window, used_percent, window_minutes FROM quota_readings "
                         "ORDER BY window")  # fmt: skip
    assert readings == [("primary", 42.5, 300), ("secondary", 4.0, 10080)]


def test_repeated_rate_limit_readings_keep_the_ends_of_each_run(env: Env) -> None:
    t1, t2 = codex_usage(10, 0, 1, 0), codex_usage(20, 0, 2, 0)
    resets = int(at(200).timestamp())
    levels = [(10, 10.0), (10, 10.0), (20, 10.0), (30, 10.0), (40, 11.0), (50, 11.0)]
    write_jsonl(env.rollout(), [
        meta(), context("gpt-5-codex"),
        *(codex_token_count(at(m), t1 if m < 40 else t2, t1, primary_used=used,
                            resets_at=resets) for m, used in levels),
    ])  # fmt: skip
    with env.ledger() as ledger:
        report = env.ingest(ledger)
        now_ms = int(at(55).timestamp() * 1000)
        (primary,) = [s for s in window_states(ledger, now_ms) if s.window == "primary"]
    kept = rows(env, "SELECT ts_ms, used_percent FROM quota_readings WHERE window = 'primary' "
                     "ORDER BY ts_ms")  # fmt: skip
    ms = [int(at(m).timestamp() * 1000) for m in (10, 30, 40, 50)]
    # The repeat at minute 10 and the middle of the 10 % run add nothing quota reads.
    assert kept == [(ms[0], 10.0), (ms[1], 10.0), (ms[2], 11.0), (ms[3], 11.0)]
    assert report.sources["codex"].rate_limit_readings == 4 + 2  # and the weekly window's ends
    assert primary.used_percent == 11.0
    assert primary.burn_per_hour == pytest.approx(1.5)  # (11 - 10) % over the 40 minutes


def test_archived_sessions_read_and_same_rollout_not_double_counted(env: Env) -> None:
    t1 = codex_usage(1000, 0, 100, 0)
    lines = [meta(), context("gpt-5-codex"), codex_token_count(at(1), t1, t1)]
    write_jsonl(env.rollout(), lines)
    write_jsonl(env.codex / "archived_sessions" / "rollout-2026-11-20T10-00-00-abc.jsonl", lines)
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["codex"].files_seen == 2
    assert rows(env, "SELECT COUNT(*), SUM(input_tokens) FROM event_rows") == [(1, 1000)]


def test_local_provider_is_free(env: Env) -> None:
    t1 = codex_usage(10_000, 0, 1000, 0)
    write_jsonl(env.rollout(), [meta(provider="ollama"), context("gpt-oss:20b"),
                                codex_token_count(at(1), t1, t1)])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT provider, cost_nano FROM event_rows") == [("local", 0)]


def test_codex_home_comma_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEX_HOME", f"{tmp_path / 'a'},{tmp_path / 'b'}")
    assert locations.codex_roots() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("CODEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert locations.codex_roots() == [tmp_path / ".codex"]


def fork_meta(session: str, when: dt.datetime, **extra: Any) -> dict[str, Any]:
    payload = {
        "id": session,
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "cwd": "/w/app",
        "cli_version": "0.60.0",
        "model_provider": "openai",
        **extra,
    }
    return codex_line(when, "session_meta", payload)


@pytest.mark.parametrize(
    "marker",
    [
        {"forked_from_id": "parent-1"},
        {"source": {"subagent": {"thread_spawn": {"parent_thread_id": "parent-1"}}}},
    ],
)
def test_forked_rollout_does_not_count_the_parents_copied_history(
    env: Env, marker: dict[str, Any]
) -> None:
    parent1, parent2 = codex_usage(1000, 0, 100, 0), codex_usage(3000, 0, 300, 0)
    write_jsonl(env.rollout("rollout-parent.jsonl"), [
        meta("parent-1"), context("gpt-5-codex"),
        codex_token_count(at(1), parent1, parent1), codex_token_count(at(2), parent2, parent2),
    ])  # fmt: skip
    fork = at(10)
    burst = [fork + dt.timedelta(milliseconds=ms) for ms in (1, 2, 3)]
    child_total = codex_usage(3500, 0, 350, 0)
    write_jsonl(env.rollout("rollout-child.jsonl"), [
        fork_meta("child-1", fork, **marker),
        fork_meta("parent-1", fork),  # ancestors' metas follow the child's
        codex_line(burst[0], "turn_context", {"model": "gpt-5-codex"}),
        codex_token_count(burst[1], parent1, parent1),
        codex_token_count(burst[2], parent2, parent2),
        codex_token_count(fork + dt.timedelta(seconds=7), child_total,
                          codex_usage(500, 0, 50, 0)),
    ])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    got = rows(env, "SELECT session_id, input_tokens, output_tokens FROM event_rows "
                    "ORDER BY ts_ms")  # fmt: skip
    assert got == [("parent-1", 1000, 100), ("parent-1", 2000, 200), ("child-1", 500, 50)]


def test_a_rollout_that_is_not_a_fork_counts_its_first_turns(env: Env) -> None:
    start = at(0)
    first = codex_usage(100, 0, 10, 0)
    write_jsonl(env.rollout(), [
        fork_meta("root", start), context("gpt-5-codex"),
        codex_token_count(start + dt.timedelta(milliseconds=200), first, first),
    ])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT input_tokens FROM events") == [(100,)]
