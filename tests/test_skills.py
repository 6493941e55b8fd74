"""Skills inside sessions: a slash command or a Skill tool use owns the calls of its turn."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from tests.conftest import Env

from spendlane.demo import claude_assistant, claude_user
from spendlane.reports.calendar import daily_report

T0 = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def call(n: int, output: int, *, skill_tool: str | None = None) -> dict[str, Any]:
    line = claude_assistant(when=at(n), session_id="s", message_id=f"m{n}", request_id=f"r{n}",
                            output_tokens=output)  # fmt: skip
    if skill_tool is not None:
        line["message"]["content"] = [
            {"type": "tool_use", "id": f"t{n}", "name": "Skill", "input": {"skill": skill_tool}}
        ]
    return line


def lines(env: Env) -> list[dict[str, Any]]:
    text = "<command-name>/review</command-name>\n<command-args></command-args>"
    command = claude_user(when=at(0), session_id="s", text=text)
    expansion = claude_user(when=at(0), session_id="s", text="Review the diff …")
    expansion["isMeta"] = True  # the command's expanded prompt: same turn
    return [
        command, expansion, call(1, 100), call(2, 200),
        claude_user(when=at(10), session_id="s", text="now fix the tests"),  # a new turn
        call(11, 300, skill_tool="pdf"), call(12, 400), call(13, 500),
        claude_user(when=at(20), session_id="s", text="thanks"),
        call(21, 600),
    ]  # fmt: skip


def by_skill(env: Env) -> dict[Any, int]:
    with env.ledger() as ledger:
        env.ingest(ledger)
        report = daily_report(ledger, zone=dt.UTC, by=("skill",))
    return {key[0]: tally.output_tokens for key, tally in report.groups.items()}


def test_the_calls_of_a_skills_turn_are_its_own(env: Env) -> None:
    path = env.session_file("s")
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines(env)))
    # the Skill call's own usage (300) came before the skill ran; the two after it are the skill's
    assert by_skill(env) == {"/review": 300, "pdf": 900, None: 900}


def test_skill_names_in_lines_not_decoded_change_nothing(env: Env) -> None:
    # The chunk is searched once for Skill uses; a match in a line that is never decoded (a
    # tool result, a snapshot) must neither start a skill nor hide the real one after it.
    result = claude_user(when=at(10), session_id="s", text="x")
    result["message"]["content"] = [{"type": "tool_result", "tool_use_id": "t0",
                                     "content": 'grep "Skill" and "subagent_type"'}]  # fmt: skip
    snapshot = {"type": "file-history-snapshot", "snapshot": {"note": '"Skill"'}}
    path = env.session_file("s")
    path.parent.mkdir(parents=True)
    rows = [call(1, 100), result, snapshot, call(2, 200), call(11, 300, skill_tool="pdf"),
            snapshot, call(12, 400)]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in rows))
    assert by_skill(env) == {None: 600, "pdf": 400}


def test_the_skill_in_force_carries_across_incremental_reads(env: Env) -> None:
    path = env.session_file("s")
    path.parent.mkdir(parents=True)
    all_lines = [json.dumps(line) + "\n" for line in lines(env)]
    path.write_text("".join(all_lines[:3]))  # the command and its first call
    assert by_skill(env) == {"/review": 100}
    with path.open("a") as f:
        f.write("".join(all_lines[3:7]))  # the rest of the turn, a new prompt, the Skill call
    with path.open("a") as f:
        f.write("".join(all_lines[7:]))
    assert by_skill(env) == {"/review": 300, "pdf": 900, None: 900}


def test_by_action_tells_sessions_subagents_and_dispatched_runs_apart(env: Env) -> None:
    from spendlane.events import UsageEvent

    path = env.session_file("s")
    path.parent.mkdir(parents=True)
    side = call(3, 70)
    side.update(isSidechain=True, agentId="a1b2")
    path.write_text(json.dumps(call(1, 100)) + "\n" + json.dumps(side) + "\n")
    with env.ledger() as ledger:
        env.ingest(ledger)
        ledger.insert_events([UsageEvent(key="run:x:m", ts_ms=int(at(5).timestamp() * 1000),
                                         source="run", provider="anthropic",
                                         model="claude-opus-4-6", output_tokens=5)])  # fmt: skip
        report = daily_report(ledger, zone=dt.UTC, by=("action",))
    got = {key[0]: tally.output_tokens for key, tally in report.groups.items()}
    assert got == {"interactive": 100, "subagent": 70, "scheduled": 5}


def test_prompts_are_read_only_while_they_can_change_the_skill() -> None:
    """A prompt is decoded only when it can end a skill's turn (one is in force) or start one
    (a slash command): with nothing in force a garbled prompt costs a search, not a decode,
    and is not counted; with a skill in force the same line is read and counted malformed."""
    from spendlane.ledger.sqlite import FileCursor
    from spendlane.sources import claude_code
    from spendlane.sources.reading import Chunk

    garbled = b'{"type":"user","message":{"role":"user","content":"thanks"}, oops}\n'
    command = json.dumps(claude_user(when=at(0), session_id="s",
                                     text="<command-name>/review</command-name>"))  # fmt: skip

    def parse(data: bytes, state: str | None) -> Any:
        cursor = FileCursor("s.jsonl", "claude_code", 0, len(data), 0, len(data), 0, "", state)
        return claude_code.parse(Chunk(data, 0, len(data), False, cursor), "/p/projects/x/s.jsonl")

    assert parse(garbled, None).malformed == 0
    assert parse(garbled, "/review").malformed == 1
    assert parse(command.encode() + b"\n" + garbled, None).malformed == 1
    assert parse(command.encode() + b"\n", None).state == "/review"
