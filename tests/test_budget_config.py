"""Budget config: TOML and YAML, long and short forms, exact amounts, errors that say where."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spendlane.policy.config import (
    PERIODS,
    AlertSettings,
    Budget,
    BudgetConfig,
    Floor,
    Levels,
    Scope,
    empty_config,
    find_config,
    load_config,
    parse_amount,
)
from spendlane.tomlconfig import ConfigError, key_lines, line_at

SHORT_YAML = """\
budgets:
  daily_limit_usd: 5.00
  monthly_limit_usd: 50.00
  per_backend: {claude: 20.00/month, kimi: 15.00/month, gpt: 10.00/month}
  warning_threshold: 0.8
  hard_stop: true
"""

SHORT_TOML = """\
[budgets]
daily_limit_usd = 5.00
monthly_limit_usd = 50.00
per_backend = {claude = "20.00/month", kimi = "15.00/month", gpt = "10.00/month"}
warning_threshold = 0.8
hard_stop = true
"""

LONG_TOML = """\
timezone = "Europe/Berlin"
week_start = "sunday"

[[budget]]
name = "anthropic-monthly"
provider = "anthropic"
model = "Claude-Opus-*"
period = "month"
cycle_start_day = 15
limit_usd = 200.00
warn = 0.7
hard_stop = true
fallback = "codex"
floor = { at = 0.5, min_used = 0.5 }

[[budget]]
name = "codex-tokens"
backend = "codex"
source = "codex"
period = "5h"
limit_tokens = 5_000_000
levels = {warn = 0.6, throttle = 0.8, block = 1.0}
hard_stop = false
floor = true

[[budget]]
name = "builder-weekly"
agent = "builder"
project = "spendlane"
task_type = "review"
machine = "ci-1"
account = "team"
source = "claude"
period = "week"
limit_usd = "$0.30"

[alerts]
urls = ["tgram://token/chat", "json://127.0.0.1:8080/hook"]
spike_factor = 3
session_usd_per_hour = 12.5
all_providers_floor = 0.6
"""

LONG_YAML = """\
timezone: Europe/Berlin
week_start: sunday
budgets:
  - name: anthropic-monthly
    provider: anthropic
    model: "Claude-Opus-*"
    period: month
    cycle_start_day: 15
    limit_usd: 200.00
    warn: 0.7
    hard_stop: true
    fallback: codex
    floor: {at: 0.5, min_used: 0.5}
  - name: codex-tokens
    backend: codex
    source: codex
    period: 5h
    limit_tokens: 5_000_000
    levels:
      warn: 0.6
      throttle: 0.8
      block: 1.0
    hard_stop: false
    floor: true
  - name: builder-weekly
    agent: builder
    project: spendlane
    task_type: review
    machine: ci-1
    account: team
    source: claude
    period: week
    limit_usd: $0.30
alerts:
  urls: ["tgram://token/chat", "json://127.0.0.1:8080/hook"]
  spike_factor: 3
  session_usd_per_hour: 12.5
  all_providers_floor: 0.6
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def without_lines(config: BudgetConfig) -> tuple[Budget, ...]:
    return tuple(dataclasses.replace(budget, line=None) for budget in config.budgets)


def test_short_yaml_form(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "budgets.yaml", SHORT_YAML))
    levels = Levels(warn=0.8, throttle=0.85, block=0.95)
    usd = 1_000_000_000
    assert config.budgets == (
        Budget("daily", Scope(), "day", 5 * usd, None, levels, line=2),
        Budget("monthly", Scope(), "month", 50 * usd, None, levels, line=3),
        Budget("claude-monthly", Scope(provider="anthropic"), "month", 20 * usd, None, levels,
               line=4),
        Budget("kimi-monthly", Scope(provider="moonshotai"), "month", 15 * usd, None, levels,
               line=4),
        Budget("gpt-monthly", Scope(provider="openai"), "month", 10 * usd, None, levels, line=4),
    )  # fmt: skip
    assert config.alerts == AlertSettings()
    assert config.path == tmp_path / "budgets.yaml"
    assert config.budgets[0].scope.is_global()
    assert not config.budgets[2].scope.is_global()


