"""The exact command a lane runs for a prompt, with the guardrails every Claude Code run gets.

A budget trip inside a subagent can leave `claude -p` hanging, and a run without a turn or
budget cap can burn a day's money in a loop: unless told otherwise, every Claude Code run gets
`--max-budget-usd` and `--max-turns`, and every run a wall-clock timeout.
"""

from __future__ import annotations

from dataclasses import dataclass

from spendlane.lanes.config import Lane

DEFAULT_MAX_BUDGET_USD = 5.0
DEFAULT_MAX_TURNS = 40
DEFAULT_TIMEOUT_S = 60 * 60


@dataclass(frozen=True, slots=True)
class Guardrails:
    max_budget_usd: float
    max_turns: int
    timeout_s: float


def guardrails(
    lane: Lane,
    max_budget_usd: float | None = None,
    max_turns: int | None = None,
    timeout_s: float | None = None,
) -> Guardrails:
    """What the run is held to: the caller's values, else the lane's, else the defaults."""
    return Guardrails(
        max_budget_usd=max_budget_usd or lane.max_budget_usd or DEFAULT_MAX_BUDGET_USD,
        max_turns=max_turns or lane.max_turns or DEFAULT_MAX_TURNS,
        timeout_s=timeout_s or lane.timeout_s or DEFAULT_TIMEOUT_S,
    )


def lane_model(lane: Lane, asked: str | None) -> str | None:
    """The model to ask this lane for: its mapping of the asked-for model, else its own."""
    if asked is not None:
        from fnmatch import fnmatchcase

        for pattern, target in lane.models:
            if fnmatchcase(asked.lower(), pattern.lower()):
                return target
    return lane.model or (asked if lane.kind != "codex" or lane.provider == "openai" else None)


def build_command(
    lane: Lane, prompt: str, limits: Guardrails, model: str | None = None
) -> list[str]:
    """argv for the lane. A lane's own `command` template gets {prompt} and {model} filled in
    (and is run as given: no flags are added to a command you wrote)."""
    chosen = lane_model(lane, model)
    if lane.command:
        return [part.replace("{prompt}", prompt).replace("{model}", chosen or "")
                for part in lane.command]  # fmt: skip
    if lane.kind == "claude":
        argv = ["claude", "-p", prompt, "--output-format", "json",
                "--max-turns", str(limits.max_turns),
                "--max-budget-usd", f"{limits.max_budget_usd:g}"]  # fmt: skip
        if chosen and not any(key == "ANTHROPIC_MODEL" for key, _ in lane.env):
            argv += ["--model", chosen]
        return argv
    argv = ["codex", "exec", "--json"]
    if lane.provider == "local":
        argv.append("--oss")
    if chosen:
        argv += ["--model", chosen]
    return [*argv, prompt]
