"""Claude Code transcripts, read exactly as shared/formats.md describes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import Env

from spendlane.demo import claude_assistant, claude_user, write_jsonl
from spendlane.events import key_id
from spendlane.sources import claude_code, locations

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def rows(env: Env, sql: str) -> list[tuple[object, ...]]:
    with env.ledger() as ledger:
        return list(ledger.connection.execute(sql))


def line(**kw: object) -> dict[str, object]:
    defaults: dict[str, object] = {"when": T0, "session_id": "s1", "message_id": "msg_1",
                                   "request_id": "req_1"}  # fmt: skip
    defaults.update(kw)
    return claude_assistant(**defaults)  # type: ignore[arg-type]


def test_streamed_copies_keep_the_largest_and_count_once(env: Env) -> None:
    write_jsonl(env.session_file(), [
        line(input_tokens=10, cache_read=1000, output_tokens=8),
        line(input_tokens=10, cache_read=1000, output_tokens=322),
        line(input_tokens=10, cache_read=1000, output_tokens=322),
    ])  # fmt: skip
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    stats = report.sources["claude_code"]
    assert stats.new_events == 1
    assert stats.duplicates == 2
    assert rows(env, "SELECT output_tokens, input_tokens, cache_read_tokens FROM event_rows") == [
        (322, 10, 1000)
    ]


@pytest.mark.parametrize(
    ("copies", "kept"),
    [
        # a corrupt copy (tokens beyond any real call) never hides a real one, whichever is first
        ([(10**11, False), (40, False)], (40, 0)),
        ([(40, False), (10**11, False)], (40, 0)),
        # within one file, a main-thread copy beats a sidechain one even with fewer tokens
        ([(900, True), (40, False)], (40, 0)),
        ([(40, False), (900, True)], (40, 0)),
        ([(5, True), (900, True), (7, True)], (900, 1)),
    ],
)
def test_the_best_copy_in_one_file_wins_as_it_would_across_files(
    env: Env, copies: list[tuple[int, bool]], kept: tuple[int, int]
) -> None:
    write_jsonl(env.session_file(), [line(output_tokens=n, sidechain=side) for n, side in copies])
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["claude_code"].new_events == 1
    assert rows(env, "SELECT output_tokens, is_sidechain FROM event_rows") == [kept]


def test_larger_copy_in_a_later_file_replaces_the_stored_one(env: Env) -> None:
    write_jsonl(env.session_file("a"), [line(output_tokens=8)])
    with env.ledger() as ledger:
        env.ingest(ledger)
        write_jsonl(env.session_file("b"), [line(output_tokens=300, session_id="s2")])
        report = env.ingest(ledger)
    assert report.sources["claude_code"].replaced == 1
    assert rows(env, "SELECT output_tokens FROM event_rows") == [(300,)]
    assert rows(env, "SELECT SUM(output_tokens), SUM(events) FROM rollup_15m") == [(300, 1)]


def test_main_thread_copy_preferred_over_sidechain_copy(env: Env) -> None:
    folder = env.session_file().parent
    write_jsonl(folder / "s1" / "subagents" / "agent-abc.jsonl",
                [line(output_tokens=50, sidechain=True, agent_id="abc")])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
        write_jsonl(env.session_file(), [line(output_tokens=50)])
        env.ingest(ledger)
    assert rows(env, "SELECT is_sidechain, agent_id FROM event_rows") == [(0, None)]


def test_subagent_files_found_recursively_and_attributed(env: Env) -> None:
    folder = env.session_file().parent
    write_jsonl(
        folder / "s1" / "subagents" / "agent-a1.jsonl",
        [line(message_id="m_sub", output_tokens=5, sidechain=True, agent_id="a1")],
    )
    write_jsonl(folder / "agent-old7.jsonl",  # older builds: next to the session file
                [line(message_id="m_old", output_tokens=6, sidechain=True)])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert sorted(rows(env, "SELECT id, agent_id, is_sidechain FROM event_rows")) == sorted(
        [
            (key_id("cc:m_old:req_1"), "old7", 1),
            (key_id("cc:m_sub:req_1"), "a1", 1),
        ]
    )


def test_task_result_usage_decoy_is_not_counted(env: Env) -> None:
    write_jsonl(env.session_file(), [
        claude_user(when=T0, session_id="s1", text="go",
                    task_usage={"input_tokens": 5000, "output_tokens": 7000}),
        line(output_tokens=12),
    ])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT COUNT(*), SUM(output_tokens) FROM event_rows") == [(1, 12)]


def test_synthetic_lines_are_not_model_calls_but_limits_are_captured(env: Env) -> None:
    synthetic = line(message_id="x1", model="<synthetic>",
                     text="Claude AI usage limit reached|1795179600",
                     extra={"isApiErrorMessage": True})  # fmt: skip
    newer = line(message_id="x2", model="<synthetic>", when=T0 + dt.timedelta(hours=1),
                 text="You've hit your limit · resets 3pm (Europe/Berlin)",
                 extra={"isApiErrorMessage": True})  # fmt: skip
    write_jsonl(env.session_file(), [synthetic, newer, line(output_tokens=3)])
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT model FROM event_rows") == [("claude-sonnet-4-5-20250929",)]
    notices = rows(env, "SELECT reset_at_ms FROM limit_notices ORDER BY ts_ms")
    berlin_3pm = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert notices == [(1_795_179_600_000,), (int(berlin_3pm.timestamp()) * 1000,)]


def test_non_anthropic_model_keyed_on_message_id_and_flagged_unpriced(env: Env) -> None:
    qwen = {
        "type": "assistant", "timestamp": "2026-11-20T10:00:00.000Z", "sessionId": "s1",
        "cwd": "/w", "message": {"id": "msg_4f1d2c3b-0000-4000-8000-000000000001",
                                 "model": "qwen3.5-plus",
                                 "usage": {"input_tokens": 500, "output_tokens": 50}},
    }  # fmt: skip
    write_jsonl(env.session_file(), [qwen, qwen])
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.unpriced_models == {"qwen3.5-plus"}
    assert report.sources["claude_code"].unpriced_events == 1
    assert rows(env, "SELECT id, cost_nano, cost_basis, input_tokens FROM event_rows") == [
        (key_id("cc:msg_4f1d2c3b-0000-4000-8000-000000000001"), None, "unpriced", 500)
    ]


def test_attribution_kept(env: Env) -> None:
    write_jsonl(env.session_file(project="-home-dev-shop"),
                [line(cwd="/home/dev/shop", output_tokens=1)])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(
        env, "SELECT project, project_dir, session_id, git_branch, version FROM event_rows"
    ) == [("/home/dev/shop", "-home-dev-shop", "s1", "main", "2.0.42")]


def test_cost_usd_field_is_kept_as_reported_cost(env: Env) -> None:
    write_jsonl(env.session_file(), [line(output_tokens=100, extra={"costUSD": 0.0123})])
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT reported_cost_nano FROM event_rows") == [(12_300_000,)]


def test_fast_mode_priced_at_fast_rates(env: Env) -> None:
    fast = line(model="claude-opus-4-8", output_tokens=1_000_000)
    fast["message"]["usage"]["speed"] = "fast"  # type: ignore[index]
    write_jsonl(env.session_file(), [fast])
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT cost_nano FROM event_rows") == [(50_000_000_000,)]


def test_malformed_lines_skipped_and_counted(env: Env) -> None:
    path = env.session_file()
    write_jsonl(path, [line(output_tokens=1)])
    with path.open("a") as f:
        f.write('{"type":"assistant","message":{"usage":{"output_tokens":"many"}}}\n')
        f.write('{"type":"assistant", broken\n')
        f.write("\n")
    write_jsonl(path, [line(message_id="m2", output_tokens=2)])
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["claude_code"].malformed_lines == 2
    assert rows(env, "SELECT SUM(output_tokens) FROM event_rows") == [(3,)]


def test_pretty_printed_objects_are_read(env: Env) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(line(output_tokens=7), indent=2) + "\n"
                    + json.dumps(line(message_id="m2", output_tokens=8)) + "\n")  # fmt: skip
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["claude_code"].malformed_lines == 0
    assert rows(env, "SELECT SUM(output_tokens) FROM event_rows") == [(15,)]


def test_config_dir_comma_list_replaces_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path / 'a'}, {tmp_path / 'b'}")
    assert locations.claude_roots() == [tmp_path / "a", tmp_path / "b"]
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    assert locations.claude_roots() == [tmp_path / ".config" / "claude", tmp_path / ".claude"]


def test_both_default_roots_merged(env: Env, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    write_jsonl(one / "projects" / "p" / "a.jsonl", [line(message_id="m1", output_tokens=1)])
    write_jsonl(two / "projects" / "p" / "b.jsonl", [line(message_id="m2", output_tokens=2)])
    from spendlane.ingest import ingest

    with env.ledger() as ledger:
        ingest(ledger, sources=["claude_code"], roots={"claude_code": [one, two]})
    assert rows(env, "SELECT SUM(output_tokens) FROM event_rows") == [(3,)]


def test_project_dir_of_nested_subagent_file() -> None:
    path = "/r/projects/-home-x/abc/subagents/agent-1.jsonl"
    assert claude_code.project_dir_of(path) == "-home-x"


@given(
    st.lists(
        st.sampled_from(["projects", "-home-x", "abc", "subagents", "a.jsonl", "p r"])
        | st.text(st.characters(blacklist_characters="/\x00"), min_size=1, max_size=6).filter(
            lambda name: name != "."  # a listed folder has no "." part; pathlib drops it
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_project_dir_of_reads_paths_as_pathlib_does(segments: list[str], absolute: bool) -> None:
    """The string-split reading (pathlib costs more than the rest of a small file) gives what
    the folder parts say: the folder right under the innermost `projects` that is not the
    file itself."""
    path = ("/" if absolute else "") + "/".join(segments)
    parts = PurePosixPath(path).parts
    expected = next((parts[i + 1] for i in range(len(parts) - 2, -1, -1)
                     if parts[i] == "projects" and i + 1 < len(parts) - 1), None)  # fmt: skip
    assert claude_code.project_dir_of(path) == expected


def test_large_file_read_in_slices_counts_everything_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from spendlane.sources import reading

    monkeypatch.setattr(reading, "READ_LIMIT", 700)  # a few lines per slice
    monkeypatch.setattr(reading.read_new, "__defaults__", (700,))
    lines = [line(message_id=f"m{i}", output_tokens=i + 1) for i in range(40)]
    lines.insert(20, line(message_id="m5", output_tokens=999))  # a later, larger copy
    write_jsonl(env.session_file(), lines)
    with env.ledger() as ledger:
        report = env.ingest(ledger)
        again = env.ingest(ledger)
    stats = report.sources["claude_code"]
    assert stats.files_read == 1
    assert stats.new_events == 40
    assert stats.bytes_read == env.session_file().stat().st_size
    assert again.sources["claude_code"].files_read == 0
    assert rows(env, "SELECT SUM(output_tokens) FROM events") == [(sum(range(1, 41)) - 6 + 999,)]


def test_main_thread_copy_wins_even_when_smaller(env: Env) -> None:
    """As ccusage decides: a subagent's copy of a main-thread call never replaces it."""
    folder = env.session_file().parent
    write_jsonl(env.session_file(), [line(output_tokens=8)])
    write_jsonl(folder / "s1" / "subagents" / "agent-x.jsonl",
                [line(output_tokens=322, sidechain=True, agent_id="x")])  # fmt: skip
    with env.ledger() as ledger:
        env.ingest(ledger)
    assert rows(env, "SELECT output_tokens, is_sidechain FROM event_rows") == [(8, 0)]