def test_short_toml_equals_short_yaml(tmp_path: Path) -> None:
    from_yaml = load_config(write(tmp_path, "budgets.yaml", SHORT_YAML))
    from_toml = load_config(write(tmp_path, "config.toml", SHORT_TOML))
    assert without_lines(from_toml) == without_lines(from_yaml)
    assert [b.line for b in from_toml.budgets] == [2, 3, 4, 4, 4]


def test_long_toml_equals_long_yaml(tmp_path: Path) -> None:
    from_toml = load_config(write(tmp_path, "config.toml", LONG_TOML))
    from_yaml = load_config(write(tmp_path, "budgets.yml", LONG_YAML))
    assert without_lines(from_toml) == without_lines(from_yaml)
    assert from_toml.alerts == from_yaml.alerts
    assert (from_toml.timezone, from_toml.week_start) == ("Europe/Berlin", "sunday")
    assert (from_yaml.timezone, from_yaml.week_start) == ("Europe/Berlin", "sunday")
    assert [b.line for b in from_toml.budgets] == [4, 16, 26]
    assert [b.line for b in from_yaml.budgets] == [4, 14, 25]

    first, tokens, weekly = from_toml.budgets
    assert first.scope == Scope(provider="anthropic", model="claude-opus-*")
    assert (first.limit_nano_usd, first.limit_tokens) == (200_000_000_000, None)
    assert (first.cycle_start_day, first.fallback) == (15, "codex")
    assert first.floor == Floor(0.5, 0.5)
    assert tokens.scope == Scope(provider="openai", source="codex")
    assert (tokens.limit_nano_usd, tokens.limit_tokens, tokens.period) == (None, 5_000_000, "5h")
    assert tokens.levels == Levels(0.6, 0.8, 1.0)
    assert tokens.hard_stop is False
    assert tokens.floor == Floor()
    assert weekly.scope == Scope(agent="builder", project="spendlane", task_type="review",
                                 source="claude_code", machine="ci-1", account="team")  # fmt: skip
    assert weekly.limit_nano_usd == 300_000_000
    assert weekly.levels == Levels()
    assert from_toml.alerts == AlertSettings(
        urls=("tgram://token/chat", "json://127.0.0.1:8080/hook"),
        spike_factor=3.0,
        session_usd_per_hour=12.5,
        all_providers_floor=0.6,
    )


def test_short_form_amount_shapes(tmp_path: Path) -> None:
    path = write(tmp_path, "budgets.yaml", """\
budgets:
  weekly_limit_usd: 30
  per_backend:
    claude: ["5/day", "$100/month"]
    kimi: 15
    gpt: 2.5/5h
    gemini: " 7 / 7d "
    mistral: 1/week
  per_model:
    "Claude-Opus-*": 40.00/month
""")  # fmt: skip
    config = load_config(path)
    got = [(b.name, b.scope, b.period, b.limit_nano_usd, b.line) for b in config.budgets]
    assert got == [
        ("weekly", Scope(), "week", 30_000_000_000, 2),
        ("claude-daily", Scope(provider="anthropic"), "day", 5_000_000_000, 4),
        ("claude-monthly", Scope(provider="anthropic"), "month", 100_000_000_000, 4),
        ("kimi-monthly", Scope(provider="moonshotai"), "month", 15_000_000_000, 5),
        ("gpt-5h", Scope(provider="openai"), "5h", 2_500_000_000, 6),
        ("gemini-7d", Scope(provider="google"), "7d", 7_000_000_000, 7),
        ("mistral-weekly", Scope(provider="mistral"), "week", 1_000_000_000, 8),
        ("Claude-Opus-*-monthly", Scope(model="claude-opus-*"), "month", 40_000_000_000, 10),
    ]
    assert all(b.levels == Levels() and b.hard_stop for b in config.budgets)


