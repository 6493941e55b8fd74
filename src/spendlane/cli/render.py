"""Terminal rendering with rich: tables, the ingest summary, the progress bar."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from spendlane.ingest import IngestReport
from spendlane.money import format_usd
from spendlane.reports.blocks import Block
from spendlane.reports.calendar import DailyReport, Tally
from spendlane.reports.forecast import Forecast
from spendlane.reports.render_json import period_label
from spendlane.reports.sessions import SessionReport
from spendlane.sources import LOG_SOURCES

console = Console()
PROGRESS_MIN_BYTES = 8 * 1024 * 1024
WIDE = 120  # columns; below this, token counts are abbreviated


def usd(nano: int) -> str:
    return format_usd(nano)


@cache
def _wide() -> bool:
    """Is the terminal wide enough for full numbers? Asked once: rich asks the terminal on
    every `console.width`, which a long table would otherwise do for every cell."""
    return console.width >= WIDE


def tokens(n: int) -> str:
    """Full counts on a wide terminal; 7.4M-style on a narrow one, so nothing is cut off."""
    if abs(n) < 10_000 or _wide():
        return f"{n:,}"
    for limit, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}{suffix}"
    return str(n)


class IngestProgress:
    """A progress bar on stderr, shown only when there is a lot to read."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> IngestProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, done: int, total: int) -> None:
        if self._progress is None:
            if total < PROGRESS_MIN_BYTES:
                return
            self._progress = Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task("Reading agent logs", total=total)
        self._progress.update(self._task, completed=done)


def ingest_summary(report: IngestReport) -> None:
    for name, s in report.sources.items():
        label = LOG_SOURCES[name].label
        line = (
            f"{label}: {s.files_seen} files, {s.files_read} read ({s.bytes_read:,} bytes), "
            f"{s.new_events} new events, {s.duplicates} duplicates"
        )
        if s.malformed_lines:
            line += f", [yellow]{s.malformed_lines} malformed lines skipped[/]"
        if s.unpriced_events:
            line += f", [yellow]{s.unpriced_events} unpriced[/]"
        if s.files_vanished:
            line += f", {s.files_vanished} files vanished while reading"
        console.print(line, highlight=False)
    if report.unpriced_models:
        models = ", ".join(sorted(report.unpriced_models))
        console.print(
            f"[yellow]No price known for: {models}[/] - add them to prices.toml "
            "(see docs/pricing.md); their tokens are counted, their cost is not guessed."
        )


def no_logs_found(report: IngestReport) -> None:
    console.print("[bold]No agent logs found.[/] Looked in:")
    for name, s in report.sources.items():
        for root in s.roots:
            console.print(f"  {LOG_SOURCES[name].label}: {root}", highlight=False)
    console.print(
        "Set CLAUDE_CONFIG_DIR or CODEX_HOME if your logs live elsewhere, "
        "or run [bold]spendlane demo[/] to see a report on realistic sample logs."
    )


def _tally_cells(t: Tally) -> list[str]:
    return [
        tokens(t.input_tokens),
        tokens(t.output_tokens),
        tokens(t.cache_creation_tokens),
        tokens(t.cache_read_tokens),
        tokens(t.total_tokens),
        usd(t.cost_nano) + ("*" if t.unpriced_events else ""),
    ]


_TITLES = {"day": ("Daily", "Date"), "week": ("Weekly", "Week"), "month": ("Monthly", "Month")}


