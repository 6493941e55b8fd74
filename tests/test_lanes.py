"""Lanes: config, the pick at each budget level, limits, guardrails, the dry run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from tests.conftest import Env, run_cli

from spendlane.lanes.command import build_command, guardrails
from spendlane.lanes.config import DEFAULT_LANES, Lane, expand_env, shown_env
from spendlane.lanes.pick import pick_lane
from spendlane.policy.config import Budget, Levels, Scope, load_config
from spendlane.policy.evaluate import budget_state
from spendlane.policy.spend import Call
from spendlane.policy.windows import BudgetWindow
from spendlane.tomlconfig import ConfigError

WINDOW = BudgetWindow(0, 86_400_000, False)


def states(**percent: float) -> list:  # type: ignore[type-arg]
    """Budget states at the given use, one monthly $100 budget per provider."""
    made = []
    for provider, used in percent.items():
        budget = Budget(name=f"{provider}-monthly", scope=Scope(provider=provider), period="day",
                        limit_nano_usd=100 * 10**9, limit_tokens=None, levels=Levels())  # fmt: skip
        made.append(budget_state(budget, WINDOW, 1, spent=int(used * 10**9)))
    return made


@pytest.mark.parametrize(
    ("use", "lane", "why"),
    [
        ({"anthropic": 10}, "anthropic", "first lane, within its budgets"),
        ({"anthropic": 72}, "anthropic", "first lane; warn by budget anthropic-monthly (72%)"),
        ({"anthropic": 90}, "kimi", "anthropic: throttle by budget anthropic-monthly (90%)"),
        ({"anthropic": 99}, "codex", "anthropic: block by budget anthropic-monthly (99%)"),
        ({"anthropic": 90, "moonshotai": 97}, "codex",
         "anthropic: throttle by budget anthropic-monthly (90%); "
         "kimi: block by budget moonshotai-monthly (97%)"),
    ],
)  # fmt: skip
def test_auto_follows_the_budgets(use: dict[str, float], lane: str, why: str) -> None:
    pick = pick_lane(DEFAULT_LANES, states(**use), Call())
    assert (pick.lane and pick.lane.name, pick.reason) == (lane, why)


def test_all_cloud_blocked_goes_local_and_says_so_or_refuses() -> None:
    blocked = states(anthropic=99, openai=99)
    pick = pick_lane(DEFAULT_LANES, blocked, Call())
    assert pick.lane is not None and pick.lane.name == "local"
    assert pick.reason.startswith("Cloud budget exhausted, operating local-only until ")
    cloud_only = [lane for lane in DEFAULT_LANES if not lane.free]
    refused = pick_lane(cloud_only, blocked, Call())
    assert refused.refused
    assert refused.reason.startswith("Cloud budget exhausted: no lane can take the work until")


def test_a_lane_limited_by_its_provider_is_skipped_until_the_reset() -> None:
    pick = pick_lane(DEFAULT_LANES, states(anthropic=10), Call(),
                     limited={"anthropic": 5_000}, now_ms=1_000)  # fmt: skip
    assert pick.lane is not None and pick.lane.name == "codex"
    assert "anthropic is limited by its provider until" in pick.reason
    later = pick_lane(DEFAULT_LANES, states(anthropic=10), Call(),
                      limited={"anthropic": 5_000}, now_ms=6_000)  # fmt: skip
    assert later.lane is not None and later.lane.name == "anthropic"


def test_commands_carry_the_guardrails_and_never_show_secrets() -> None:
    claude = DEFAULT_LANES[0]
    argv = build_command(claude, "fix it", guardrails(claude), model="claude-opus-4-6")
    assert argv == ["claude", "-p", "fix it", "--output-format", "json", "--max-turns", "40",
                    "--max-budget-usd", "5", "--model", "claude-opus-4-6"]  # fmt: skip
    tight = guardrails(claude, max_budget_usd=1.5, max_turns=3, timeout_s=60)
    assert build_command(claude, "x", tight)[5:9] == ["--max-turns", "3", "--max-budget-usd", "1.5"]
    codex = build_command(DEFAULT_LANES[2], "x", guardrails(DEFAULT_LANES[2]))
    assert codex == ["codex", "exec", "--json", "x"]
    kimi = DEFAULT_LANES[1]
    env, missing = expand_env(kimi, {"MOONSHOT_API_KEY": "sk-secret"})
    assert env["ANTHROPIC_AUTH_TOKEN"] == "sk-secret" and missing == []
    assert expand_env(kimi, {})[1] == ["MOONSHOT_API_KEY"]
    assert "sk-secret" not in " ".join(shown_env(kimi))
    own = Lane("mine", "local", "command", command=("ollama", "run", "{model}", "{prompt}"),
               model="qwen3")  # fmt: skip
    assert build_command(own, "hi", guardrails(own)) == ["ollama", "run", "qwen3", "hi"]


LANES_TOML = """
[[budget]]
name = "claude-month"
provider = "anthropic"
period = "month"
limit_usd = 100

