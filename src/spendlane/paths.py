"""Where spendlane keeps its ledger and reads its config.

`SPENDLANE_HOME` makes one self-contained folder for both (handy for tests, CI and several
profiles); otherwise the platform's data and config dirs.
"""

from __future__ import annotations

import os
from pathlib import Path

LEDGER_NAME = "ledger.sqlite3"


def data_dir() -> Path:
    home = os.environ.get("SPENDLANE_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("spendlane", appauthor=False))


def config_dir() -> Path:
    home = os.environ.get("SPENDLANE_HOME")
    if home:
        return Path(home).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("spendlane", appauthor=False))


def default_ledger_path() -> Path:
    return data_dir() / LEDGER_NAME
