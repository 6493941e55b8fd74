"""Claude Code hooks: install/uninstall on real settings files, and the hooks through the CLI.

Hook payloads are shaped as Claude Code sends them (session_id, transcript_path, cwd,
hook_event_name, per event tool_name/tool_input, reason, error_type/error); the answers are
checked against the documented shapes (PreToolUse `hookSpecificOutput.permissionDecision`,
UserPromptSubmit `decision: block`, `systemMessage`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Env

import spendlane
from spendlane.demo import claude_assistant, write_jsonl
from spendlane.integrations.hooks import (
    HooksError,
    install,
    is_ours,
    settings_path,
    uninstall,
)

PREFIX = "/opt/spendlane/bin/spendlane"

# A settings file as people have them: other hooks (PreToolUse with other matchers, a
# SessionEnd of their own), their statusLine, unrelated keys, non-ASCII text.
THEIRS: dict[str, Any] = {
    "$schema": "https://json.schemastore.org/claude-code-settings.json",
    "model": "opus",
    "permissions": {"allow": ["Bash(npm run test:*)"], "deny": ["Read(./.env)"]},
    "env": {"FOO": "bär"},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "~/bin/guard.sh"}]},
            {"matcher": "Edit|Write", "hooks": [
                {"type": "command", "command": "prettier --check", "timeout": 30}]},
        ],
        "SessionEnd": [{"hooks": [{"type": "command", "command": "notify-send bye"}]}],
        "Notification": [],
    },
    "statusLine": {"type": "command", "command": "~/.claude/statusline.sh", "padding": 0},
    "includeCoAuthoredBy": False,
}  # fmt: skip


def write_settings(path: Path, document: dict[str, Any], indent: int | str = 2) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(document, indent=indent, ensure_ascii=False) + "\n").encode()
    path.write_bytes(data)
    return data


def commands(document: dict[str, Any], event: str) -> list[str]:
    return [h["command"] for g in document["hooks"].get(event, []) for h in g["hooks"]]


def backups(folder: Path) -> list[Path]:
    return sorted(folder.glob("settings.json.spendlane-backup-*"))


# -- install / uninstall ------------------------------------------------------------------------


def test_round_trip_keeps_everything_else_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / ".claude" / "settings.json"
    original = write_settings(path, THEIRS)

    plan = install(path, command_prefix=PREFIX)
    assert plan.changed and plan.backup is not None
    assert plan.backup.read_bytes() == original  # the file as it was, next to it
    assert any("statusLine kept" in note for note in plan.notes)
    after = json.loads(path.read_text())
    assert list(after) == list(THEIRS)  # key order kept, nothing added at the top
    assert after["statusLine"] == THEIRS["statusLine"]  # never replaced
    assert commands(after, "PreToolUse") == [
        "~/bin/guard.sh", "prettier --check", f"{PREFIX} hook gate"]  # fmt: skip
    assert after["hooks"]["PreToolUse"][-1]["matcher"] == "*"
    assert commands(after, "SessionEnd") == ["notify-send bye", f"{PREFIX} hook session-end"]
    assert commands(after, "UserPromptSubmit") == [f"{PREFIX} hook gate"]
    assert "matcher" not in after["hooks"]["UserPromptSubmit"][0]
    assert commands(after, "StopFailure") == [f"{PREFIX} hook stop-failure"]
    assert after["hooks"]["Notification"] == []
    for key in ("model", "permissions", "env", "$schema", "includeCoAuthoredBy"):
        assert after[key] == THEIRS[key]

    removed = uninstall(path)
    assert len(removed.changes) == 4
    assert removed.backup is not None
    assert path.read_bytes() == original


def test_install_twice_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write_settings(path, THEIRS)
    install(path, command_prefix=PREFIX)
    once = path.read_bytes()
    again = install(path, command_prefix=PREFIX)
    assert not again.changed and again.backup is None
    assert path.read_bytes() == once
    assert len(backups(tmp_path)) == 1


def test_a_moved_spendlane_is_updated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write_settings(path, THEIRS)
    install(path, command_prefix="'/old place/spendlane'")  # a quoted path is still ours
    plan = install(path, command_prefix=PREFIX)
    after = json.loads(path.read_text())
    assert commands(after, "PreToolUse")[-1] == f"{PREFIX} hook gate"
    assert sum(is_ours(c) for c in commands(after, "PreToolUse")) == 1
    assert all("updated" in line for line in plan.changes)


def test_our_statusline_is_installed_only_when_there_is_none(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    mine = {k: v for k, v in THEIRS.items() if k != "statusLine"}
    original = write_settings(path, mine)
    install(path, command_prefix=PREFIX)
    after = json.loads(path.read_text())
    assert after["statusLine"] == {"type": "command", "command": f"{PREFIX} statusline"}
    uninstall(path)
    assert path.read_bytes() == original


def test_missing_file_and_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "project" / ".claude" / "settings.json"
    plan = install(path, command_prefix=PREFIX)
    assert plan.created and plan.backup is None
    after = json.loads(path.read_text())
    assert list(after) == ["hooks", "statusLine"]
    uninstall(path)
    assert json.loads(path.read_text()) == {}


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "new" / "settings.json"
    plan = install(missing, command_prefix=PREFIX, dry_run=True)
    assert plan.changed and not missing.exists() and not missing.parent.exists()
    path = tmp_path / "settings.json"
    original = write_settings(path, THEIRS)
    plan = install(path, command_prefix=PREFIX, dry_run=True)
    assert plan.changed and plan.backup is None
    assert f"{PREFIX} hook gate" in plan.text
    assert path.read_bytes() == original and not backups(tmp_path)


@pytest.mark.parametrize(
    ("text", "line"),
    [('{\n  "hooks": {\n    "PreToolUse": [,]\n  }\n}\n', 3), ('{"a": 1,}', 1)],
)
def test_invalid_json_is_refused_and_left_alone(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "settings.json"
    path.write_text(text)
    with pytest.raises(HooksError, match=rf"settings\.json, line {line}, column \d+: invalid JSON"):
        install(path, command_prefix=PREFIX)
    with pytest.raises(HooksError):
        uninstall(path)
    assert path.read_text() == text and not backups(tmp_path)


def test_unexpected_shapes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{\n  "hooks": {\n    "PreToolUse": "nope"\n  }\n}\n')
    with pytest.raises(HooksError, match=r"line 3: hooks.PreToolUse is not a list"):
        install(path, command_prefix=PREFIX)
    path.write_text("[]")
    with pytest.raises(HooksError, match="JSON object"):
        install(path, command_prefix=PREFIX)


def test_indentation_and_a_missing_final_newline_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    text = json.dumps(THEIRS, indent=4, ensure_ascii=False)  # no newline at the end
    path.write_text(text)
    install(path, command_prefix=PREFIX)
    assert '\n    "hooks": {' in path.read_text()
    uninstall(path)
    assert path.read_text() == text


def test_only_our_hooks_are_removed_from_a_shared_group(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    shared = {"hooks": {"Stop": [{"hooks": [
        {"type": "command", "command": "say done"},
        {"type": "command", "command": f"{PREFIX} hook session-end"}]}]}}  # fmt: skip
    write_settings(path, shared)
    uninstall(path)
    assert json.loads(path.read_text()) == {
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]}}  # fmt: skip


def test_a_symlinked_settings_file_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "settings.json"
    original = write_settings(real, THEIRS)
    link = tmp_path / ".claude" / "settings.json"
    link.parent.mkdir()
    link.symlink_to(real)
    install(link, command_prefix=PREFIX)
    assert link.is_symlink() and "hook gate" in real.read_text()
    uninstall(link)
    assert real.read_bytes() == original


def test_settings_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", f"{tmp_path / 'a'}, {tmp_path / 'b'}")
    assert settings_path("user") == tmp_path / "a" / "settings.json"
    monkeypatch.delenv("CLAUDE_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert settings_path("user") == tmp_path / "home" / ".claude" / "settings.json"
    assert settings_path("project", tmp_path) == tmp_path / ".claude" / "settings.json"


# -- through the CLI ----------------------------------------------------------------------------


def run(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spendlane", *args], input=stdin,
                          capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120)  # fmt: skip


def test_cli_install_dry_run_and_uninstall(env: Env, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    path = project / ".claude" / "settings.json"
    dry = run("hooks", "install", "--scope", "project", "--dry-run", cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing written" in dry.stdout and not path.exists()
    done = run("hooks", "install", "--scope", "project", "--command", PREFIX, cwd=project)
    assert done.returncode == 0, done.stderr
    assert f"PreToolUse: added {PREFIX} hook gate" in done.stdout
    assert "nothing to change" in run("hooks", "install", "--scope", "project",
                                      "--command", PREFIX, cwd=project).stdout  # fmt: skip
    gone = run("hooks", "uninstall", "--scope", "project", cwd=project)
    assert "removed" in gone.stdout and "backup of the previous file: " in gone.stdout
    # the user scope is CLAUDE_CONFIG_DIR's settings.json; a bad file is refused with its line
    (env.claude / "settings.json").write_text("{\n  oops\n}\n")
    bad = run("hooks", "install")
    assert bad.returncode == 1
    assert f"{env.claude / 'settings.json'}, line 2" in bad.stderr
    assert (env.claude / "settings.json").read_text() == "{\n  oops\n}\n"


def payload(event: str, cwd: str = "/home/dev/project", **extra: Any) -> str:
    base: dict[str, Any] = {
        "session_id": "abc123",
        "transcript_path": "/home/dev/.claude/projects/-home-dev-project/abc123.jsonl",
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": event,
    }
    if event == "PreToolUse":
        base |= {"tool_name": "Bash", "tool_input": {"command": "npm test"}}
    if event == "UserPromptSubmit":
        base["prompt"] = "Refactor the parser"
    return json.dumps(base | extra)


def spend(env: Env, usd: str, project: str = "/home/dev/project") -> None:
    call = {"backend": "claude", "model": "claude-sonnet-4-5", "input_tokens": 1000,
            "output_tokens": 100, "cost_usd": float(usd), "project": project}  # fmt: skip
    spendlane.record(db=env.ledger_path, **call)


@pytest.fixture
def budget(env: Env) -> Env:
    (env.home / "config.toml").write_text(
        'timezone = "UTC"\n\n[[budget]]\nname = "claude-daily"\nprovider = "anthropic"\n'
        'project = "/home/dev/project"\nperiod = "day"\nlimit_usd = 10\nfallback = "codex"\n'
    )
    return env


def test_gate_allows_silently(budget: Env) -> None:
    spend(budget, "1.00")
    for event in ("PreToolUse", "UserPromptSubmit"):
        out = run("hook", "gate", stdin=payload(event))
        assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_gate_warns_on_throttle(budget: Env) -> None:
    spend(budget, "9.00")  # 90%: throttle (0.85), not yet block (0.95)
    for event in ("PreToolUse", "UserPromptSubmit"):
        out = run("hook", "gate", stdin=payload(event))
        assert out.returncode == 0, out.stderr
        answer = json.loads(out.stdout)
        assert answer == {"systemMessage": "spendlane: claude-daily budget at 90% "
                          "(daily $10.00): throttle, move work to codex; resets "
                          + answer["systemMessage"].split("resets ")[1]}  # fmt: skip
        assert "decision" not in answer and "hookSpecificOutput" not in answer


def test_gate_blocks_with_the_documented_decisions(budget: Env) -> None:
    spend(budget, "9.60")
    tool = run("hook", "gate", stdin=payload("PreToolUse"))
    assert tool.returncode == 0, tool.stderr
    answer = json.loads(tool.stdout)
    decision = answer["hookSpecificOutput"]
    assert decision["hookEventName"] == "PreToolUse"
    assert decision["permissionDecision"] == "deny"
    reason = decision["permissionDecisionReason"]
    assert reason.startswith("claude-daily budget exhausted (daily $10.00): operating on codex")
    assert answer["systemMessage"] == f"spendlane: {reason}"

    prompt = run("hook", "gate", stdin=payload("UserPromptSubmit"))
    assert prompt.returncode == 0, prompt.stderr
    answer = json.loads(prompt.stdout)
    assert (answer["decision"], answer["reason"]) == ("block", reason)

    # the budget is scoped to one project: the hook's cwd is the project
    elsewhere = run("hook", "gate", stdin=payload("PreToolUse", cwd="/home/dev/other"))
    assert (elsewhere.returncode, elsewhere.stdout) == (0, "")

    # the crossing raised the budget's alert, as `check` does
    alerts = json.loads(run("alerts", "list", "--json").stdout)["alerts"]
    assert {(a["kind"], a["level"]) for a in alerts} >= {("level", "block"), ("lane", "block")}


@pytest.mark.parametrize("stdin", ["", "not json", "[1, 2]", '{"hook_event_name": '])
def test_gate_allows_on_malformed_input(budget: Env, stdin: str) -> None:
    spend(budget, "9.60")
    out = run("hook", "gate", stdin=stdin)
    assert (out.returncode, out.stdout) == (0, "")
    assert "allowing" in out.stderr


def test_gate_allows_when_the_budget_file_is_broken(env: Env) -> None:
    (env.home / "config.toml").write_text("[[budget]]\nname = 1\n")
    out = run("hook", "gate", stdin=payload("PreToolUse"))
    assert (out.returncode, out.stdout) == (0, "")
    assert "gate skipped" in out.stderr and "config.toml" in out.stderr


def test_session_end_ingests_that_transcript_only(env: Env) -> None:
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ended, other = env.session_file("ended"), env.session_file("other")
    write_jsonl(ended, [
        claude_assistant(when=when + dt.timedelta(seconds=i), session_id="ended",
                         message_id=f"msg_{i}", request_id=f"req_{i}", input_tokens=1000,
                         output_tokens=200, cache_read=5000)
        for i in range(3)
    ])  # fmt: skip
    write_jsonl(other, [claude_assistant(when=when, session_id="other", message_id="msg_x",
                                         request_id="req_x", output_tokens=10)])  # fmt: skip
    event = payload("SessionEnd", transcript_path=str(ended), session_id="ended", reason="exit")
    out = run("hook", "session-end", stdin=event)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    with env.ledger() as ledger:
        rows = ledger.connection.execute(
            "SELECT c.session_id, COUNT(*), SUM(e.output_tokens) FROM events e "
            "JOIN contexts c ON c.id = e.context_id GROUP BY c.session_id"
        ).fetchall()
    assert rows == [("ended", 3, 600)]
    # a later full ingest finds nothing new in that file, and the other session once
    with env.ledger() as ledger:
        report = env.ingest(ledger)
    assert report.new_events == 1
    again = run("hook", "session-end", stdin=event)
    assert again.returncode == 0 and again.stderr == ""


@pytest.mark.parametrize("stdin", ["{oops", json.dumps({"hook_event_name": "SessionEnd"})])
def test_session_end_never_fails(env: Env, stdin: str) -> None:
    out = run("hook", "session-end", stdin=stdin)
    assert (out.returncode, out.stdout) == (0, "")
    assert out.stderr.startswith("spendlane: ")


def test_stop_failure_raises_an_alert(env: Env) -> None:
    limited = payload("StopFailure", error_type="rate_limit", error="429",
                      error_message="Rate limit exceeded")  # fmt: skip
    out = run("hook", "stop-failure", stdin=limited)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    billing = payload("StopFailure", error="billing_error")  # the shape of older write-ups
    assert run("hook", "stop-failure", stdin=billing).returncode == 0
    assert run("hook", "stop-failure", stdin=payload("StopFailure", error_type="server_error"))
    assert run("hook", "stop-failure", stdin=limited).returncode == 0  # once per hour

    listed = run("alerts", "list", "--json")
    alerts = json.loads(listed.stdout)["alerts"]
    assert sorted((a["kind"], a["subject"], a["level"]) for a in alerts) == [
        ("lane", "anthropic", "billing_error"), ("lane", "anthropic", "rate_limit")]  # fmt: skip
    rate = next(a for a in alerts if a["level"] == "rate_limit")
    assert rate["title"] == "spendlane: Claude Code stopped on a rate limit"
    assert "Rate limit exceeded" in rate["body"] and "/home/dev/project" in rate["body"]
    assert "stopped on a rate limit" in run("alerts", "list").stdout
