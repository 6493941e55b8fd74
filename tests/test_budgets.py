"""Budgets: windows and resets, levels, scoped spend, decisions, reservations, alerts, status."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import Env, run_cli

from spendlane.ledger import SqliteLedger
from spendlane.policy.config import Budget, Levels, Scope, load_config
from spendlane.policy.evaluate import Action, budget_state, decide, level_for, notice
from spendlane.policy.service import (
    ReservationRefused,
    budget_states,
    raise_level_alerts,
    reserve,
    settle,
    status_after,
    status_json,
)
from spendlane.policy.spend import Call, covers, spent
from spendlane.policy.windows import BudgetWindow, current_window
from spendlane.recording import record_many

BERLIN = ZoneInfo("Europe/Berlin")


def ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


def local(*args: int, zone: dt.tzinfo = BERLIN) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]


# -- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "now", "start", "end"),
    [
        # a 23-hour day: Berlin springs forward on 2026-03-29
        ("day", local(2026, 3, 29, 12), local(2026, 3, 29), local(2026, 3, 30)),
        # a 25-hour day: falls back on 2026-10-25
        ("day", local(2026, 10, 25, 23, 59), local(2026, 10, 25), local(2026, 10, 26)),
        ("week", local(2026, 12, 3, 9), local(2026, 11, 30), local(2026, 12, 7)),
        ("month", local(2026, 12, 31, 23, 59), local(2026, 12, 1), local(2027, 1, 1)),
        ("month", local(2027, 1, 1, 0, 0), local(2027, 1, 1), local(2027, 2, 1)),
        ("month", local(2028, 2, 29, 12), local(2028, 2, 1), local(2028, 3, 1)),
    ],
)
def test_calendar_windows_follow_the_zone(
    period: str, now: dt.datetime, start: dt.datetime, end: dt.datetime
) -> None:
    window = current_window(period, ms(now), BERLIN)
    assert (window.start_ms, window.end_ms, window.rolling) == (ms(start), ms(end), False)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (local(2027, 1, 10), local(2026, 12, 15), local(2027, 1, 15)),  # across the year
        (local(2027, 1, 15), local(2027, 1, 15), local(2027, 2, 15)),  # on the day itself
        (local(2027, 3, 14, 23), local(2027, 2, 15), local(2027, 3, 15)),  # a short February
    ],
)
def test_billing_cycle_day(now: dt.datetime, start: dt.datetime, end: dt.datetime) -> None:
    window = current_window("month", ms(now), BERLIN, cycle_start_day=15)
    assert (window.start_ms, window.end_ms) == (ms(start), ms(end))


def test_week_start_and_rolling_windows() -> None:
    sunday_start = current_window("week", ms(local(2026, 12, 3)), BERLIN, week_start=6)
    assert sunday_start.start_ms == ms(local(2026, 11, 29))
    rolling = current_window("5h", 1_000_000_000_000, BERLIN)
    assert (rolling.start_ms, rolling.end_ms, rolling.rolling) == (
        1_000_000_000_000 - 5 * 3_600_000, 1_000_000_000_000, True
    )  # fmt: skip


# -- levels and decisions ----------------------------------------------------------------------


def budget(name: str = "b", limit: int = 10_000_000_000, **kwargs: Any) -> Budget:
    scope = kwargs.pop("scope", Scope())
    return Budget(name=name, scope=scope, period=kwargs.pop("period", "month"),
                  limit_nano_usd=limit, limit_tokens=None, levels=kwargs.pop("levels", Levels()),
                  **kwargs)  # fmt: skip


@pytest.mark.parametrize(
    ("used", "hard_stop", "level"),
    [(6_999_999_999, True, "ok"), (7_000_000_000, True, "warn"), (8_500_000_000, True, "throttle"),
     (9_499_999_999, True, "throttle"), (9_500_000_000, True, "block"),
     (50_000_000_000, False, "throttle")],
)  # fmt: skip
def test_levels_at_their_edges(used: int, hard_stop: bool, level: str) -> None:
    assert level_for(budget(hard_stop=hard_stop), used, 10_000_000_000) == level


def test_decision_takes_the_worst_budget_that_counts_the_call() -> None:
    window = BudgetWindow(0, 10, False)
    states = [
        budget_state(budget("all"), window, 5, spent=7_500_000_000),  # warn
        budget_state(
            budget("claude", scope=Scope(provider="anthropic"), fallback="codex"),
            window,
            5,
            spent=9_600_000_000,
        ),  # block
        budget_state(budget("opus", scope=Scope(model="claude-opus-*")), window, 5, spent=0),
    ]
    to_openai = decide(states, Call(provider="openai"))
    assert (to_openai.action, [s.budget.name for s in to_openai.applicable]) == (
        Action.WARN, ["all"]
    )  # fmt: skip
    to_claude = decide(states, Call(provider="anthropic", model="Claude-Opus-4-6"))
    assert to_claude.action is Action.BLOCK
    assert [s.budget.name for s in to_claude.deciding] == ["claude"]
    assert to_claude.lane == "codex"
    assert to_claude.reset_ms == 10
    # the estimate is counted: $1.50 more takes "all" from warn (75 %) to throttle (90 %)
    assert decide(states, Call(provider="openai"), 1_500_000_000).action is Action.THROTTLE


def test_notice_names_the_budget_the_lane_and_the_local_reset() -> None:
    end = local(2026, 12, 1)
    window = BudgetWindow(ms(local(2026, 11, 1)), ms(end), False)
    state = budget_state(
        budget("Anthropic", limit=200_000_000_000, scope=Scope(provider="anthropic"),
               fallback="codex"), window, ms(end) - 1, spent=200_000_000_000)  # fmt: skip
    text = notice(decide([state], Call(provider="anthropic")), BERLIN)
    assert text == (
        "Anthropic budget exhausted (monthly $200.00): operating on codex until "
        "2026-12-01 00:00 CET"
    )


# -- spend per scope, against a real ledger ----------------------------------------------------

PROVIDERS = {"claude": "anthropic", "openai": "openai"}
MODELS = ("claude-opus-4-6", "claude-sonnet-4-5", "gpt-5")
T0 = ms(dt.datetime(2026, 11, 30, 20, 7, tzinfo=dt.UTC))

records = st.lists(
    st.tuples(st.integers(0, 12 * 3_600_000), st.sampled_from(MODELS),
              st.sampled_from(("a", "b", None)), st.sampled_from(("/p", "/q")),
              st.integers(1, 10**6)),
    min_size=1, max_size=30,
)  # fmt: skip
scopes = st.builds(
    Scope,
    provider=st.sampled_from((None, "anthropic", "openai")),
    model=st.sampled_from((None, "claude-*", "*opus*", "gpt-[!4]")),
    agent=st.sampled_from((None, "a", "b")),
    project=st.sampled_from((None, "/p")),
)


def _store(ledger: SqliteLedger, rows: list[tuple[int, str, str | None, str, int]]) -> None:
    record_many(ledger, [
        {"timestamp": (T0 + offset) / 1000, "model": model,
         "backend": "openai" if model.startswith("gpt") else "claude", "agent": agent,
         "project": project, "cost_usd": micro / 1e6, "output_tokens": 7, "event_id": str(i)}
        for i, (offset, model, agent, project, micro) in enumerate(rows)
    ])  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, scopes, st.integers(0, 12 * 3_600_000), st.integers(1, 6 * 3_600_000))
def test_scoped_spend_is_exact_to_the_millisecond(
    rows: list[tuple[int, str, str | None, str, int]],
    scope: Scope,
    start: int,
    length: int,
) -> None:
    with tempfile.TemporaryDirectory() as folder, SqliteLedger(Path(folder) / "l.db") as ledger:
        _store(ledger, rows)
        window = BudgetWindow(T0 + start, T0 + start + length, True)  # ragged at both ends
        got = spent(ledger, scope, window)
    expected = 0
    for offset, model, agent, project, micro in rows:
        provider = "openai" if model.startswith("gpt") else "anthropic"
        call = Call(provider=provider, model=model, agent=agent, project=project)
        if covers(scope, call) and start <= offset <= start + length:
            expected += micro * 1000
    assert got.nano == expected
    assert fnmatchcase("gpt-5", "gpt-[!4]")  # the glob dialect the SQL must follow


# -- reservations: the hard stop holds under concurrency ---------------------------------------

TOML_HARD_10 = """
timezone = "UTC"
[[budget]]
name = "team"
period = "day"
limit_usd = 10
hard_stop = true
"""


def test_twenty_processes_reserving_a_dollar_against_ten(env: Env, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(TOML_HARD_10)
    SqliteLedger(env.ledger_path).close()  # created once, as an installed tool would have it
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "spendlane", "reserve", "--usd", "1", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=os.environ.copy(),
        )
        for _ in range(20)
    ]
    codes = [p.wait(timeout=120) for p in procs]
    assert set(codes) <= {0, 30}, [p.stderr.read() for p in procs if p.stderr]  # type: ignore[union-attr]
    granted = codes.count(0)
    assert 1 <= granted <= 10
    with SqliteLedger(env.ledger_path) as ledger:
        held = ledger.connection.execute("SELECT COUNT(*), SUM(amount_nano) FROM reservations")
        count, total = held.fetchone()
    assert count == granted
    assert total <= 10_000_000_000
    # the block level is 95 %: $9 held is the most that can be (a 10th dollar reaches 100 %)
    assert granted == 9


def test_settle_replaces_the_hold_with_the_real_cost_and_expiry_frees_it(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(TOML_HARD_10)
    budgets = load_config(config)
    now = T0
    with SqliteLedger(tmp_path / "l.db") as ledger:
        first, _ = reserve(ledger, budgets, Call(), 6_000_000_000, 60_000, at_ms=now)
        with pytest.raises(ReservationRefused):
            reserve(ledger, budgets, Call(), 4_000_000_000, 60_000, at_ms=now)
        settle(ledger, first, 2_500_000_000)  # the call cost $2.50, recorded now
        state = budget_states(ledger, budgets, now_ms_for(ledger))[0]
        assert (state.spent, state.reserved) == (2_500_000_000, 0)
        second, _ = reserve(ledger, budgets, Call(), 7_000_000_000, 60_000, at_ms=now)
        assert second != first
        later = now + 60_001  # expired: it holds nothing any more
        assert budget_states(ledger, budgets, later)[0].reserved == 0


def now_ms_for(ledger: SqliteLedger) -> int:
    """The time of the latest recorded call: what "now" is for that ledger's test."""
    value: int = ledger.connection.execute("SELECT MAX(ts_ms) FROM events").fetchone()[0]
    return value


