"""`lanes` and `run`: thin commands over `lanes.pick`, `lanes.command` and the budgets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spendlane.cli.app import Context, _echo_json, main
from spendlane.cli.budgets import CONFIG_OPTION, _config


@main.command("lanes")
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.pass_obj
def lanes_command(context: Context, config_path: Path | None, as_json: bool) -> None:
    """Each lane, the budgets' word on it now, and where `run --lane auto` would go."""
    from spendlane.lanes.config import lanes_of, shown_env
    from spendlane.lanes.pick import gate, pick_lane
    from spendlane.policy.service import budget_states, now_ms, zone_of
    from spendlane.policy.spend import Call

    config = _config(config_path)
    lanes = lanes_of(config)
    at = now_ms()
    from spendlane.lanes.dispatch import limited_lanes

    with context.ledger() as ledger:
        states = budget_states(ledger, config, at)
        limited = limited_lanes(ledger, at, lanes, config.accounts)
    zone = zone_of(config)
    auto = pick_lane(lanes, states, Call(), now_ms=at, zone=zone, limited=limited)
    rows = []
    for lane in lanes:
        decision = None if lane.free else gate(lane, states, Call(), 0)
        rows.append({
            "name": lane.name, "provider": lane.provider, "kind": lane.kind,
            "free": lane.free,
            "state": "limited" if lane.name in limited else
                     "free" if decision is None else decision.action.word,
            "limitedUntilMs": limited.get(lane.name),
            "decidedBy": [s.budget.name for s in decision.deciding] if decision else [],
            "onThrottle": lane.on_throttle, "onBlock": lane.on_block,
            "env": shown_env(lane), "auto": auto.lane is not None and auto.lane.name == lane.name,
        })  # fmt: skip
    if as_json:
        _echo_json({"lanes": rows, "auto": auto.lane.name if auto.lane else None,
                    "reason": auto.reason, "configured": bool(config.lanes)})  # fmt: skip
        return
    from spendlane.cli import render

    render.lanes_table(rows, auto.reason, configured=bool(config.lanes))


@main.command("run")
@click.argument("words", nargs=-1, type=click.UNPROCESSED, metavar="PROMPT | -- CMD ...")
@click.option("--lane", "wanted", default="auto", show_default=True,
              help="A lane's name, or auto: the policy's choice.")  # fmt: skip
@click.option("--agent")
@click.option("--task-id")
@click.option("--task-type")
@click.option("--model", help="The model to ask for (mapped per lane).")
@click.option("--max-budget-usd", type=float, help="Claude Code's cap for the run (default 5).")
@click.option("--max-turns", type=int, help="Claude Code's turn cap (default 40).")
@click.option("--timeout", "timeout_s", type=float, help="Wall-clock seconds (default 3600).")
@click.option("--dry-run", is_flag=True, help="Print the lane, why, and the exact command.")
@click.option("--retry-on-limit", is_flag=True,
              help="On a provider limit, try once more on the next lane.")  # fmt: skip
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.pass_obj
def run_command(
    context: Context,
    words: tuple[str, ...],
    wanted: str,
    agent: str | None,
    task_id: str | None,
    task_type: str | None,
    model: str | None,
    max_budget_usd: float | None,
    max_turns: int | None,
    timeout_s: float | None,
    dry_run: bool,
    retry_on_limit: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Run PROMPT on the lane the budgets allow, metered (see docs/lanes.md); or, after
    `--`, run CMD on the lane (use --lane), metered like that lane's agent.

    Exit 30 with the notice when every lane is blocked.
    """
    from spendlane.lanes.command import build_command, guardrails
    from spendlane.lanes.config import lanes_of, shown_env
    from spendlane.lanes.pick import pick_lane
    from spendlane.policy.service import budget_states, make_call, now_ms, zone_of

    after = sys.argv[sys.argv.index("run") + 1 :] if "run" in sys.argv else []
    command = list(words) if "--" in after else None
    prompt = "" if command else " ".join(words)
    if not prompt and not command:
        raise click.UsageError("give the PROMPT to run, or -- CMD ...")
    config = _config(config_path)
    at = now_ms()
    call = make_call(agent=agent, task_type=task_type, model=model)
    from spendlane.lanes.dispatch import limited_lanes

    with context.ledger() as ledger:
        states = budget_states(ledger, config, at)
        limited = limited_lanes(ledger, at, lanes_of(config), config.accounts)
    pick = pick_lane(lanes_of(config), states, call, wanted=wanted, now_ms=at,
                     zone=zone_of(config), limited=limited)  # fmt: skip
    if pick.lane is None:
        if as_json:
            _echo_json({"lane": None, "reason": pick.reason, "exitCode": 30})
        else:
            click.echo(pick.reason, err=True)
        sys.exit(30)
    limits = guardrails(pick.lane, max_budget_usd, max_turns, timeout_s)
    argv = command or build_command(pick.lane, prompt, limits, model)
    if dry_run:
        plan = {"lane": pick.lane.name, "provider": pick.lane.provider, "reason": pick.reason,
                "path": list(pick.path), "command": argv, "env": shown_env(pick.lane),
                "timeoutSeconds": limits.timeout_s, "taskId": task_id}  # fmt: skip
        if as_json:
            _echo_json(plan)
        else:
            import shlex

            click.echo(f"lane: {pick.lane.name} ({pick.reason})")
            env = " ".join(shown_env(pick.lane))
            click.echo(f"command: {env + ' ' if env else ''}{shlex.join(argv)}")
            click.echo(f"timeout: {limits.timeout_s:g} s")
        return
    from spendlane.lanes.dispatch import dispatch

    with context.ledger() as ledger:
        result = dispatch(
            ledger, config, prompt, wanted=wanted, call=call, task_id=task_id, model=model,
            max_budget_usd=max_budget_usd, max_turns=max_turns, timeout_s=timeout_s,
            retry_on_limit=retry_on_limit, command=command,
            on_line=None if as_json else lambda line: click.echo(line, nl=False),
        )  # fmt: skip
    outcome = result.outcome
    summary = {
        "lane": result.lane, "reason": result.reason, "exitCode": result.exit_code,
        "timedOut": result.timed_out, "retriedFrom": result.retried_from,
        "costUsd": result.cost_nano / 1e9, "newEvents": result.stored,
        "sessionId": outcome.session_id if outcome else None,
        "result": outcome.result_text if outcome else None,
        "subtype": outcome.subtype if outcome else None,
        "limit": ({"kind": outcome.limit.kind, "resetAtMs": outcome.limit.reset_at_ms}
                  if outcome and outcome.limit else None),
    }  # fmt: skip
    if as_json:
        _echo_json(summary)
    else:
        from spendlane.money import format_usd

        note = f"lane {result.lane}: {result.reason}" if result.lane else result.reason
        if result.timed_out:
            note += f"; killed after {timeout_s or 'the'} s wall clock"
        if outcome is not None:
            note += f"; {result.stored} calls, {format_usd(result.cost_nano)}"
            if outcome.limit is not None:
                note += f"; provider limit ({outcome.limit.kind}): lane marked limited"
        click.echo(note, err=True)
    sys.exit(result.exit_code)
