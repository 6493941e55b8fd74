"""Delivering alerts without making anyone wait: a detached `spendlane alerts deliver`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def deliver_soon(config_path: Path | None, ledger_path: Path) -> None:
    """Start a detached process that delivers pending alerts (a check must not wait on a
    network; the process outlives this one and records every attempt in the ledger)."""
    args = [sys.executable, "-m", "spendlane", "--db", str(ledger_path), "alerts", "deliver"]
    if config_path is not None:
        args += ["--config", str(config_path)]
    subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True,
                     env=dict(os.environ))  # fmt: skip
