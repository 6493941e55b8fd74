"""Delivering raised alerts through apprise: every channel, retried, each alert once.

An alert row moves `pending` → `sending` → `sent` | `failed` (or `pending` → `no-channel`
when no URL is configured). The step to `sending` is a claim: an UPDATE guarded by the row's
status inside a write transaction, so of two processes delivering at once only one sends.
While a row is `sending`, `sent_ms` holds when it was claimed; a row left `sending` for more
than `STALE_CLAIM_MS` (its deliverer crashed) is pending again.

Every channel gets the alert; a failed channel is tried again, after 0.5 s, 1 s, 2 s, …
(channels that already have it are not sent it again). The row ends `sent` when every channel
has it, else `failed` with `last_error` naming, per failed channel, only the URL's scheme
(`tgram`, `json`, …) and why: apprise URLs carry bot tokens and passwords, so no URL, host or
token is ever written to the ledger, a log or an error. Nothing here raises on a failed
delivery. apprise is imported only when something is sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from spendlane.alerts.state import _COLUMNS, Alert, AlertKind, pending_alerts, raise_alert
from spendlane.ledger import SqliteLedger

__all__ = ["STALE_CLAIM_MS", "DeliveryResult", "claim", "deliver_alert", "deliver_pending",
           "send_test"]  # fmt: skip

STALE_CLAIM_MS = 10 * 60 * 1000  # a `sending` row older than this: its deliverer died
_MAX_ERROR = 300

# Alert level -> apprise notify type (what a json:// hook receives as "type").
_NOTIFY_TYPES = {"block": "failure", "throttle": "warning", "warn": "warning", "ok": "success"}


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What happened to one alert: its final status, tries made, and per-channel outcome.

    `delivered` and `failed` name channels by URL scheme only (never the URL).
    """

    alert_id: int
    kind: str
    title: str
    status: str  # sent | failed | no-channel
    attempts: int
    error: str | None
    delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


def deliver_pending(
    ledger: SqliteLedger,
    urls: Sequence[str],
    *,
    attempts: int = 4,
    first_delay_s: float = 0.5,
    timeout_s: float = 10,
    sleep: Callable[[float], object] = time.sleep,
) -> list[DeliveryResult]:
    """Deliver every pending alert (and any left `sending` by a crashed deliverer).

    Alerts another process claimed first are skipped and not in the result.
    """
    results = []
    for alert in _deliverable(ledger):
        result = deliver_alert(
            ledger,
            alert,
            urls,
            attempts=attempts,
            first_delay_s=first_delay_s,
            timeout_s=timeout_s,
            sleep=sleep,
        )
        if result is not None:
            results.append(result)
    return results


def send_test(
    ledger: SqliteLedger,
    urls: Sequence[str],
    *,
    now_ms: int | None = None,
    attempts: int = 4,
    first_delay_s: float = 0.5,
    timeout_s: float = 10,
    sleep: Callable[[float], object] = time.sleep,
) -> list[DeliveryResult]:
    """Raise a TEST alert (subject: now, so every test is new) and deliver it alone."""
    stamp = now_ms if now_ms is not None else int(time.time() * 1000)
    when = dt.datetime.fromtimestamp(stamp / 1000, dt.UTC)
    subject = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    alert_id = raise_alert(
        ledger,
        AlertKind.TEST,
        subject,
        "info",
        stamp,
        "spendlane test alert",
        f"This is a test message from spendlane, sent {when:%Y-%m-%d %H:%M:%S} UTC. "
        "Alerts about budgets, spend spikes and runaway sessions will arrive here.",
        now_ms=stamp,
    )
    if alert_id is None:  # the same millisecond twice: already raised and being delivered
        return []
    alert = _load(ledger, alert_id)
    result = deliver_alert(
        ledger,
        alert,
        urls,
        attempts=attempts,
        first_delay_s=first_delay_s,
        timeout_s=timeout_s,
        sleep=sleep,
    )
    return [result] if result is not None else []


def deliver_alert(
    ledger: SqliteLedger,
    alert: Alert,
    urls: Sequence[str],
    *,
    attempts: int = 4,
    first_delay_s: float = 0.5,
    timeout_s: float = 10,
    sleep: Callable[[float], object] = time.sleep,
) -> DeliveryResult | None:
    """Claim one alert and send it to every URL; None when someone else has it."""
    if not urls:
        with ledger.write() as db:
            cursor = db.execute(
                f"UPDATE alerts SET status = 'no-channel' WHERE id = ? AND {_CLAIMABLE}",
                (alert.id, _now_ms() - STALE_CLAIM_MS),
            )
            if cursor.rowcount != 1:
                return None
        return DeliveryResult(alert.id, alert.kind, alert.title, "no-channel", 0, None)
    if not claim(ledger, alert.id):
        return None
    try:
        result = _send_all(alert, urls, max(1, attempts), first_delay_s, timeout_s, sleep)
    except Exception as exc:  # a bug of ours or apprise's: record it, never raise
        result = DeliveryResult(alert.id, alert.kind, alert.title, "failed", 0,
                                f"internal error: {type(exc).__name__}")  # fmt: skip
    sent_ms = _now_ms() if result.delivered else None
    with ledger.write() as db:
        db.execute(
            "UPDATE alerts SET status = ?, attempts = ?, last_error = ?, sent_ms = ? WHERE id = ?",
            (result.status, result.attempts, result.error, sent_ms, alert.id),
        )
    return result


