"""Recording calls from outside the agents' logs: API, CLI, stdin, many processes at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import Env
from tests.conftest import run_cli as run

import spendlane
from spendlane.recording import RecordError, to_event


def rows(env: Env, sql: str) -> list[tuple[object, ...]]:
    with env.ledger() as ledger:
        return list(ledger.connection.execute(sql))


def test_openai_style_record_is_split_and_priced(env: Env) -> None:
    stored = spendlane.record(
        timestamp="2026-11-20T10:00:00Z", backend="gpt", model="gpt-5-codex",
        prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=100_000,
        task_id="T-1", task_type="refactor", agent="builder", event_id="run-1",
    )  # fmt: skip
    assert stored.provider == "openai"
    # 600k uncached at $1.25, 400k cached at $0.125, 100k output at $10 per MTok
    assert stored.cost_usd == pytest.approx(0.75 + 0.05 + 1.0)
    got = rows(env, "SELECT input_tokens, cache_read_tokens, output_tokens, task_id, task_type, "
                    "agent, source FROM event_rows")  # fmt: skip
    assert got == [(600_000, 400_000, 100_000, "T-1", "refactor", "builder", "record")]


def test_reported_cost_kept_and_used_in_auto_mode(env: Env) -> None:
    spendlane.record(backend="claude", model="claude-sonnet-4-5", input_tokens=1000,
                     output_tokens=100, cost_usd=0.5, timestamp=1_790_000_000)  # fmt: skip
    assert rows(env, "SELECT reported_cost_nano, cost_nano FROM events") == [
        (500_000_000, 1000 * 3000 + 100 * 15_000)
    ]


def test_event_id_makes_recording_idempotent(env: Env) -> None:
    for _ in range(3):
        spendlane.record(model="claude-haiku-4-5", backend="anthropic", output_tokens=7,
                         event_id="same")  # fmt: skip
    spendlane.record(model="claude-haiku-4-5", backend="anthropic", output_tokens=7)
    assert rows(env, "SELECT COUNT(*), SUM(output_tokens) FROM events") == [(2, 14)]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"input_tokens": 5}, "model"),
        ({"model": "m", "output_tokens": -1}, "output_tokens"),
        ({"model": "m", "output_tokens": "12"}, "output_tokens"),
        ({"model": "m", "prompt_tokens": 5, "cached_tokens": 9}, "cached_tokens"),
        ({"model": "m", "timestamp": "yesterday-ish"}, "timestamp"),
        ({"model": "m", "cost_usd": "free"}, "cost_usd"),
        ({"model": "m", "tokens": 5}, "tokens"),
        ({"model": "m", "task_id": 42}, "task_id"),
    ],
)
def test_bad_fields_are_named(fields: dict[str, object], field: str) -> None:
    with pytest.raises(RecordError) as caught:
        to_event(fields)
    assert caught.value.field == field
    assert f"field '{field}'" in str(caught.value)


def test_cli_flags_and_stdin_lines(env: Env) -> None:
    one = run("record", "--model", "kimi-k2-thinking", "--backend", "kimi", "--input-tokens",
              "1000000", "--json")  # fmt: skip
    assert one.returncode == 0, one.stderr
    out = json.loads(one.stdout)
    assert out["new"] == 1
    assert out["records"][0]["provider"] == "moonshotai"
    assert out["records"][0]["costUsd"] == pytest.approx(0.6)
    lines = "\n".join(json.dumps({"model": "gpt-5-codex", "backend": "openai",
                                  "prompt_tokens": 10, "completion_tokens": 2,
                                  "event_id": f"e{i}"}) for i in range(3))  # fmt: skip
    many = run("record", stdin=lines + "\n")
    assert many.returncode == 0, many.stderr
    assert "recorded 3 new call(s), 0 already known" in many.stdout
    again = run("record", stdin=lines)
    assert "recorded 0 new call(s), 3 already known" in again.stdout
    bad = run("record", stdin=lines + '\n{"model": "x", "output_tokens": -5}\n')
    assert bad.returncode == 1
    assert "field 'output_tokens'" in bad.stderr
    assert rows(env, "SELECT COUNT(*) FROM events") == [(4,)]  # the bad batch stored nothing


def test_eight_processes_recording_500_each_lose_nothing(env: Env, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from spendlane.ledger import SqliteLedger
        from spendlane.recording import record_many
        worker = int(sys.argv[1])
        with SqliteLedger(Path({str(env.ledger_path)!r})) as ledger:
            for i in range(500):
                record_many(ledger, [{{"model": "claude-haiku-4-5", "backend": "claude",
                                       "output_tokens": 1, "event_id": f"w{{worker}}-{{i}}",
                                       "agent": f"agent-{{worker}}"}}])
    """))  # fmt: skip
    writers = [subprocess.Popen([sys.executable, str(script), str(w)], env=os.environ.copy(),
                                stderr=subprocess.PIPE, text=True) for w in range(8)]  # fmt: skip
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
    assert rows(env, "SELECT COUNT(*), SUM(output_tokens), COUNT(DISTINCT agent) "
                     "FROM event_rows") == [(4000, 4000, 8)]  # fmt: skip
    assert rows(env, "SELECT SUM(events) FROM rollup_15m") == [(4000,)]
