"""Alerts: real delivery to a loopback webhook through apprise, retries, claims, detectors, CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Env, run_cli

from spendlane.alerts.deliver import (
    STALE_CLAIM_MS,
    claim,
    deliver_pending,
    send_test,
)
from spendlane.alerts.detect import (
    HOUR_MS,
    detect_runaway_sessions,
    detect_spikes,
    format_usd,
)
from spendlane.alerts.state import AlertKind, list_alerts, pending_alerts, raise_alert
from spendlane.ledger import SqliteLedger
from spendlane.policy.config import AlertSettings
from spendlane.recording import record_many

SECRET_USER = "hookuser7731"
SECRET_TOKEN = "TOPSECRET-9f8e7d6c5b4a"
SECRET_PATH = "bot123456789-AAHsecretpath"

# 2026-11-20 15:05 UTC: the last complete hour is 14:00–15:00.
NOW_MS = 1_795_187_100_000


# --- a real webhook on loopback --------------------------------------------------------------


class Hook:
    """An HTTP server on 127.0.0.1 that records what apprise's json:// plugin posts."""

    def __init__(self, fail_first: int = 0, always_fail: bool = False) -> None:
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.hold: threading.Event | None = None  # set: requests wait until it is set
        self.entered = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length))
                with hook.lock:
                    hook.requests.append({"path": self.path, "payload": payload})
                    number = len(hook.requests)
                hook.entered.set()
                if hook.hold is not None:
                    hook.hold.wait(30)
                failing = hook.always_fail or number <= hook.fail_first
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    @property
    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r["payload"] for r in self.requests]

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


@pytest.fixture
def ledger(env: Env) -> Iterator[SqliteLedger]:
    with env.ledger() as led:
        yield led


