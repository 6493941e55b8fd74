"""Budgets as the operator writes them: `config.toml` or `budgets.yaml` in the config dir.

Two shapes load into the same model. The long form, one entry per budget::

    timezone = "Europe/Berlin"

    [[budget]]
    name = "anthropic-monthly"
    provider = "anthropic"          # or backend = "claude"
    period = "month"
    cycle_start_day = 15
    limit_usd = 200.00              # or limit_tokens = 5_000_000
    warn = 0.7                      # or levels = {warn = 0.7, throttle = 0.85, block = 0.95}
    fallback = "codex"
    floor = { at = 0.5, min_used = 0.5 }

    [alerts]
    urls = ["tgram://token/chat"]

and the short form many operators already have (YAML here; `[budgets]` in TOML)::

    budgets:
      daily_limit_usd: 5.00
      monthly_limit_usd: 50.00
      per_backend: {claude: 20.00/month, kimi: 15.00/month, gpt: 10.00/month}
      warning_threshold: 0.8
      hard_stop: true

Every problem is a `ConfigError` naming the file, the line and the field, and saying what was
expected. Only plain dataclasses and hand checks: this is read on every `spendlane check`, so
nothing heavy is imported (YAML only for a YAML file). Money is exact integer nano-USD.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from spendlane.tomlconfig import ConfigError, Where, key_lines, line_at, load_toml

if TYPE_CHECKING:
    from spendlane.lanes.config import Lane
    from spendlane.policy.accounts import Account

__all__ = [
    "CONFIG_NAMES",
    "PERIODS",
    "AlertSettings",
    "Budget",
    "BudgetConfig",
    "ConfigError",
    "Floor",
    "Level",
    "Levels",
    "Period",
    "Scope",
    "canonical_provider",
    "canonical_source",
    "empty_config",
    "find_config",
    "load_config",
    "parse_amount",
]

Period = Literal["day", "week", "month", "5h", "7d"]
Level = Literal["ok", "warn", "throttle", "block"]

PERIODS: tuple[Period, ...] = ("day", "week", "month", "5h", "7d")
_PERIOD_WORDS: dict[str, Period] = {
    **{p: p for p in PERIODS},
    "daily": "day", "weekly": "week", "monthly": "month",
}  # fmt: skip
# How a short-form budget's name ends: "claude-monthly", "kimi-5h".
_PERIOD_SUFFIX: dict[Period, str] = {
    "day": "daily", "week": "weekly", "month": "monthly", "5h": "5h", "7d": "7d",
}  # fmt: skip

# Searched in this order in the config dir; the first that exists wins.
CONFIG_NAMES = ("config.toml", "budgets.yaml", "budgets.yml", "config.yaml")

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_MAX_NANO_USD = 10**18  # one billion dollars: more is a typo, and stays inside SQLite's int64
_MAX_TOKENS = 10**15
_RECORD_SOURCE = "record"  # spendlane.recording.SOURCE, not imported: it pulls in the ledger


@dataclass(frozen=True, slots=True)
class Scope:
    """Which events a budget counts; None means any."""

    provider: str | None = None  # canonical: "anthropic", "openai", "moonshotai", ...
    model: str | None = None  # lowercased fnmatch glob; match it against the lowercased model
    agent: str | None = None
    project: str | None = None
    task_type: str | None = None
    source: str | None = None  # "claude_code", "codex" or "record"
    machine: str | None = None
    account: str | None = None

    def is_global(self) -> bool:
        return all(getattr(self, name) is None for name in _SCOPE_KEYS)


@dataclass(frozen=True, slots=True)
class Levels:
    """Fractions of the limit where a budget warns, throttles and blocks (0 < w <= t <= b <= 1)."""

    warn: float = 0.70
    throttle: float = 0.85
    block: float = 0.95


@dataclass(frozen=True, slots=True)
class Floor:
    """Under-use alert for money already paid for (a subscription, prepaid credit)."""

    at: float = 0.5  # fraction of the period elapsed when it is checked
    min_used: float = 0.5  # alert when less than this fraction of the limit is used by then


@dataclass(frozen=True, slots=True)
class Budget:
    name: str
    scope: Scope
    period: Period
    limit_nano_usd: int | None  # exactly one of the two limits is set
    limit_tokens: int | None
    levels: Levels
    hard_stop: bool = True  # False: warn and throttle, never block
    cycle_start_day: int = 1  # period "month" only: the billing cycle's first day (1..28)
    floor: Floor | None = None
    fallback: str | None = None  # the lane or provider to recommend when throttled/blocked
    line: int | None = None  # where it was defined, for messages


@dataclass(frozen=True, slots=True)
class AlertSettings:
    urls: tuple[str, ...] = ()  # apprise URLs
    spike_factor: float = 3.0  # hourly spend above N x the trailing median
    session_usd_per_hour: float | None = None  # one session burning more than this
    all_providers_floor: float | None = 0.7  # all providers together under this near period end


@dataclass(frozen=True, slots=True)
class BudgetConfig:
    path: Path | None
    budgets: tuple[Budget, ...]
    alerts: AlertSettings
    timezone: str | None = None  # IANA name; None: the machine's local zone
    week_start: str = "monday"
    lanes: tuple[Lane, ...] = ()  # as configured; see `lanes.config` (empty: the default set)
    plan: str | None = None  # the subscription plan: pro, max5, max20, team, or one of `plans`
    plan_prices: tuple[tuple[str, float], ...] = ()  # [plans] name = monthly USD (overrides)
    plan_notes: tuple[tuple[str, str], ...] = ()  # [plans.NAME] notes = "…"
    accounts: tuple[Account, ...] = ()  # several logins; none: one implicit account (`plan`)


def empty_config() -> BudgetConfig:
    return BudgetConfig(path=None, budgets=(), alerts=AlertSettings())


def find_config(config_dir: Path) -> Path | None:
    """The budget config in `config_dir`: the first of CONFIG_NAMES that exists (config.toml
    wins over a YAML file next to it), or None."""
    for name in CONFIG_NAMES:
        candidate = config_dir / name
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path) -> BudgetConfig:
    """Read a .toml, .yaml or .yml budget config; anything wrong is a ConfigError."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            data, text = load_toml(path)
            doc = _Doc(path, key_lines(text), "table")
        elif suffix in (".yaml", ".yml"):
            data, lines = _load_yaml(path, path.read_text(encoding="utf-8"))
            doc = _Doc(path, lines, "mapping")
        else:
            raise ConfigError(path, None, None, "expected a .toml, .yaml or .yml file")
    except OSError as exc:
        raise ConfigError(path, None, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path, None, None, f"not UTF-8 text: {exc.reason}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(path, 1, None, "expected a mapping of budgets, alerts, timezone, ...")
    return _build(doc, data)


def parse_amount(value: object) -> tuple[int, Period | None]:
    """A dollar amount, exactly, as nano-USD, and the period it names if any.

    Numbers (5, 20.5) and text ("20.00", "$20", "15.00/month", "3/5h", "1_000/week") are
    accepted; floats go through their shortest repr, so 0.1 is exactly 100,000,000 nano-USD.
    Sub-nano digits round half to even. Raises ValueError saying what was expected.
    """
    from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

    period: Period | None = None
    if isinstance(value, bool):
        raise ValueError("expected an amount like 15.00/month")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, str):
        match = _AMOUNT.match(value)
        if not match:
            raise ValueError("expected an amount like 15.00/month")
        if match["period"] is not None:
            word = match["period"].lower()
            if word not in _PERIOD_WORDS:
                raise ValueError(f"expected a period after '/': {', '.join(PERIODS)}")
            period = _PERIOD_WORDS[word]
        try:
            amount = Decimal(match["number"])
        except InvalidOperation:
            raise ValueError("expected an amount like 15.00/month") from None
    else:
        raise ValueError("expected an amount like 15.00/month")
    if not amount.is_finite():
        raise ValueError("expected a finite amount like 15.00/month")
    if amount <= 0:
        raise ValueError("expected an amount above zero")
    nano = int((amount * 10**9).to_integral_value(rounding=ROUND_HALF_EVEN))
    if nano > _MAX_NANO_USD:
        raise ValueError("expected at most 1,000,000,000 USD")
    if nano == 0:
        raise ValueError("expected an amount of at least 0.000000001 USD")
    return nano, period


