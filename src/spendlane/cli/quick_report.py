"""`spendlane`, `daily`, `weekly` and `monthly` without click.

These are the reports people and scripts run most, and a warm run (nothing new in the logs)
should cost little more than the interpreter: loading click was a fifth of it. A plain
command line with the documented options is parsed here and run through the same
`cli.reporting` functions as the click commands, so the output is the same by construction.
Anything else — `--help`, a typo, `--`, joined short flags (`-jb`), a value click would refuse,
an error to report (a bad date or zone, a bad prices.toml, a ledger that cannot be opened) —
goes to click, which owns usage messages and errors.
"""

from __future__ import annotations

import errno
import sys

from spendlane.cli.reporting import WEEKDAYS
from spendlane.sources import SOURCE_ALIASES

TYPE_CHECKING = False  # not from typing: this module is on the quick path
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

_PERIODS = {"daily": "day", "weekly": "week", "monthly": "month"}
_FLAGS = {"-b": "breakdown", "--breakdown": "breakdown", "-j": "as_json", "--json": "as_json",
          "--no-ingest": "no_ingest"}  # fmt: skip
_VALUES = {"-s": "since", "--since": "since", "-u": "until", "--until": "until",
           "-z": "timezone", "--timezone": "timezone", "--source": "source", "--by": "by",
           "-m": "cost_mode", "--cost-mode": "cost_mode", "--mode": "cost_mode",
           "-o": "order", "--order": "order"}  # fmt: skip
_WEEK_VALUES = {"-w": "start_of_week", "--start-of-week": "start_of_week"}
# (choices, case-sensitive), as the click options declare them
_CHOICES: dict[str, tuple[tuple[str, ...], bool]] = {
    "source": (("all", *SOURCE_ALIASES, "record"), False),
    "cost_mode": (("auto", "calculate", "display"), False),
    "order": (("asc", "desc"), True),
    "start_of_week": (WEEKDAYS, False),
}


def parse(argv: list[str]) -> tuple[str | None, str | None, dict[str, Any]] | None:
    """(--db, period or None for the overview, the command's options), or None when click
    should parse this command line."""
    rest = list(argv)
    db: str | None = None
    while rest and (rest[0] == "--db" or rest[0].startswith("--db=")):
        if rest[0] == "--db":
            if len(rest) < 2:
                return None
            db, rest = rest[1], rest[2:]
        else:
            db, rest = rest[0][5:], rest[1:]
    if not rest:
        return db, None, {}
    period = _PERIODS.get(rest[0])
    if period is None:
        return None
    values = {**_VALUES, **_WEEK_VALUES} if period == "week" else _VALUES
    options: dict[str, Any] = {"range_": None, "since": None, "until": None, "timezone": None,
                        "source": "all", "breakdown": False, "by": [], "as_json": False,
                        "cost_mode": "auto", "order": "asc", "no_ingest": False}  # fmt: skip
    if period == "week":
        options["start_of_week"] = "monday"
    rest = rest[1:]
    while rest:
        token = rest.pop(0)
        name, has_value, value = token.partition("=")
        if token in _FLAGS:
            options[_FLAGS[token]] = True
        elif has_value and name.startswith("--") and name in values:
            _set(options, values[name], value)
        elif token in values and rest:
            _set(options, values[token], rest.pop(0))
        elif not token.startswith("-") and options["range_"] is None:
            options["range_"] = token
        else:
            return None  # help, `--`, `-jb`, `-s2026…`, a typo, a second RANGE: click's
    for key, (choices, case_sensitive) in _CHOICES.items():
        if key in options:
            given = options[key] if case_sensitive else options[key].casefold()
            match = [c for c in choices if (c if case_sensitive else c.casefold()) == given]
            if not match:
                return None
            options[key] = match[0]
    from spendlane.cli.reporting import by_keys

    try:
        options["by"] = by_keys(options["by"])
    except ValueError:
        return None
    return db, period, options


def _set(options: dict[str, Any], key: str, value: str) -> None:
    if key == "by":
        options["by"].append(value)
    else:
        options[key] = value  # given twice: the last wins, as in click


def quick_report(argv: list[str]) -> int | None:
    """Run the report and return its exit code, or None to hand the command line to click."""
    parsed = parse(argv)
    if parsed is None:
        return None
    db, period, options = parsed
    ledger_path = _ledger_path(db)
    if ledger_path is None:
        return None
    from spendlane.cli import reporting
    from spendlane.ledger import SqliteLedger

    try:
        if period is None:
            with SqliteLedger(ledger_path) as ledger:
                reporting.overview(ledger)
            return 0
        week_start = WEEKDAYS.index(options.pop("start_of_week", "monday"))
        zone, first, last = reporting.report_range(
            options.pop("range_"), options.pop("since"), options.pop("until"),
            options.pop("timezone"), week_start,
        )  # fmt: skip
        with SqliteLedger(ledger_path) as ledger:
            reporting.calendar_report(ledger, period, zone, first, last, week_start=week_start,
                                      **options)  # fmt: skip
    except KeyboardInterrupt:
        print("\nAborted!", file=sys.stderr)  # as click says it
        return 1
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        _quiet_stdout()  # as click does: the reader went away, exit 1 without a traceback
        return 1
    except Exception as exc:
        if _click_says_it(exc):
            return None
        raise
    return 0


def _click_says_it(exc: Exception) -> bool:
    """Errors the click commands turn into messages (imported only when one happened): a bad
    date or zone, a bad prices.toml, a ledger that cannot be opened. Click runs the command
    again and says what went wrong, as it always has."""
    from spendlane.ledger import LedgerError
    from spendlane.periods import PeriodError
    from spendlane.tomlconfig import ConfigError

    return isinstance(exc, LedgerError | PeriodError | ConfigError)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing more."""
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _ledger_path(db: str | None) -> Path | None:
    """The ledger --db or SPENDLANE_DB names, else the default; None when click's check of
    the path (not a folder, readable) would refuse it."""
    import os
    from pathlib import Path

    value = db if db is not None else (os.environ.get("SPENDLANE_DB") or None)
    if value is None:
        from spendlane.paths import default_ledger_path

        return default_ledger_path()
    if not value:
        return None
    try:
        st = os.stat(value)
    except OSError:
        return Path(value)
    import stat

    if stat.S_ISDIR(st.st_mode) or not os.access(value, os.R_OK):
        return None
    return Path(value)