def daily_table(report: DailyReport, *, breakdown: bool) -> None:
    """The calendar table; on a narrow terminal, short headers and no model list column
    (the per-model rows of --breakdown carry the names instead)."""
    title, first = _TITLES[report.period]
    wide = _wide()
    table = Table(title=f"{title} usage ({report.zone}, cost: {report.cost_mode})")
    table.add_column(first, no_wrap=True)
    if wide:
        table.add_column("Models", no_wrap=True)
    headers = (
        ("Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost")
        if wide
        else ("In", "Out", "Cache W", "Cache R", "Total", "Cost")
    )
    for name in headers:
        table.add_column(name, justify="right", no_wrap=True)
    for day in report.days:
        models = sorted(day.models, key=lambda m: -day.models[m].cost_nano)
        names = ["\n".join(f"- {_short(m)}" for m in models)] if wide else []
        table.add_row(period_label(report, day.date), *names, *_tally_cells(day.total))
        if breakdown:
            for model in models:
                label = ["", f"  └ {_short(model)}"] if wide else [f" └ {_short(model)}"]
                table.add_row(*label, *_tally_cells(day.models[model]), style="dim")
        for values, tally in _costliest(day.groups):
            name = group_label(report.by, values)
            label = ["", f"  └ {name}"] if wide else [f" └ {name}"]
            table.add_row(*label, *_tally_cells(tally), style="dim")
    table.add_section()
    table.add_row("Total", *([""] if wide else []), *_tally_cells(report.total), style="bold")
    for values, tally in _costliest(report.groups):
        name = group_label(report.by, values)
        label = ["", f"  └ {name}"] if wide else [f" └ {name}"]
        table.add_row(*label, *_tally_cells(tally), style="dim")
    print_table(table)
    _unpriced_note(report)


LONG_TABLE = 150  # rows; beyond this a table is printed plainly (see `print_table`)


def print_table(table: Table) -> None:
    """Print `table`: by rich when it is short, as aligned plain text when it is long.

    Rich lays out a table at about a thousand cells a second; a month of sessions or a
    `--by project` report can have tens of thousands, which would take seconds to draw. The
    plain form has the same columns, alignment, sections and totals, without box lines.
    """
    if table.row_count <= LONG_TABLE:
        console.print(table)
        return
    columns = table.columns
    cells = [[_plain(cell) for cell in column.cells] for column in columns]
    headers = [_plain(column.header) for column in columns]
    widths = [max([len(h), *(len(line) for c in col for line in c.split("\n"))])
              for h, col in zip(headers, cells, strict=True)]  # fmt: skip
    right = [column.justify == "right" for column in columns]

    def line(values: list[str]) -> str:
        padded = (v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right,
                                                                       strict=True))  # fmt: skip
        return "  ".join(padded).rstrip()

    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    out = [str(table.title or ""), line(headers), rule]
    for index, row in enumerate(table.rows):
        parts = [col[index].split("\n") for col in cells]
        for depth in range(max(len(p) for p in parts)):
            out.append(line([p[depth] if depth < len(p) else "" for p in parts]))
        if row.end_section:
            out.append(rule)
    console.file.write("\n".join(out) + "\n")


def _plain(cell: Any) -> str:
    """A cell's text: our cells are strings whose only markup is escaped brackets."""
    text = cell if isinstance(cell, str) else str(getattr(cell, "plain", cell))
    return text.replace("\\[", "[") if "\\[" in text else text


def group_label(by: tuple[str, ...], values: tuple[str | None, ...]) -> str:
    """'project=/srv/api · model=opus-4-6': which `--by` values a row sums (markup-escaped)."""
    parts = []
    for key, value in zip(by, values, strict=True):
        shown = "(none)" if value is None else _short(value) if key == "model" else escape(value)
        parts.append(f"{key}={shown}")
    return " · ".join(parts)


def _costliest(groups: dict[tuple[str | None, ...], Tally]) -> list[tuple[Any, Tally]]:
    return sorted(groups.items(), key=lambda kv: (-kv[1].cost_nano, [v or "" for v in kv[0]]))


def session_table(report: SessionReport, *, breakdown: bool) -> None:
    """Sessions, latest activity and cost; a narrow terminal gets totals only."""
    wide = _wide()
    table = Table(title=f"Usage by session ({report.zone}, cost: {report.cost_mode})")
    table.add_column("Session", no_wrap=True)
    table.add_column("Project", overflow="fold")
    table.add_column("Last activity", no_wrap=True)
    headers = ("Input", "Output", "Cache write", "Cache read", "Total tokens", "Cost")
    for name in headers if wide else ("Tokens", "Cost"):
        table.add_column(name, justify="right", no_wrap=True)

    def cells(tally: Tally) -> list[str]:
        values = _tally_cells(tally)
        return values if wide else values[-2:]

    for session in report.sessions:
        last = dt.datetime.fromtimestamp(session.last_ms / 1000, tz=report.zone)
        table.add_row(escape(session.session_id[:8]) or "-", _tail(session.project),
                      last.strftime("%Y-%m-%d %H:%M"), *cells(session.total))  # fmt: skip
        if breakdown:
            for model, tally in sorted(session.models.items(), key=lambda kv: -kv[1].cost_nano):
                table.add_row("", f" └ {_short(model)}", "", *cells(tally), style="dim")
        for values, tally in _costliest(session.groups):
            table.add_row("", f" └ {group_label(report.by, values)}", "", *cells(tally),
                          style="dim")  # fmt: skip
    table.add_section()
    table.add_row("Total", "", "", *cells(report.total), style="bold")
    print_table(table)


