"""`spendlane mcp`: the ledger and the budgets as MCP tools, for an agent to ask mid-task.

Four tools, each answering with JSON-able data (see docs/mcp.md):

- `spend_summary(period)`: what calls cost today, this week or this month, in total and per
  provider and model.
- `budget_status()`: every budget as `spendlane budget --json` shows it.
- `quota_status()`: the latest subscription window readings (Codex rate limits, statusline).
- `pick_lane(agent, model)`: the lane a dispatch would run on now, and why.

The tool bodies below are plain functions over the core (no SDK in them); `build_server` wraps
them for the official `mcp` SDK, which is imported only there: it takes about half a second to load,
and nothing but `spendlane mcp` should pay for it.

Freshness: the reporting tools (`spend_summary`, `budget_status`, `quota_status`) first bring
new log lines into the ledger, as `spendlane costs` and `budget` do. After the first import an
ingest only stats the log files and reads appended bytes (tens of milliseconds), and without it
the calls of the very session asking would be missing. `pick_lane` reads the ledger as it is,
as `check` and `run` do.

Each tool call reads the config and opens the ledger anew, so an edited config counts at once
and a broken one fails that call with the file, line and field, not the server.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from spendlane.periods import local_iso

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from spendlane.ledger import SqliteLedger
    from spendlane.policy.config import BudgetConfig

__all__ = [
    "PERIODS",
    "ToolFailure",
    "budget_status",
    "build_server",
    "pick_lane",
    "quota_status",
    "serve",
    "spend_summary",
]

SpendPeriod = Literal["today", "this-week", "this-month"]
PERIODS: tuple[str, ...] = ("today", "this-week", "this-month")

INSTRUCTIONS = (
    "spendlane keeps a ledger of what every AI coding agent call costs (Claude Code, Codex and "
    "recorded calls), with budgets and fallback lanes. Ask it before expensive work: "
    "budget_status says how close each budget is to its limit, quota_status how much of the "
    "subscription windows is used, pick_lane where a dispatch should run, spend_summary what "
    "was spent."
)


class ToolFailure(Exception):
    """A tool cannot answer; the message says why, for the model to read (and act on)."""


_T = TypeVar("_T")


def _answer(body: Callable[[], _T]) -> _T:
    """Run a tool body; expected failures (a bad config, ledger or price file) become a
    `ToolFailure` carrying their message, which names the file, line and field."""
    from spendlane.ledger import LedgerError
    from spendlane.periods import PeriodError
    from spendlane.tomlconfig import ConfigError

    try:
        return body()
    except ToolFailure:
        raise
    except (ConfigError, LedgerError, PeriodError) as exc:
        raise ToolFailure(str(exc)) from None
    except sqlite3.Error as exc:
        raise ToolFailure(f"ledger: {exc}") from None
    except OSError as exc:
        raise ToolFailure(f"{exc.filename or 'file'}: {exc.strerror or exc}") from None


@contextmanager
def _ledger(db: Path | None) -> Iterator[SqliteLedger]:
    from spendlane.ledger import SqliteLedger
    from spendlane.paths import default_ledger_path

    with SqliteLedger(db or default_ledger_path()) as ledger:
        yield ledger


def _ingest(ledger: SqliteLedger) -> int:
    """New log lines into the ledger (the user's prices.toml applied); the new calls' count.
    When something new was stored, status.json and level alerts follow, as after any ingest."""
    from spendlane.ingest import ingest

    report = ingest(ledger)
    return report.new_events


def _budgets() -> BudgetConfig:
    from spendlane.policy.service import load_budgets

    return load_budgets(None)


def _now_ms() -> int:
    from spendlane.policy.service import now_ms

    return now_ms()


# -- spend_summary -----------------------------------------------------------------------


def spend_summary(
    period: str = "today", *, db: Path | None = None, ingest: bool = True
) -> dict[str, Any]:
    """Cost, tokens and calls over `period` (today, this-week or this-month in the config's
    time zone and week start), in total, per provider and per model."""
    if period not in PERIODS:
        raise ToolFailure(f"period: expected one of {', '.join(PERIODS)}, got {period!r}")
    return _answer(lambda: _spend_summary(period, db, ingest))


def _spend_summary(period: str, db: Path | None, ingest: bool) -> dict[str, Any]:
    from spendlane.money import nano_to_usd
    from spendlane.periods import named_range
    from spendlane.policy.config import WEEKDAYS
    from spendlane.policy.service import zone_of
    from spendlane.reports.calendar import Tally, daily_report

    config = _budgets()
    zone = zone_of(config)
    week_start = WEEKDAYS.index(config.week_start) if config.week_start in WEEKDAYS else 0
    today = dt.datetime.now(zone).date()
    found = named_range(period, today, week_start)
    assert found is not None  # every name in PERIODS is a range name
    since, until = found
    new_events = 0
    with _ledger(db) as ledger:
        if ingest:
            new_events = _ingest(ledger)
            if new_events:
                from spendlane.policy.service import status_after

                status_after(ledger, config)
        report = daily_report(ledger, zone=zone, since=since, until=until)
    providers: dict[str, Tally] = {}
    models: dict[tuple[str, str], Tally] = {}
    for day in report.days:
        for provider, by_model in day.providers.items():
            for model, tally in by_model.items():
                providers.setdefault(provider, Tally()).add(tally)
                models.setdefault((provider, model), Tally()).add(tally)

    def sums(tally: Tally) -> dict[str, Any]:
        return {
            "costUsd": nano_to_usd(tally.cost_nano),
            "totalTokens": tally.total_tokens,
            "inputTokens": tally.input_tokens,
            "outputTokens": tally.output_tokens,
            "cacheCreationTokens": tally.cache_creation_tokens,
            "cacheReadTokens": tally.cache_read_tokens,
            "calls": tally.events,
            "unpricedCalls": tally.unpriced_events,
        }

    return {
        "period": period,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "timezone": report.zone,
        "total": sums(report.total),
        "providers": [
            {"provider": name, **sums(tally)}
            for name, tally in sorted(providers.items(), key=lambda kv: (-kv[1].cost_nano, kv[0]))
        ],
        "models": [
            {"model": model, "provider": provider, **sums(tally)}
            for (provider, model), tally in sorted(
                models.items(), key=lambda kv: (-kv[1].cost_nano, kv[0])
            )
        ],
        "unpriced": [
            {
                "model": u.model,
                "provider": u.provider,
                "source": u.source,
                "calls": u.events,
                "totalTokens": u.tokens,
            }
            for u in report.unpriced
        ],
        "newCallsIngested": new_events,
    }


# -- budget_status -----------------------------------------------------------------------


def budget_status(*, db: Path | None = None, ingest: bool = True) -> dict[str, Any]:
    """Every budget now, in the shape of `spendlane.budget_status()`, and the config's path."""
    return _answer(lambda: _budget_status(db, ingest))


def _budget_status(db: Path | None, ingest: bool) -> dict[str, Any]:
    from spendlane.policy.service import budget_states, state_json, status_after, zone_of

    config = _budgets()
    zone = zone_of(config)
    at = _now_ms()
    with _ledger(db) as ledger:
        if ingest:
            _ingest(ledger)
        states = budget_states(ledger, config, at)
        status_after(ledger, config, states, at)
    levels = [state.level for state in states]
    worst = max(levels, key=("ok", "warn", "throttle", "block").index, default="ok")
    return {
        "level": worst,
        "budgets": [state_json(state, zone) for state in states],
        "config": str(config.path) if config.path else None,
    }


# -- quota_status ------------------------------------------------------------------------

_LATEST_READINGS = """
SELECT source, root, window, used_percent, window_minutes, resets_at_ms, ts_ms, session_id
FROM quota_readings AS q
WHERE ts_ms = (SELECT MAX(ts_ms) FROM quota_readings
               WHERE source = q.source AND root = q.root AND window = q.window)
ORDER BY ts_ms
"""


def quota_status(
    *, db: Path | None = None, ingest: bool = True, at_ms: int | None = None
) -> dict[str, Any]:
    """The latest reading of every subscription window (per account, source and window)."""
    return _answer(lambda: _quota_status(db, ingest, at_ms))


def _quota_status(db: Path | None, ingest: bool, at_ms: int | None) -> dict[str, Any]:
    from spendlane.policy.accounts import DEFAULT, account_of
    from spendlane.policy.quota import window_name, window_states
    from spendlane.policy.service import zone_of

    budgets = _budgets()
    zone = zone_of(budgets)
    at = at_ms if at_ms is not None else _now_ms()
    with _ledger(db) as ledger:
        if ingest:
            _ingest(ledger)
        rows = ledger.connection.execute(_LATEST_READINGS).fetchall()
        # burn rate, projection and level as `spendlane quota` sees them (running windows)
        running = {(s.account, s.source, s.window): s
                   for s in window_states(ledger, at, budgets.accounts)}  # fmt: skip
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for source, root, window, used, minutes, resets_ms, ts_ms, session in rows:  # oldest first
        owner = account_of(budgets.accounts, root)
        account = owner.name if owner is not None else DEFAULT
        state = running.get((account, source, window))
        reset = resets_ms is not None and resets_ms <= at
        burn = state.burn_per_hour if state and not reset else None
        projected = state.projected_percent if state and not reset else None
        latest[(account, source, window)] = {
            "account": account,
            "source": source,
            "window": window,
            "name": window_name(source, window),
            "usedPercent": used,
            "windowMinutes": minutes,
            "resetsAt": local_iso(resets_ms, zone),
            # The window has rolled over since: its percent no longer holds.
            "reset": reset,
            "readAt": local_iso(ts_ms, zone),
            "ageSeconds": max(0, (at - ts_ms) // 1000),
            "burnPerHour": round(burn, 2) if burn is not None else None,
            "projectedPercent": round(projected, 2) if projected is not None else None,
            "level": state.level if state and not reset else None,
            "sessionId": session,
        }
    return {"readings": [latest[key] for key in sorted(latest)], "timezone": str(zone)}


# -- pick_lane ---------------------------------------------------------------------------


def pick_lane(
    agent: str | None = None, model: str | None = None, *, db: Path | None = None
) -> dict[str, Any]:
    """The lane `spendlane run --lane auto` would take now for this agent and model."""
    return _answer(lambda: _pick_lane(agent, model, db))


def _pick_lane(agent: str | None, model: str | None, db: Path | None) -> dict[str, Any]:
    import spendlane
    from spendlane.policy.service import zone_of

    pick = spendlane.pick_lane(agent=agent or None, model=model or None, db=db)
    # A free lane is never gated: the decision a pick carries then is the last blocked lane's.
    decision = None if pick.lane is not None and pick.lane.free else pick.decision
    return {
        "lane": pick.lane.name if pick.lane else None,
        "provider": pick.lane.provider if pick.lane else None,
        "kind": pick.lane.kind if pick.lane else None,
        "refused": pick.refused,
        "reason": pick.reason,
        "path": list(pick.path),
        "decision": decision.action.word if decision else None,
        "resetsAt": local_iso(pick.reset_ms, zone_of(_budgets())),
    }


# -- the server --------------------------------------------------------------------------


def build_server(db: Path | None = None) -> MCPServer[Any]:
    """An MCP server with the four tools over the ledger `db` (default: the usual one)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    import spendlane

    server: MCPServer[Any] = MCPServer(
        "spendlane", version=spendlane.__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    looks_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    def answer(body: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            return body()
        except ToolFailure as failure:
            raise ToolError(str(failure)) from None

    @server.tool(name="spend_summary")
    def spend_summary_tool(period: SpendPeriod = "today") -> dict[str, Any]:
        """What AI coding agent calls cost today, this week or this month (the config's time
        zone): total cost in USD, tokens and calls, then per provider and per model, most
        expensive first. Call it when asked about spend, or to see what a task has cost so
        far. Calls of models with no known price are listed under `unpriced`, never as $0."""
        return answer(lambda: spend_summary(period, db=db))

    @server.tool(name="budget_status")
    def budget_status_tool() -> dict[str, Any]:
        """Every configured budget now: spent, limit, percent, level (ok, warn, throttle,
        block), remaining, when it resets, projection and the lane recommended when it
        throttles or blocks; `level` is the worst of them. Call it before starting expensive
        work, and slow down or switch lanes at throttle; at block, do not make the call."""
        return answer(lambda: budget_status(db=db))

    @server.tool(name="quota_status", annotations=looks_only)
    def quota_status_tool() -> dict[str, Any]:
        """How much of each subscription usage window is used (e.g. Claude's five_hour and
        seven_day windows, Codex's rate limits): the latest reading per source and window,
        with its reset time and age. `reset: true` means the window has rolled over since the
        reading. Call it to know whether a plan's limit is near before a long task."""
        return answer(lambda: quota_status(db=db))

    @server.tool(name="pick_lane", annotations=looks_only)
    def pick_lane_tool(agent: str | None = None, model: str | None = None) -> dict[str, Any]:
        """The lane (Claude Code, Codex, a local model, …) a dispatch should run on now, as the
        budgets allow, with the reason; `refused: true` means no lane can take the work and
        the reason says until when. Call it before dispatching a subagent or a batch job."""
        return answer(lambda: pick_lane(agent, model, db=db))

    return server


def serve(db: Path | None = None) -> None:
    """Run the server on stdin/stdout until the client disconnects."""
    build_server(db).run("stdio")
