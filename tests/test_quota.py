"""Plan windows: burn rate, projection at reset, resets, the plan's value, quota alerts."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import READING, Env

from spendlane.ledger import SqliteLedger
from spendlane.policy.accounts import implicit
from spendlane.policy.config import load_config
from spendlane.policy.quota import plan_values, raise_quota_alerts, window_states
from spendlane.recording import record_many
from spendlane.tomlconfig import ConfigError

HOUR = 3_600_000
T0 = 1_796_000_000_000  # a fixed "now" for the arithmetic


def reading(ledger: SqliteLedger, ts: int, window: str, used: float, resets: int) -> None:
    with ledger.write() as db:
        minutes = 300 if window == "five_hour" else 10_080
        db.execute(READING
                   + "('statusline', ?, ?, ?, ?, ?, 's')",
                   (ts, window, used, minutes, resets))  # fmt: skip


def test_burn_rate_and_projection_at_the_reset(tmp_path: Path) -> None:
    resets = T0 + 2 * HOUR
    with SqliteLedger(tmp_path / "l.db") as ledger:
        reading(ledger, T0 - 2 * HOUR, "five_hour", 10.0, resets)
        reading(ledger, T0, "five_hour", 40.0, resets)  # 30 points in 2 hours: 15 %/h
        [state] = window_states(ledger, T0)
    assert (state.name, state.used_percent, state.burn_per_hour) == ("Claude 5-hour", 40.0, 15.0)
    assert state.projected_percent == pytest.approx(70.0)  # 2 more hours at 15 %/h
    assert state.level == "ok"


def test_a_window_that_has_reset_reads_zero_and_one_heading_over_is_near_the_limit(
    tmp_path: Path,
) -> None:
    with SqliteLedger(tmp_path / "l.db") as ledger:
        reading(ledger, T0 - 6 * HOUR, "five_hour", 80.0, T0 - HOUR)  # reset an hour ago
        reading(ledger, T0 - 3 * HOUR, "seven_day", 50.0, T0 + 10 * HOUR)
        reading(ledger, T0, "seven_day", 80.0, T0 + 10 * HOUR)  # 10 %/h: 180 % at reset
        states = {s.window: s for s in window_states(ledger, T0)}
    assert states["five_hour"].used_percent == 0.0
    assert states["seven_day"].level == "limit"


def test_quota_alerts_fire_once_per_window_run(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.db") as ledger:
        reading(ledger, T0 - HOUR, "seven_day", 85.0, T0 + 5 * HOUR)
        reading(ledger, T0, "seven_day", 91.0, T0 + 5 * HOUR)
        reading(ledger, T0 - 4 * HOUR, "five_hour", 5.0, T0 + 40 * 60_000)
        reading(ledger, T0, "five_hour", 12.0, T0 + 40 * 60_000)
        for _ in range(2):
            raise_quota_alerts(ledger, window_states(ledger, T0), T0, dt.UTC)
        alerts = ledger.connection.execute(
            "SELECT kind, subject, level, title FROM alerts ORDER BY id").fetchall()  # fmt: skip
    assert [(a[0], a[1], a[2]) for a in alerts] == [
        ("underuse", "quota statusline/five_hour", "floor"),
        ("level", "quota statusline/seven_day", "limit"),
    ]
    assert alerts[0][3] == "spendlane: Claude 5-hour resets in 40 min with 12% used"


def test_the_plans_value_and_calls_today(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 20, 15, tzinfo=dt.UTC)
    with SqliteLedger(tmp_path / "l.db") as ledger:
        from spendlane.events import UsageEvent

        ledger.insert_events([
            UsageEvent(key=f"k{i}", ts_ms=int((now - dt.timedelta(days=d)).timestamp() * 1000),
                       source="claude_code", provider="anthropic", model="claude-opus-4-6",
                       output_tokens=10, cost_nano=50 * 10**9)
            for i, d in enumerate((0, 0, 5, 25))  # the last one is last month
        ])  # fmt: skip
        record_many(ledger, [{"timestamp": now.isoformat(), "model": "gpt-5", "cost_usd": 9}])
        (value,) = plan_values(ledger, [implicit("max5")], {"max5": 100.0}, dt.UTC,
                               int(now.timestamp() * 1000))  # fmt: skip
    assert (value.month_value_nano, value.calls_today, value.price_usd) == (150 * 10**9, 2, 100.0)


def test_plan_in_config_and_a_bad_plan_named(tmp_path: Path) -> None:
    good = tmp_path / "config.toml"
    good.write_text('plan = "studio"\n[plans]\nstudio = 150\n')
    config = load_config(good)
    assert (config.plan, config.plan_prices) == ("studio", (("studio", 150.0),))
    bad = tmp_path / "bad.toml"
    bad.write_text('plan = "ultra"\n')
    with pytest.raises(ConfigError, match="line 1, field 'plan': expected one of"):
        load_config(bad)


def test_quota_command_json(env: Env) -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    with SqliteLedger(env.ledger_path) as ledger:
        reading(ledger, now - HOUR, "five_hour", 20.0, now + 2 * HOUR)
        reading(ledger, now, "five_hour", 30.0, now + 2 * HOUR)
    (env.home / "config.toml").write_text('plan = "max20"\n')
    args = [sys.executable, "-m", "spendlane", "quota", "--json", "--no-ingest"]
    out = subprocess.run(args, capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    data = json.loads(out.stdout)
    [window] = data["windows"]
    assert (window["usedPercent"], window["burnPercentPerHour"]) == (30.0, 10.0)
    assert window["projectedPercentAtReset"] == pytest.approx(50.0, abs=0.1)
    assert (data["plan"], data["planPriceUsd"]) == ("max20", 200.0)
