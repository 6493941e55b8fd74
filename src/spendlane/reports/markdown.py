"""A self-contained Markdown dashboard: renders on GitHub and in Obsidian, no assets.

Weekly and monthly totals, spend per model and per project/agent/skill, the top sessions, and
a trend as a text sparkline. Written to a temporary file and renamed, so a reader never sees
half a page.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

from spendlane.ledger import SqliteLedger
from spendlane.money import nano_to_usd
from spendlane.periods import day_start_ms
from spendlane.reports.calendar import CostMode, Period, daily_report
from spendlane.reports.sessions import session_report

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, v * len(BARS) // (top + 1))] for v in values)


def _usd(nano: int) -> str:
    return f"${nano_to_usd(nano):,.2f}"


def _cell(text: str) -> str:
    """Escape what would break a Markdown table cell (user-supplied names)."""
    escaped = text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return escaped or "—"


def _by(
    ledger: SqliteLedger, column: str, since_ms: int, limit: int = 10
) -> list[tuple[str, int, int]]:
    rows = ledger.connection.execute(
        f"SELECT COALESCE({column}, ''), SUM(COALESCE(reported_cost_nano, cost_nano, 0)), "
        f"SUM(total_tokens) FROM event_rows WHERE ts_ms >= ? GROUP BY 1 ORDER BY 2 DESC "
        "LIMIT ?",
        (since_ms, limit),
    ).fetchall()
    return [(str(r[0]), int(r[1] or 0), int(r[2] or 0)) for r in rows]


def render(ledger: SqliteLedger, *, zone: dt.tzinfo, today: dt.date) -> str:
    month_start = today.replace(day=1)
    since = today - dt.timedelta(days=29)
    days = daily_report(ledger, zone=zone, since=since, until=today, cost_mode=CostMode.AUTO)
    weeks = daily_report(ledger, zone=zone, since=today - dt.timedelta(weeks=8), until=today,
                         period=Period.WEEK)  # fmt: skip
    months = daily_report(ledger, zone=zone, since=(month_start - dt.timedelta(days=180))
                          .replace(day=1), until=today, period=Period.MONTH)  # fmt: skip
    per_day = {d.date: d.total.cost_nano for d in days.days}
    trend = [per_day.get(since + dt.timedelta(days=i), 0) for i in range(30)]
    window_ms = day_start_ms(since, zone)
    lines = [
        "# AI coding spend",
        "",
        f"_Generated {dt.datetime.now(zone).strftime('%Y-%m-%d %H:%M %Z')} by spendlane._",
        "",
        f"**Last 30 days:** {_usd(days.total.cost_nano)} · "
        f"{days.total.total_tokens:,} tokens · trend `{sparkline(trend)}`",
        "",
        "## Monthly",
        "",
        "| Month | Tokens | Cost |",
        "|---|---:|---:|",
        *[f"| {m.date:%Y-%m} | {m.total.total_tokens:,} | {_usd(m.total.cost_nano)} |"
          for m in months.days],
        "",
        "## Weekly",
        "",
        "| Week of | Tokens | Cost |",
        "|---|---:|---:|",
        *[f"| {w.date.isoformat()} | {w.total.total_tokens:,} | {_usd(w.total.cost_nano)} |"
          for w in weeks.days],
    ]  # fmt: skip
    for title, column in (("model", "model"), ("project", "project"), ("agent", "agent"),
                          ("skill", "skill")):  # fmt: skip
        rows = _by(ledger, column, window_ms)
        if not any(name for name, _, _ in rows):
            continue
        lines += ["", f"## By {title} (last 30 days)", "", f"| {title.title()} | Tokens | Cost |",
                  "|---|---:|---:|"]  # fmt: skip
        lines += [f"| {_cell(name)} | {used:,} | {_usd(cost)} |" for name, cost, used in rows]
    sessions = session_report(ledger, zone=zone, since=since, until=today)
    top = sorted(sessions.sessions, key=lambda s: -s.total.cost_nano)[:10]
    if top:
        lines += ["", "## Top sessions (last 30 days)", "", "| Session | Project | Last activity "
                  "| Cost |", "|---|---|---|---:|"]  # fmt: skip
        for s in top:
            last = dt.datetime.fromtimestamp(s.last_ms / 1000, tz=zone).strftime("%Y-%m-%d %H:%M")
            lines.append(f"| `{_cell(s.session_id[:8])}` | {_cell(s.project)} | {last} "
                         f"| {_usd(s.total.cost_nano)} |")  # fmt: skip
    if days.unpriced:
        lines += ["", "> Not included (no price known): "
                  + ", ".join(_cell(u.model) for u in days.unpriced)]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