def test_toml_short_form_as_subtables_and_unknown_backend(tmp_path: Path) -> None:
    path = write(tmp_path, "config.toml", """\
[budgets]
hard_stop = false
warning_threshold = "90%"

[budgets.per_backend]
claude = 20
MyProxy = "3/day"
""")  # fmt: skip
    config = load_config(path)
    assert [(b.name, b.scope.provider, b.line) for b in config.budgets] == [
        ("claude-monthly", "anthropic", 6),
        ("MyProxy-daily", "myproxy", 7),
    ]
    # warn above the default throttle raises throttle to it; block stays above both
    assert config.budgets[0].levels == Levels(0.9, 0.9, 0.95)
    assert not config.budgets[0].hard_stop


@pytest.mark.parametrize(
    ("given", "levels"),
    [
        ("warn = 0.9", Levels(0.9, 0.9, 0.95)),
        ("block = 0.6", Levels(0.6, 0.6, 0.6)),
        ("throttle = 0.75", Levels(0.7, 0.75, 0.95)),
        ("warn = 0.5\nblock = 0.8", Levels(0.5, 0.8, 0.8)),
        ("warn = 1", Levels(1.0, 1.0, 1.0)),
        ('levels = {throttle = "99%"}', Levels(0.7, 0.99, 0.99)),
    ],
)
def test_levels_not_given_follow_the_given_ones(tmp_path: Path, given: str, levels: Levels) -> None:
    text = f'[[budget]]\nname = "x"\nperiod = "day"\nlimit_usd = 1\n{given}\n'
    assert load_config(write(tmp_path, "config.toml", text)).budgets[0].levels == levels


def test_long_and_short_forms_together_with_lanes(tmp_path: Path) -> None:
    path = write(tmp_path, "config.toml", """\
[budgets]
daily_limit_usd = 5

[[budget]]
name = "opus"
model = "claude-opus-*"
period = "day"
limit_usd = "2/day"

[[lanes]]
name = "claude"
provider = "claude"
on_block = "claude"
""")  # fmt: skip
    config = load_config(path)
    assert [(b.name, b.period, b.line) for b in config.budgets] == [
        ("opus", "day", 4),
        ("daily", "day", 2),
    ]
    assert [(lane.name, lane.provider, lane.kind) for lane in config.lanes] == [
        ("claude", "anthropic", "claude")
    ]


def test_yaml_merge_keys_and_anchors(tmp_path: Path) -> None:
    path = write(tmp_path, "budgets.yaml", """\
budgets:
  - &base
    name: a
    period: day
    limit_usd: 5
    warn: 0.5
  - <<: *base
    name: b
    limit_usd: 7
""")  # fmt: skip
    a, b = load_config(path).budgets
    assert (b.name, b.period, b.limit_nano_usd, b.levels.warn) == ("b", "day", 7 * 10**9, 0.5)
    assert (a.line, b.line) == (2, 7)
    write(tmp_path, "budgets.yaml", "budgets: &x [*x]\n")
    with pytest.raises(ConfigError, match="line 1: a YAML alias refers to itself"):
        load_config(path)


def test_alert_shapes(tmp_path: Path) -> None:
    path = write(tmp_path, "budgets.yaml", """\
alerts:
  urls: mailto://me@example.com
  all_providers_floor: false
  session_usd_per_hour: ~
""")  # fmt: skip
    alerts = load_config(path).alerts
    assert alerts == AlertSettings(urls=("mailto://me@example.com",), all_providers_floor=None)


@pytest.mark.parametrize(
    ("name", "text"),
    [("config.toml", ""), ("budgets.yaml", ""), ("budgets.yaml", "# nothing yet\n"),
     ("budgets.yml", "budgets:\nalerts:\n")],
)  # fmt: skip
def test_empty_files_are_an_empty_config(tmp_path: Path, name: str, text: str) -> None:
    config = load_config(write(tmp_path, name, text))
    assert config == dataclasses.replace(empty_config(), path=tmp_path / name)


def test_empty_config() -> None:
    config = empty_config()
    assert (config.path, config.budgets, config.alerts) == (None, (), AlertSettings())
    assert (config.timezone, config.week_start) == (None, "monday")