_AMOUNT = re.compile(
    r"^\s*\$?\s*(?P<number>\d[\d_]*(?:\.\d*)?|\.\d+)\s*(?:/\s*(?P<period>[A-Za-z0-9]+)\s*)?$"
)


def canonical_provider(name: str) -> str:
    """The provider an alias names (claude -> anthropic, gpt -> openai); others lowercased."""
    from spendlane.providers import BACKENDS

    key = name.strip().lower()
    return BACKENDS.get(key, key)


def canonical_source(name: str) -> str:
    """claude_code, codex or record, from what users type (claude, codex, ...)."""
    from spendlane.sources import LOG_SOURCES, SOURCE_ALIASES

    key = name.strip().lower()
    key = SOURCE_ALIASES.get(key, key)
    if key in LOG_SOURCES or key == _RECORD_SOURCE:
        return key
    known = sorted({*LOG_SOURCES, *SOURCE_ALIASES, _RECORD_SOURCE})
    raise ValueError(f"expected one of: {', '.join(known)}")


# --- reading -------------------------------------------------------------------------------

_SCOPE_KEYS = ("provider", "model", "agent", "project", "task_type", "source", "machine",
               "account")  # fmt: skip
_LEVEL_KEYS = ("warn", "throttle", "block")
_LEVEL_DEFAULTS = (Levels().warn, Levels().throttle, Levels().block)
_TOP_KEYS = ("timezone", "week_start", "budget", "budgets", "alerts", "lanes", "plan", "plans",
             "accounts")  # fmt: skip