def test_every_field_of_a_parsed_call() -> None:
    # The parser builds events by position (fast): every field must land where it belongs.
    from spendlane.events import CostBasis, UsageEvent
    from spendlane.ledger.sqlite import FileCursor
    from spendlane.sources.reading import Chunk

    skill_use = claude_assistant(when=T0, session_id="s", message_id="m0", request_id="r0")
    skill_use["message"]["content"] = [
        {"type": "tool_use", "id": "t0", "name": "Skill", "input": {"skill": "pdf"}}
    ]
    line = claude_assistant(
        when=T0 + dt.timedelta(seconds=1), session_id="sess", message_id="m1", request_id="r1",
        model="claude-opus-4-1-20250805", input_tokens=11, output_tokens=22, cache_5m=33,
        cache_1h=44, cache_read=55, cwd="/w/app", sidechain=True, agent_id="ag1",
        extra={"costUSD": 0.5, "gitBranch": "feature", "version": "2.1.0"},
    )  # fmt: skip
    line["message"]["usage"]["server_tool_use"] = {"web_search_requests": 3}
    line["message"]["usage"]["speed"] = "fast"
    data = (json.dumps(skill_use) + "\n" + json.dumps(line) + "\n").encode()
    path = "/h/.claude/projects/-w-app/agent-ag1.jsonl"
    cursor = FileCursor(path, "claude_code", 0, len(data), 0, len(data), 0, "")
    events = claude_code.parse(Chunk(data, 0, len(data), True, cursor), path).events
    assert events[1] == UsageEvent(
        key="cc:m1:r1", ts_ms=int((T0.timestamp() + 1) * 1000), source="claude_code",
        provider="anthropic", model="claude-opus-4-1-20250805", input_tokens=11,
        output_tokens=22, cache_write_5m_tokens=33, cache_write_1h_tokens=44,
        cache_read_tokens=55, reasoning_tokens=0, web_search_requests=3, speed="fast",
        model_estimated=False, reported_cost_nano=500_000_000, cost_nano=None,
        cost_basis=CostBasis.UNPRICED, session_id="sess", project="/w/app",
        project_dir="-w-app", agent_id="ag1", is_sidechain=True, git_branch="feature",
        version="2.1.0", machine=None, agent=None, task_id=None, task_type=None, skill="pdf",
        account=None, lane=None, auth_mode=None,
    )  # fmt: skip
