"""`spendlane watch`: a live view of what is being spent right now.

Each frame ingests what the agents appended (a cheap stat of every log when nothing changed),
then draws the running 5-hour block with its burn rate and when a token limit would be hit, the
budgets and plan windows as bars, who is spending (agent, task, model, source) over the last
five hours, and the latest calls. `--once` prints one frame for scripts; Ctrl-C quits cleanly.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import click

from spendlane.cli.app import Context, _ingest, _sources, main
from spendlane.cli.budgets import CONFIG_OPTION, _config


@main.command("watch")
@click.option("--interval", type=float, default=3.0, show_default=True, help="Seconds a frame.")
@click.option("--once", is_flag=True, help="Print one frame and exit.")
@click.option("--token-limit", type=int, help="Tokens per 5-hour block to warn against.")
@CONFIG_OPTION
@click.pass_obj
def watch_command(context: Context, interval: float, once: bool, token_limit: int | None,
                  config_path: Path | None) -> None:  # fmt: skip
    """A live view: the running block, budgets, plan windows, who is spending, latest calls."""
    from rich.live import Live

    from spendlane.cli.render import console

    config = _config(config_path)
    with context.ledger() as ledger:
        if once:
            console.print(frame(ledger, config, token_limit))
            return
        try:
            with Live(frame(ledger, config, token_limit), console=console, screen=False,
                      auto_refresh=False) as live:  # fmt: skip
                while True:
                    time.sleep(interval)
                    live.update(frame(ledger, config, token_limit), refresh=True)
        except KeyboardInterrupt:
            console.print("[dim]stopped[/]")


def frame(ledger: Any, config: Any, token_limit: int | None) -> Any:
    """One frame of the view, as rich renderables."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    from spendlane.cli.render import usd
    from spendlane.policy.quota import window_states
    from spendlane.policy.service import budget_states, now_ms, zone_of
    from spendlane.reports.blocks import block_report
    from spendlane.reports.grouped import Window, grouped_rows

    _ingest(ledger, _sources("all"), quiet=True)
    zone = zone_of(config)
    at = now_ms()
    local = dt.datetime.fromtimestamp(at / 1000, tz=zone)
    parts: list[Any] = [f"[bold]spendlane watch[/] {local:%Y-%m-%d %H:%M:%S %Z}"]
    since = (local - dt.timedelta(hours=10)).date()
    active = [b for b in block_report(ledger, zone=zone, now_ms=at, since=since) if b.active]
    if active:
        block = active[0]
        burn = block.burn(at)
        left = max(0, block.end_ms - at) // 60_000
        line = (f"Block: {usd(block.cost_nano)} · {block.total_tokens:,} tokens · "
                f"{left // 60}h{left % 60:02d}m left")  # fmt: skip
        if burn is not None:
            line += f" · {burn[1]:,.2f} $/h · {burn[0]:,.0f} tokens/min"
            if token_limit and burn[0] > 0 and block.total_tokens < token_limit:
                minutes = (token_limit - block.total_tokens) / burn[0]
                hit = local + dt.timedelta(minutes=minutes)
                if hit.timestamp() * 1000 < block.end_ms:
                    line += f" · [red]limit at {hit:%H:%M}[/]"
        parts.append(line)
    else:
        parts.append("Block: none running")
    bars = Table.grid(padding=(0, 2))
    for state in budget_states(ledger, config, at):
        filled = min(20, int(state.fraction * 20))
        colour = {"ok": "green", "warn": "yellow", "throttle": "dark_orange", "block": "red"}
        bar = f"[{colour[state.level]}]{'█' * filled}[/]{'░' * (20 - filled)}"
        bars.add_row(escape(state.budget.name), bar, f"{state.fraction * 100:.0f}%", state.level)
    for window in window_states(ledger, at, config.accounts):
        filled = min(20, int(window.used_percent / 5))
        name = window.name if window.account == "default" else f"{window.name} ({window.account})"
        bars.add_row(escape(name), f"{'█' * filled}{'░' * (20 - filled)}",
                     f"{window.used_percent:.0f}%", window.level)  # fmt: skip
    if bars.row_count:
        parts.append(bars)
    since_bucket_day = (local - dt.timedelta(hours=5)).date()
    rows = grouped_rows(ledger, Window(zone, since_bucket_day, None, None),
                        ("agent", "task", "model", "source"),
                        cost_column="auto_cost_nano",
                        extra=("MIN(r.first_ms)", "MAX(r.last_ms)"))  # fmt: skip
    who = Table(title="Who is spending (today)", expand=False)
    for name in ("Agent", "Task", "Model", "Source", "Tokens", "Cost", "Running for"):
        who.add_column(name, justify="right" if name in ("Tokens", "Cost") else "left")
    for row in sorted(rows, key=lambda r: -(r[12] or 0))[:12]:
        agent, task, model, source, first, last = row[:6]
        tokens = sum(row[7:11])
        minutes = max(0, (last or first or at) - (first or at)) // 60_000
        running = f"{minutes // 60}h{minutes % 60:02d}m"
        who.add_row(escape(agent or "-"), escape(task or "-"), escape(model), source,
                    f"{tokens:,}", usd(row[12]), running)  # fmt: skip
    parts.append(who)
    recent = ledger.connection.execute(
        "SELECT ts_ms, source, model, input_tokens + output_tokens + cache_write_5m_tokens "
        "+ cache_write_1h_tokens + cache_read_tokens, COALESCE(reported_cost_nano, cost_nano, 0), "
        "session_id FROM event_rows WHERE ts_ms >= ? ORDER BY ts_ms DESC LIMIT 8",
        (at - 86_400_000,),
    ).fetchall()
    latest = Table(title="Latest calls", expand=False)
    for name in ("Time", "Source", "Model", "Tokens", "Cost", "Session"):
        latest.add_column(name, justify="right" if name in ("Tokens", "Cost") else "left")
    for ts, source, model, tokens, cost, session in recent:
        when = dt.datetime.fromtimestamp(ts / 1000, tz=zone)
        latest.add_row(f"{when:%H:%M:%S}", source, escape(model), f"{tokens:,}", usd(cost),
                       escape((session or "-")[:8]))  # fmt: skip
    parts.append(latest)
    return Group(*parts)
