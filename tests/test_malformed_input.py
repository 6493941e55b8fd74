"""Bad input is skipped and counted, never fatal; half-written lines are counted once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import Env

from spendlane.demo import claude_assistant, codex_line, codex_token_count, codex_usage
from spendlane.ledger.sqlite import FileCursor
from spendlane.sources import claude_code, codex
from spendlane.sources.reading import Chunk, read_new

T0 = dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)


def chunk_of(data: bytes) -> Chunk:
    cursor = FileCursor("f.jsonl", "test", 0, len(data), 0, len(data), 0, "")
    return Chunk(data, 0, len(data), True, cursor)


def good_line(n: int) -> bytes:
    line = claude_assistant(when=T0, session_id="s", message_id=f"m{n}", request_id="r",
                            output_tokens=n + 1)  # fmt: skip
    return json.dumps(line).encode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)  # fmt: skip
# Assistant-looking lines with any value in the places the parser reads.
mangled = st.builds(
    lambda usage, message, stamp: json.dumps({"type": "assistant", "timestamp": stamp,
                                              "message": {"id": message, "model": "claude-x",
                                                          "usage": usage}}).encode(),
    json_values, json_values, json_values,
)  # fmt: skip
junk = st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" "))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(mangled, junk, json_values.map(lambda v: json.dumps(v).encode())), max_size=12
    )
)
def test_claude_parser_survives_anything_and_keeps_good_lines(bad: list[bytes]) -> None:
    lines = [good_line(0), *bad, good_line(1)]
    parsed = claude_code.parse(chunk_of(b"\n".join(lines) + b"\n"), "/x/projects/p/s.jsonl")
    outputs = sorted(e.output_tokens for e in parsed.events if e.key in ("cc:m0:r", "cc:m1:r"))
    assert outputs == [1, 2]
    assert 0 <= parsed.malformed <= len(bad)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(junk, json_values.map(
    lambda v: json.dumps({"timestamp": "2026-11-20T10:00:00.000Z", "type": "event_msg",
                          "payload": {"type": "token_count", "info": v}}).encode())),
    max_size=12))  # fmt: skip
def test_codex_parser_survives_anything(bad: list[bytes]) -> None:
    total = codex_usage(100, 0, 10, 0)
    good = [json.dumps(codex_line(T0, "turn_context", {"model": "gpt-5-codex"})).encode(),
            json.dumps(codex_token_count(T0, total, total)).encode()]  # fmt: skip
    parsed = codex.parse(chunk_of(b"\n".join([*good, *bad]) + b"\n"), "rollout-x.jsonl")
    assert parsed.events[0].input_tokens == 100
    assert 0 <= parsed.malformed <= len(bad)


def test_wrong_types_are_counted_as_malformed(env: Env) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    bad = [
        b'{"type":"assistant","timestamp":"2026-11-20T10:00:00.000Z","message":'
        b'{"id":"x","model":"claude-x","usage":{"output_tokens":"12"}}}',
        b'{"type":"assistant","timestamp":12,"message":{"id":"y"}}',
        b'{"type":"assistant","message":[1,2]}',
        b'{"type":"assistant", "oops"}',
    ]
    path.write_bytes(b"\n".join([good_line(0), *bad, good_line(1)]) + b"\n")
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["claude_code"].malformed_lines == 4
    assert report.sources["claude_code"].new_events == 2


@pytest.mark.parametrize(
    "content", [{"a": 1}, 7, [1, "two"], [{"type": "tool_use", "name": 5}], [{"name": "Skill"}]]
)
def test_a_message_content_of_any_shape_keeps_its_call(content: object) -> None:
    # Only the content's tool names are read on the fast path; a content of another shape
    # (or a tool use without a proper input) must not cost the call its usage.
    line = json.loads(good_line(0))
    line["message"]["content"] = content
    parsed = claude_code.parse(chunk_of(json.dumps(line).encode() + b"\n"), "f.jsonl")
    assert (parsed.malformed, len(parsed.events)) == (0, 1)
    assert parsed.events[0].output_tokens == 1


def test_half_written_last_line_is_counted_once_when_complete(env: Env) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    whole = good_line(5)
    path.write_bytes(good_line(0) + b"\n" + whole[:40])
    with env.ledger() as ledger:
        first = env.ingest(ledger)
        assert first.sources["claude_code"].malformed_lines == 0
        assert first.sources["claude_code"].new_events == 1
        with path.open("ab") as f:
            f.write(whole[40:] + b"\n")
        second = env.ingest(ledger)
        third = env.ingest(ledger)
        outputs = ledger.connection.execute("SELECT output_tokens FROM events").fetchall()
    assert second.sources["claude_code"].new_events == 1
    assert third.sources["claude_code"].files_read == 0
    assert sorted(outputs) == [(1,), (6,)]


def test_complete_last_line_without_newline_is_taken_once(env: Env) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(good_line(0) + b"\n" + good_line(1))  # no final newline
    with env.ledger() as ledger:
        first = env.ingest(ledger)
        with path.open("ab") as f:
            f.write(b"\n" + good_line(2) + b"\n")
        second = env.ingest(ledger)
    assert first.sources["claude_code"].new_events == 2
    assert second.sources["claude_code"].new_events == 1
    assert second.sources["claude_code"].duplicates == 0
    assert second.sources["claude_code"].malformed_lines == 0


def test_appending_reads_only_the_new_bytes(env: Env) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(good_line(0) + b"\n")
    with env.ledger() as ledger:
        env.ingest(ledger)
        added = good_line(1) + b"\n" + good_line(2) + b"\n"
        with path.open("ab") as f:
            f.write(added)
        report = env.ingest(ledger)
    assert report.sources["claude_code"].bytes_read == len(added)
    assert report.sources["claude_code"].new_events == 2


def test_replaced_file_is_read_again_without_double_counting(env: Env) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\n".join(good_line(n) for n in range(5)) + b"\n")
    with env.ledger() as ledger:
        env.ingest(ledger)
        path.write_bytes(good_line(0) + b"\n" + good_line(9) + b"\n")  # shorter, rewritten
        report = env.ingest(ledger)
        count = ledger.connection.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    stats = report.sources["claude_code"]
    assert (stats.files_reset, stats.new_events, stats.duplicates) == (1, 1, 1)
    assert count == 6  # the ledger keeps calls whose transcript lines are gone


def test_file_vanishing_between_listing_and_reading(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = env.session_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(good_line(0) + b"\n")

    def vanish(p: str, *args: Any, **kwargs: Any) -> Chunk | None:
        Path(p).unlink(missing_ok=True)  # deleted after it was listed, before it is read
        return read_new(p, *args, **kwargs)

    monkeypatch.setattr("spendlane.ingest_worker.read_new", vanish)
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.sources["claude_code"].files_vanished == 1
    assert report.sources["claude_code"].new_events == 0


def test_windows_line_endings_blank_lines_and_a_pretty_object_read_like_plain_lines() -> None:
    """CRLF line ends, blank lines of spaces, and a pretty-printed object written with CRLF:
    every call is read once, nothing is counted malformed (lines are found in place, and
    only a line that does not end with "}" is checked for being blank or an object's start)."""
    pretty = json.dumps(json.loads(good_line(3)), indent=2).replace("\n", "\r\n").encode()
    data = b"".join([
        good_line(1), b"\r\n", b"   \r\n", b"\r\n", good_line(2), b"  \r\n",
        pretty, b"\r\n", b"\t\n", good_line(4), b"\r\n",
    ])  # fmt: skip
    parsed = claude_code.parse(chunk_of(data), "/x/projects/p/s.jsonl")
    assert sorted(e.output_tokens for e in parsed.events) == [2, 3, 4, 5]
    assert parsed.malformed == 0
    assert parsed.resume_at is None