class Sleeps:
    """An injected `sleep` that records the backoff instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _raise(ledger: SqliteLedger, level: str = "warn", period: int = 0, title: str = "T") -> int:
    alert_id = raise_alert(ledger, AlertKind.SPIKE, "all", level, period, title, "body")
    assert alert_id is not None
    return alert_id


def _row(ledger: SqliteLedger, alert_id: int) -> Any:
    return next(a for a in list_alerts(ledger, 1000) if a.id == alert_id)


# --- delivery --------------------------------------------------------------------------------


def test_delivers_title_message_and_type_exactly(ledger: SqliteLedger, hook: Hook) -> None:
    title = "Budget anthropic-monthly at 85% — throttle"
    body = "Spent $170.00 of $200.00.\nSecond line with <b>markup</b> & ümlauts."
    alert_id = raise_alert(ledger, AlertKind.LEVEL, "anthropic-monthly", "throttle", 1, title,
                           body)  # fmt: skip
    assert alert_id is not None
    sleeps = Sleeps()
    results = deliver_pending(ledger, [hook.url("/path/to/hook")], sleep=sleeps)
    assert [(r.alert_id, r.status, r.attempts, r.delivered) for r in results] == [
        (alert_id, "sent", 1, ("json",))
    ]
    assert len(hook.requests) == 1
    assert hook.requests[0]["path"] == "/path/to/hook"
    payload = hook.requests[0]["payload"]
    assert payload["title"] == title
    assert payload["message"] == body
    assert payload["type"] == "warning"
    row = _row(ledger, alert_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_ms is not None
    assert sleeps.delays == []
    assert pending_alerts(ledger) == []
    # Delivered alerts are not sent again.
    assert deliver_pending(ledger, [hook.url()], sleep=sleeps) == []
    assert len(hook.requests) == 1


@pytest.mark.parametrize(
    ("level", "kind"), [("block", "failure"), ("warn", "warning"), ("info", "info")]
)
def test_level_maps_to_apprise_type(
    ledger: SqliteLedger, hook: Hook, level: str, kind: str
) -> None:
    _raise(ledger, level=level)
    deliver_pending(ledger, [hook.url()], sleep=Sleeps())
    assert [p["type"] for p in hook.payloads] == [kind]


def test_retries_with_backoff_until_delivered(ledger: SqliteLedger) -> None:
    hook = Hook(fail_first=2)
    try:
        alert_id = _raise(ledger)
        sleeps = Sleeps()
        [result] = deliver_pending(ledger, [hook.url()], sleep=sleeps)
        assert (result.status, result.attempts, result.error) == ("sent", 3, None)
        assert sleeps.delays == [0.5, 1.0]
        assert len(hook.requests) == 3
        row = _row(ledger, alert_id)
        assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    finally:
        hook.close()


def test_failure_is_recorded_without_any_secret(env: Env, ledger: SqliteLedger) -> None:
    hook = Hook(always_fail=True)
    try:
        alert_id = _raise(ledger)
        url = f"json://{SECRET_USER}:{SECRET_TOKEN}@127.0.0.1:{hook.port}/{SECRET_PATH}/hook"
        sleeps = Sleeps()
        [result] = deliver_pending(ledger, [url], attempts=4, first_delay_s=0.25, sleep=sleeps)
        assert (result.status, result.attempts, result.failed) == ("failed", 4, ("json",))
        assert sleeps.delays == [0.25, 0.5, 1.0]
        assert len(hook.requests) == 4
        row = _row(ledger, alert_id)
        assert (row.status, row.attempts) == ("failed", 4)
        assert row.sent_ms is None
        assert row.last_error is not None
        assert row.last_error.startswith("after 4 attempts: json: ")
        assert "500" in row.last_error
        for text in (row.last_error, result.error or ""):
            for secret in (SECRET_USER, SECRET_TOKEN, SECRET_PATH, str(hook.port), "127.0.0.1"):
                assert secret not in text
        # Nowhere in the ledger's files either.
        ledger.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for path in env.home.iterdir():
            data = path.read_bytes()
            for secret in (SECRET_USER, SECRET_TOKEN, SECRET_PATH):
                assert secret.encode() not in data, path
    finally:
        hook.close()


def test_connection_refused_names_only_the_scheme(ledger: SqliteLedger) -> None:
    port = free_port()
    alert_id = _raise(ledger)
    url = f"json://{SECRET_USER}:{SECRET_TOKEN}@127.0.0.1:{port}/{SECRET_PATH}"
    [result] = deliver_pending(ledger, [url], attempts=2, sleep=Sleeps())
    assert result.status == "failed"
    row = _row(ledger, alert_id)
    assert row.last_error is not None
    assert row.last_error.startswith("after 2 attempts: json: ")
    for secret in (SECRET_USER, SECRET_TOKEN, SECRET_PATH, "127.0.0.1"):
        assert secret not in row.last_error


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed again)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unusable_url_fails_at_once_and_others_still_get_it(
    ledger: SqliteLedger, hook: Hook
) -> None:
    alert_id = _raise(ledger)
    sleeps = Sleeps()
    [result] = deliver_pending(ledger, ["nosuchscheme://abc/def", hook.url()], sleep=sleeps)
    assert result.status == "failed"
    assert result.delivered == ("json",)
    assert result.failed == ("nosuchscheme",)
    assert result.attempts == 1
    assert sleeps.delays == []
    assert len(hook.requests) == 1
    row = _row(ledger, alert_id)
    assert row.last_error == "nosuchscheme: not a usable apprise URL"
    assert row.sent_ms is not None  # one channel has it


def test_a_failing_channel_is_retried_alone(ledger: SqliteLedger, hook: Hook) -> None:
    bad = Hook(always_fail=True)
    try:
        _raise(ledger)
        [result] = deliver_pending(ledger, [hook.url(), bad.url()], sleep=Sleeps())
        assert (result.status, result.attempts) == ("failed", 4)
        assert len(hook.requests) == 1  # the good channel got it once, not four times
        assert len(bad.requests) == 4
    finally:
        bad.close()


def test_no_channel(ledger: SqliteLedger) -> None:
    alert_id = _raise(ledger)
    [result] = deliver_pending(ledger, [], sleep=Sleeps())
    assert (result.status, result.attempts) == ("no-channel", 0)
    assert _row(ledger, alert_id).status == "no-channel"
    assert pending_alerts(ledger) == []


def test_missing_apprise_never_raises(
    ledger: SqliteLedger, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)  # import apprise -> ImportError
    alert_id = _raise(ledger)
    [result] = deliver_pending(ledger, [hook.url()], sleep=Sleeps())
    assert result.status == "failed"
    assert _row(ledger, alert_id).last_error == "json: apprise is not installed"
    assert hook.requests == []


def test_apprise_is_imported_only_when_sending() -> None:
    code = (
        "import sys, spendlane.alerts.deliver, spendlane.alerts.detect, spendlane.cli; "
        "print('apprise' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- once, across deliverers -----------------------------------------------------------------


def test_claim_is_granted_once(ledger: SqliteLedger) -> None:
    alert_id = _raise(ledger)
    assert claim(ledger, alert_id) is True
    assert claim(ledger, alert_id) is False
    assert _row(ledger, alert_id).status == "sending"


def test_second_deliverer_skips_an_alert_being_sent(env: Env, ledger: SqliteLedger) -> None:
    hook = Hook()
    hook.hold = threading.Event()
    try:
        alert_id = _raise(ledger)
        first: list[Any] = []
        thread = threading.Thread(
            target=lambda: first.extend(deliver_pending(ledger, [hook.url()], sleep=Sleeps()))
        )
        thread.start()
        assert hook.entered.wait(30)  # the first deliverer is mid-send
        with env.ledger() as other:
            assert deliver_pending(other, [hook.url()], sleep=Sleeps()) == []
        hook.hold.set()
        thread.join(30)
        assert [r.status for r in first] == ["sent"]
        assert len(hook.requests) == 1
        assert _row(ledger, alert_id).status == "sent"
    finally:
        hook.close()


def test_many_deliverers_at_once_send_each_alert_once(env: Env, hook: Hook) -> None:
    with env.ledger() as led:
        ids = [_raise(led, period=p, title=f"alert {p}") for p in range(3)]
    barrier = threading.Barrier(6)
    results: list[Any] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            with env.ledger() as led:
                barrier.wait(30)
                results.extend(deliver_pending(led, [hook.url()], sleep=Sleeps()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.alert_id for r in results) == ids
    assert sorted(p["title"] for p in hook.payloads) == ["alert 0", "alert 1", "alert 2"]


def test_two_processes_deliver_once(env: Env, hook: Hook) -> None:
    with env.ledger() as led:
        _raise(led, title="only once")
    code = (
        "import sys; from pathlib import Path; from spendlane.ledger import SqliteLedger; "
        "from spendlane.alerts.deliver import deliver_pending; "
        "led = SqliteLedger(Path(sys.argv[1])); "
        "print(len(deliver_pending(led, [sys.argv[2]], sleep=lambda s: None)))"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(env.ledger_path), hook.url()],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    counts = sorted(int(p.communicate(timeout=120)[0]) for p in procs)
    assert counts == [0, 1]
    assert [p["title"] for p in hook.payloads] == ["only once"]


def test_a_stale_claim_is_taken_over(ledger: SqliteLedger, hook: Hook) -> None:
    crashed = _raise(ledger, period=1, title="crashed")
    busy = _raise(ledger, period=2, title="busy")
    now = int(time.time() * 1000)
    assert claim(ledger, crashed, now_ms=now - STALE_CLAIM_MS - 1000)  # a deliverer that died
    assert claim(ledger, busy, now_ms=now - 60_000)  # one still at work
    results = deliver_pending(ledger, [hook.url()], sleep=Sleeps())
    assert [(r.alert_id, r.status) for r in results] == [(crashed, "sent")]
    assert [p["title"] for p in hook.payloads] == ["crashed"]
    assert _row(ledger, busy).status == "sending"


def test_send_test_delivers_only_the_test_alert(ledger: SqliteLedger, hook: Hook) -> None:
    spike = _raise(ledger, title="a pending spike")
    [first] = send_test(ledger, [hook.url()], now_ms=NOW_MS, sleep=Sleeps())
    [second] = send_test(ledger, [hook.url()], now_ms=NOW_MS + 1, sleep=Sleeps())
    assert first.alert_id != second.alert_id
    assert (first.status, first.kind) == ("sent", "test")
    assert [p["title"] for p in hook.payloads] == ["spendlane test alert"] * 2
    assert [p["type"] for p in hook.payloads] == ["info", "info"]
    assert _row(ledger, spike).status == "pending"
    tests = [a for a in list_alerts(ledger) if a.kind == "test"]
    assert sorted(a.subject for a in tests) == [
        "2026-11-20T15:05:00.000Z",
        "2026-11-20T15:05:00.001Z",
    ]


# --- detectors -------------------------------------------------------------------------------


def _spend(ledger: SqliteLedger, ts_ms: int, usd: float, session: str = "s-0",
           project: str = "proj", model: str = "claude-sonnet-4-5") -> None:  # fmt: skip
    record_many(ledger, [{"timestamp": ts_ms, "model": model, "backend": "claude",
                          "cost_usd": usd, "session_id": session, "project": project,
                          "input_tokens": 10, "output_tokens": 10}])  # fmt: skip


def _history(ledger: SqliteLedger, hours: int, usd: float) -> None:
    """`hours` hours with spend (every 5th hour, so most hours in the week are idle)."""
    spike_hour = NOW_MS // HOUR_MS * HOUR_MS - HOUR_MS
    for i in range(hours):
        _spend(ledger, spike_hour - (i * 5 + 2) * HOUR_MS + 600_000, usd)


SPIKY = AlertSettings(spike_factor=3.0)


def test_format_usd_is_exact() -> None:
    assert format_usd(12_344_999_999) == "$12.34"
    assert format_usd(12_345_000_000) == "$12.35"
    assert format_usd(0) == "$0.00"
    assert format_usd(4_000_000) == "<$0.01"
    assert format_usd(1_234_567_000_000_000) == "$1,234,567.00"
    assert format_usd(-1_500_000_000) == "-$1.50"


def test_spike_fires_once_per_hour_and_again_next_hour(ledger: SqliteLedger) -> None:
    _history(ledger, 30, 1.00)
    hour = NOW_MS // HOUR_MS * HOUR_MS - HOUR_MS  # 14:00
    _spend(ledger, hour + 60_000, 3.50, session="loop-1", project="proj-a")
    _spend(ledger, hour + 1_800_000, 0.75, session="s-2", project="proj-b")
    _spend(ledger, hour + 3_000_000, 0.50, session="loop-1", project="proj-a")
    [alert_id] = detect_spikes(ledger, SPIKY, NOW_MS)
    alert = _row(ledger, alert_id)
    assert (alert.kind, alert.subject, alert.level) == ("spike", "all", "warn")
    assert alert.period_start_ms == hour
    assert (
        alert.title == "Spend spike: $4.75 in the hour 2026-11-20 14:00–15:00 UTC (4.8× the usual)"
    )
    assert "the median of the 30 hours with spend in the last 7 days" in alert.body
    assert "($1.00: " in alert.body
    assert "Top session: loop-1 in proj-a, $4.00." in alert.body
    assert "Top project: proj-a, $4.00." in alert.body
    # A re-run, even later in the same hour, raises nothing new.
    assert detect_spikes(ledger, SPIKY, NOW_MS) == []
    assert detect_spikes(ledger, SPIKY, NOW_MS + 40 * 60_000) == []
    # Still spiking in the next hour: a new alert for that hour.
    _spend(ledger, hour + HOUR_MS + 120_000, 6.00, session="loop-1", project="proj-a")
    [next_id] = detect_spikes(ledger, SPIKY, NOW_MS + HOUR_MS)
    assert _row(ledger, next_id).period_start_ms == hour + HOUR_MS
    assert len([a for a in list_alerts(ledger) if a.kind == "spike"]) == 2


def test_no_spike_at_or_below_the_factor(ledger: SqliteLedger) -> None:
    _history(ledger, 30, 1.00)
    hour = NOW_MS // HOUR_MS * HOUR_MS - HOUR_MS
    _spend(ledger, hour + 60_000, 3.00)  # exactly 3 x the median: not above
    assert detect_spikes(ledger, SPIKY, NOW_MS) == []
    _spend(ledger, hour + 120_000, 0.000000001)  # one nano-dollar more: above
    assert len(detect_spikes(ledger, SPIKY, NOW_MS)) == 1


def test_no_spike_without_enough_history(ledger: SqliteLedger) -> None:
    _history(ledger, 23, 1.00)
    hour = NOW_MS // HOUR_MS * HOUR_MS - HOUR_MS
    _spend(ledger, hour + 60_000, 50.00)
    assert detect_spikes(ledger, SPIKY, NOW_MS) == []
    _spend(ledger, hour - 3 * HOUR_MS + 60_000, 1.00)  # a 24th hour with spend
    assert len(detect_spikes(ledger, SPIKY, NOW_MS)) == 1


def test_no_spike_when_the_usual_hour_costs_nothing(ledger: SqliteLedger) -> None:
    _history(ledger, 40, 0.0)  # calls, but $0 (e.g. a free local model)
    hour = NOW_MS // HOUR_MS * HOUR_MS - HOUR_MS
    _spend(ledger, hour + 60_000, 50.00)
    assert detect_spikes(ledger, SPIKY, NOW_MS) == []
    assert list_alerts(ledger) == []


def test_history_older_than_a_week_does_not_count(ledger: SqliteLedger) -> None:
    hour = NOW_MS // HOUR_MS * HOUR_MS - HOUR_MS
    for i in range(30):  # 30 hours with spend, all 8 days back or more
        _spend(ledger, hour - 8 * 24 * HOUR_MS - i * HOUR_MS, 1.00)
    _spend(ledger, hour + 60_000, 50.00)
    assert detect_spikes(ledger, SPIKY, NOW_MS) == []


RUNAWAY = AlertSettings(session_usd_per_hour=10.0)


def test_runaway_session_alert_once_per_session_per_hour(ledger: SqliteLedger) -> None:
    now = NOW_MS + 35 * 60_000  # 15:40
    _spend(ledger, now - 70 * 60_000, 100.00, session="loop", project="api")  # before the hour
    for minutes in (50, 30, 10):
        _spend(ledger, now - minutes * 60_000, 4.00, session="loop", project="api",
               model="claude-opus-4-5")  # fmt: skip
    _spend(ledger, now - 5 * 60_000, 3.00, session="calm", project="web")
    [alert_id] = detect_runaway_sessions(ledger, RUNAWAY, now)
    alert = _row(ledger, alert_id)
    assert (alert.kind, alert.subject, alert.level) == ("session", "loop", "warn")
    assert alert.title == "Runaway session? loop spent $12.00 in the last hour"
    assert "Session loop (api) spent $12.00 in the 60 minutes to 2026-11-20 15:40 UTC" in alert.body
    assert "$12.00/h, above the $10.00/h alert line" in alert.body
    assert "Model: claude-opus-4-5." in alert.body
    assert detect_runaway_sessions(ledger, RUNAWAY, now) == []
    assert detect_runaway_sessions(ledger, RUNAWAY, now + 10 * 60_000) == []  # 15:50
    # The next hour, still burning: alerted again.
    later = now + 30 * 60_000  # 16:10; the window is 15:10–16:10
    _spend(ledger, later - 60_000, 9.00, session="loop", project="api")
    [again] = detect_runaway_sessions(ledger, RUNAWAY, later)
    assert _row(ledger, again).period_start_ms == later // HOUR_MS * HOUR_MS
    assert "$13.00" in _row(ledger, again).title  # 15:30 ($4) and 16:09 ($9)


def test_runaway_threshold_is_strict_and_off_by_default(ledger: SqliteLedger) -> None:
    now = NOW_MS
    _spend(ledger, now - 60_000, 10.00, session="edge")
    assert detect_runaway_sessions(ledger, RUNAWAY, now) == []  # exactly the line
    assert detect_runaway_sessions(ledger, AlertSettings(), now) == []
    _spend(ledger, now - 30_000, 0.01, session="edge")
    assert len(detect_runaway_sessions(ledger, RUNAWAY, now)) == 1
    assert detect_runaway_sessions(ledger, AlertSettings(), now + HOUR_MS) == []


# --- the command line ------------------------------------------------------------------------


def run(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, columns=columns)


def _config(env: Env, *urls: str) -> Path:
    path = env.home / "config.toml"
    path.write_text(f"[alerts]\nurls = {json.dumps(list(urls))}\n", encoding="utf-8")
    return path


def test_cli_alerts_test_and_list(env: Env, hook: Hook) -> None:
    _config(env, hook.url("/hook"))
    result = run("alerts", "test")
    assert result.returncode == 0, result.stderr
    assert "test alert sent to json" in result.stdout
    assert len(hook.requests) == 1
    assert hook.requests[0]["path"] == "/hook"
    assert hook.payloads[0]["title"] == "spendlane test alert"
    assert hook.payloads[0]["type"] == "info"
    assert "test message from spendlane" in hook.payloads[0]["message"]

    listed = run("alerts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [alert] = json.loads(listed.stdout)["alerts"]
    assert {k: alert[k] for k in ("kind", "level", "status", "attempts", "title")} == {
        "kind": "test", "level": "info", "status": "sent", "attempts": 1,
        "title": "spendlane test alert",
    }  # fmt: skip
    assert alert["sentAt"] is not None

    table = run("alerts", "list", columns=200)
    assert table.returncode == 0, table.stderr
    [line] = [row for row in table.stdout.splitlines() if "spendlane test alert" in row]
    assert [cell.strip() for cell in line.strip("│").split("│")][1:] == [
        "test",
        alert["subject"],
        "info",
        "sent",
        "1",
        "spendlane test alert",
    ]

    as_json = run("alerts", "test", "--json")
    assert as_json.returncode == 0, as_json.stderr
    [outcome] = json.loads(as_json.stdout)
    assert (outcome["status"], outcome["delivered"]) == ("sent", ["json"])
    assert len(hook.requests) == 2
    assert len(json.loads(run("alerts", "list", "--json", "--limit", "1").stdout)["alerts"]) == 1


def test_cli_alerts_test_without_urls_exits_1(env: Env) -> None:
    result = run("alerts", "test")
    assert result.returncode == 1
    assert "no alert channel configured" in result.stderr
    assert json.loads(run("alerts", "list", "--json").stdout) == {"alerts": []}
    assert "no alerts raised yet" in run("alerts", "list").stdout


def test_cli_alerts_test_exits_1_when_every_delivery_fails(env: Env, tmp_path: Path) -> None:
    bad = Hook(always_fail=True)
    try:
        elsewhere = tmp_path / "other.toml"
        secret_url = f"json://{SECRET_USER}:{SECRET_TOKEN}@127.0.0.1:{bad.port}/{SECRET_PATH}"
        elsewhere.write_text(f'[alerts]\nurls = ["{secret_url}"]\n', encoding="utf-8")
        result = run("alerts", "test", "--config", str(elsewhere))
        assert result.returncode == 1
        assert "the test alert reached no channel" in result.stderr
        assert len(bad.requests) == 4
        for secret in (SECRET_USER, SECRET_TOKEN, SECRET_PATH):
            assert secret not in result.stdout + result.stderr
        [alert] = json.loads(run("alerts", "list", "--json").stdout)["alerts"]
        assert (alert["status"], alert["attempts"]) == ("failed", 4)
    finally:
        bad.close()


def test_cli_bad_config_is_a_clear_error(env: Env) -> None:
    (env.home / "config.toml").write_text('[alerts]\nurls = ["not a url"]\n', encoding="utf-8")
    result = run("alerts", "test")
    assert result.returncode == 1
    assert "alerts.urls" in result.stderr


def test_ledger_rows_survive_reopen(env: Env, hook: Hook) -> None:
    with env.ledger() as led:
        _raise(led)
        deliver_pending(led, [hook.url()], sleep=Sleeps())
    db = sqlite3.connect(env.ledger_path)
    assert db.execute("SELECT status, attempts FROM alerts").fetchall() == [("sent", 1)]
    db.close()


def test_cli_alerts_deliver_detects_then_delivers(env: Env, hook: Hook) -> None:
    path = env.home / "config.toml"
    path.write_text(
        f'[alerts]\nurls = ["{hook.url()}"]\nsession_usd_per_hour = 5\n', encoding="utf-8"
    )
    now = int(time.time() * 1000)
    with env.ledger() as led:
        _raise(led, level="block", title="budget blocked")
        _spend(led, now - 5 * 60_000, 7.50, session="loop-cli", project="api")
    result = run("alerts", "deliver", "--json")
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert [(r["kind"], r["status"]) for r in outcome] == [("spike", "sent"), ("session", "sent")]
    assert [(p["title"], p["type"]) for p in hook.payloads] == [
        ("budget blocked", "failure"),
        ("Runaway session? loop-cli spent $7.50 in the last hour", "warning"),
    ]
    again = run("alerts", "deliver")
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert len(hook.requests) == 2
