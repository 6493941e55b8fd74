"""`spendlane statusline`: one line for Claude Code's status bar, on every assistant message.

It has to be quick and must never hang or fail the session, so it reads the ledger directly
(read-only SQLite, a few indexed sums), takes the session's cost from the payload Claude Code
sends (the session's newest calls may not be ingested yet), takes the strictest budget level
from `status.json` (which every check, record and ingest refreshes), and writes only when the
payload carries a new subscription-window reading (`rate_limits`) to keep as a quota
observation. It reads no log file at all.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

from spendlane.money import format_usd
from spendlane.periods import BUCKET_MS, day_start_ms
from spendlane.sources.locations import log_root

TYPE_CHECKING = False  # typing is not imported on this path: it runs on every message
if TYPE_CHECKING:
    from typing import Any

BLOCK_MS = 5 * 3_600_000
HOUR_MS = 3_600_000
WINDOWS = {"five_hour": ("5h", 300), "seven_day": ("7d", 10_080)}  # name, minutes
SCHEMA_WITH_CONTEXT_ROLLUP = 4  # first_ms/last_ms in rollup_15m


def parse_payload(text: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def render(
    payload: dict[str, Any] | None,
    ledger_path: Path,
    status_path: Path,
    *,
    now_ms: int,
    zone: dt.tzinfo,
) -> str:
    """The line. Every part is optional: what cannot be known is left out, never guessed."""
    parts: list[str] = []
    payload = payload or {}
    model = payload.get("model")
    if isinstance(model, dict):
        name = model.get("display_name") or model.get("id")
        if isinstance(name, str) and name:
            parts.append(name)
    session_usd = _number((payload.get("cost") or {}).get("total_cost_usd"))
    if session_usd is not None:
        parts.append(f"session {format_usd(round(session_usd * 1e9))}")
    db = _open(ledger_path)
    if db is not None:
        try:
            today = _today_nano(db, now_ms, zone)
            parts.append(
                f"today {format_usd(today + _unseen(db, payload, session_usd, now_ms, zone))}"
            )
            block = _active_block(db, now_ms)
            if block is not None:
                start_ms, cost_nano, first_ms = block
                left = max(0, start_ms + BLOCK_MS - now_ms)
                hours = max((now_ms - first_ms) / HOUR_MS, 1 / 60)
                parts.append(f"block {left // HOUR_MS}h{left % HOUR_MS // 60_000:02d}m left "
                             f"{format_usd(int(cost_nano / hours))}/h")  # fmt: skip
        except sqlite3.Error:
            pass  # a ledger being migrated or locked: say less, never fail
        finally:
            db.close()
    level = _budget_level(status_path, now_ms)
    if level is not None and level != "ok":
        parts.append(f"budget {level}")
    for key, (label, _) in WINDOWS.items():
        reading = _window(payload, key)
        if reading is not None:
            percent, resets_s = reading
            when = ""
            if resets_s:
                reset = dt.datetime.fromtimestamp(resets_s, tz=zone)
                local_now = dt.datetime.fromtimestamp(now_ms / 1000, tz=zone)
                fmt = "%H:%M" if reset.date() == local_now.date() else "%a %H:%M"
                when = f" ↺{reset.strftime(fmt)}"
            parts.append(f"{label} {percent:.0f}%{when}")
    return " · ".join(parts) if parts else "spendlane: no usage yet"


def window_minutes(key: str) -> int | None:
    """How long a Claude plan window is, from its name (`seven_day_opus`: a week)."""
    for prefix, (_, minutes) in WINDOWS.items():
        if key.startswith(prefix):
            return minutes
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _open(path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.2)
        if db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_WITH_CONTEXT_ROLLUP:
            db.close()
            return None
        return db
    except sqlite3.Error:
        return None


def _day_start_ms(now_ms: int, zone: dt.tzinfo) -> int:
    return day_start_ms(dt.datetime.fromtimestamp(now_ms / 1000, tz=zone).date(), zone)


def _today_nano(db: sqlite3.Connection, now_ms: int, zone: dt.tzinfo) -> int:
    start = _day_start_ms(now_ms, zone) // BUCKET_MS
    row = db.execute("SELECT COALESCE(SUM(auto_cost_nano), 0) FROM rollup_15m WHERE bucket >= ?",
                     (start,)).fetchone()  # fmt: skip
    return int(row[0])


def _unseen(
    db: sqlite3.Connection,
    payload: dict[str, Any],
    session_usd: float | None,
    now_ms: int,
    zone: dt.tzinfo,
) -> int:
    """What this session cost that the ledger does not hold yet (its newest calls), from the
    session cost Claude Code reports minus what the ledger has for the session today."""
    session = payload.get("session_id")
    if session_usd is None or not isinstance(session, str):
        return 0
    start = _day_start_ms(now_ms, zone) // BUCKET_MS
    row = db.execute(
        "SELECT COALESCE(SUM(r.auto_cost_nano), 0) FROM rollup_15m r JOIN contexts c "
        "ON c.id = r.context_id WHERE c.session_id = ? AND r.bucket >= ?",
        (session, start),
    ).fetchone()
    return max(0, int(session_usd * 1e9) - int(row[0]))


def _active_block(db: sqlite3.Connection, now_ms: int) -> tuple[int, int, int] | None:
    """(start, cost, first call) of the 5-hour block running now, as `spendlane blocks` draws
    them (start floored to the hour; a new block after 5 h or a 5-hour gap)."""
    rows = db.execute(
        "SELECT first_ms, last_ms, auto_cost_nano FROM rollup_15m WHERE bucket >= ? "
        "AND first_ms IS NOT NULL ORDER BY first_ms",
        ((now_ms - 2 * BLOCK_MS) // BUCKET_MS,),
    ).fetchall()
    start = last = first = None
    cost = 0
    for first_ms, last_ms, nano in rows:
        if start is None or first_ms - start >= BLOCK_MS or first_ms - (last or 0) >= BLOCK_MS:
            start, cost, first = first_ms - first_ms % HOUR_MS, 0, first_ms
        cost += nano
        last = max(last or 0, last_ms)
    if start is None or last is None or start + BLOCK_MS <= now_ms or now_ms - last >= BLOCK_MS:
        return None
    assert first is not None
    return start, cost, first


def _budget_level(status_path: Path, now_ms: int) -> str | None:
    """The strictest budget level in status.json, if it was written in the last hour."""
    try:
        if now_ms / 1000 - status_path.stat().st_mtime > 3600:
            return None
        status = json.loads(status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    level = status.get("level") if isinstance(status, dict) else None
    return level if isinstance(level, str) else None


def _window(payload: dict[str, Any], key: str) -> tuple[float, int | None] | None:
    limits = payload.get("rate_limits")
    window = limits.get(key) if isinstance(limits, dict) else None
    if not isinstance(window, dict):
        return None
    percent = _number(window.get("used_percentage"))
    if percent is None:
        return None
    resets = _number(window.get("resets_at"))
    return percent, int(resets) if resets else None


def record_rate_limits(ledger_path: Path, payload: dict[str, Any], now_ms: int) -> int:
    """Keep each new `rate_limits` reading as a quota observation; returns how many were new.
    A reading equal to the last one kept for its window is not stored again.

    Every window the payload carries is kept (5-hour, 7-day, and per-model weekly ones such as
    `seven_day_opus`), with the Claude config folder the session's transcript lives in, which
    tells one account's windows from another's.
    """
    limits = payload.get("rate_limits")
    keys = [k for k in limits if isinstance(k, str)] if isinstance(limits, dict) else []
    readings = [(key, _window(payload, key)) for key in keys]
    readings = [(key, r) for key, r in readings if r is not None]
    if not readings or not ledger_path.exists():
        return 0
    transcript = payload.get("transcript_path")
    root = log_root(transcript) if isinstance(transcript, str) else ""
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    stored = 0
    try:
        db = sqlite3.connect(ledger_path, timeout=1.0, isolation_level=None)
    except sqlite3.Error:
        return 0
    try:
        for key, (percent, resets_s) in readings:  # type: ignore[misc]
            resets_ms = resets_s * 1000 if resets_s else None
            last = db.execute(
                "SELECT used_percent, resets_at_ms FROM quota_readings WHERE source = "
                "'statusline' AND root = ? AND window = ? ORDER BY ts_ms DESC LIMIT 1",
                (root, key),
            ).fetchone()
            if last is not None and last[0] == percent and last[1] == resets_ms:
                continue
            db.execute(
                "INSERT OR IGNORE INTO quota_readings (source, ts_ms, window, used_percent, "
                "window_minutes, resets_at_ms, session_id, root) "
                "VALUES ('statusline', ?, ?, ?, ?, ?, ?, ?)",
                (now_ms, key, percent, window_minutes(key), resets_ms, session, root),
            )
            stored += 1
    except sqlite3.Error:
        return stored  # busy or older schema: the next message brings the reading again
    finally:
        db.close()
    return stored
