"""The command line as a user meets it."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner
from tests.conftest import Env, assistant
from tests.conftest import run_cli as run

from spendlane.cli import main
from spendlane.demo import write_jsonl


def test_no_logs_says_where_it_looked_and_suggests_demo(env: Env) -> None:
    result = run()
    assert result.returncode == 0, result.stderr
    assert "No agent logs found" in result.stdout
    assert str(env.claude) in result.stdout
    assert str(env.codex) in result.stdout
    assert "spendlane demo" in result.stdout


def test_daily_json_then_warm_run_reads_nothing(env: Env) -> None:
    when = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    write_jsonl(env.session_file(), [assistant(when, "m1", 1000), assistant(when, "m1", 2000)])
    first = run("daily", "--json")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout)
    assert out["totals"]["outputTokens"] == 2000
    assert out["daily"][0]["date"] == "2026-11-20"
    ingest = json.loads(run("ingest", "--json").stdout)
    assert ingest["sources"]["claude_code"]["filesSeen"] == 1
    assert ingest["sources"]["claude_code"]["filesRead"] == 0
    assert ingest["sources"]["claude_code"]["newEvents"] == 0


def test_ingest_json_counts_everything(env: Env) -> None:
    when = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    path = env.session_file()
    write_jsonl(path, [assistant(when, "m1", 1), assistant(when, "m1", 2)])
    with path.open("a") as f:
        f.write("{oops\n")
    out = json.loads(run("ingest", "--source", "claude", "--json").stdout)
    assert list(out["sources"]) == ["claude_code"]
    stats = out["sources"]["claude_code"]
    assert (stats["filesSeen"], stats["filesRead"], stats["newEvents"], stats["duplicates"],
            stats["malformedLines"], stats["unpricedEvents"]) == (1, 1, 1, 1, 0, 0)  # fmt: skip


def test_since_until_and_timezone_flags(env: Env) -> None:
    write_jsonl(env.session_file(), [
        assistant(dt.datetime(2026, 11, 19, 23, 30, tzinfo=dt.UTC), "a", 1),
        assistant(dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC), "b", 2),
    ])  # fmt: skip
    out = json.loads(run("daily", "--json", "--since", "20261120", "--until", "2026-11-20",
                         "--timezone", "Asia/Tokyo").stdout)  # fmt: skip
    assert [(d["date"], d["outputTokens"]) for d in out["daily"]] == [("2026-11-20", 1)]


def test_bad_date_and_zone_are_clear_errors(env: Env) -> None:
    bad_date = run("daily", "--since", "2026-13-01")
    assert bad_date.returncode == 2
    assert "--since" in bad_date.stderr and "2026-13-01" in bad_date.stderr
    bad_zone = run("daily", "--timezone", "Mars/Olympus")
    assert bad_zone.returncode == 2
    assert "Mars/Olympus" in bad_zone.stderr


def test_bad_prices_file_names_file_line_and_field(env: Env) -> None:
    (env.home / "prices.toml").write_text('[[model]]\nmatch = "x"\ninput = "cheap"\noutput = 1\n')
    result = run("daily")
    assert result.returncode == 1
    assert f"{env.home / 'prices.toml'}, line 3, field 'input'" in result.stderr


def test_demo_reports_on_sample_logs(env: Env) -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    assert "Daily usage" in result.stdout
    assert "new events" in result.stdout
    assert "Total" in result.stdout
    # the user's own ledger is untouched by the demo
    assert not env.ledger_path.exists()


def test_overview_month_starts_at_local_month_start(env: Env) -> None:
    # 23:30 UTC on Nov 30 is already December 1st in Berlin.
    write_jsonl(env.session_file(), [
        assistant(dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC), "nov", 1_000_000),
        assistant(dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC), "dec", 2_000_000),
    ])  # fmt: skip
    # time-machine mocks the local zone too when given a ZoneInfo destination.
    berlin = ZoneInfo("Europe/Berlin")
    with time_machine.travel(dt.datetime(2026, 12, 1, 1, 45, tzinfo=berlin), tick=False):
        result = CliRunner().invoke(main, [], catch_exceptions=False)
    assert result.exit_code == 0
    # only December's call: 2M output tokens of Sonnet 4.5 at $15/MTok, plus 100 input
    assert "Today $30.00" in result.output
    assert "This month $30.00" in result.output


def test_python_dash_m_and_version(env: Env) -> None:
    result = run("--version")
    assert result.returncode == 0
    assert "0.1.0" in result.stdout


def test_weekly_and_monthly_json(env: Env) -> None:
    write_jsonl(env.session_file(), [
        assistant(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), "a", 1),  # Saturday
        assistant(dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC), "b", 2),  # Monday
    ])  # fmt: skip
    weekly = json.loads(run("weekly", "--json", "--start-of-week", "sunday").stdout)
    assert [(w["week"], w["outputTokens"]) for w in weekly["weekly"]] == [
        ("2026-11-15", 1), ("2026-11-22", 2),
    ]  # fmt: skip
    monthly = json.loads(run("monthly", "--json", "--no-ingest").stdout)
    assert [(m["month"], m["outputTokens"]) for m in monthly["monthly"]] == [("2026-11", 3)]
    assert monthly["totals"]["outputTokens"] == 3


def test_named_range_argument(env: Env) -> None:
    write_jsonl(env.session_file(), [
        assistant(dt.datetime(2026, 11, 14, 9, tzinfo=dt.UTC), "a", 1),  # last week
        assistant(dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC), "b", 2),  # this week
    ])  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 11, 22, 12, tzinfo=ZoneInfo("UTC")), tick=False):
        result = CliRunner().invoke(main, ["daily", "last-week", "--json"])
    assert result.exit_code == 0, result.output
    assert [d["date"] for d in json.loads(result.output)["daily"]] == ["2026-11-14"]


def test_history_last_week_per_day_provider_and_model(env: Env) -> None:
    write_jsonl(env.session_file(), [
        assistant(dt.datetime(2026, 11, 16, 9, tzinfo=dt.UTC), "a", 1_000_000),  # last week
        assistant(dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC), "b", 5),  # this week
    ])  # fmt: skip
    with time_machine.travel(dt.datetime(2026, 11, 24, 12, tzinfo=ZoneInfo("UTC")), tick=False):
        result = CliRunner().invoke(main, ["history", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert [d["date"] for d in out["history"]] == ["2026-11-16"]
    (provider,) = out["history"][0]["providers"]
    assert provider["provider"] == "anthropic"
    assert provider["models"][0]["modelName"] == "claude-sonnet-4-5-20250929"
    assert provider["cost"] == pytest.approx(15.0003)  # 1M output at $15 + 100 input at $3