# -- alerts once per level and period; status.json --------------------------------------------


def test_each_level_alerts_once_per_period_and_again_next_period(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(TOML_HARD_10)
    budgets = load_config(config)
    zone = dt.UTC
    day = dt.datetime(2026, 11, 30, 10, tzinfo=dt.UTC)
    raised: list[tuple[str, ...]] = []
    with SqliteLedger(tmp_path / "l.db") as ledger:
        for hour, dollars in ((0, 5.0), (1, 2.5), (2, 0.1), (3, 1.6), (4, 1.0), (24, 9.6)):
            when = day + dt.timedelta(hours=hour)
            record_many(ledger, [{"timestamp": when.isoformat(), "model": "gpt-5",
                                  "cost_usd": dollars, "event_id": f"e{hour}"}])  # fmt: skip
            for _ in range(2):  # a second look in the same state raises nothing new
                with time_machine.travel(when, tick=False):
                    states = budget_states(ledger, budgets, ms(when))
                    raise_level_alerts(ledger, states, zone)
        raised = [tuple(r) for r in ledger.connection.execute(
            "SELECT kind, subject, level, period_start_ms FROM alerts ORDER BY id")]  # fmt: skip
    first, second = ms(day.replace(hour=0)), ms(day.replace(hour=0) + dt.timedelta(days=1))
    assert raised == [
        ("level", "team", "warn", first),  # $7.50 = 75 %
        ("level", "team", "throttle", first),  # $9.20 = 92 % ($7.60 stayed at warn)
        ("level", "team", "block", first),  # $10.20
        ("level", "team", "block", second),  # the next day: $9.60 = 96 % at once
    ]


def test_status_json_lists_levels_blocked_providers_and_lanes(tmp_path: Path) -> None:
    window = BudgetWindow(ms(local(2026, 12, 1)), ms(local(2026, 12, 2)), False)
    states = [
        budget_state(budget("claude", scope=Scope(provider="anthropic"), fallback="codex",
                            period="day"), window, window.start_ms + 1, spent=10**10),
        budget_state(budget("all", period="day", limit=10**11), window, window.start_ms + 1,
                     spent=10**10),
    ]  # fmt: skip
    status = status_json(states, BERLIN, window.start_ms + 1)
    assert status["level"] == "block"
    assert status["blockedProviders"] == ["anthropic"]
    assert status["recommendedLanes"] == {"anthropic": "codex"}
    assert status["budgets"][0]["resetsAt"] == "2026-12-02T00:00:00+01:00"
    assert status["budgets"][1]["percent"] == 10.0


# -- the commands -------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, columns=200)


def test_check_exit_codes_json_and_status_file(env: Env) -> None:
    (env.home / "budgets.yaml").write_text(
        "timezone: UTC\nbudgets:\n  daily_limit_usd: 5.00\n  per_backend: {claude: 20.00/month}\n"
    )
    assert run("check", "--provider", "claude").returncode == 0
    run("record", "--model", "claude-opus-4-6", "--backend", "claude", "--cost-usd", "3.60")
    warn = run("check", "--provider", "claude", "--json")
    assert warn.returncode == 10
    data = json.loads(warn.stdout)
    assert (data["decision"], data["budgets"][0]["name"]) == ("warn", "daily")
    assert data["notice"].startswith("daily budget at 72% (daily $5.00); resets ")
    blocked = run("check", "--provider", "claude", "--estimate-usd", "1.20")
    assert blocked.returncode == 30
    assert blocked.stdout.startswith("daily budget exhausted (daily $5.00): calls blocked until")
    status = json.loads((env.home / "status.json").read_text())
    assert [b["name"] for b in status["budgets"]] == ["daily", "claude-monthly"]
    assert status["budgets"][1]["spent"] == 3.6
    bad = run("check", "--estimate-usd", "lots")
    assert bad.returncode == 2
    assert "expected dollars like 1.50, got 'lots'" in bad.stderr


def test_budget_and_costs_commands(env: Env) -> None:
    (env.home / "config.toml").write_text(TOML_HARD_10)
    run("record", "--model", "gpt-5", "--backend", "openai", "--cost-usd", "2")
    budget = json.loads(run("budget", "--json", "--no-ingest").stdout)
    entry = budget["budgets"][0]
    assert (entry["name"], entry["spent"], entry["remaining"], entry["level"]) == (
        "team", 2.0, 8.0, "ok"
    )  # fmt: skip
    assert entry["projected"] is not None and entry["projected"] >= 2.0
    costs = json.loads(run("costs", "--json", "--no-ingest").stdout)
    assert costs["today"]["cost"] == 2.0
    assert costs["providers"][0]["provider"] == "openai"
    table = run("budget", "--no-ingest")
    assert "team" in table.stdout
    assert "daily $10.00" in table.stdout


def test_a_bad_budget_config_names_file_line_and_field(env: Env) -> None:
    (env.home / "config.toml").write_text('[[budget]]\nname = "x"\nperiod = "fortnight"\n'
                                          "limit_usd = 1\n")  # fmt: skip
    out = run("check")
    assert out.returncode == 1
    assert "config.toml, line 3, field 'period'" in out.stderr


def test_paid_for_capacity_going_unused_alerts_once_per_period(env: Env, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'timezone = "UTC"\n'
        '[[budget]]\nname = "claude-max"\nprovider = "anthropic"\nperiod = "month"\n'
        "limit_usd = 100\nfloor = true\n"
        '[[budget]]\nname = "kimi-prepaid"\nprovider = "moonshotai"\nperiod = "month"\n'
        "limit_usd = 50\nfloor = true\n"
    )
    budgets = load_config(config)
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with SqliteLedger(env.ledger_path) as ledger:
        record_many(ledger, [
            {"timestamp": (start + dt.timedelta(days=1)).isoformat(), "model": "claude-opus-4-6",
             "backend": "claude", "cost_usd": 60, "event_id": "c"},
            {"timestamp": (start + dt.timedelta(days=2)).isoformat(), "model": "kimi-k2",
             "backend": "kimi", "cost_usd": 5, "event_id": "k"},
        ])  # fmt: skip

        def look(day: int, month: int = 11) -> list[tuple[str, str]]:
            at = ms(dt.datetime(2026, month, day, 12, tzinfo=dt.UTC))
            status_after(ledger, budgets, at_ms=at)
            return [tuple(r) for r in ledger.connection.execute(
                "SELECT subject, period_start_ms FROM alerts WHERE kind = 'underuse' "
                "ORDER BY id")]  # fmt: skip

        assert look(10) == []  # a third of the month: too early to say
        november = ms(start)
        assert look(16) == [("kimi-prepaid", november)]  # half gone, kimi 10 % used
        assert look(17) == [("kimi-prepaid", november)]  # said once
        # near the end, both together: $65 of $150 (43 %) is under 70 %
        assert look(28) == [("kimi-prepaid", november), ("all", november)]
        december = ms(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
        assert look(16, 12)[2:] == [("claude-max", december), ("kimi-prepaid", december)]


def test_remembered_config_follows_every_edit_of_the_file(env: Env, tmp_path: Path) -> None:
    from spendlane.policy.service import load_budgets

    path = tmp_path / "budgets.yaml"
    path.write_text("budgets:\n  daily_limit_usd: 5.00\n")
    assert load_budgets(path).budgets[0].limit_nano_usd == 5 * 10**9
    assert (env.home / "config-cache.pickle").exists()
    path.write_text("budgets:\n  daily_limit_usd: 7.00\n")  # same size, new content
    assert load_budgets(path).budgets[0].limit_nano_usd == 7 * 10**9
    (env.home / "config-cache.pickle").write_bytes(b"\x93garbage")  # a broken cache
    assert load_budgets(path).budgets[0].limit_nano_usd == 7 * 10**9
    path.write_text("budgets:\n  daily_limit_usd: nope\n")  # errors are never cached away
    with pytest.raises(Exception, match="daily_limit_usd"):
        load_budgets(path)


def test_a_planted_config_cache_runs_nothing(env: Env, tmp_path: Path) -> None:
    import pickle

    from spendlane.policy.service import load_budgets

    path = tmp_path / "budgets.yaml"
    path.write_text("budgets:\n  daily_limit_usd: 5.00\n")
    marker = tmp_path / "ran"
    evil = pickle.dumps((os.system, (f"touch {marker}",)))  # what a planted file could hold
    (env.home / "config-cache.pickle").write_bytes(evil)
    assert load_budgets(path).budgets[0].limit_nano_usd == 5 * 10**9
    assert not marker.exists()


def test_quick_check_answers_as_the_click_command_does_without_loading_click(env: Env) -> None:
    from click.testing import CliRunner

    from spendlane.cli import main

    (env.home / "config.toml").write_text(TOML_HARD_10)
    run("record", "--model", "gpt-5", "--backend", "openai", "--cost-usd", "9.80")
    quick = run("check", "--provider=openai", "--json")
    slow = CliRunner().invoke(main, ["check", "--provider", "openai", "--json"])
    assert quick.returncode == slow.exit_code == 30
    fast_answer, click_answer = json.loads(quick.stdout), json.loads(slow.stdout)
    for answer in (fast_answer, click_answer):  # the projection moves with the clock
        answer["budgets"][0].pop("projected")
    assert fast_answer == click_answer
    probe = (
        "import sys; from spendlane.cli.quick import quick_check; "
        "code = quick_check(['check', '--estimate-usd', '0.10']); "
        "print(code, 'click' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=os.environ.copy(), timeout=60)  # fmt: skip
    assert out.stdout.split()[-2:] == ["30", "False"]
    help_text = run("check", "--help")  # not the quick path's business: click answers
    assert help_text.returncode == 0
    assert "Exit codes: 0 allow, 10 warn" in help_text.stdout
    typo = run("check", "--provder", "x")
    assert typo.returncode == 2
    assert "No such option '--provder'" in typo.stderr


def test_an_alert_raised_before_costs_no_write(tmp_path: Path) -> None:
    """Checks repeat the same level all day: the second time must not queue for the write
    lock (here another process holds it; a write would wait for it)."""
    import sqlite3
    import threading

    from spendlane.alerts.state import AlertKind, raise_alert

    path = tmp_path / "l.db"
    with SqliteLedger(path) as ledger:
        assert raise_alert(ledger, AlertKind.LEVEL, "team", "warn", 0, "t", "b") is not None
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a long ingest holding the write lock
        answers: list[object] = []
        again = threading.Thread(target=lambda: answers.append(
            raise_alert(ledger, AlertKind.LEVEL, "team", "warn", 0, "t", "b")))  # fmt: skip
        again.start()
        again.join(timeout=5)
        finished_while_locked = not again.is_alive()
        other.execute("ROLLBACK")
        again.join()
        other.close()
    assert finished_while_locked
    assert answers == [None]
