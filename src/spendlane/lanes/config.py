"""Lanes: where a dispatch can run, and where it goes when a budget says no.

A lane is an agent CLI (Claude Code, Codex) or any command, on one provider, with its own
environment (Claude Code on Kimi is Claude Code with Moonshot's Anthropic endpoint), the
budgets that gate it and the lanes to move to on throttle and on block. They live in the same
config file as the budgets, as `[[lanes]]` (TOML) or a `lanes:` list (YAML); with none, the
default set below is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spendlane.policy.config import BudgetConfig, _Table

KINDS = ("claude", "codex", "command")
_KEYS = ("name", "provider", "kind", "command", "env", "model", "models", "budgets", "free",
         "on_throttle", "on_block", "max_budget_usd", "max_turns", "timeout")  # fmt: skip
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Lane:
    name: str
    provider: str  # canonical provider ("anthropic", "moonshotai", "openai", "local")
    kind: str  # claude | codex | command
    command: tuple[str, ...] = ()  # a template; {prompt} and {model} are filled in; () = kind's
    env: tuple[tuple[str, str], ...] = ()  # values may name variables: "${MOONSHOT_API_KEY}"
    model: str | None = None  # passed as --model (claude, codex) or {model}
    models: tuple[tuple[str, str], ...] = ()  # model mapping: asked-for glob -> this lane's model
    budgets: tuple[str, ...] | None = None  # budgets that gate it; None = by provider
    free: bool = False  # a local lane: $0, never gated by budgets
    on_throttle: str | None = None
    on_block: str | None = None
    max_budget_usd: float | None = None  # guardrails for Claude Code runs (None: defaults)
    max_turns: int | None = None
    timeout_s: float | None = None
    line: int | None = None


DEFAULT_LANES: tuple[Lane, ...] = (
    Lane("anthropic", "anthropic", "claude", on_throttle="kimi", on_block="codex"),
    Lane(
        "kimi", "moonshotai", "claude",
        env=(("ANTHROPIC_BASE_URL", "https://api.moonshot.ai/anthropic"),
             ("ANTHROPIC_AUTH_TOKEN", "${MOONSHOT_API_KEY}"),
             ("ANTHROPIC_MODEL", "kimi-k2-thinking")),
        on_block="codex",
    ),
    Lane("codex", "openai", "codex", on_block="local"),
    Lane(
        "local", "local", "claude", free=True,
        env=(("ANTHROPIC_BASE_URL", "http://localhost:11434"),
             ("ANTHROPIC_AUTH_TOKEN", "ollama"), ("ANTHROPIC_MODEL", "qwen3-coder")),
    ),
)  # fmt: skip


def lanes_of(config: BudgetConfig) -> tuple[Lane, ...]:
    """The lanes a config sets up: its own, else the default set."""
    return config.lanes or DEFAULT_LANES


def parse_lanes(top: _Table, budget_names: set[str]) -> tuple[Lane, ...]:
    """The `lanes` list of a config file (see `policy.config`), checked: unknown keys, kinds,
    lanes and budgets named but not defined are errors with file, line and field."""
    from spendlane.policy.config import canonical_provider

    value = top.get("lanes")
    if value is None:
        return ()
    if not isinstance(value, list):
        raise top.fail("lanes", "expected a list of lanes ([[lanes]] in TOML)")
    lanes: list[Lane] = []
    tables = []
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise top.doc.error(("lanes", index), "lanes", f"expected a lane, got {entry!r}")
        table = type(top)(top.doc, entry, ("lanes", index))
        table.check_keys(_KEYS)
        name = table.text("name", required=True)
        kind = table.text("kind") or "claude"
        if kind not in KINDS:
            raise table.fail("kind", f"expected one of {', '.join(KINDS)}, got {kind!r}")
        provider = table.text("provider")
        if provider is None:
            raise table.fail(None, "field 'provider' is required (e.g. 'anthropic')")
        command = _strings(table, "command")
        if kind == "command" and not command:
            raise table.fail("command", "a lane of kind 'command' needs its command")
        budgets = _strings(table, "budgets") if table.get("budgets") is not None else None
        for budget in budgets or ():
            if budget not in budget_names:
                raise table.fail("budgets", f"no budget named {budget!r} in this file")
        lanes.append(Lane(
            name=str(name), provider=canonical_provider(provider), kind=kind,
            command=command, env=_mapping(table, "env"), model=table.text("model"),
            models=_mapping(table, "models"), budgets=budgets,
            free=_flag(table, "free"), on_throttle=table.text("on_throttle"),
            on_block=table.text("on_block"),
            max_budget_usd=_number(table, "max_budget_usd"),
            max_turns=int(n) if (n := _number(table, "max_turns")) is not None else None,
            timeout_s=_number(table, "timeout"),
            line=table.doc.lines.get(("lanes", index)),
        ))  # fmt: skip
        tables.append(table)
    names = [lane.name for lane in lanes]
    for lane, table in zip(lanes, tables, strict=True):
        if names.count(lane.name) > 1:
            raise table.fail("name", f"duplicate lane name {lane.name!r}")
        for key in ("on_throttle", "on_block"):
            target = getattr(lane, key)
            if target is not None and target not in names:
                raise table.fail(key, f"no lane named {target!r}; lanes: {', '.join(names)}")
    return tuple(lanes)


def _strings(table: _Table, key: str) -> tuple[str, ...]:
    value = table.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        import shlex

        return tuple(shlex.split(value))
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise table.fail(key, f"expected a list of strings, got {value!r}")
    return tuple(value)


def _mapping(table: _Table, key: str) -> tuple[tuple[str, str], ...]:
    value = table.get(key)
    if value is None:
        return ()
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise table.fail(key, f"expected a {table.doc.mapping_word} of text values, got {value!r}")
    return tuple((str(k), v) for k, v in value.items())


def _flag(table: _Table, key: str) -> bool:
    value = table.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise table.fail(key, f"expected true or false, got {value!r}")
    return value


def _number(table: _Table, key: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise table.fail(key, f"expected a number above 0, got {value!r}")
    return float(value)


def expand_env(lane: Lane, environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The lane's environment with ${VAR} references filled from `environ`, and the names of
    variables it refers to that are not set (the run cannot start without them)."""
    missing: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    return {key: _ENV_REFERENCE.sub(fill, value) for key, value in lane.env}, missing


def shown_env(lane: Lane) -> list[str]:
    """The environment as it may be printed: references stay references, secrets unshown."""
    shown = []
    for key, value in lane.env:
        secret = any(word in key.upper() for word in ("TOKEN", "KEY", "SECRET", "PASSWORD"))
        text = value if (_ENV_REFERENCE.fullmatch(value) or not secret) else "***"
        shown.append(f"{key}={text}")
    return shown
