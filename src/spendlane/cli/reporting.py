"""The calendar reports and the overview, without click: the click commands and the quick path
(`cli.quick_report`) both run these, so the two cannot print different things.

Errors are the core's own (`PeriodError`, `ConfigError`, `LedgerError`): the click commands turn
them into usage errors, the quick path hands the command line to click, which says them.
Nothing heavy is imported at the top: a warm `daily --json` must start fast.
"""

from __future__ import annotations

import datetime as dt
import sys

from spendlane.sources import LOG_SOURCES, SOURCE_ALIASES

TYPE_CHECKING = False  # not from typing: this module is on the quick path
if TYPE_CHECKING:
    from typing import Any

    from spendlane.ingest import IngestReport
    from spendlane.ledger import SqliteLedger

BY_KEYS = ("model", "project", "agent", "session", "source", "provider", "task", "task-type",
           "skill", "machine", "lane", "account", "action")  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
STATUS_MAX_AGE_S = 60  # status.json older than this is rewritten even when nothing is new


def log_sources(choice: str) -> list[str]:
    """The log sources to read for --source (none for `record`: nothing to read)."""
    name = choice.lower()
    if name == "all":
        return list(LOG_SOURCES)
    return [SOURCE_ALIASES[name]] if name in SOURCE_ALIASES else []


def report_filter(choice: str) -> list[str] | None:
    """The ledger sources a report shows for --source; None = every source, recorded too."""
    name = choice.lower()
    return None if name == "all" else [SOURCE_ALIASES.get(name, name)]


def by_keys(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """--by project --by model, or --by project,model: known keys, each once (ValueError
    names an unknown one)."""
    keys: list[str] = []
    for part in (k.strip().lower() for item in values for k in item.split(",")):
        if part not in BY_KEYS:
            raise ValueError(f"{part!r} is not one of {', '.join(BY_KEYS)}")
        if part not in keys:
            keys.append(part)
    return tuple(keys)


def report_range(
    range_: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    week_start: int = 0,
) -> tuple[dt.tzinfo, dt.date | None, dt.date | None]:
    """The report zone and first/last day from RANGE, --since, --until (these win); raises
    PeriodError for a bad date or zone."""
    from spendlane.periods import local_zone, parse_range

    zone = local_zone(timezone)
    today = dt.datetime.now(zone).date()
    first = last = None
    if range_:
        first, last = parse_range(range_, today, week_start, "RANGE")
    if since:
        first = parse_range(since, today, week_start, "--since")[0]
    if until:
        last = parse_range(until, today, week_start, "--until")[1]
    return zone, first, last


def ingest_for_report(ledger: SqliteLedger, sources: list[str], *, quiet: bool) -> IngestReport:
    """Ingest (with a progress bar when on a terminal and the work is long), then refresh
    status.json. A bad prices.toml raises ConfigError before anything is read."""
    from spendlane.ingest import ingest

    if quiet or not sys.stderr.isatty():
        report = ingest(ledger, sources=sources)
    else:
        from spendlane.cli.render import IngestProgress

        with IngestProgress() as progress:
            report = ingest(ledger, sources=sources, progress=progress.update)
    changed = report.new_events or any(s.replaced for s in report.sources.values())
    refresh_status(ledger, changed=bool(changed))
    return report


def refresh_status(ledger: SqliteLedger, *, changed: bool) -> None:
    """After an ingest or a record: replace status.json and raise level alerts when something
    new was stored (or the file is over a minute old: periods roll over by the clock). A bad
    budget config is said on stderr; it does not fail the report that ingested."""
    import os
    import time

    from spendlane.paths import data_dir

    status = data_dir() / "status.json"
    if not changed:
        try:
            if time.time() - os.stat(status).st_mtime < STATUS_MAX_AGE_S:
                return  # the common warm case: no policy module is loaded
        except OSError:
            pass
    from spendlane.policy.service import load_budgets, status_after
    from spendlane.tomlconfig import ConfigError

    try:
        config = load_budgets(None)
    except ConfigError as exc:
        print(f"budgets not evaluated: {exc}", file=sys.stderr, flush=True)
        return
    status_after(ledger, config)
    from spendlane.policy.quota import quota_alerts
    from spendlane.policy.service import now_ms, zone_of

    quota_alerts(ledger, config.accounts, config.plan, now_ms(), zone_of(config))


def echo_json(value: Any) -> None:
    """Indented for a person at a terminal; compact (and several times faster) when piped."""
    import json

    indent = 2 if sys.stdout.isatty() else None
    sys.stdout.write(json.dumps(value, indent=indent) + "\n")
    sys.stdout.flush()


def calendar_report(
    ledger: SqliteLedger,
    period: str,
    zone: dt.tzinfo,
    first: dt.date | None,
    last: dt.date | None,
    *,
    source: str,
    breakdown: bool,
    by: tuple[str, ...],
    as_json: bool,
    cost_mode: str,
    order: str,
    no_ingest: bool,
    week_start: int = 0,
) -> None:
    """`daily`, `weekly`, `monthly`: ingest unless told not to, sum, print (with the month
    forecast when the range reaches today)."""
    from spendlane.reports.calendar import CostMode, Period, daily_report

    if not no_ingest:
        ingest_for_report(ledger, log_sources(source), quiet=as_json)
    mode = CostMode(cost_mode.lower())
    report = daily_report(
        ledger, zone=zone, since=first, until=last, sources=report_filter(source),
        cost_mode=mode, order_desc=order == "desc", period=Period(period),
        week_start=week_start, by=by,
    )  # fmt: skip
    forecast = None
    today = dt.datetime.now(zone).date()
    if period != "week" and (last is None or last >= today) and (first is None or first <= today):
        from spendlane.reports.forecast import month_forecast

        forecast = month_forecast(ledger, zone=zone, now=dt.datetime.now(dt.UTC), cost_mode=mode)
    if as_json:
        from spendlane.reports.render_json import daily_json, forecast_json

        out = daily_json(report)
        if forecast is not None:
            out["forecast"] = forecast_json(forecast)
        echo_json(out)
    else:
        from spendlane.cli import render

        render.daily_table(report, breakdown=breakdown)
        if forecast is not None:
            render.forecast_line(forecast)


def overview(ledger: SqliteLedger) -> None:
    """`spendlane` alone: ingest, then this month's days, today's and this month's cost (or
    where logs were looked for, when there are none and the ledger is empty)."""
    from spendlane.cli import render
    from spendlane.periods import local_zone
    from spendlane.reports.calendar import daily_report

    stats = ingest_for_report(ledger, list(LOG_SOURCES), quiet=False)
    if stats.files_seen == 0 and _ledger_empty(ledger):
        render.no_logs_found(stats)
        return
    zone = local_zone(None)
    today = dt.datetime.now(zone).date()
    report = daily_report(ledger, zone=zone, since=today.replace(day=1), until=today)
    render.overview(report, today, stats)


def _ledger_empty(ledger: SqliteLedger) -> bool:
    return ledger.connection.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