_ENTRY_KEYS = ("name", *_SCOPE_KEYS, "backend", "period", "cycle_start_day", "limit_usd",
               "limit_tokens", *_LEVEL_KEYS, "levels", "hard_stop", "fallback",
               "floor")  # fmt: skip
_SHORT_LIMITS: dict[str, Period] = {
    "daily_limit_usd": "day", "weekly_limit_usd": "week", "monthly_limit_usd": "month",
}  # fmt: skip
_SHORT_KEYS = (*_SHORT_LIMITS, "per_backend", "per_model", "warning_threshold", "hard_stop")
_ALERT_KEYS = ("urls", "spike_factor", "session_usd_per_hour", "all_providers_floor")
_FLOOR_KEYS = ("at", "min_used")


class _Doc:
    # Plain classes, not dataclasses, for the private helpers: each dataclass costs ~0.5 ms
    # to create at import, and this module is imported on every `spendlane check`.
    __slots__ = ("lines", "mapping_word", "path")

    def __init__(self, path: Path, lines: dict[Where, int], mapping_word: str) -> None:
        self.path = path
        self.lines = lines
        self.mapping_word = mapping_word  # "table" in TOML, "mapping" in YAML

    def error(self, where: Where, field: str | None, message: str) -> ConfigError:
        return ConfigError(self.path, line_at(self.lines, where), field, message)


