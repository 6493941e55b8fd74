"""The Markdown dashboard: sections, escaped names, a sparkline, atomic replacement."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from click.testing import CliRunner
from tests.conftest import Env

from spendlane.cli import main
from spendlane.demo import write_demo_logs
from spendlane.recording import record_many
from spendlane.reports.markdown import sparkline


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline([0, 5, 10]) == "▁▄█"
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([]) == ""


def test_dashboard_page(env: Env, tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 20, 18, tzinfo=ZoneInfo("UTC"))
    write_demo_logs(env.root, now)
    with env.ledger() as ledger:
        record_many(ledger, [{"model": "claude-haiku-4-5", "backend": "claude",
                              "output_tokens": 10, "project": "evil|name", "skill": "review",
                              "timestamp": "2026-11-20T10:00:00Z"}])  # fmt: skip
    target = tmp_path / "notes" / "spend.md"
    with time_machine.travel(now, tick=False):
        first = CliRunner().invoke(main, ["report", "markdown", "--out", str(target)])
        second = CliRunner().invoke(main, ["report", "markdown", "--out", str(target)])
    assert first.exit_code == 0 and second.exit_code == 0, first.output
    page = target.read_text()
    for heading in ("# AI coding spend", "## Monthly", "## Weekly", "## By model",
                    "## By project", "## By skill", "## Top sessions"):  # fmt: skip
        assert heading in page
    assert "evil\\|name" in page  # a user-supplied name cannot break the table
    assert "| 2026-11 |" in page
    assert any(ch in page for ch in "▁▂▃▄▅▆▇█")
    assert [p.name for p in target.parent.iterdir()] == ["spend.md"]  # replaced, no temp left
