"""Subagent types: `--by agent` names the kind of subagent that made each call.

A subagent's `.meta.json` sidecar says its type; where there is none (older builds), the
parent's Task (or Agent) tool use is linked to the agent id its result names.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Env

from spendlane.demo import claude_assistant, claude_task_result, claude_task_use, claude_user
from spendlane.policy.config import Scope
from spendlane.policy.spend import spent
from spendlane.policy.windows import BudgetWindow
from spendlane.reports.calendar import daily_report
from spendlane.reports.export import export_rows
from spendlane.sources.claude_code import _load_state

T0 = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
USAGE = {"input_tokens": 10, "output_tokens": 999}


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def dump(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line) + "\n" for line in lines)


def main_call(n: int, output: int) -> dict[str, Any]:
    return claude_assistant(when=at(n), session_id="s", message_id=f"m{n}", request_id=f"r{n}",
                            output_tokens=output)  # fmt: skip


def spawn(n: int, tool_use: str, kind: str, tool: str = "Task") -> dict[str, Any]:
    return claude_task_use(when=at(n), session_id="s", message_id=f"m{n}", request_id=f"r{n}",
                           tool_use_id=tool_use, subagent_type=kind, tool=tool,
                           output_tokens=1)  # fmt: skip


def result(n: int, tool_use: str, agent: str, id_in_text: bool = True) -> dict[str, Any]:
    return claude_task_result(when=at(n), session_id="s", tool_use_id=tool_use, agent_id=agent,
                              usage=USAGE, id_in_text=id_in_text)  # fmt: skip


def subagent_file(env: Env, agent: str, outputs: list[int], meta: str | None = None) -> Path:
    folder = env.session_file("s").parent / "s" / "subagents"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        claude_assistant(when=at(2 + i), session_id="s", message_id=f"{agent}-m{i}",
                         request_id=f"{agent}-r{i}", output_tokens=out, sidechain=True,
                         agent_id=agent, model="claude-haiku-4-5-20251001")
        for i, out in enumerate(outputs)
    ]  # fmt: skip
    path = folder / f"agent-{agent}.jsonl"
    path.write_text(dump(lines))
    if meta is not None:
        (folder / f"agent-{agent}.meta.json").write_text(
            json.dumps({"agentType": meta, "spawnDepth": 1, "model": "claude-haiku-4-5"})
        )
    return path


def write_main(env: Env, lines: list[dict[str, Any]], mode: str = "w") -> None:
    path = env.session_file("s")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as f:
        f.write(dump(lines))


def by_agent(env: Env) -> dict[Any, int]:
    with env.ledger() as ledger:
        env.ingest(ledger)
        report = daily_report(ledger, zone=dt.UTC, by=("agent",))
    return {key[0]: tally.output_tokens for key, tally in report.groups.items()}


def test_the_sidecar_names_the_subagents_type(env: Env) -> None:
    write_main(env, [claude_user(when=at(0), session_id="s", text="go"), main_call(1, 100)])
    subagent_file(env, "a1", [10, 20], meta="Explore")
    subagent_file(env, "a2", [5], meta="security-reviewer")
    assert by_agent(env) == {None: 100, "Explore": 30, "security-reviewer": 5}


@pytest.mark.parametrize("tool", ["Task", "Agent"])
@pytest.mark.parametrize("id_in_text", [True, False])
def test_without_a_sidecar_the_parents_task_names_the_type(
    env: Env, tool: str, id_in_text: bool
) -> None:
    write_main(env, [
        claude_user(when=at(0), session_id="s", text="find the flaky test"),
        spawn(1, "toolu_1", "code-reviewer", tool), spawn(1.5, "toolu_2", "Explore", tool),
        result(8, "toolu_2", "b2", id_in_text), result(9, "toolu_1", "b1", id_in_text),
        main_call(10, 100),
    ])  # fmt: skip
    subagent_file(env, "b1", [40, 2])
    subagent_file(env, "b2", [7])
    # the Task results' usage copies are not counted again
    assert by_agent(env) == {None: 102, "code-reviewer": 42, "Explore": 7}


def test_a_task_still_running_is_typed_when_its_result_comes_in_a_later_run(env: Env) -> None:
    write_main(env, [claude_user(when=at(0), session_id="s", text="go"), spawn(1, "t1", "Plan")])
    subagent_file(env, "c1", [50])
    assert by_agent(env) == {None: 1, "subagent": 50}  # running: its type is not known yet
    write_main(env, [result(9, "t1", "c1"), main_call(10, 100)], mode="a")
    assert by_agent(env) == {None: 101, "Plan": 50}


def test_the_sidecar_wins_over_the_task_link_whichever_is_read_first(env: Env) -> None:
    write_main(env, [spawn(1, "t1", "general-purpose"), result(9, "t1", "d1")])
    subagent_file(env, "d1", [30], meta="data-migrator")
    assert by_agent(env) == {None: 1, "data-migrator": 30}
    # a new Task naming the same agent (a resumed agent) does not overwrite the sidecar's type
    write_main(env, [spawn(20, "t2", "general-purpose"), result(21, "t2", "d1")], mode="a")
    assert by_agent(env) == {None: 2, "data-migrator": 30}


def test_a_dispatchers_agent_name_is_kept_over_a_subagent_type(env: Env) -> None:
    from spendlane.recording import record_many

    subagent_file(env, "e1", [30], meta="Explore")
    with env.ledger() as ledger:
        env.ingest(ledger)
        record_many(ledger, [{"backend": "anthropic", "model": "claude-opus-4-6",
                              "output_tokens": 9, "agent": "nightly-triage",
                              "timestamp": at(5).isoformat()}])  # fmt: skip
        report = daily_report(ledger, zone=dt.UTC, by=("agent",))
    got = {key[0]: tally.output_tokens for key, tally in report.groups.items()}
    assert got == {"Explore": 30, "nightly-triage": 9}


def test_a_budget_scoped_to_a_subagent_type_counts_its_calls(env: Env) -> None:
    write_main(env, [main_call(1, 100)])
    subagent_file(env, "f1", [10_000], meta="Explore")
    t0_ms = int(T0.timestamp() * 1000)
    window = BudgetWindow(start_ms=t0_ms - 3_600_000, end_ms=t0_ms + 86_400_000, rolling=False)
    with env.ledger() as ledger:
        env.ingest(ledger)
        explore = spent(ledger, Scope(agent="Explore"), window)
        everything = spent(ledger, Scope(), window)
    assert explore.tokens == 10_000
    assert everything.tokens == 10_100
    assert 0 < explore.nano < everything.nano


def test_export_names_the_subagent_type(env: Env) -> None:
    write_main(env, [main_call(1, 100)])
    subagent_file(env, "g1", [10], meta="Explore")
    subagent_file(env, "g2", [20])
    with env.ledger() as ledger:
        env.ingest(ledger)
        names, rows = export_rows(ledger, zone=dt.UTC)
        got = [dict(zip(names, row, strict=True)) for row in rows]
    assert {(r["agent_id"], r["agent"]) for r in got} == {
        (None, None),
        ("g1", "Explore"),
        ("g2", "subagent"),
    }


def test_parse_state_of_earlier_versions_still_reads() -> None:
    assert _load_state("/review").skill == "/review"
    assert _load_state("").skill is None
    state = _load_state('{"skill":"pdf","spawns":{"t1":"Plan"}}')
    assert (state.skill, state.spawns) == ("pdf", {"t1": "Plan"})
    assert _load_state("{not json").skill == "{not json"
