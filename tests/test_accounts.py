"""Several accounts: each login's calls, plan windows, plan value and lanes kept apart."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import READING, Env

from spendlane.demo import claude_assistant, write_jsonl
from spendlane.ingest import ingest
from spendlane.integrations.statusline import record_rate_limits
from spendlane.lanes.config import lanes_of
from spendlane.lanes.dispatch import limited_lanes
from spendlane.ledger import SqliteLedger
from spendlane.policy.accounts import implicit
from spendlane.policy.config import load_config
from spendlane.policy.quota import plan_values, raise_quota_alerts, window_states
from spendlane.reports.calendar import daily_report
from spendlane.sources.locations import CLAUDE_CODE
from spendlane.tomlconfig import ConfigError

HOUR = 3_600_000
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
NOW_MS = int(NOW.timestamp() * 1000)


def config_text(work: Path, personal: Path) -> str:
    return f"""
[plans.team-seat]
price = 150
notes = "paid by the company"

[[accounts]]
name = "work"
auth = "subscription"
plan = "team-seat"
logs = ["{work}"]

[[accounts]]
name = "personal"
plan = "pro"
logs = "{personal}"

[[accounts]]
name = "ci"
auth = "api"
logs = ["{personal}-ci"]

[[lanes]]
name = "claude-work"
provider = "anthropic"
env = {{ CLAUDE_CONFIG_DIR = "{work}" }}