def test_find_config_order(tmp_path: Path) -> None:
    assert find_config(tmp_path) is None
    assert find_config(tmp_path / "absent") is None
    for name in ("config.yaml", "budgets.yml", "budgets.yaml", "config.toml"):
        write(tmp_path, name, "")
        assert find_config(tmp_path) == tmp_path / name
    (tmp_path / "prices.toml").write_text("")
    assert find_config(tmp_path) == tmp_path / "config.toml"


def test_loading_toml_does_not_import_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "config.toml", LONG_TOML + SHORT_TOML)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from spendlane.policy.config import load_config\n"
        "config = load_config(Path(sys.argv[1]))\n"
        "assert len(config.budgets) == 8, config\n"
        "assert 'yaml' not in sys.modules, 'yaml was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


# --- amounts -------------------------------------------------------------------------------


@given(
    amount=st.decimals(min_value=Decimal("0.000000001"), max_value=Decimal(1_000_000),
                       places=9, allow_nan=False, allow_infinity=False),
    period=st.sampled_from(PERIODS),
    dollar=st.booleans(),
    spaces=st.sampled_from(["", " "]),
)  # fmt: skip
def test_amount_text_is_exact(amount: Decimal, period: str, dollar: bool, spaces: str) -> None:
    text = f"{'$' if dollar else ''}{amount:f}{spaces}/{spaces}{period}"
    assert parse_amount(text) == (int(amount * 1_000_000_000), period)
    assert parse_amount(f"{amount:f}") == (int(amount * 1_000_000_000), None)


@given(st.integers(min_value=1, max_value=10**11))
def test_amount_of_a_float_is_its_decimal_value(cents: int) -> None:
    assert parse_amount(cents / 100) == (cents * 10_000_000, None)
    dollars = (cents + 99) // 100
    assert parse_amount(dollars) == (dollars * 1_000_000_000, None)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_float_sums_round_to_the_exact_nano(a: int, b: int) -> None:
    # 0.1 + 0.2 == 0.30000000000000004 as a float: still exactly 300,000,000 nano-USD
    assert parse_amount(a / 100 + b / 100)[0] == (a + b) * 10_000_000


def test_amount_examples() -> None:
    assert parse_amount(0.1 + 0.2) == (300_000_000, None)
    assert parse_amount("0.30000000000000004") == (300_000_000, None)
    assert parse_amount("0.0000000015") == (2, None)  # half to even
    assert parse_amount("1_000.5/Month") == (1_000_500_000_000, "month")
    assert parse_amount(".5/daily") == (500_000_000, "day")
    for bad in ("15 dollars", "-5", "0", "0/month", "nan", "inf", "1e3", "1,5", "5/fortnight",
                "", True, None, float("nan"), float("inf"), -1, 10**10):  # fmt: skip
        with pytest.raises(ValueError, match="expected"):
            parse_amount(bad)


# --- errors --------------------------------------------------------------------------------

B = '[[budget]]\nname = "b"\n'  # a TOML entry's first two lines
Y = "budgets:\n  - name: b\n"  # a YAML entry's first two lines


