"""How the console script ends: at once when the quick path has answered and nothing else
runs (no interpreter teardown), the usual way when a thread, a child or a stream still needs
it. Either way every byte of the output arrives and the exit code is the command's."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.conftest import Env
from tests.conftest import run_cli as run

from spendlane.cli import quick
from spendlane.recording import record_many

START = dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC)


def _record_days(env: Env, days: int) -> None:
    calls = [
        {"model": "gpt-5", "backend": "openai", "prompt_tokens": 1000 + day,
         "completion_tokens": 10, "timestamp": (START + dt.timedelta(days=day)).isoformat()}
        for day in range(days)
    ]  # fmt: skip
    with env.ledger() as ledger:
        record_many(ledger, calls)


def test_a_long_report_arrives_whole_through_a_pipe(env: Env) -> None:
    _record_days(env, 400)  # ~100 KB of JSON: more than stdout's buffer and a pipe's
    out = run("daily", "--json", "--no-ingest", "--since", "2025-01-01")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert len(out.stdout) > 65_536
    assert len(report["daily"]) == 400
    assert report["totals"]["inputTokens"] == sum(1000 + day for day in range(400))


def _probe(marker: Path, setup: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The console script's `run()` in a child (in the test's home), with an exit handler
    that leaves a marker when the interpreter is torn down the usual way."""
    code = (
        "import atexit, sys, threading, time\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('torn down'))\n"
        f"{setup}\n"
        f"sys.argv = ['spendlane', *{argv!r}]\n"
        "from spendlane.cli.quick import run\n"
        "run()\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=60)  # fmt: skip


def test_with_nothing_else_running_the_process_ends_without_teardown(
    env: Env, tmp_path: Path
) -> None:
    _record_days(env, 3)
    marker = tmp_path / "marker"
    out = _probe(marker, "", ["daily", "--json", "--no-ingest", "--since", "2025-01-01"])
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["daily"]) == 3
    assert not marker.exists()  # exit handlers did not run: no teardown


def test_a_running_thread_gets_the_usual_exit(env: Env, tmp_path: Path) -> None:
    _record_days(env, 3)
    marker = tmp_path / "marker"
    late = (
        "def late():\n"
        "    time.sleep(0.3)\n"
        "    print('the thread finished', file=sys.stderr, flush=True)\n"
        "threading.Thread(target=late).start()"
    )
    out = _probe(marker, late, ["daily", "--json", "--no-ingest", "--since", "2025-01-01"])
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["daily"]) == 3
    assert "the thread finished" in out.stderr  # waited for, as Python always does
    assert marker.read_text() == "torn down"


def test_the_exit_code_is_the_commands(env: Env, tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    out = _probe(marker, "", ["daily", "--since", "2026-13-01"])  # click says what's wrong
    assert out.returncode == 2
    assert "2026-13-01" in out.stderr
    assert marker.read_text() == "torn down"  # click's path: the usual exit
    quick_exit = _probe(marker, "", ["check", "--json"])
    assert quick_exit.returncode == 0, quick_exit.stderr
    assert json.loads(quick_exit.stdout)["decision"] == "allow"


class _Exited(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _fake_exit(code: int) -> None:
    raise _Exited(code)


def test_leave_flushes_then_exits_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    stdout = io.StringIO()
    flushed: list[str] = []
    monkeypatch.setattr(stdout, "flush", lambda: flushed.append("out"))
    monkeypatch.setattr(sys, "stdout", stdout)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "_exit", _fake_exit)
    with pytest.raises(_Exited) as exited:
        quick.leave(20)
    assert exited.value.code == 20
    assert flushed == ["out"]


def test_leave_exits_the_usual_way_when_output_cannot_be_flushed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Broken(io.StringIO):
        def flush(self) -> None:
            raise BrokenPipeError

    monkeypatch.setattr(sys, "stdout", Broken())
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(os, "_exit", _fake_exit)
    with pytest.raises(SystemExit) as exited:
        quick.leave(30)
    assert exited.value.code == 30


def test_leave_exits_the_usual_way_while_another_thread_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    monkeypatch.setattr(os, "_exit", _fake_exit)
    with pytest.raises(SystemExit) as exited:
        quick.leave(10)
    assert exited.value.code == 10


def test_leave_exits_the_usual_way_while_a_child_process_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import multiprocessing

    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(multiprocessing, "active_children", lambda: [object()])
    monkeypatch.setattr(os, "_exit", _fake_exit)
    with pytest.raises(SystemExit) as exited:
        quick.leave(0)
    assert exited.value.code == 0