def blocks_table(
    blocks: list[Block], zone: Any, now_ms: int, limit: int | None, by: tuple[str, ...] = ()
) -> None:
    table = Table(title=f"5-hour blocks ({zone})")
    for name, justify in (("Block start", "left"), ("Status", "left"), ("Models", "left"),
                          ("Tokens", "right"), ("Cost", "right")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=name != "Models")  # type: ignore[arg-type]
    if limit:
        table.add_column("% of limit", justify="right")
    for b in blocks:
        start = dt.datetime.fromtimestamp(b.start_ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M")
        if b.gap:
            hours = (b.end_ms - b.start_ms) / 3_600_000
            table.add_row(start, f"[dim]gap {hours:.0f} h[/]", "", "", "", *([""] if limit else []))
            continue
        status = "done"
        if b.active:
            left = (b.end_ms - now_ms) // 60_000
            status = f"[green]active[/], {left // 60}h{left % 60:02d}m left"
            burn = b.burn(now_ms)
            if burn:
                status += f", {usd(int(burn[1] * 1e9))}/h"
        if b.reset_at_ms:
            reset = dt.datetime.fromtimestamp(b.reset_at_ms / 1000, tz=zone).strftime("%H:%M")
            status += f" [yellow]limit hit, resets {reset}[/]"
        cells = [start, status, ", ".join(_short(m) for m in b.models),
                 tokens(b.total_tokens), usd(b.cost_nano)]  # fmt: skip
        if limit:
            projection = b.projection(now_ms)
            projected = projection[0] if projection else b.total_tokens
            cells.append(
                f"{100 * b.total_tokens / limit:.0f}%"
                + (f" → {100 * projected / limit:.0f}%" if b.active else "")
            )
        table.add_row(*cells)
        for values, tally in _costliest(b.groups):
            row = ["", f" └ {group_label(by, values)}", "", tokens(tally.total_tokens),
                   usd(tally.cost_nano)]  # fmt: skip
            table.add_row(*row, *([""] if limit else []), style="dim")
    print_table(table)


def history_table(report: DailyReport) -> None:
    """One table: each day, its providers, their models."""
    table = Table(title=f"Spend by day, provider and model ({report.zone})")
    table.add_column("Day", no_wrap=True)
    table.add_column("Provider / model", no_wrap=True)
    table.add_column("Tokens", justify="right", no_wrap=True)
    table.add_column("Cost", justify="right", no_wrap=True)
    for day in report.days:
        table.add_row(day.date.strftime("%a %Y-%m-%d"), "", tokens(day.total.total_tokens),
                      usd(day.total.cost_nano), style="bold")  # fmt: skip
        ranked = sorted(day.providers.items(),
                        key=lambda kv: -sum(t.cost_nano for t in kv[1].values()))  # fmt: skip
        for provider, models in ranked:
            spent = sum(t.cost_nano for t in models.values())
            used = sum(t.total_tokens for t in models.values())
            table.add_row("", provider, tokens(used), usd(spent))
            for model, tally in sorted(models.items(), key=lambda kv: -kv[1].cost_nano):
                table.add_row("", f"  └ {_short(model)}", tokens(tally.total_tokens),
                              usd(tally.cost_nano), style="dim")  # fmt: skip
        for values, tally in _costliest(day.groups):
            table.add_row("", f"{group_label(report.by, values)}", tokens(tally.total_tokens),
                          usd(tally.cost_nano), style="dim")  # fmt: skip
    table.add_section()
    table.add_row("Total", "", tokens(report.total.total_tokens), usd(report.total.cost_nano),
                  style="bold")  # fmt: skip
    print_table(table)
    _unpriced_note(report)


def forecast_line(forecast: Forecast) -> None:
    t = forecast.total
    providers = ", ".join(f"{name} {usd(p.projected_nano)}"
                          for name, p in sorted(forecast.by_provider.items(),
                                                key=lambda kv: -kv[1].projected_nano))  # fmt: skip
    console.print(
        f"[bold]{forecast.month}[/] so far {usd(t.month_to_date_nano)}, heading for "
        f"[bold]{usd(t.projected_nano)}[/] ({usd(t.daily_rate_nano)}/day over the last 7 days, "
        f"{forecast.days_left:.1f} days left)" + (f"; {providers}" if providers else ""),
        highlight=False,
    )


def _tail(path: str, keep: int = 2) -> str:
    """The last parts of a project path: what tells projects apart."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    return escape("/".join(parts[-keep:])) if parts else "-"


def _unpriced_note(report: DailyReport) -> None:
    if report.unpriced:
        console.print("[yellow]* not included: no price known for[/]")
        for u in report.unpriced:
            console.print(
                f"  {escape(u.model)} ({u.source}): {u.events} calls, {u.tokens:,} tokens",
                highlight=False,
            )


def overview(report: DailyReport, today: dt.date, ingest: IngestReport) -> None:
    daily_table(report, breakdown=False)
    today_nano = sum(d.total.cost_nano for d in report.days if d.date == today)
    console.print(
        f"[bold]Today[/] {usd(today_nano)}   [bold]This month[/] {usd(report.total.cost_nano)}"
        f"   ({ingest.new_events} new calls read in {ingest.seconds:.2f} s)",
        highlight=False,
    )


def _short(model: str) -> str:
    """claude-sonnet-4-5-20250929 -> sonnet-4-5, as ccusage shows them."""
    name = model.removeprefix("claude-")
    parts = name.split("-")
    if parts and len(parts[-1]) == 8 and parts[-1].isdigit():
        parts = parts[:-1]
    return escape("-".join(parts))


def budget_table(states: list[Any], zone: Any, config_path: Any) -> None:
    """Every budget now; the level column is coloured so the one in trouble stands out."""
    from spendlane.policy.evaluate import describe_limit

    if not states:
        where = f" in {config_path}" if config_path else ""
        console.print(f"No budgets configured{where}. See docs/budgets.md for the format.")
        return
    colours = {"ok": "green", "warn": "yellow", "throttle": "dark_orange", "block": "red"}
    table = Table(title=f"Budgets ({zone})")
    for name in ("Budget", "Limit", "Used", "%", "Level", "Remaining", "Resets", "Projected",
                 "Lane"):  # fmt: skip
        table.add_column(name, justify="right" if name in ("Used", "%", "Remaining",
                                                           "Projected") else "left")  # fmt: skip

    def amount(state: Any, value: int | None) -> str:
        if value is None:
            return "-"
        return format_usd(value) if state.in_usd else f"{value:,}"

    for s in states:
        resets = "rolling" if s.window.rolling else dt.datetime.fromtimestamp(
            s.window.end_ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M")  # fmt: skip
        used = amount(s, s.used) + (f" ({amount(s, s.reserved)} held)" if s.reserved else "")
        table.add_row(escape(s.budget.name), describe_limit(s), used, f"{s.fraction * 100:.0f}%",
                      f"[{colours[s.level]}]{s.level}[/]", amount(s, s.remaining), resets,
                      amount(s, s.projected),
                      escape(s.budget.fallback or "-") if s.level in ("throttle", "block")
                      else "-")  # fmt: skip
    console.print(table)


def costs_tables(summary: Any) -> None:
    table = Table(title=f"Costs on {summary.today} ({summary.zone})")
    for name in ("", "Today", "This month"):
        table.add_column(name, justify="left" if not name else "right")
    table.add_row("[bold]All[/]", usd(summary.day.cost_nano), usd(summary.month.cost_nano))
    for title, rows in (("provider", summary.providers), ("model", summary.models)):
        table.add_section()
        for name, (today, month) in sorted(rows.items(), key=lambda kv: -kv[1][1].cost_nano):
            label = _short(name) if title == "model" else escape(name)
            table.add_row(label, usd(today.cost_nano), usd(month.cost_nano))
    console.print(table)
    if summary.unpriced_events:
        console.print(f"[yellow]{summary.unpriced_events} calls this month have no known price "
                      "and are not in these sums.[/]")  # fmt: skip


def lanes_table(rows: list[dict[str, Any]], reason: str, *, configured: bool) -> None:
    colours = {"allow": "green", "warn": "yellow", "throttle": "dark_orange", "block": "red",
               "free": "cyan", "limited": "magenta"}  # fmt: skip
    title = "Lanes" + ("" if configured else escape(" (the default set: no [[lanes]] configured)"))
    table = Table(title=title)
    for name in ("Lane", "Provider", "Kind", "Now", "On throttle", "On block", "Environment"):
        table.add_column(name)
    for row in rows:
        marker = " ◀ auto" if row["auto"] else ""
        now = f"[{colours.get(row['state'], 'white')}]{row['state']}[/]"
        if row["decidedBy"]:
            now += f" ({escape(', '.join(row['decidedBy']))})"
        table.add_row(escape(row["name"]) + marker, escape(row["provider"]), row["kind"], now,
                      escape(row["onThrottle"] or "-"), escape(row["onBlock"] or "-"),
                      escape(" ".join(row["env"])) or "-")  # fmt: skip
    console.print(table)
    console.print(f"auto: {escape(reason)}", highlight=False)


def quota_tables(states: list[Any], values: list[Any], zone: Any) -> None:
    """Plan windows as bars with their reset, burn rate and projection, per account; then
    each account's month at API prices against its plan."""
    several = any(s.account != "default" for s in states) or len(values) > 1
    if not states:
        console.print("No plan windows observed yet: they come from Claude Code's statusline "
                      "(`spendlane statusline`) and Codex's logs.")  # fmt: skip
    else:
        table = Table(title=f"Plan windows ({zone})")
        columns = ["Account"] if several else []
        for name in (*columns, "Window", "Used", "", "Resets", "Burn", "At reset"):
            table.add_column(name, justify="right" if name in ("Used", "Burn") else "left")
        colours = {"ok": "green", "near-limit": "yellow", "limit": "red"}
        for s in states:
            filled = min(20, int(s.used_percent / 5))
            bar = f"[{colours[s.level]}]{'█' * filled}[/]{'░' * (20 - filled)}"
            resets = (dt.datetime.fromtimestamp(s.resets_at_ms / 1000, tz=zone)
                      .strftime("%a %H:%M") if s.resets_at_ms else "-")  # fmt: skip
            burn = f"{s.burn_per_hour:.1f}%/h" if s.burn_per_hour is not None else "-"
            projected = (f"{s.projected_percent:.0f}%" if s.projected_percent is not None
                         else "-")  # fmt: skip
            who = [escape(s.account)] if several else []
            table.add_row(*who, escape(s.name), f"{s.used_percent:.0f}%", bar, resets, burn,
                          projected)  # fmt: skip
        console.print(table)
    for v in values:
        whose = f"{escape(v.account)}: " if several else ""
        today = f"{v.calls_today} calls today"
        if v.auth == "api":
            console.print(f"{whose}API spend this month {usd(v.month_value_nano)}; {today}.",
                          highlight=False)  # fmt: skip
        elif v.plan:
            price = v.price_usd or 0
            ratio = f" ({v.month_value_nano / 1e9 / price:.1f}× its price)" if price else ""
            note = f" — {escape(v.notes)}" if v.notes else ""
            console.print(f"{whose}This month's {escape(v.plan)} usage at API prices: "
                          f"{usd(v.month_value_nano)} of a ${price:,.0f} plan{ratio}{note}; "
                          f"{today}.", highlight=False)  # fmt: skip
        else:
            console.print(f"{whose}This month's usage at API prices: "
                          f"{usd(v.month_value_nano)} (set `plan = \"max5\"` in the config to "
                          f"compare with your plan); {today}.", highlight=False)  # fmt: skip
