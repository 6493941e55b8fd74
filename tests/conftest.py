"""Shared fixtures: an isolated home for every test, and log folders to write into."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from spendlane.demo import claude_assistant
from spendlane.ingest import IngestReport, ingest
from spendlane.ledger import SqliteLedger
from spendlane.sources.locations import CLAUDE_CODE, CODEX

# Property tests check results, not speed: on a shared 2-core machine an example can take
# half a second for reasons of its own, and a deadline would make the suite flaky.
settings.register_profile("spendlane", deadline=None)
settings.load_profile("spendlane")


@dataclass
class Env:
    """A sandbox: agent log roots and a ledger, nothing from the real home."""

    root: Path
    claude: Path
    codex: Path
    home: Path

    @property
    def ledger_path(self) -> Path:
        return self.home / "ledger.sqlite3"

    def ledger(self) -> SqliteLedger:
        return SqliteLedger(self.ledger_path)

    def ingest(self, ledger: SqliteLedger, **kwargs: object) -> IngestReport:
        roots = {CLAUDE_CODE: [self.claude], CODEX: [self.codex]}
        return ingest(ledger, roots=roots, **kwargs)  # type: ignore[arg-type]

    def session_file(self, name: str = "s1", project: str = "-home-dev-project") -> Path:
        return self.claude / "projects" / project / f"{name}.jsonl"

    def rollout(self, name: str = "rollout-2026-11-20T10-00-00-abc.jsonl") -> Path:
        return self.codex / "sessions" / "2026" / "11" / "20" / name


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    e = Env(tmp_path, tmp_path / "claude", tmp_path / "codex", tmp_path / "home")
    for p in (e.claude, e.codex, e.home):
        p.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.setenv("SPENDLANE_HOME", str(e.home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(e.claude))
    monkeypatch.setenv("CODEX_HOME", str(e.codex))
    monkeypatch.setenv("TZ", "UTC")
    yield e


# A plan-window reading as the statusline or Codex leaves it (the agent folder left unknown).
READING = ("INSERT INTO quota_readings (source, ts_ms, window, used_percent, window_minutes, "
           "resets_at_ms, session_id) VALUES ")  # fmt: skip


def run_cli(
    *args: str, stdin: str | None = None, columns: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m spendlane ARGS` in a child process, as a user runs it (in the test's home);
    `columns` sets the terminal width tables are drawn for."""
    env = {**os.environ, "COLUMNS": str(columns)} if columns else os.environ.copy()
    return subprocess.run([sys.executable, "-m", "spendlane", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)  # fmt: skip


def assistant(when: dt.datetime, message_id: str, output: int) -> dict[str, Any]:
    """A Claude Code call of session "s" with 100 input tokens and `output` output tokens."""
    return claude_assistant(when=when, session_id="s", message_id=message_id, request_id="r",
                            output_tokens=output, input_tokens=100)  # fmt: skip