[[lanes]]
name = "claude-personal"
provider = "anthropic"
env = {{ CLAUDE_CONFIG_DIR = "{personal}" }}
"""


@pytest.fixture
def two_logins(env: Env) -> tuple[Path, Path]:
    work, personal = env.root / "claude-work", env.root / "claude-personal"
    (env.home / "config.toml").write_text(config_text(work, personal))
    for root, outputs in ((work, [100, 200]), (personal, [7])):
        write_jsonl(root / "projects" / "-home-dev-x" / f"{root.name}.jsonl", [
            claude_assistant(when=NOW - dt.timedelta(minutes=5 - i), session_id=root.name,
                             message_id=f"{root.name}{i}", request_id=f"r{i}",
                             output_tokens=out, model="claude-opus-4-6")
            for i, out in enumerate(outputs)
        ])  # fmt: skip
    return work, personal


def statusline(ledger: Path, root: Path, five_hour: float, seven_day: float, at_ms: int) -> int:
    payload = {
        "session_id": "s", "transcript_path": str(root / "projects" / "-x" / "s.jsonl"),
        "rate_limits": {
            "five_hour": {"used_percentage": five_hour, "resets_at": (NOW_MS + 2 * HOUR) // 1000},
            "seven_day": {"used_percentage": seven_day, "resets_at": (NOW_MS + 84 * HOUR) // 1000},
            "seven_day_opus": {"used_percentage": 3, "resets_at": (NOW_MS + 84 * HOUR) // 1000},
        },
    }  # fmt: skip
    return record_rate_limits(ledger, payload, at_ms)


def test_accounts_config_and_its_errors(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(config_text(Path("/w"), Path("~/p")))
    config = load_config(path)
    work, personal, ci = config.accounts
    assert (work.name, work.auth, work.plan, work.logs) == ("work", "subscription",
                                                          "team-seat", ("/w",))  # fmt: skip
    assert personal.logs == (os.path.expanduser("~/p"),)
    assert (ci.auth, ci.plan) == ("api", None)
    assert dict(config.plan_prices)["team-seat"] == 150.0
    assert dict(config.plan_notes) == {"team-seat": "paid by the company"}
    cases = {
        '[[accounts]]\nname = "a"\n': "line 1, field 'logs': expected the account's agent folders",
        '[[accounts]]\nname = "a"\nlogs = ["/x"]\nauth = "oauth"\n': "expected one of "
                                                                       "subscription, api, both",
        '[[accounts]]\nname = "a"\nlogs = ["/x"]\n[[accounts]]\nname = "b"\nlogs = "/x"\n':
            "already belongs to account 'a'",
        '[[accounts]]\nname = "a"\nlogs = ["/x"]\nauth = "api"\nplan = "pro"\n': "has no plan",
        '[[accounts]]\nname = "a"\nlogs = ["/x"]\nplan = "ultra"\n':
            "line 4, field 'plan': expected one of",
        '[plans.x]\nprice = "lots"\n': "field 'plans.x.price': expected a monthly price",
    }  # fmt: skip
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_config(path)


def test_calls_belong_to_the_account_whose_folder_they_are_in(
    env: Env, two_logins: tuple[Path, Path]
) -> None:
    work, personal = two_logins
    with env.ledger() as ledger:
        ingest(ledger, roots={CLAUDE_CODE: [work, personal]}, sources=[CLAUDE_CODE])
        report = daily_report(ledger, zone=dt.UTC, by=("account",))
        modes = dict(ledger.connection.execute("SELECT account, auth_mode FROM contexts"))
    assert {k[0]: t.output_tokens for k, t in report.groups.items()} == {"work": 300, "personal": 7}
    assert modes == {"work": "subscription", "personal": "subscription"}


def test_each_accounts_windows_value_and_lanes_apart(
    env: Env, two_logins: tuple[Path, Path]
) -> None:
    work, personal = two_logins
    config = load_config(env.home / "config.toml")
    with env.ledger() as ledger:
        ingest(ledger, roots={CLAUDE_CODE: [work, personal]}, sources=[CLAUDE_CODE])
        assert statusline(env.ledger_path, work, 60, 40, NOW_MS - HOUR) == 3
        # the work login hit its 5-hour limit; windows that did not move are not kept again
        assert statusline(env.ledger_path, work, 100, 40, NOW_MS) == 1
        assert statusline(env.ledger_path, personal, 10, 20, NOW_MS) == 3
        states = {(s.account, s.window): s for s in window_states(ledger, NOW_MS, config.accounts)}
        values = plan_values(ledger, config.accounts, {"team-seat": 150.0, "pro": 20.0}, dt.UTC,
                             NOW_MS, dict(config.plan_notes))  # fmt: skip
        limited = limited_lanes(ledger, NOW_MS, lanes_of(config), config.accounts)
    assert states["work", "five_hour"].level == "limit"
    assert states["work", "five_hour"].burn_per_hour == pytest.approx(40.0)
    assert states["personal", "five_hour"].used_percent == 10
    assert states["personal", "seven_day_opus"].name == "Claude 7-day opus"
    # the work login's full window takes its lane out until the reset; the personal one runs
    assert limited == {"claude-work": NOW_MS // 1000 * 1000 + 2 * HOUR}
    by_account = {v.account: v for v in values}
    assert by_account["work"].calls_today == 2
    assert by_account["personal"].calls_today == 1
    assert by_account["work"].notes == "paid by the company"
    assert by_account["ci"].month_value_nano == 0
    assert 0 < by_account["personal"].month_value_nano < by_account["work"].month_value_nano


def test_quota_command_shows_every_account(env: Env, two_logins: tuple[Path, Path]) -> None:
    work, personal = two_logins
    with SqliteLedger(env.ledger_path) as ledger:
        ingest(ledger, roots={CLAUDE_CODE: [work, personal]}, sources=[CLAUDE_CODE])
    statusline(env.ledger_path, personal, 10, 20, NOW_MS)
    out = subprocess.run([sys.executable, "-m", "spendlane", "quota", "--json", "--no-ingest"],
                         capture_output=True, text=True, env=os.environ.copy(),
                         timeout=60)  # fmt: skip
    data = json.loads(out.stdout)
    assert {(w["account"], w["window"]) for w in data["windows"]} == {
        ("personal", "five_hour"),
        ("personal", "seven_day"),
        ("personal", "seven_day_opus"),
    }
    assert [(a["account"], a["auth"], a["plan"]) for a in data["accounts"]] == [
        ("work", "subscription", "team-seat"), ("personal", "subscription", "pro"),
        ("ci", "api", None),
    ]  # fmt: skip
    text = subprocess.run([sys.executable, "-m", "spendlane", "quota", "--no-ingest"],
                          capture_output=True, text=True, env=os.environ.copy(),
                          timeout=60).stdout  # fmt: skip
    assert "work: This month's team-seat usage at API prices" in text
    assert "paid by the company" in text
    assert "ci: API spend this month $0.00" in text


@pytest.mark.parametrize(("used", "alerted"), [(30.0, True), (45.0, False)])
def test_a_week_behind_pace_at_half_time_is_said_once(
    tmp_path: Path, used: float, alerted: bool
) -> None:
    resets = NOW_MS + 84 * HOUR  # half of the week gone
    with SqliteLedger(tmp_path / "l.db") as ledger:
        with ledger.write() as db:
            db.execute(READING + "('statusline', ?, 'seven_day', ?, 10080, ?, 's')",
                       (NOW_MS, used, resets))  # fmt: skip
        states = window_states(ledger, NOW_MS)
        first = raise_quota_alerts(ledger, states, NOW_MS, dt.UTC, {"default": "max5"})
        again = raise_quota_alerts(ledger, states, NOW_MS + HOUR, dt.UTC, {"default": "max5"})
        titles = [row[0] for row in ledger.connection.execute("SELECT title FROM alerts")]
    assert bool(first) is alerted
    assert again == []
    if alerted:
        assert titles == ["spendlane: max5 plan at 30% with half the week gone"]
    else:
        assert titles == []


def test_without_accounts_one_default_account_holds_everything(tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "l.db") as ledger:
        (value,) = plan_values(ledger, [implicit(None)], {}, dt.UTC, NOW_MS)
    assert (value.account, value.auth, value.plan, value.calls_today) == (
        "default", "unknown", None, 0)  # fmt: skip


def test_a_usage_limit_message_in_one_logins_logs_holds_its_lanes_until_the_reset(
    env: Env, two_logins: tuple[Path, Path]
) -> None:
    work, personal = two_logins
    reset_s = (NOW_MS + 3 * HOUR) // 1000
    limit = claude_assistant(when=NOW - dt.timedelta(minutes=1), session_id="w",
                             message_id="x1", request_id=None, model="<synthetic>",
                             text=f"Claude AI usage limit reached|{reset_s}",
                             extra={"isApiErrorMessage": True})  # fmt: skip
    write_jsonl(work / "projects" / "-home-dev-x" / "limited.jsonl", [limit])
    config = load_config(env.home / "config.toml")
    with env.ledger() as ledger:
        ingest(ledger, roots={CLAUDE_CODE: [work, personal]}, sources=[CLAUDE_CODE])
        [state] = window_states(ledger, NOW_MS, config.accounts)
        limited = limited_lanes(ledger, NOW_MS, lanes_of(config), config.accounts)
        after = window_states(ledger, reset_s * 1000 + 1, config.accounts)
    assert (state.account, state.name, state.used_percent, state.level) == (
        "work", "Claude usage limit (from logs)", 100.0, "limit")  # fmt: skip
    assert limited == {"claude-work": reset_s * 1000}
    assert [(s.used_percent, s.level) for s in after] == [(0.0, "ok")]  # the window reset


def test_a_report_raises_each_accounts_quota_alerts(
    env: Env, two_logins: tuple[Path, Path]
) -> None:
    work, _ = two_logins
    with SqliteLedger(env.ledger_path):
        pass  # the schema, for the statusline's reading
    assert statusline(env.ledger_path, work, 10, 20, NOW_MS) == 3  # 20% with half the week gone
    out = subprocess.run([sys.executable, "-m", "spendlane", "daily", "--json"],
                         capture_output=True, text=True, env=os.environ.copy(),
                         timeout=60)  # fmt: skip
    assert out.returncode == 0, out.stderr
    with SqliteLedger(env.ledger_path) as ledger:
        titles = [r[0] for r in ledger.connection.execute("SELECT title FROM alerts")]
    assert "spendlane: team-seat plan (work) at 20% with half the week gone" in titles
