"""`--by` on the calendar and session reports: sums per attribution, per local day, exact."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import Env, run_cli

from spendlane.ledger import SqliteLedger
from spendlane.recording import record_many
from spendlane.reports.calendar import CostMode, Period, daily_report
from spendlane.reports.sessions import session_report

# Around Lord Howe's half-hour DST change and Kathmandu's :45 offset: day edges off the hour.
START = dt.datetime(2026, 4, 4, 10, tzinfo=dt.UTC)
ZONES = ("Australia/Lord_Howe", "Asia/Kathmandu", "America/New_York", "UTC")
PROJECTS = ("/srv/api", "/home/dev/web", None)
AGENTS = ("planner", "coder")

calls = st.lists(
    st.tuples(
        st.integers(0, 4 * 24 * 60),  # minutes after START
        st.sampled_from(PROJECTS),
        st.sampled_from(AGENTS),
        st.integers(1, 10**6),  # cost in micro-dollars: exact in nano
        st.sampled_from(("gpt-5", "claude-opus-4-6")),
    ),
    min_size=1,
    max_size=40,
)


def _record(ledger: SqliteLedger, rows: list[tuple[int, str | None, str, int, str]]) -> None:
    record_many(ledger, [
        {"timestamp": (START + dt.timedelta(minutes=m)).isoformat(), "model": model,
         "backend": "openai" if model.startswith("gpt") else "claude", "output_tokens": 10,
         "cost_usd": micro / 1e6, "project": project, "agent": agent, "session_id": f"s{m % 3}",
         "event_id": f"e{i}"}
        for i, (m, project, agent, micro, model) in enumerate(rows)
    ])  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls, st.sampled_from(ZONES), st.sampled_from((Period.DAY, Period.WEEK, Period.MONTH)))
def test_groups_per_period_equal_sums_of_the_calls(
    rows: list[tuple[int, str | None, str, int, str]], zone_name: str, period: Period
) -> None:
    zone = ZoneInfo(zone_name)
    expected: dict[tuple[dt.date, Any, Any], int] = defaultdict(int)
    for m, project, agent, micro, _ in rows:
        day = (START + dt.timedelta(minutes=m)).astimezone(zone).date()
        start = {Period.DAY: day, Period.WEEK: day - dt.timedelta(days=day.weekday()),
                 Period.MONTH: day.replace(day=1)}[period]  # fmt: skip
        expected[(start, project, agent)] += micro * 1000
    with tempfile.TemporaryDirectory() as folder, SqliteLedger(Path(folder) / "l.db") as ledger:
        _record(ledger, rows)
        report = daily_report(ledger, zone=zone, period=period, by=("project", "agent"),
                              cost_mode=CostMode.DISPLAY)  # fmt: skip
    got = {(day.date, *key): t.cost_nano for day in report.days for key, t in day.groups.items()}
    assert got == dict(expected)
    for day in report.days:  # the groups of a period add up to the period
        assert sum(t.cost_nano for t in day.groups.values()) == day.total.cost_nano
    over_range: dict[tuple[Any, Any], int] = defaultdict(int)
    for (_, project, agent), nano in expected.items():
        over_range[(project, agent)] += nano
    assert {k: t.cost_nano for k, t in report.groups.items()} == dict(over_range)


def test_range_limits_the_groups_to_its_days(tmp_path: Path) -> None:
    zone = ZoneInfo("Asia/Kathmandu")  # UTC+5:45: 18:15 UTC is local midnight
    rows = [(8 * 60 + 14, "/a", "coder", 1, "gpt-5"), (8 * 60 + 15, "/a", "coder", 2, "gpt-5")]
    with SqliteLedger(tmp_path / "l.db") as ledger:
        _record(ledger, rows)
        first_day = (START + dt.timedelta(minutes=rows[0][0])).astimezone(zone).date()
        report = daily_report(ledger, zone=zone, since=first_day, until=first_day,
                              by=("project",), cost_mode=CostMode.DISPLAY)  # fmt: skip
    assert [(d.date, {k: t.cost_nano for k, t in d.groups.items()}) for d in report.days] == [
        (first_day, {("/a",): 1000})
    ]


def test_sessions_grouped_by_agent(tmp_path: Path) -> None:
    rows = [(0, "/a", "planner", 5, "gpt-5"), (3, "/a", "coder", 7, "gpt-5"),
            (6, "/a", "coder", 11, "claude-opus-4-6"), (1, "/b", "coder", 13, "gpt-5")]  # fmt: skip
    with SqliteLedger(tmp_path / "l.db") as ledger:
        _record(ledger, rows)
        report = session_report(ledger, zone=dt.UTC, by=("agent",), cost_mode=CostMode.DISPLAY)
    by_session = {
        s.session_id: ({k: t.cost_nano for k, t in s.groups.items()},
                       {m: t.events for m, t in s.models.items()})
        for s in report.sessions
    }  # fmt: skip
    assert by_session == {
        "s0": ({("planner",): 5000, ("coder",): 18000}, {"gpt-5": 2, "claude-opus-4-6": 1}),
        "s1": ({("coder",): 13000}, {"gpt-5": 1}),
    }
    s0 = next(s for s in report.sessions if s.session_id == "s0")
    assert (s0.first_ms, s0.last_ms) == (
        int(START.timestamp() * 1000),
        int((START + dt.timedelta(minutes=6)).timestamp() * 1000),
    )


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, columns=200)


def test_cli_by_in_json_and_table(env: Env) -> None:
    with SqliteLedger(env.ledger_path) as ledger:
        rows = [(0, "[red]x[/red]", "coder", 5000, "gpt-5"), (1, "/b", "coder", 7000, "gpt-5")]
        _record(ledger, rows)
    out = run("daily", "--json", "--no-ingest", "--by", "project,agent", "--timezone", "UTC")
    data = json.loads(out.stdout)
    assert data["by"] == ["project", "agent"]
    assert [(g["project"], g["agent"], g["cost"]) for g in data["daily"][0]["groups"]] == [
        ("/b", "coder", 0.007),
        ("[red]x[/red]", "coder", 0.005),
    ]
    assert data["totals"]["groups"][0]["events"] == 1
    table = run("monthly", "--no-ingest", "--by", "project", "--timezone", "UTC")
    assert table.returncode == 0
    assert "project=[red]x[/red]" in table.stdout  # shown as written, not taken as markup
    session = json.loads(run("session", "--json", "--no-ingest", "--by", "agent").stdout)
    assert session["sessions"][0]["groups"][0]["agent"] == "coder"
    bad = run("daily", "--no-ingest", "--by", "colour")
    assert bad.returncode == 2
    assert "'colour' is not one of model, project" in bad.stderr


def test_long_tables_print_plainly_with_every_row_and_the_total(env: Env) -> None:
    with SqliteLedger(env.ledger_path) as ledger:
        record_many(ledger, [
            {"timestamp": (START + dt.timedelta(minutes=i)).isoformat(), "model": "gpt-5",
             "cost_usd": 0.5, "session_id": f"sess{i:04d}", "project": f"/srv/[p{i % 7}]",
             "event_id": f"e{i}"}
            for i in range(400)
        ])  # fmt: skip
    out = run("session", "--no-ingest", "--since", "2026-04-01", "--until", "2026-04-30")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert sum(1 for line in lines if line.startswith("sess")) == 400
    assert "[p3]" in out.stdout  # names as written, not taken as markup
    total = next(line for line in lines if line.startswith("Total"))
    assert total.endswith("$200.00")
    widths = {len(line) for line in lines if line.startswith("sess")}
    assert len(widths) == 1  # aligned columns


def test_blocks_and_history_by_attribution(env: Env) -> None:
    with SqliteLedger(env.ledger_path) as ledger:
        _record(ledger, [(0, "/a", "coder", 5000, "gpt-5"), (30, "/b", "coder", 7000, "gpt-5"),
                         (9 * 60, "/a", "planner", 11000, "gpt-5")])  # fmt: skip
    blocks = json.loads(run("blocks", "--json", "--no-ingest", "--source", "all", "--by",
                            "project").stdout)["blocks"]  # fmt: skip
    real = [b for b in blocks if not b["isGap"]]
    assert [[(g["project"], g["cost"]) for g in b["groups"]] for b in real] == [
        [("/b", 0.007), ("/a", 0.005)],
        [("/a", 0.011)],
    ]
    history = json.loads(run("history", "2026-04-01..2026-04-30", "--json", "--no-ingest",
                             "--by", "agent", "--timezone", "UTC").stdout)  # fmt: skip
    assert history["by"] == ["agent"]
    assert {g["agent"]: g["cost"] for g in history["totals"]["groups"]} == {
        "coder": 0.012,
        "planner": 0.011,
    }
    table = run("history", "2026-04-01..2026-04-30", "--no-ingest", "--by", "agent",
                "--timezone", "UTC")  # fmt: skip
    assert "agent=planner" in table.stdout