[[lanes]]
name = "claude"
provider = "claude"
budgets = ["claude-month"]
on_block = "local"

[[lanes]]
name = "local"
provider = "local"
kind = "command"
command = "ollama run {model} {prompt}"
model = "qwen3"
free = true
"""


def test_lanes_load_from_toml_and_yaml_alike(tmp_path: Path) -> None:
    toml = tmp_path / "config.toml"
    toml.write_text(LANES_TOML)
    yaml = tmp_path / "budgets.yaml"
    yaml.write_text(
        "budgets:\n  - {name: claude-month, provider: anthropic, period: month, limit_usd: 100}\n"
        "lanes:\n  - {name: claude, provider: claude, budgets: [claude-month], on_block: local}\n"
        "  - name: local\n    provider: local\n    kind: command\n"
        "    command: [ollama, run, '{model}', '{prompt}']\n    model: qwen3\n    free: true\n"
    )
    from_toml = [lane.__class__(**{**_fields(lane), "line": None})
                 for lane in load_config(toml).lanes]  # fmt: skip
    from_yaml = [lane.__class__(**{**_fields(lane), "line": None})
                 for lane in load_config(yaml).lanes]  # fmt: skip
    assert from_toml == from_yaml
    assert from_toml[1].command == ("ollama", "run", "{model}", "{prompt}")


def _fields(lane: Lane) -> dict[str, object]:
    return {name: getattr(lane, name) for name in lane.__slots__}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[[lanes]]\nname = "a"\nprovider = "x"\nkind = "cursor"\n', "line 4, field 'kind'"),
        ('[[lanes]]\nname = "a"\nprovider = "x"\non_block = "b"\n', "line 4, field 'on_block'"),
        ('[[lanes]]\nname = "a"\nprovider = "x"\nbudgets = ["nope"]\n', "field 'budgets'"),
        ('[[lanes]]\nname = "a"\nprovider = "x"\nkind = "command"\n', "field 'command'"),
        ('[[lanes]]\nname = "a"\nprovder = "x"\n', "line 3, field 'provder'"),
    ],
)
def test_bad_lanes_name_file_line_and_field(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=where):
        load_config(path)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, columns=200)


def test_dry_run_and_lanes_commands(env: Env) -> None:
    (env.home / "config.toml").write_text(LANES_TOML)
    run("record", "--model", "claude-opus-4-6", "--backend", "claude", "--cost-usd", "99")
    plan = json.loads(run("run", "--dry-run", "--json", "--model", "llama", "refactor").stdout)
    assert plan["lane"] == "local"
    assert plan["command"] == ["ollama", "run", "qwen3", "refactor"]
    assert plan["reason"].startswith("Cloud budget exhausted, operating local-only until")
    lanes = json.loads(run("lanes", "--json").stdout)
    assert [(lane["name"], lane["state"]) for lane in lanes["lanes"]] == [
        ("claude", "block"),
        ("local", "free"),
    ]
    assert lanes["auto"] == "local"
    named = json.loads(run("run", "--dry-run", "--json", "--lane", "claude", "x").stdout)
    assert named["lane"] == "local"  # asked for claude: blocked, so its on_block lane
