"""The `spendlane` entry point, with a quick path for `check` (and, in `cli.quick_report`,
for `spendlane`, `daily`, `weekly` and `monthly`).

`check` runs before every dispatch of an agent fleet, so its start-up is its cost: loading
click and the report modules is a quarter of it. A plain `spendlane [--db PATH] check …` with
the documented options is parsed here and answered through the same `policy.service` calls
and output as the click command; anything else (help, a typo, `--ingest`, any other command)
goes to click, which owns usage messages and errors.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

_VALUE_FLAGS = {
    "--provider": "provider", "--model": "model", "--agent": "agent", "--project": "project",
    "--task-type": "task_type", "--source": "source", "--machine": "machine",
    "--account": "account", "--estimate-usd": "estimate_usd", "--config": "config",
}  # fmt: skip


_NOT_CALL = ("db", "json", "estimate_usd", "config")


def run() -> None:
    """The console script: `check`, `statusline`, `hook gate` and the calendar reports
    (`cli.quick_report`) on the quick path when they can be, click otherwise."""
    code = quick_statusline(sys.argv[1:])
    if code is None:
        code = quick_gate(sys.argv[1:])
    if code is None:
        code = quick_check(sys.argv[1:])
    if code is None:
        from spendlane.cli.quick_report import quick_report

        code = quick_report(sys.argv[1:])
    if code is not None:
        leave(code)
    from spendlane.cli import main

    main()


def leave(code: int) -> NoReturn:
    """End the process with `code` once the quick path has answered, without tearing the
    interpreter down when nothing is left to do.

    Freeing a report's objects one by one at exit (the price catalog, the ids a first import
    stored) takes 8 ms of a 75 ms warm report and ~45 ms after a first import, and nobody
    waits for it: the ledger is closed and alerts go out in a process of their own. The usual
    exit is kept whenever something may still be running or owed at exit: another thread, a
    child process, or the resource tracker of a spawned worker (not Linux's fork), or output
    that cannot be flushed (the reader went away: then Python's own exit reports it as always).
    """
    import os

    threading = sys.modules.get("threading")
    multiprocessing = sys.modules.get("multiprocessing")
    if (
        (threading is None or threading.active_count() == 1)
        and (multiprocessing is None or not multiprocessing.active_children())
        and "multiprocessing.resource_tracker" not in sys.modules
    ):
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed or broken stream: the usual exit says so
            pass
        else:
            os._exit(code)
    sys.exit(code)


def _parse(argv: list[str]) -> dict[str, str | bool] | None:
    """The options of a plain `[--db PATH] check …`, or None when click should parse it."""
    options: dict[str, str | bool] = {}
    rest = list(argv)
    if rest[:1] == ["--db"] and len(rest) > 1:
        options["db"], rest = rest[1], rest[2:]
    elif rest and rest[0].startswith("--db="):
        options["db"], rest = rest[0][5:], rest[1:]
    if rest[:1] != ["check"]:
        return None
    rest = rest[1:]
    while rest:
        flag = rest.pop(0)
        name, has_value, value = flag.partition("=")
        if flag in ("--json", "-j"):
            options["json"] = True
        elif name in _VALUE_FLAGS and has_value:
            options[_VALUE_FLAGS[name]] = value
        elif flag in _VALUE_FLAGS and rest:
            options[_VALUE_FLAGS[flag]] = rest.pop(0)
        else:
            return None  # help, --ingest, a typo: click says it best
    return options


def quick_check(argv: list[str]) -> int | None:
    """Answer `check` and return its exit code, or None to hand the command line to click."""
    options = _parse(argv)
    if options is None:
        return None
    from spendlane.ledger import LedgerError, SqliteLedger
    from spendlane.money import parse_usd
    from spendlane.policy.service import (
        check,
        check_json,
        check_text,
        load_budgets,
        make_call,
        now_ms,
        status_after,
    )
    from spendlane.tomlconfig import ConfigError

    call_fields = {k: str(v) for k, v in options.items() if k not in _NOT_CALL}
    try:
        call = make_call(**call_fields)
        estimate = parse_usd(str(options.get("estimate_usd", "0")))
    except ValueError:
        return None  # a bad value: click prints the usage error
    config_path = Path(str(options["config"])) if "config" in options else None
    if config_path is not None and not config_path.is_file():
        return None
    try:
        config = load_budgets(config_path)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    db = options.get("db") or _env_db()
    if not db:
        from spendlane.paths import default_ledger_path

        db = str(default_ledger_path())
    at = now_ms()
    try:
        with SqliteLedger(Path(str(db))) as ledger:
            result = check(ledger, config, call, estimate, at)
            status_after(ledger, config, result.states, at)
    except LedgerError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    if options.get("json"):
        import json

        indent = 2 if sys.stdout.isatty() else None
        print(json.dumps(check_json(result), indent=indent))
    else:
        print(check_text(result))
    return int(result.decision.action)


def _env_db() -> str | None:
    import os

    return os.environ.get("SPENDLANE_DB") or None


def quick_statusline(argv: list[str]) -> int | None:
    """`spendlane [--db PATH] statusline`: Claude Code's status line (always exit 0: a status
    bar must never break the session)."""
    rest = list(argv)
    db: str | None = None
    if rest[:1] == ["--db"] and len(rest) > 1:
        db, rest = rest[1], rest[2:]
    if rest != ["statusline"]:
        return None
    import time

    from spendlane.integrations.statusline import parse_payload, record_rate_limits, render
    from spendlane.paths import data_dir, default_ledger_path
    from spendlane.periods import local_zone

    payload = parse_payload(_read_stdin(deadline_s=1.0))
    ledger = Path(db or _env_db() or default_ledger_path())
    now = int(time.time() * 1000)
    try:
        if payload is not None:
            record_rate_limits(ledger, payload, now)
        line = render(payload, ledger, data_dir() / "status.json", now_ms=now,
                      zone=local_zone(None))  # fmt: skip
    except Exception as exc:  # a status bar must print something and never fail the session
        line = f"spendlane: {type(exc).__name__}"
    if payload is None:
        line = f"{line} (no statusline data on stdin)"
    print(line)
    return 0


def _read_stdin(deadline_s: float) -> str:
    """All of stdin, but never wait past the deadline (a caller that keeps it open)."""
    import os
    import select
    import time

    if sys.stdin is None or sys.stdin.isatty():
        return ""
    chunks: list[bytes] = []
    fd = sys.stdin.fileno()
    end = time.monotonic() + deadline_s
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def quick_gate(argv: list[str]) -> int | None:
    """`spendlane [--db PATH] hook gate`: Claude Code runs it before every tool call."""
    rest = list(argv)
    db: str | None = None
    if rest[:1] == ["--db"] and len(rest) > 1:
        db, rest = rest[1], rest[2:]
    if rest != ["hook", "gate"]:
        return None
    from spendlane.integrations.hooks import run_gate

    result = run_gate(_read_stdin(deadline_s=2.0), db=Path(db) if db else _env_path())
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.exit_code


def _env_path() -> Path | None:
    value = _env_db()
    return Path(value) if value else None