_CLAIMABLE = "(status = 'pending' OR (status = 'sending' AND COALESCE(sent_ms, 0) < ?))"


def claim(ledger: SqliteLedger, alert_id: int, now_ms: int | None = None) -> bool:
    """Take an alert for delivery; True for exactly one of any number of claimants.

    A pending alert, or one left `sending` more than STALE_CLAIM_MS ago, can be claimed.
    """
    stamp = now_ms if now_ms is not None else _now_ms()
    with ledger.write() as db:
        cursor = db.execute(
            f"UPDATE alerts SET status = 'sending', sent_ms = ? WHERE id = ? AND {_CLAIMABLE}",
            (stamp, alert_id, stamp - STALE_CLAIM_MS),
        )
        return cursor.rowcount == 1


def _deliverable(ledger: SqliteLedger) -> list[Alert]:
    stale = ledger.connection.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE status = 'sending' AND COALESCE(sent_ms, 0) < ? "
        "ORDER BY id",
        (_now_ms() - STALE_CLAIM_MS,),
    ).fetchall()
    alerts = pending_alerts(ledger) + [Alert(*row) for row in stale]
    return sorted(alerts, key=lambda a: a.id)


def _load(ledger: SqliteLedger, alert_id: int) -> Alert:
    row = ledger.connection.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE id = ?", (alert_id,)
    ).fetchone()
    return Alert(*row)


def _now_ms() -> int:
    return int(time.time() * 1000)


# --- sending -------------------------------------------------------------------------------


def _send_all(
    alert: Alert,
    urls: Sequence[str],
    attempts: int,
    first_delay_s: float,
    timeout_s: float,
    sleep: Callable[[float], object],
) -> DeliveryResult:
    """Send to every URL, retrying the ones that failed with exponential backoff."""
    remaining = dict(enumerate(urls))
    delivered: list[str] = []
    errors: dict[int, str] = {}
    tries = 0
    for attempt in range(attempts):
        if attempt:
            sleep(first_delay_s * 2 ** (attempt - 1))
        tries += 1
        for index, url in list(remaining.items()):
            ok, why, permanent = _send_one(url, alert, timeout_s)
            if ok:
                delivered.append(scheme(url))
                errors.pop(index, None)
                del remaining[index]
            else:
                errors[index] = why
                if permanent:  # an unusable URL: trying again cannot help
                    del remaining[index]
        if not remaining:
            break
    failed = tuple(scheme(urls[i]) for i in sorted(errors))
    if errors:
        text = "; ".join(errors[i] for i in sorted(errors))
        if len(errors) > 1 or tries > 1:
            text = f"after {tries} attempt{'s' if tries > 1 else ''}: {text}"
        error: str | None = text[:_MAX_ERROR]
    else:
        error = None
    status = "failed" if errors else "sent"
    return DeliveryResult(alert.id, alert.kind, alert.title, status, tries, error,
                          tuple(delivered), failed)  # fmt: skip


def scheme(url: str) -> str:
    """The only part of an apprise URL that may be shown: `tgram`, `mailtos`, `json`, …"""
    head, sep, _ = url.strip().partition("://")
    if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]{0,15}", head):
        return head.lower()
    return "url"


def _send_one(url: str, alert: Alert, timeout_s: float) -> tuple[bool, str, bool]:
    """(delivered, why not, whether retrying is pointless). Never raises."""
    name = scheme(url)
    try:
        import apprise
    except ImportError:
        return False, f"{name}: apprise is not installed", True
    capture = _ThreadLog()
    log = logging.getLogger("apprise")
    log.addHandler(capture)
    try:
        server: Any = apprise.Apprise.instantiate(url)
        if server is None:
            return False, f"{name}: not a usable apprise URL", True
        server.socket_connect_timeout = timeout_s
        server.socket_read_timeout = timeout_s
        kind = _NOTIFY_TYPES.get(alert.level, "info")
        ok = bool(server.notify(body=alert.body, title=alert.title, notify_type=kind))
        if ok:
            return True, "", False
        reason = capture.last() or "not delivered"
    except Exception as exc:
        reason = type(exc).__name__
    finally:
        log.removeHandler(capture)
    return False, f"{name}: {_redact(reason, url)}", False


class _ThreadLog(logging.Handler):
    """apprise's warnings on this thread during one send: they say why (HTTP 500, …)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            with contextlib.suppress(Exception):  # a malformed log call must not break delivery
                self.messages.append(record.getMessage())

    def last(self) -> str | None:
        return self.messages[-1].strip() if self.messages else None


def _redact(text: str, url: str) -> str:
    """Remove every part of the URL (host, user, token, path, query values) from the text."""
    rest = url.partition("://")[2] or url
    pieces = {url, rest, *re.split(r"[/:@?&=#,;\s]+", rest)}
    pieces |= {unquote(p) for p in pieces}
    for piece in sorted((p for p in pieces if len(p) >= 3), key=len, reverse=True):
        text = re.sub(re.escape(piece), "***", text, flags=re.IGNORECASE)
    text = " ".join(text.split())
    return text[:200]