@pytest.mark.parametrize(
    ("name", "text", "line", "field", "words"),
    [
        # periods and limits
        ("config.toml", B + 'period = "fortnight"\nlimit_usd = 5\n', 3, "period",
         "expected one of: day, week, month, 5h, 7d; got 'fortnight'"),
        ("budgets.yaml", Y + "    period: day\n    limit_usd: -5\n", 4, "limit_usd",
         "above zero"),
        ("config.toml", B + 'period = "day"\nlimit_usd = nan\n', 4, "limit_usd", "finite"),
        ("config.toml", B + 'period = "day"\nlimit_usd = "5 dollars"\n', 4, "limit_usd",
         "expected an amount like 15.00/month, got '5 dollars'"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 5\nlimit_tokens = 100\n', 5,
         "limit_tokens", "not both"),
        ("budgets.yaml", Y + "    period: day\n", 2, "limit_usd", "expected a limit"),
        ("config.toml", B + 'limit_usd = 5\n', 1, "period", "expected a period"),
        ("config.toml", B + 'period = "day"\nlimit_usd = "5/month"\n', 4, "limit_usd",
         "per month but period = 'day'"),
        ("budgets.yaml", Y + "    period: day\n    limit_tokens: 1.5\n", 4, "limit_tokens",
         "whole number of tokens"),
        # levels
        ("config.toml", B + 'period = "day"\nlimit_usd = 5\nwarn = 0.99\nblock = 0.9\n', 6,
         "block", "must not be below warn (0.99)"),
        ("budgets.yaml", Y + "    period: day\n    limit_usd: 5\n    levels: {warn: 0.9, "
         "throttle: 0.5}\n", 5, "levels.throttle", "must not be below warn"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 5\nwarn = 80\n', 5, "warn",
         "(for 80 % write 0.8)"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 5\nwarn = 0\n', 5, "warn",
         "above 0 and at most 1"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 5\nwarn = 0.5\nlevels = {block = 1}\n',
         5, "warn", "not both"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 5\nlevels = {wran = 0.5}\n', 5,
         "levels.wran", "did you mean 'warn'?"),
        # billing cycle
        ("config.toml", B + 'period = "month"\nlimit_usd = 5\ncycle_start_day = 31\n', 5,
         "cycle_start_day", "from 1 to 28"),
        ("budgets.yaml", Y + "    period: week\n    limit_usd: 5\n    cycle_start_day: 3\n", 5,
         "cycle_start_day", "only for period = \"month\""),
        # keys and names
        ("config.toml", B + 'perod = "day"\nlimit_usd = 5\n', 3, "perod",
         "unknown key; did you mean 'period'?"),
        ("budgets.yaml", "budgtes:\n  daily_limit_usd: 5\n", 1, "budgtes",
         "did you mean 'budgets'?"),
        ("config.toml", 'colour = "blue"\n', 1, "colour", "unknown key; expected one of"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 1\n\n' + B.replace('"b"', '"b" ')
         + 'period = "day"\nlimit_usd = 2\n', 7, "name",
         "duplicate budget name 'b' (first defined on line 1)"),
        ("budgets.yaml", "budgets:\n  per_backend: {x: 5}\n  per_model: {x: 6}\n", 3,
         "per_model.x", "duplicate budget name 'x-monthly' (first defined on line 2)"),
        ("budgets.yaml", "budgets:\n  - period: day\n    limit_usd: 5\n", 2, "name",
         "expected a name"),
        ("budgets.yaml", "budgets:\n  - 5\n", 2, "budgets", "expected each budget to be a "
         "mapping"),
        ("config.toml", 'budget = "lots"\n', 1, "budget", "expected a list of budgets"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 1\nprovider = "x"\nbackend = "y"\n', 6,
         "backend", "not both"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 1\nsource = "cursr"\n', 5, "source",
         "expected one of: claude, claude_code, codex, record, got 'cursr'"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 1\nsource = "codx"\n', 5, "source",
         "got 'codx'; did you mean 'codex'?"),
        ("budgets.yaml", Y + "    period: day\n    limit_usd: 1\n    project: 2024\n", 5,
         "project", "expected non-empty text, got 2024 (quote it)"),
        ("budgets.yaml", Y + "    period: day\n    limit_usd: 1\n    hard_stop: maybe\n", 5,
         "hard_stop", "expected true or false"),
        ("config.toml", B + 'period = "day"\nlimit_usd = 1\nfloor = {at = 2}\n', 5, "floor.at",
         "at most 1"),
        # top level
        ("config.toml", 'timezone = "Europe/Berln"\n', 1, "timezone",
         "expected an IANA time zone like 'Europe/Berlin', got 'Europe/Berln'"),
        ("budgets.yaml", "week_start: someday\n", 1, "week_start", "expected a weekday"),
        # short form
        ("budgets.yaml", SHORT_YAML.replace("15.00/month", "15 dollars"), 4, "per_backend.kimi",
         "expected an amount like 15.00/month, got '15 dollars'"),
        ("config.toml", "[budgets.per_backend]\nclaude = 5\nkimi = \"15 dollars\"\n", 3,
         "per_backend.kimi", "expected an amount like 15.00/month, got '15 dollars'"),
        ("budgets.yaml", "budgets:\n  per_backend:\n    claude: [5/day, 5/lifetime]\n", 3,
         "per_backend.claude", "expected a period after '/'"),
        ("budgets.yaml", "budgets:\n  daily_limit_usd: 5/month\n", 2, "daily_limit_usd",
         "expected an amount per day"),
        ("budgets.yaml", "budgets:\n  warning_threshold: 80\n", 2, "warning_threshold",
         "(for 80 % write 0.8)"),
        ("budgets.yaml", "budgets:\n  per_backend: 20\n", 2, "per_backend",
         "expected a mapping of backend names"),
        ("config.toml", "[budgets]\nmonthly_limit = 5\n", 2, "monthly_limit",
         "did you mean 'monthly_limit_usd'?"),
        # alerts
        ("config.toml", '[alerts]\nurls = [\n  "tgram://a/b",\n  "not a url",\n]\n', 2,
         "alerts.urls", "expected an apprise URL like tgram://token/chat, got 'not a url'"),
        ("budgets.yaml", "alerts:\n  urls:\n    - tgram://a/b\n    - not a url\n", 4,
         "alerts.urls", "got 'not a url'"),
        ("budgets.yaml", "alerts:\n  spike_factr: 3\n", 2, "alerts.spike_factr",
         "did you mean 'spike_factor'?"),
        ("config.toml", "[alerts]\nspike_factor = 0.5\n", 2, "alerts.spike_factor",
         "a factor above 1"),
        ("budgets.yaml", "alerts: [x]\n", 1, "alerts", "expected a mapping of alert settings"),
        # syntax and structure
        ("budgets.yaml", "budgets:\n  - name: b\n    period: [day\n", 4, None, "invalid YAML"),
        ("budgets.yaml", "timezone: UTC\n  week_start: monday\n", 2, None, "invalid YAML"),
        ("config.toml", B + "period = day\n", 3, None, "invalid TOML"),
        ("budgets.yaml", "- 1\n- 2\n", 1, None, "expected a mapping"),
        ("budgets.yaml", "timezone: UTC\ntimezone: CET\n", 2, "timezone",
         "duplicate key (first on line 1)"),
        ("budgets.yaml", "budgets:\n  yes: 5\n", 2, "True", "expected a text key"),
        ("budgets.yaml", "a: 1\n---\nb: 2\n", 2, None, "invalid YAML"),
    ],
)  # fmt: skip
def test_errors_name_file_line_and_field(
    tmp_path: Path, name: str, text: str, line: int, field: str | None, words: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = caught.value
    assert (error.path, error.line, error.field) == (path, line, field), str(error)
    assert words in error.message
    where = f"{path}, line {line}" + (f", field '{field}'" if field else "")
    assert str(error).startswith(where + ": ")


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "config.toml")
    with pytest.raises(ConfigError, match=r"expected a \.toml, \.yaml or \.yml file"):
        load_config(write(tmp_path, "budgets.json", "{}"))
    bad = tmp_path / "budgets.yaml"
    bad.write_bytes(b"timezone: \xff\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(bad)


# --- TOML line finding ---------------------------------------------------------------------


def test_key_lines_follow_tables_arrays_and_multiline_values() -> None:
    text = """\
top = 1
[[budget]]
name = "a"
levels = {warn = 0.5}
[[budget]]
"quoted key".x = 2
urls = [
  "[not a table]",
  '''
[also = not a key]
''',
]
[budget.levels]
warn = 0.7
[alerts]
spike_factor = 3  # [comment]
"""
    lines = key_lines(text)
    assert lines[("top",)] == 1
    assert lines[("budget",)] == 2
    assert lines[("budget", 0, "levels")] == 4
    assert line_at(lines, ("budget", 0, "levels", "warn")) == 4
    assert lines[("budget", 1)] == 5
    assert lines[("budget", 1, "quoted key", "x")] == 6
    assert line_at(lines, ("budget", 1, "urls", 1)) == 7
    assert lines[("budget", 1, "levels")] == 13
    assert lines[("budget", 1, "levels", "warn")] == 14
    assert lines[("alerts", "spike_factor")] == 16
    assert ("also",) not in lines and ("not a table",) not in lines
    assert line_at(lines, ("nowhere",)) is None
