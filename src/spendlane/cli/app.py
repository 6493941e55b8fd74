"""The `spendlane` command. Thin: parse options, call the core, render.

Heavy imports (rich, genai-prices) happen inside commands, so `--json` runs and warm runs
start fast.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from spendlane.cli.reporting import (
    BY_KEYS,
    WEEKDAYS,
    by_keys,
    echo_json,
    log_sources,
    report_filter,
    report_range,
)
from spendlane.sources import LOG_SOURCES, SOURCE_ALIASES

SOURCE_CHOICE = click.Choice(["all", *SOURCE_ALIASES, "record"], case_sensitive=False)
COST_MODES = click.Choice(["auto", "calculate", "display"], case_sensitive=False)
EXPORT_KEYS = BY_KEYS


class Context:
    """What every command shares: where the ledger is."""

    def __init__(self, db: Path | None) -> None:
        self.db = db

    def ledger(self) -> Any:
        from spendlane.ledger import LedgerError, SqliteLedger
        from spendlane.paths import default_ledger_path

        try:
            return SqliteLedger(self.db or default_ledger_path())
        except LedgerError as exc:
            raise click.ClickException(str(exc)) from None

    @contextmanager
    def ledger_for_report(self) -> Iterator[Any]:
        """The ledger, with a bad prices.toml (met when ingesting) as a clear error."""
        from spendlane.tomlconfig import ConfigError

        with self.ledger() as ledger:
            try:
                yield ledger
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None


_echo_json = echo_json
_sources = log_sources
_report_filter = report_filter


def _ingest(ledger: Any, sources: list[str], quiet: bool) -> Any:
    """Ingest with a progress bar when on a terminal and the work is long."""
    from spendlane.cli.reporting import ingest_for_report
    from spendlane.tomlconfig import ConfigError

    try:
        return ingest_for_report(ledger, sources, quiet=quiet)
    except ConfigError as exc:  # prices.toml
        raise click.ClickException(str(exc)) from None


@click.group(invoke_without_command=True)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="SPENDLANE_DB",
    help="Ledger file (default: $SPENDLANE_HOME/ledger.sqlite3 or the platform data dir).",
)
@click.version_option(package_name="spendlane")
@click.pass_context
def main(ctx: click.Context, db: Path | None) -> None:
    """What every AI coding agent call costs, from a durable ledger.

    With no command: bring new Claude Code and Codex usage into the ledger and show this
    month's days, today's and this month's cost.
    """
    ctx.obj = Context(db)
    if ctx.invoked_subcommand is None:
        from spendlane.cli.reporting import overview

        with ctx.obj.ledger_for_report() as ledger:
            overview(ledger)


@main.command("ingest")
@click.option("--source", type=SOURCE_CHOICE, default="all", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_obj
def ingest_command(context: Context, source: str, as_json: bool) -> None:
    """Bring new model calls from the local logs into the ledger, and say what was done."""
    with context.ledger() as ledger:
        report = _ingest(ledger, _sources(source), quiet=as_json)
    if as_json:
        _echo_json(report.to_json())
    else:
        from spendlane.cli import render

        render.ingest_summary(report)


def _by_keys(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    """--by project --by model, or --by project,model: known keys, each once."""
    try:
        return by_keys(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _report_options(function: Any) -> Any:
    """The options every calendar report takes."""
    options: list[Callable[[Any], Any]] = [
        click.argument("range_", metavar="[RANGE]", required=False),
        click.option("-s", "--since", help="First day (YYYY-MM-DD, YYYYMMDD or a range name)."),
        click.option("-u", "--until", help="Last day (YYYY-MM-DD, YYYYMMDD or a range name)."),
        click.option("-z", "--timezone", "timezone",
                     help="IANA time zone for days (default: local)."),
        click.option("--source", type=SOURCE_CHOICE, default="all", show_default=True),
        click.option("-b", "--breakdown", is_flag=True, help="A row per model in each period."),
        click.option("--by", "by", multiple=True, callback=_by_keys, metavar="KEY[,KEY]",
                     help=f"Rows per attribution in each period: {', '.join(EXPORT_KEYS)}."),
        click.option("-j", "--json", "as_json", is_flag=True, help="JSON in ccusage's shape."),
        click.option("-m", "--cost-mode", "--mode", type=COST_MODES, default="auto",
                     show_default=True,
                     help="auto: agent-reported cost when present, else computed."),
        click.option("-o", "--order", type=click.Choice(["asc", "desc"]), default="asc"),
        click.option("--no-ingest", is_flag=True, help="Report on the ledger as it is."),
        click.pass_obj,
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


@main.command("daily")
@_report_options
def daily_command(context: Context, **options: Any) -> None:
    """Tokens and cost per day (and per model).

    RANGE: today, yesterday, this-week, last-week, this-month, last-month, 7d (any Nd),
    a date, or FROM..TO.
    """
    _calendar_report(context, "day", **options)


@main.command("weekly")
@_report_options
@click.option("-w", "--start-of-week", type=click.Choice(WEEKDAYS, case_sensitive=False),
              default="monday", show_default=True)  # fmt: skip
def weekly_command(context: Context, start_of_week: str, **options: Any) -> None:
    """Tokens and cost per week (and per model)."""
    _calendar_report(context, "week", week_start=WEEKDAYS.index(start_of_week.lower()), **options)


@main.command("monthly")
@_report_options
def monthly_command(context: Context, **options: Any) -> None:
    """Tokens and cost per month (and per model)."""
    _calendar_report(context, "month", **options)


def _range(
    range_: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    week_start: int = 0,
) -> tuple[Any, dt.date | None, dt.date | None]:
    """The report zone and first/last day from RANGE, --since, --until (these win)."""
    from spendlane.periods import PeriodError

    try:
        return report_range(range_, since, until, timezone, week_start)
    except PeriodError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command("session")
@_report_options
def session_command(
    context: Context,
    *,
    range_: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    source: str,
    breakdown: bool,
    by: tuple[str, ...],
    as_json: bool,
    cost_mode: str,
    order: str,
    no_ingest: bool,
) -> None:
    """Tokens and cost per session (a session counts if any of its calls is in RANGE)."""
    from spendlane.reports.calendar import CostMode
    from spendlane.reports.sessions import session_report

    zone, first, last = _range(range_, since, until, timezone)
    sources = _sources(source)
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, sources, quiet=as_json)
        report = session_report(
            ledger, zone=zone, since=first, until=last, sources=_report_filter(source),
            cost_mode=CostMode(cost_mode.lower()), order_desc=order == "desc", by=by,
        )  # fmt: skip
    if as_json:
        from spendlane.reports.render_json import sessions_json

        _echo_json(sessions_json(report))
    else:
        from spendlane.cli import render

        render.session_table(report, breakdown=breakdown)


def _calendar_report(
    context: Context,
    period: str,
    *,
    range_: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    week_start: int = 0,
    **options: Any,
) -> None:
    from spendlane.cli.reporting import calendar_report

    zone, first, last = _range(range_, since, until, timezone, week_start)
    with context.ledger_for_report() as ledger:
        calendar_report(ledger, period, zone, first, last, week_start=week_start, **options)


@main.group("report")
def report_group() -> None:
    """Pages to keep or share."""


@report_group.command("markdown")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here (replaced atomically); default: print.")  # fmt: skip
@click.option("-z", "--timezone", "timezone", help="IANA time zone (default: local).")
@click.option("--no-ingest", is_flag=True, help="Report on the ledger as it is.")
@click.pass_obj
def markdown_command(
    context: Context, /, out: Path | None, timezone: str | None, no_ingest: bool
) -> None:
    """A Markdown dashboard: monthly and weekly totals, per model/project/agent/skill, top
    sessions, a 30-day sparkline. Renders on GitHub and in Obsidian."""
    from spendlane.reports.markdown import render, write_atomically

    zone, _, _ = _range(None, None, None, timezone)
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, list(LOG_SOURCES), quiet=True)
        page = render(ledger, zone=zone, today=dt.datetime.now(zone).date())
    if out is None:
        click.echo(page, nl=False)
    else:
        write_atomically(out, page)
        click.echo(f"wrote {out}", err=True)


@main.command("history")
@click.argument("range_", metavar="[RANGE]", required=False, default="last-week")
@click.option("-z", "--timezone", "timezone", help="IANA time zone for days (default: local).")
@click.option("--source", type=SOURCE_CHOICE, default="all", show_default=True)
@click.option("-j", "--json", "as_json", is_flag=True)
@click.option("-m", "--cost-mode", "--mode", type=COST_MODES, default="auto", show_default=True)
@click.option("--by", "by", multiple=True, callback=_by_keys, metavar="KEY[,KEY]",
              help="Rows per attribution in each day (as for daily).")  # fmt: skip
@click.option("--no-ingest", is_flag=True, help="Report on the ledger as it is.")
@click.pass_obj
def history_command(
    context: Context,
    /,
    range_: str,
    timezone: str | None,
    source: str,
    as_json: bool,
    by: tuple[str, ...],
    cost_mode: str,
    no_ingest: bool,
) -> None:
    """What was spent, day by day, per provider and model (RANGE default: last-week)."""
    from spendlane.reports.calendar import CostMode, daily_report

    zone, first, last = _range(range_, None, None, timezone)
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, _sources(source), quiet=as_json)
        report = daily_report(ledger, zone=zone, since=first, until=last,
                              sources=_report_filter(source),
                              cost_mode=CostMode(cost_mode.lower()), by=by)  # fmt: skip
    if as_json:
        from spendlane.reports.render_json import history_json

        _echo_json(history_json(report))
    else:
        from spendlane.cli import render

        render.history_table(report)


@main.command("blocks")
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option("-a", "--active", is_flag=True, help="Only the block running now.")
@click.option("-r", "--recent", is_flag=True, help="Blocks of the last 3 days.")
@click.option("-t", "--token-limit", help="Tokens per block to warn against, or 'max' (the "
              "largest block seen).")  # fmt: skip
@click.option("-s", "--since", help="First day (YYYY-MM-DD, YYYYMMDD or a range name).")
@click.option("-u", "--until", help="Last day (YYYY-MM-DD, YYYYMMDD or a range name).")
@click.option("-z", "--timezone", "timezone", help="IANA time zone for display (default: local).")
@click.option("--source", type=SOURCE_CHOICE, default="claude", show_default=True)
@click.option("--by", "by", multiple=True, callback=_by_keys, metavar="KEY[,KEY]",
              help="Rows per attribution in each block (as for daily).")  # fmt: skip
@click.option("-j", "--json", "as_json", is_flag=True, help="JSON in ccusage's shape.")
@click.option("-m", "--cost-mode", "--mode", type=COST_MODES, default="auto", show_default=True)
@click.option("--no-ingest", is_flag=True, help="Report on the ledger as it is.")
@click.pass_obj
def blocks_command(
    context: Context,
    /,
    range_: str | None,
    active: bool,
    recent: bool,
    token_limit: str | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    source: str,
    by: tuple[str, ...],
    as_json: bool,
    cost_mode: str,
    no_ingest: bool,
) -> None:
    """Five-hour blocks: the subscription window's shape. The running block gets a burn rate
    and a projection to its end."""
    import time

    from spendlane.reports.blocks import block_report
    from spendlane.reports.calendar import CostMode

    zone, first, last = _range(range_, since, until, timezone)
    now_ms = int(time.time() * 1000)
    if recent:
        first = (dt.datetime.now(zone) - dt.timedelta(days=3)).date()
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, _sources(source), quiet=as_json)
        blocks = block_report(ledger, zone=zone, now_ms=now_ms, since=first, until=last,
                              sources=_report_filter(source),
                              cost_mode=CostMode(cost_mode.lower()), by=by)  # fmt: skip
    limit = None
    if token_limit:
        if token_limit.lower() == "max":
            limit = max((b.total_tokens for b in blocks if not b.gap), default=0) or None
        elif token_limit.isdigit():
            limit = int(token_limit)
        else:
            raise click.BadParameter("expected a number of tokens or 'max'", param_hint="-t")
    if active:
        blocks = [b for b in blocks if b.active]
    if as_json:
        from spendlane.reports.render_json import blocks_json

        _echo_json(blocks_json(blocks, now_ms, limit, by))
    else:
        from spendlane.cli import render

        render.blocks_table(blocks, zone, now_ms, limit, by)


@main.command("export")
@click.argument("range_", metavar="[RANGE]", required=False)
@click.option("-f", "--format", "fmt", type=click.Choice(["csv", "json", "jsonl"]),
              default="csv", show_default=True)  # fmt: skip
@click.option(
    "--by",
    multiple=True,
    type=click.Choice(sorted(EXPORT_KEYS)),
    help="Sum per this attribution instead of one row per call (repeatable).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (replaced atomically) instead of stdout.",
)
@click.option("-s", "--since", help="First day (YYYY-MM-DD, YYYYMMDD or a range name).")
@click.option("-u", "--until", help="Last day (YYYY-MM-DD, YYYYMMDD or a range name).")
@click.option("-z", "--timezone", "timezone", help="IANA time zone for days (default: local).")
@click.option("--source", type=SOURCE_CHOICE, default="all", show_default=True)
@click.option("--no-ingest", is_flag=True, help="Export the ledger as it is.")
@click.pass_obj
def export_command(
    context: Context,
    /,
    range_: str | None,
    fmt: str,
    by: tuple[str, ...],
    out: Path | None,
    since: str | None,
    until: str | None,
    timezone: str | None,
    source: str,
    no_ingest: bool,
) -> None:
    """Every call (or sums --by model, project, agent, session, ...) as CSV, JSON or JSONL.

    Streams: a million calls export in constant memory. Costs are exact decimal dollars.
    """
    from spendlane.reports.export import export_rows, write

    zone, first, last = _range(range_, since, until, timezone)
    sources = _sources(source)
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, sources, quiet=True)
        names, rows = export_rows(ledger, zone=zone, since=first, until=last,
                                  sources=_report_filter(source), by=by)  # fmt: skip
        if out is None:
            write(sys.stdout, fmt, names, rows)
            return
        import os
        import tempfile

        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
                count = write(f, fmt, names, rows)
            os.replace(temporary, out)
        except BaseException:
            os.unlink(temporary)
            raise
    click.echo(f"wrote {count} rows to {out}", err=True)


@main.command("record")
@click.option("--model", help="Model name (required unless records come on stdin).")
@click.option("--backend", help="Provider: claude, openai, kimi, gemini, local, ...")
@click.option("--input-tokens", type=int, help="Uncached input tokens.")
@click.option("--prompt-tokens", type=int, help="OpenAI-style prompt tokens (cached included).")
@click.option("--output-tokens", "--completion-tokens", "output_tokens", type=int)
@click.option("--cache-read-tokens", "--cached-tokens", "cache_read_tokens", type=int)
@click.option("--cache-creation-tokens", type=int)
@click.option("--cost-usd", type=float, help="Cost the provider reported (else computed).")
@click.option("--timestamp", help="ISO 8601 or epoch seconds (default: now).")
@click.option("--task-id")
@click.option("--task-type")
@click.option("--agent")
@click.option("--session-id")
@click.option("--duration-ms", type=float)
@click.option("--event-id", help="Idempotency key: the same id is stored once.")
@click.option("--json", "as_json", is_flag=True, help="Print what was stored as JSON.")
@click.pass_obj
def record_command(context: Context, /, as_json: bool, **flags: Any) -> None:
    """Record model calls made outside the agents' logs.

    With --model: one call from the flags. Without: JSON lines on stdin, one call each, with
    the same field names (prompt_tokens/completion_tokens or input_tokens/output_tokens,
    cost_usd, task_id, ...). All lines are checked before any is stored.
    """
    from spendlane.recording import RecordError, record_many

    if flags["model"] is not None:
        records = [{k: v for k, v in flags.items() if v is not None}]
    else:
        records = []
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise click.ClickException(f"stdin line {number}: not JSON ({exc})") from None
            if not isinstance(value, dict):
                raise click.ClickException(f"stdin line {number}: expected a JSON object")
            records.append(value)
        if not records:
            raise click.UsageError("give --model and token counts, or JSON lines on stdin")
    with context.ledger() as ledger:
        try:
            stored, result = record_many(ledger, records)
        except RecordError as exc:
            where = "" if flags["model"] is not None else "a record on stdin: "
            raise click.ClickException(f"{where}{exc}") from None
        from spendlane.cli.reporting import refresh_status

        refresh_status(ledger, changed=result.inserted > 0)
    if as_json:
        _echo_json(
            {
                "new": result.inserted,
                "alreadyKnown": len(stored) - result.inserted,
                "records": [
                    {
                        "eventId": r.event_id,
                        "provider": r.provider,
                        "model": r.model,
                        "costUsd": r.cost_usd,
                        "reportedCostUsd": r.reported_cost_usd,
                    }
                    for r in stored
                ],
            }
        )
    else:
        new = result.inserted
        click.echo(f"recorded {new} new call(s), {len(stored) - new} already known")


@main.command("demo")
@click.option("--keep", is_flag=True, help="Keep the sample folder and print where it is.")
def demo_command(keep: bool) -> None:
    """Write a week of realistic sample logs to a temp folder and report on them."""
    import tempfile

    from spendlane.cli import render
    from spendlane.demo import write_demo_logs
    from spendlane.ingest import ingest
    from spendlane.ledger import SqliteLedger
    from spendlane.periods import local_zone
    from spendlane.reports.calendar import daily_report
    from spendlane.sources.locations import CLAUDE_CODE, CODEX

    folder = Path(tempfile.mkdtemp(prefix="spendlane-demo-"))
    zone = local_zone(None)
    now = dt.datetime.now(zone)
    claude_root, codex_root = write_demo_logs(folder, now)
    with SqliteLedger(folder / "ledger.sqlite3") as ledger:
        stats = ingest(ledger, roots={CLAUDE_CODE: [claude_root], CODEX: [codex_root]})
        report = daily_report(ledger, zone=zone, since=(now - dt.timedelta(days=7)).date())
    render.ingest_summary(stats)
    render.daily_table(report, breakdown=True)
    if keep:
        click.echo(f"Sample logs and ledger kept in {folder}")
        click.echo(
            f"Try: CLAUDE_CONFIG_DIR={claude_root} CODEX_HOME={codex_root} "
            f"spendlane --db {folder / 'ledger.sqlite3'} daily"
        )
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


# --- alerts --------------------------------------------------------------------------------


@main.group("alerts")
def alerts_group() -> None:
    """Alerts: send a test message to the configured channels, list what was raised."""


def _alert_config(config: Path | None) -> tuple[Any, str]:
    """The budget config (alert settings, zone), and where it was looked for (for messages)."""
    from spendlane.paths import config_dir
    from spendlane.policy.config import empty_config, find_config, load_config
    from spendlane.tomlconfig import ConfigError

    path = config or find_config(config_dir())
    if path is None:
        return empty_config(), f"no config file in {config_dir()}"
    try:
        return load_config(path), str(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


_ALERT_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: config.toml or budgets.yaml in the config dir).",
)


def _delivery_json(results: Any) -> list[dict[str, Any]]:
    return [{"alertId": r.alert_id, "kind": r.kind, "title": r.title, "status": r.status,
             "attempts": r.attempts, "delivered": list(r.delivered), "failed": list(r.failed),
             "error": r.error} for r in results]  # fmt: skip


@alerts_group.command("test")
@_ALERT_CONFIG
@click.option("-j", "--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def alerts_test_command(context: Context, config_path: Path | None, as_json: bool) -> None:
    """Send a test alert to every configured channel ([alerts] urls)."""
    from spendlane.alerts.deliver import send_test

    config, where = _alert_config(config_path)
    urls = config.alerts.urls
    if not urls:
        raise click.ClickException(
            f"no alert channel configured ({where}): add e.g. "
            '[alerts] urls = ["tgram://BOT_TOKEN/CHAT_ID"] to config.toml'
        )
    with context.ledger() as ledger:
        results = send_test(ledger, urls)
    if as_json:
        _echo_json(_delivery_json(results))
    for r in results:
        if r.delivered and not as_json:
            click.echo(f"test alert sent to {', '.join(r.delivered)}")
        if r.error:
            lead = "some channels failed" if r.delivered else "the test alert reached no channel"
            click.echo(f"{lead}: {r.error}", err=True)
    if not any(r.delivered for r in results):
        raise SystemExit(1)


@alerts_group.command("list")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("-j", "--json", "as_json", is_flag=True)
@click.pass_obj
def alerts_list_command(context: Context, limit: int, as_json: bool) -> None:
    """Alerts raised, newest first, and how their delivery went (errors: --json)."""
    from spendlane.alerts.state import list_alerts

    with context.ledger() as ledger:
        alerts = list_alerts(ledger, limit)

    def stamp(ms: int | None) -> str | None:
        if ms is None:
            return None
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds")

    if as_json:
        _echo_json({"alerts": [{"id": a.id, "time": stamp(a.ts_ms), "kind": a.kind,
                                "subject": a.subject, "level": a.level, "status": a.status,
                                "attempts": a.attempts, "title": a.title, "body": a.body,
                                "lastError": a.last_error, "sentAt": stamp(a.sent_ms)}
                               for a in alerts]})  # fmt: skip
        return
    if not alerts:
        click.echo("no alerts raised yet")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table("time", "kind", "subject", "level", "status", "attempts", "title")
    for a in alerts:
        when = dt.datetime.fromtimestamp(a.ts_ms / 1000).astimezone()
        cells = (a.kind, a.subject, a.level, a.status, str(a.attempts), a.title)
        table.add_row(f"{when:%Y-%m-%d %H:%M}", *(Text(cell) for cell in cells))
    Console().print(table)


@alerts_group.command("deliver")
@_ALERT_CONFIG
@click.option("-j", "--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_obj
def alerts_deliver_command(context: Context, config_path: Path | None, as_json: bool) -> None:
    """Look for spend spikes and runaway sessions, then deliver every pending alert.

    Exit 1 when some alert reached none or only some of its channels.
    """
    import time

    from spendlane.alerts.deliver import deliver_pending
    from spendlane.alerts.detect import detect_all
    from spendlane.periods import PeriodError, local_zone

    config, _ = _alert_config(config_path)
    try:
        zone = local_zone(config.timezone)
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from None
    with context.ledger() as ledger:
        detect_all(ledger, config.alerts, int(time.time() * 1000), zone)
        results = deliver_pending(ledger, config.alerts.urls)
    if as_json:
        _echo_json(_delivery_json(results))
    else:
        for r in results:
            detail = f" ({r.error})" if r.error else ""
            click.echo(f"{r.status}: {r.title}{detail}")
    if any(r.status == "failed" for r in results):
        raise SystemExit(1)