class _Table:
    """A mapping in the file: where it is, and how its fields are named in messages."""

    __slots__ = ("data", "doc", "prefix", "where")

    def __init__(self, doc: _Doc, data: dict[str, Any], where: Where, prefix: str = "") -> None:
        self.doc = doc
        self.data = data
        self.where = where
        self.prefix = prefix  # "alerts." for [alerts]; "" for budget entries and the top level

    def field(self, key: str) -> str:
        return self.prefix + key

    def fail(self, key: str | None, message: str, *inner: str | int) -> ConfigError:
        if key is None:
            return self.doc.error(self.where, self.prefix.rstrip(".") or None, message)
        return self.doc.error((*self.where, key, *inner), self.field(key), message)

    def get(self, key: str) -> Any:
        """The value, or None when absent (a YAML key with no value counts as absent)."""
        return self.data.get(key)

    def text(self, key: str, *, required: bool = False) -> str | None:
        """A text field, stripped; None when absent (an error when `required`)."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise self.fail(None, f"field '{key}' is required")
            return None
        if not isinstance(value, str) or not value.strip():
            quote = " (quote it)" if isinstance(value, int | float | bool) else ""
            raise self.fail(key, f"expected non-empty text, got {value!r}{quote}")
        return value.strip()

    def check_keys(self, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for key in self.data:
            if key not in allowed:
                hint = (
                    _did_you_mean(key, allowed, "; ") or f"; expected one of: {', '.join(allowed)}"
                )
                raise self.fail(key, f"unknown key{hint}")

    def child(self, key: str, what: str) -> _Table:
        value = self.data[key]
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a {self.doc.mapping_word} of {what}, got {value!r}")
        return _Table(self.doc, value, (*self.where, key), f"{self.field(key)}.")


class _Found:
    __slots__ = ("budget", "field", "where")

    def __init__(self, budget: Budget, where: Where, field: str) -> None:
        self.budget = budget
        self.where = where  # where its name comes from, for the duplicate-name error
        self.field = field


def _build(doc: _Doc, data: dict[str, Any]) -> BudgetConfig:
    top = _Table(doc, data, ())
    top.check_keys(_TOP_KEYS)
    timezone = _timezone(top)
    week_start = _week_start(top)
    found: list[_Found] = []
    for key in ("budget", "budgets"):
        value = top.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            for index, entry in enumerate(value):
                found.append(_long_entry(top, key, index, entry))
        elif isinstance(value, dict):
            found.extend(_short_form(_Table(doc, value, (key,), "")))
        else:
            raise top.fail(
                key, f"expected a list of budgets, or a {doc.mapping_word} of limits (short form)"
            )
    first: dict[str, _Found] = {}
    for item in found:
        name = item.budget.name
        if name in first:
            line = first[name].budget.line
            where = f" (first defined on line {line})" if line else ""
            raise doc.error(item.where, item.field, f"duplicate budget name '{name}'{where}")
        first[name] = item
    alerts = AlertSettings()
    if top.get("alerts") is not None:
        alerts = _alerts(top.child("alerts", "alert settings"))
    lanes: tuple[Lane, ...] = ()
    if top.get("lanes") is not None:
        from spendlane.lanes.config import parse_lanes

        lanes = parse_lanes(top, set(first))
    plan, prices, notes = _plan(top)
    from spendlane.policy.accounts import parse_accounts
    from spendlane.policy.quota import PLAN_PRICES

    accounts = parse_accounts(top, {**PLAN_PRICES, **dict(prices)})
    return BudgetConfig(
        path=doc.path,
        budgets=tuple(item.budget for item in found),
        alerts=alerts,
        timezone=timezone,
        week_start=week_start,
        lanes=lanes,
        plan=plan,
        plan_prices=prices,
        plan_notes=notes,
        accounts=accounts,
    )


def _plan(
    top: _Table,
) -> tuple[str | None, tuple[tuple[str, float], ...], tuple[tuple[str, str], ...]]:
    """The top-level plan, and `[plans]`: `name = price` or `[plans.name]` with price, notes."""
    from spendlane.policy.quota import PLAN_PRICES

    prices: dict[str, float] = {}
    notes: dict[str, str] = {}
    if top.get("plans") is not None:
        table = top.child("plans", "plan prices")
        for name, entry in table.data.items():
            price, where = entry, table
            if isinstance(entry, dict):
                where = table.child(name, "plan settings")
                where.check_keys(("price", "notes"))
                price = entry.get("price")
                note = entry.get("notes")
                if note is not None and not isinstance(note, str):
                    raise where.fail("notes", f"expected text, got {note!r}")
                if note:
                    notes[str(name)] = note
            field = "price" if where is not table else name
            if isinstance(price, bool) or not isinstance(price, int | float) or price < 0:
                raise where.fail(field, f"expected a monthly price in USD, got {price!r}")
            prices[str(name)] = float(price)
    plan = top.get("plan")
    if plan is not None:
        known = {**PLAN_PRICES, **prices}
        if not isinstance(plan, str) or plan not in known:
            raise top.fail("plan", f"expected one of {', '.join(sorted(known))} (or add it "
                                   f"under [plans]), got {plan!r}")  # fmt: skip
    return plan, tuple(prices.items()), tuple(notes.items())


def _timezone(top: _Table) -> str | None:
    value = top.get("timezone")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise top.fail(
            "timezone", f"expected an IANA time zone like 'Europe/Berlin', got {value!r}"
        )
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise top.fail(
            "timezone", f"expected an IANA time zone like 'Europe/Berlin', got {value!r}"
        ) from None
    return value.strip()


def _week_start(top: _Table) -> str:
    value = top.get("week_start")
    if value is None:
        return "monday"
    if isinstance(value, str):
        word = value.strip().lower()
        for day in WEEKDAYS:
            if word == day or word == day[:3]:
                return day
    raise top.fail("week_start", f"expected a weekday like 'monday' or 'sunday', got {value!r}")


# --- the long form -------------------------------------------------------------------------


def _long_entry(top: _Table, key: str, index: int, entry: Any) -> _Found:
    doc = top.doc
    where: Where = (key, index)
    if not isinstance(entry, dict):
        raise doc.error(
            where, key, f"expected each budget to be a {doc.mapping_word}, got {entry!r}"
        )
    table = _Table(doc, entry, where)
    table.check_keys(_ENTRY_KEYS)
    name = table.text("name")
    if name is None:
        raise table.fail("name", 'expected a name for this budget, e.g. name = "anthropic-monthly"')
    period: Period | None = None
    if table.get("period") is not None:
        period = _period(table, "period")
    limit_nano, limit_tokens, period = _limits(table, period)
    budget = Budget(
        name=name,
        scope=_scope(table),
        period=period,
        limit_nano_usd=limit_nano,
        limit_tokens=limit_tokens,
        levels=_levels(table),
        hard_stop=_bool(table, "hard_stop", default=True),
        cycle_start_day=_cycle_start_day(table, period),
        floor=_floor(table),
        fallback=table.text("fallback"),
        line=line_at(doc.lines, where),
    )
    return _Found(budget, (*where, "name"), "name")


def _period(table: _Table, key: str) -> Period:
    value = table.get(key)
    word = value.strip().lower() if isinstance(value, str) else None
    if word is None or word not in _PERIOD_WORDS:
        raise table.fail(key, f"expected one of: {', '.join(PERIODS)}; got {value!r}")
    return _PERIOD_WORDS[word]


def _limits(table: _Table, period: Period | None) -> tuple[int | None, int | None, Period]:
    usd, tokens = table.get("limit_usd"), table.get("limit_tokens")
    if usd is not None and tokens is not None:
        raise table.fail("limit_tokens", "give either limit_usd or limit_tokens, not both")
    if usd is None and tokens is None:
        raise table.fail(
            "limit_usd", "expected a limit: limit_usd = 200.00 or limit_tokens = 5_000_000"
        )
    limit_nano = limit_tokens = None
    if usd is not None:
        try:
            limit_nano, named = parse_amount(usd)
        except ValueError as exc:
            raise table.fail("limit_usd", f"{exc}, got {usd!r}") from None
        if named is not None:
            if period is not None and named != period:
                raise table.fail(
                    "limit_usd", f"the amount says per {named} but period = {period!r}"
                )
            period = named
    else:
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens <= 0:
            raise table.fail(
                "limit_tokens", f"expected a whole number of tokens above zero, got {tokens!r}"
            )
        if tokens > _MAX_TOKENS:
            raise table.fail("limit_tokens", f"expected at most {_MAX_TOKENS:_} tokens")
        limit_tokens = tokens
    if period is None:
        raise table.fail("period", f"expected a period: one of {', '.join(PERIODS)}")
    return limit_nano, limit_tokens, period


def _scope(table: _Table) -> Scope:
    values: dict[str, str | None] = {key: table.text(key) for key in _SCOPE_KEYS}
    backend = table.text("backend")
    if backend is not None:
        if values["provider"] is not None:
            raise table.fail("backend", "give either provider or backend, not both")
        values["provider"] = backend
    if values["provider"] is not None:
        values["provider"] = canonical_provider(values["provider"])
    if values["model"] is not None:
        values["model"] = values["model"].lower()
    if values["source"] is not None:
        try:
            values["source"] = canonical_source(values["source"])
        except ValueError as exc:
            from spendlane.sources import LOG_SOURCES, SOURCE_ALIASES

            known = [*LOG_SOURCES, *SOURCE_ALIASES, _RECORD_SOURCE]
            hint = _did_you_mean(values["source"], known, "; ")
            raise table.fail("source", f"{exc}, got {table.get('source')!r}{hint}") from None
    return Scope(**values)


def _levels(table: _Table) -> Levels:
    inline = [key for key in _LEVEL_KEYS if table.get(key) is not None]
    source = table
    if table.get("levels") is not None:
        if inline:
            raise table.fail(inline[0], "give the levels either here or in levels, not both")
        source = table.child("levels", "warn, throttle and block fractions")
        source.check_keys(_LEVEL_KEYS)
    given = {key: _fraction(source, key) for key in _LEVEL_KEYS if source.get(key) is not None}
    return _fill_levels(given, source.fail)


def _fill_levels(given: dict[str, float], fail: Callable[[str, str], ConfigError]) -> Levels:
    """The levels given, in order; the others from the defaults, moved as little as needed to
    stay in order (warn = 0.9 alone raises throttle to 0.9; block = 0.6 alone lowers the rest)."""
    previous: str | None = None
    for key in _LEVEL_KEYS:
        if key in given:
            if previous is not None and given[key] < given[previous]:
                raise fail(
                    key,
                    f"must not be below {previous} ({given[previous]:g}): "
                    "expected 0 < warn <= throttle <= block <= 1",
                )
            previous = key
    values: list[float] = []
    below = 0.0
    for index, (key, default) in enumerate(zip(_LEVEL_KEYS, _LEVEL_DEFAULTS, strict=True)):
        if key in given:
            value = given[key]
        else:
            value = max(default, below)
            above = [given[k] for k in _LEVEL_KEYS[index + 1 :] if k in given]
            if above:
                value = min(value, min(above))
        values.append(value)
        below = value
    return Levels(*values)


def _fraction(table: _Table, key: str) -> float:
    """A fraction in (0, 1]: 0.8, or text "80%"."""
    value = table.get(key)
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (match := re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*%\s*", value)):
        number = float(match[1]) / 100
    if number is None or not 0 < number <= 1:
        hint = ""
        if number is not None and 1 < number <= 100:
            hint = f" (for {number:g} % write {number / 100:g})"
        raise table.fail(
            key, f"expected a fraction above 0 and at most 1, like 0.8, got {value!r}{hint}"
        )
    return number


def _cycle_start_day(table: _Table, period: Period) -> int:
    value = table.get("cycle_start_day")
    if value is None:
        return 1
    if period != "month":
        raise table.fail(
            "cycle_start_day", f'only for period = "month"; this budget\'s period is {period!r}'
        )
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise table.fail(
            "cycle_start_day",
            f"expected a day of the month from 1 to 28 (not every month has 29-31), got {value!r}",
        )
    return value


def _floor(table: _Table) -> Floor | None:
    value = table.get("floor")
    if value is None or value is False:
        return None
    if value is True:
        return Floor()
    sub = table.child("floor", "at and min_used fractions (or floor = true)")
    sub.check_keys(_FLOOR_KEYS)
    default = Floor()
    return Floor(
        at=_fraction(sub, "at") if sub.get("at") is not None else default.at,
        min_used=(
            _fraction(sub, "min_used") if sub.get("min_used") is not None else default.min_used
        ),
    )


def _bool(table: _Table, key: str, default: bool) -> bool:
    value = table.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise table.fail(key, f"expected true or false, got {value!r}")
    return value


# --- the short form ------------------------------------------------------------------------


def _short_form(table: _Table) -> list[_Found]:
    table.check_keys(_SHORT_KEYS)
    levels = Levels()
    if table.get("warning_threshold") is not None:
        warn = _fraction(table, "warning_threshold")
        levels = _fill_levels({"warn": warn}, table.fail)
    hard_stop = _bool(table, "hard_stop", default=True)
    line_of = table.doc.lines

    def make(
        name: str, scope: Scope, period: Period, nano: int, where: Where, field: str
    ) -> _Found:
        budget = Budget(
            name=name,
            scope=scope,
            period=period,
            limit_nano_usd=nano,
            limit_tokens=None,
            levels=levels,
            hard_stop=hard_stop,
            line=line_at(line_of, where),
        )
        return _Found(budget, where, field)

    found: list[_Found] = []
    for key, period in _SHORT_LIMITS.items():
        value = table.get(key)
        if value is None:
            continue
        nano = _short_amount(table, key, value, period)[0]
        found.append(make(_PERIOD_SUFFIX[period], Scope(), period, nano, (*table.where, key), key))
    for group in ("per_backend", "per_model"):
        if table.get(group) is None:
            continue
        what = "backend names and amounts" if group == "per_backend" else "model globs and amounts"
        sub = table.child(group, what)
        for key, value in sub.data.items():
            if value is None:
                continue
            if not key.strip():
                raise sub.fail(key, "expected a non-empty name")
            amounts = value if isinstance(value, list) else [value]
            for index, amount in enumerate(amounts):
                inner = (index,) if isinstance(value, list) else ()
                nano, period = _short_amount(sub, key, amount, None, *inner)
                if group == "per_backend":
                    scope = Scope(provider=canonical_provider(key))
                else:
                    scope = Scope(model=key.strip().lower())
                where = (*sub.where, key, *inner)
                name = f"{key.strip()}-{_PERIOD_SUFFIX[period]}"
                found.append(make(name, scope, period, nano, where, sub.field(key)))
    return found


def _short_amount(
    table: _Table, key: str, value: Any, fixed: Period | None, *inner: int
) -> tuple[int, Period]:
    """An amount in the short form; without a period it is per month (or the key's period)."""
    try:
        nano, period = parse_amount(value)
    except ValueError as exc:
        raise table.fail(key, f"{exc}, got {value!r}", *inner) from None
    if fixed is not None:
        if period is not None and period != fixed:
            raise table.fail(key, f"expected an amount per {fixed}, got {value!r}", *inner)
        return nano, fixed
    return nano, period or "month"


# --- alerts --------------------------------------------------------------------------------


def _alerts(table: _Table) -> AlertSettings:
    table.check_keys(_ALERT_KEYS)
    defaults = AlertSettings()
    urls: tuple[str, ...] = ()
    value = table.get("urls")
    if value is not None:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise table.fail("urls", f"expected a list of apprise URLs, got {value!r}")
        for index, url in enumerate(items):
            if not isinstance(url, str) or "://" not in url:
                raise table.fail(
                    "urls", f"expected an apprise URL like tgram://token/chat, got {url!r}", index
                )
        urls = tuple(url.strip() for url in items)
    spike = defaults.spike_factor
    if table.get("spike_factor") is not None:
        spike = _number(table, "spike_factor", "a factor above 1, like 3", lambda x: x > 1)
    per_hour = defaults.session_usd_per_hour
    if table.get("session_usd_per_hour") not in (None, False):
        per_hour = _number(table, "session_usd_per_hour", "USD above 0, like 10", lambda x: x > 0)
    floor = defaults.all_providers_floor
    if table.get("all_providers_floor") is False:
        floor = None
    elif table.get("all_providers_floor") is not None:
        floor = _fraction(table, "all_providers_floor")
    return AlertSettings(
        urls=urls, spike_factor=spike, session_usd_per_hour=per_hour, all_providers_floor=floor
    )


def _number(table: _Table, key: str, what: str, ok: Callable[[float], bool]) -> float:
    value = table.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if number == number and number != float("inf") and ok(number):
            return number
    raise table.fail(key, f"expected {what}, got {value!r}")


# --- helpers -------------------------------------------------------------------------------


def _did_you_mean(word: str, choices: Iterable[str], lead: str) -> str:
    from difflib import get_close_matches

    close = get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return f"{lead}did you mean '{close[0]}'?" if close else ""


_YAML_MERGE = "tag:yaml.org,2002:merge"


def _load_yaml(path: Path, text: str) -> tuple[Any, dict[Where, int]]:
    """Parse YAML keeping the line of every key and list item (from the composed nodes)."""
    import yaml

    loader_class: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = loader_class(text)
    lines: dict[Where, int] = {}
    open_nodes: set[int] = set()  # a recursive alias (&a [*a]) must not recurse forever

    def build(node: Any, where: Where) -> Any:
        lines.setdefault(where, node.start_mark.line + 1)
        if isinstance(node, yaml.CollectionNode):
            if id(node) in open_nodes:
                raise ConfigError(path, lines[where], None, "a YAML alias refers to itself")
            open_nodes.add(id(node))
            try:
                return build_collection(node, where)
            finally:
                open_nodes.discard(id(node))
        return loader.construct_object(node, deep=True)

    def build_collection(node: Any, where: Where) -> Any:
        if isinstance(node, yaml.MappingNode):
            own = sum(1 for key_node, _ in node.value if key_node.tag != _YAML_MERGE)
            loader.flatten_mapping(node)  # `<<: *defaults` entries first, then its own keys
            merged = len(node.value) - own
            out: dict[str, Any] = {}
            from_merge: set[str] = set()
            for index, (key_node, value_node) in enumerate(node.value):
                key = loader.construct_object(key_node, deep=True)
                key_line = key_node.start_mark.line + 1
                if not isinstance(key, str):
                    raise ConfigError(
                        path, key_line, str(key), f"expected a text key, got {key!r} (quote it)"
                    )
                if index < merged:
                    from_merge.add(key)
                elif key in out and key not in from_merge:
                    first = lines.get((*where, key))
                    raise ConfigError(path, key_line, key, f"duplicate key (first on line {first})")
                lines[(*where, key)] = key_line
                out[key] = build(value_node, (*where, key))
            return out
        return [build(item, (*where, index)) for index, item in enumerate(node.value)]

    try:
        root = loader.get_single_node()
        return (None if root is None else build(root, ())), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot parse"
        if exc.context and exc.problem and exc.context_mark:
            problem += f" ({exc.context} on line {exc.context_mark.line + 1})"
        raise ConfigError(
            path, mark.line + 1 if mark else None, None, f"invalid YAML: {problem}"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path, None, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
