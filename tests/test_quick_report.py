"""The report quick path (`cli.quick_report`): the same bytes as the click commands, without
click or rich for `--json`, and click for everything it does not know."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner
from tests.conftest import Env, assistant
from tests.conftest import run_cli as run

from spendlane.cli import main
from spendlane.cli.quick_report import parse, quick_report
from spendlane.demo import claude_assistant, write_demo_logs, write_jsonl
from spendlane.recording import record_many

NOW = dt.datetime(2026, 11, 3, 10, 30, tzinfo=dt.UTC)  # the demo's week spans two months


@pytest.fixture
def demo(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    """A week of Claude Code and Codex logs, a recorded call and an unpriced model, ingested."""
    claude, codex = write_demo_logs(env.root / "demo", NOW)
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("CODEX_HOME", str(codex))
    write_jsonl(claude / "projects" / "-home-dev-x" / "odd.jsonl", [
        claude_assistant(when=NOW - dt.timedelta(days=1), session_id="odd", message_id="o1",
                         request_id="r", output_tokens=5, model="mystery-model-9"),
    ])  # fmt: skip
    call = {"model": "gpt-5", "backend": "openai", "prompt_tokens": 1000,
            "completion_tokens": 10, "timestamp": "2026-11-02T08:00:00Z"}  # fmt: skip
    with env.ledger() as ledger:
        record_many(ledger, [call])
    with time_machine.travel(NOW, tick=False):
        assert CliRunner().invoke(main, ["ingest"]).exit_code == 0
    return env


CASES = [
    [],
    ["daily"],
    ["daily", "--json"],
    ["daily", "-j", "--breakdown"],
    ["daily", "--json", "--since", "20261101", "--until", "2026-11-02", "--timezone", "Asia/Tokyo"],
    ["daily", "-s", "2026-10-30", "-z", "America/New_York", "--source", "claude", "-b"],
    ["daily", "--json", "--source=CODEX", "--order", "desc", "--cost-mode", "calculate"],
    ["daily", "--json", "--by", "model,project", "--by", "agent"],
    ["daily", "last-week", "--json", "--mode=display"],
    ["daily", "--json", "--source", "record", "--no-ingest"],
    ["daily", "--json", "--since", "this-month", "--since", "yesterday"],
    ["weekly", "--json", "--start-of-week", "Sunday"],
    ["weekly", "-w", "sunday", "--breakdown"],
    ["monthly", "--json"],
    ["monthly", "this-month"],
    ["--db", "LEDGER", "monthly", "--json", "-m", "CALCULATE"],
]


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(a) or "(overview)")
def test_quick_path_prints_what_click_prints(
    demo: Env, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(demo.ledger_path) if a == "LEDGER" else a for a in argv]
    assert parse(argv) is not None  # the quick path's, not handed over
    with time_machine.travel(NOW, tick=False):
        code = quick_report(argv)
        quick = capsys.readouterr().out
        slow = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert code == slow.exit_code == 0
    assert quick.strip()

    def same(text: str) -> str:  # the overview says how long its ingest took
        return re.sub(r"read in \d+\.\d\d s", "read in _ s", text)

    assert same(quick) == same(slow.stdout)


def test_warm_json_loads_neither_click_rich_nor_the_parsers(demo: Env) -> None:
    assert run("daily", "--json").returncode == 0  # status.json is fresh after this
    probe = (
        "import sys; from spendlane.cli.quick_report import quick_report; "
        "code = quick_report(['daily', '--json']); print(); "
        "print(code, *(m in sys.modules for m in ('click', 'rich', 'msgspec', 'genai_prices', "
        "'spendlane.policy.service', 'multiprocessing')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=os.environ.copy(), timeout=60)  # fmt: skip
    assert out.stdout.split()[-7:] == ["0", *["False"] * 6], out.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"], ["--version"], ["session", "--json"], ["daily", "--help"],
        ["daily", "--jsn"], ["daily", "-jb"], ["daily", "-s2026-11-01"], ["daily", "--", "x"],
        ["daily", "today", "yesterday"], ["daily", "--order", "DESC"], ["daily", "--by", "hue"],
        ["daily", "--source", "gemini"], ["daily", "--since"], ["daily", "--json=1"],
        ["monthly", "-w", "sunday"], ["daily", "--db", "x.sqlite3"], ["--db"],
    ],
)  # fmt: skip
def test_anything_unusual_goes_to_click(argv: list[str]) -> None:
    assert parse(argv) is None


def test_errors_are_clicks_to_say(env: Env, tmp_path: Path) -> None:
    assert quick_report(["daily", "--since", "2026-13-01"]) is None
    assert quick_report(["daily", "--timezone", "Mars/Olympus"]) is None
    assert quick_report(["--db", str(tmp_path), "daily"]) is None  # a folder
    (env.home / "prices.toml").write_text('[[model]]\nmatch = "x"\ninput = "cheap"\noutput = 1\n')
    assert quick_report(["daily", "--json"]) is None
    bad_prices = run("daily", "--json")
    assert bad_prices.returncode == 1
    assert "line 3, field 'input'" in bad_prices.stderr
    typo = run("daily", "--jsn")
    assert typo.returncode == 2
    assert "No such option '--jsn'" in typo.stderr
    help_text = run("weekly", "--help")
    assert help_text.returncode == 0
    assert "--start-of-week" in help_text.stdout


def test_warm_runs_still_read_appended_replaced_and_new_files(env: Env) -> None:
    """Through the quick path (a child process, as a user runs it)."""
    when = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    path = env.session_file()

    def output_tokens() -> int:
        result = run("daily", "--json", "--since", "2026-11-01", "--until", "2026-11-30")
        assert result.returncode == 0, result.stderr
        return int(json.loads(result.stdout)["totals"]["outputTokens"])

    write_jsonl(path, [assistant(when, "m1", 1000)])
    assert output_tokens() == 1000
    assert output_tokens() == 1000  # nothing new
    with path.open("a") as f:
        f.write(json.dumps(assistant(when, "m2", 20)) + "\n")
    assert output_tokens() == 1020  # an appended line
    write_jsonl(path, [assistant(when, "m3", 300)])  # replaced: the ledger keeps m1 and m2
    assert output_tokens() == 1320
    write_jsonl(env.session_file("s2"), [assistant(when, "m4", 4000)])
    assert output_tokens() == 5320  # a new file
    assert output_tokens() == 5320
