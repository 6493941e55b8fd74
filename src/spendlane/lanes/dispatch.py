"""Running a prompt on a lane: pick, reserve, run with a wall clock, meter, settle, record.

The one chokepoint for automated dispatches. The run's budget cap is reserved before it
starts (so parallel dispatches cannot overshoot a hard budget), the agent's own output says
what every model cost (subagents included), those calls are stored as events attributed to the
agent, task, lane and session, and a run that ends on a provider limit marks its lane limited
until the reset (and, when asked, is retried once on the next lane). Never silent: a refusal
carries the notice to show.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spendlane.events import UsageEvent
from spendlane.lanes.command import Guardrails, build_command, guardrails
from spendlane.lanes.config import Lane, expand_env, lanes_of
from spendlane.lanes.output import RunOutcome, parse_claude_result, parse_codex_exec
from spendlane.lanes.pick import pick_lane
from spendlane.ledger import SqliteLedger
from spendlane.policy.accounts import Account
from spendlane.policy.config import BudgetConfig
from spendlane.policy.service import (
    ReservationRefused,
    budget_states,
    now_ms,
    reserve,
    settle,
    status_after,
    zone_of,
)
from spendlane.policy.spend import Call

DEFAULT_LIMIT_MS = 3_600_000  # a limit without a stated reset: try the lane again in an hour
REFUSED = 30
TIMED_OUT = 124


@dataclass
class RunResult:
    lane: str | None
    reason: str
    exit_code: int
    command: list[str] = field(default_factory=list)
    outcome: RunOutcome | None = None
    stored: int = 0  # events new to the ledger
    cost_nano: int = 0  # what the run's calls cost (reported where given, else computed)
    timed_out: bool = False
    retried_from: str | None = None
    output: str = ""


# Which provider's subscription each observed quota source speaks for.
QUOTA_PROVIDERS = {"statusline": "anthropic", "claude_code": "anthropic", "codex": "openai"}


def limited_lanes(
    ledger: SqliteLedger,
    at_ms: int,
    lanes: tuple[Lane, ...] = (),
    accounts: Sequence[Account] = (),
) -> dict[str, int]:
    """Lanes not to use until a time: a provider said so (a usage limit a run hit), or, for
    `lanes`, a plan window of their provider and account is full or will be before it resets.

    A lane's account is the one owning the agent folder it runs with (`CLAUDE_CONFIG_DIR` or
    `CODEX_HOME` in its env, else the agent's default folder): with a work and a personal
    login, a full window on one moves work to the other's lane.
    """
    rows = ledger.connection.execute(
        "SELECT lane, until_ms FROM lane_limits WHERE until_ms > ?", (at_ms,)
    ).fetchall()
    limited: dict[str, int] = dict(rows)
    if lanes:
        from spendlane.policy.quota import window_states

        for window in window_states(ledger, at_ms, accounts):
            provider = QUOTA_PROVIDERS.get(window.source)
            if window.level != "limit" or window.resets_at_ms is None or provider is None:
                continue
            for lane in lanes:
                if (lane.provider == provider and not lane.free and _on_plan(lane)
                        and lane_account(lane, accounts) == window.account):  # fmt: skip
                    limited[lane.name] = max(limited.get(lane.name, 0), window.resets_at_ms)
    return limited


_AGENT_FOLDERS = ("CLAUDE_CONFIG_DIR", "CODEX_HOME")


def _on_plan(lane: Lane) -> bool:
    """An API-key lane (its own endpoint or key) is not bound by a plan's window; choosing
    the login's folder is not an API key."""
    return all(name in _AGENT_FOLDERS for name, _ in lane.env)


def lane_account(lane: Lane, accounts: Sequence[Account]) -> str:
    """The account a lane's runs are billed to: the owner of the agent folder it uses."""
    from spendlane.policy.accounts import DEFAULT, account_of

    if not accounts:
        return DEFAULT
    env = dict(lane.env)
    chosen = env.get("CLAUDE_CONFIG_DIR") or env.get("CODEX_HOME")
    if chosen:
        folders = [chosen.split(",")[0]]
    elif lane.provider == "openai":
        folders = ["~/.codex"]
    else:
        folders = ["~/.claude", "~/.config/claude"]
    for folder in folders:
        owner = account_of(accounts, os.path.expandvars(folder))
        if owner is not None:
            return owner.name
    return DEFAULT


def mark_limited(ledger: SqliteLedger, lane: str, until_ms: int, reason: str) -> None:
    with ledger.write() as db:
        db.execute("INSERT OR REPLACE INTO lane_limits VALUES (?, ?, ?, ?)",
                   (lane, until_ms, reason[:500], now_ms()))  # fmt: skip


def dispatch(
    ledger: SqliteLedger,
    config: BudgetConfig,
    prompt: str,
    *,
    wanted: str = "auto",
    call: Call | None = None,
    task_id: str | None = None,
    model: str | None = None,
    max_budget_usd: float | None = None,
    max_turns: int | None = None,
    timeout_s: float | None = None,
    retry_on_limit: bool = False,
    on_line: Callable[[str], None] | None = None,
    environ: dict[str, str] | None = None,
    command: list[str] | None = None,
) -> RunResult:
    """Run `prompt` on the lane the budgets allow; see the module docstring. With `command`,
    run that instead (metered as the lane's kind: its output is read the same way)."""
    call = call or Call()
    lanes = lanes_of(config)
    result = _dispatch_once(ledger, config, lanes, prompt, wanted, call, task_id, model,
                            max_budget_usd, max_turns, timeout_s, on_line, environ,
                            command)  # fmt: skip
    outcome = result.outcome
    if retry_on_limit and not command and outcome is not None and outcome.limit is not None:
        again = _dispatch_once(ledger, config, lanes, prompt, "auto", call, task_id, model,
                               max_budget_usd, max_turns, timeout_s, on_line, environ)  # fmt: skip
        again.retried_from = result.lane
        return again
    return result


def _dispatch_once(
    ledger: SqliteLedger,
    config: BudgetConfig,
    lanes: tuple[Lane, ...],
    prompt: str,
    wanted: str,
    call: Call,
    task_id: str | None,
    model: str | None,
    max_budget_usd: float | None,
    max_turns: int | None,
    timeout_s: float | None,
    on_line: Callable[[str], None] | None,
    environ: dict[str, str] | None,
    command: list[str] | None = None,
) -> RunResult:
    at = now_ms()
    states = budget_states(ledger, config, at)
    limited = limited_lanes(ledger, at, lanes, config.accounts)
    pick = pick_lane(lanes, states, call, wanted=wanted, limited=limited, now_ms=at,
                     zone=zone_of(config))  # fmt: skip
    if pick.lane is None:
        return RunResult(None, pick.reason, REFUSED)
    lane = pick.lane
    limits = guardrails(lane, max_budget_usd, max_turns, timeout_s)
    argv = list(command) if command else build_command(lane, prompt, limits, model)
    env, missing = expand_env(lane, dict(environ if environ is not None else os.environ))
    if missing:
        return RunResult(lane.name, f"lane {lane.name} needs {', '.join(missing)} set", 1, argv)
    hold = None
    if not lane.free:
        try:
            on_lane = Call(provider=lane.provider, agent=call.agent, task_type=call.task_type)
            cap = int(limits.max_budget_usd * 1e9)
            ttl = int(limits.timeout_s * 1000) + 60_000  # the hold outlives the run's clock
            hold, _ = reserve(ledger, config, on_lane, cap, ttl, note=f"run on {lane.name}")
        except ReservationRefused as refused:
            return RunResult(lane.name, refused.result.notice or "budget exhausted", REFUSED, argv)
    try:
        code, text, timed_out = _run(argv, {**(environ or os.environ), **env}, limits, on_line)
    finally:
        if hold is not None:
            settle(ledger, hold, None, record=False)
    run_id = os.urandom(8).hex()
    outcome = _parse(lane, text, run_id, at, model, own_command=bool(command))
    result = RunResult(lane.name, pick.reason, TIMED_OUT if timed_out else code, argv,
                       outcome, timed_out=timed_out, output=text)  # fmt: skip
    if outcome is not None:
        result.stored, result.cost_nano = _store(ledger, outcome.events, lane, call, task_id)
        if outcome.limit is not None:
            until = outcome.limit.reset_at_ms or now_ms() + DEFAULT_LIMIT_MS
            mark_limited(ledger, lane.name, until, outcome.limit.text)
        if outcome.crashed and lane.kind == "claude":
            _ingest_transcripts(ledger)  # the session's own transcript has what it spent
    status_after(ledger, config)
    return result


def _run(
    argv: list[str], env: dict[str, str], limits: Guardrails, on_line: Callable[[str], None] | None
) -> tuple[int, str, bool]:
    """Run in its own process group; on the wall clock, kill the whole group (a subagent's
    budget trip can leave children hanging)."""
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               env=env, text=True, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + limits.timeout_s
    lines: list[str] = []
    timed_out = False
    assert process.stdout is not None
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        if not selector.select(timeout=min(left, 1.0)):
            if process.poll() is not None and not selector.select(timeout=0):
                break
            continue
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if on_line is not None:
            on_line(line)
    if timed_out:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    code = process.wait()
    return code, "".join(lines), timed_out


def _parse(
    lane: Lane, text: str, run_id: str, at: int, model: str | None, *, own_command: bool = False
) -> RunOutcome | None:
    if lane.command and not own_command:
        return None  # a command of your own: spendlane cannot read what it spent
    if lane.kind == "claude":
        return parse_claude_result(text, run_id=run_id, ts_ms=at)
    if lane.kind == "codex":
        return parse_codex_exec(text, run_id=run_id, ts_ms=at, model=model or lane.model)
    return None


def _store(
    ledger: SqliteLedger, events: list[UsageEvent], lane: Lane, call: Call, task_id: str | None
) -> tuple[int, int]:
    """Attribute, price and store the run's calls; (new events, their cost)."""
    from spendlane.pricing import Pricer

    pricer = Pricer()
    for event in events:
        event.lane = lane.name
        event.agent = call.agent
        event.task_id = task_id
        event.task_type = call.task_type
        event.auth_mode = "api"
        if lane.provider != "anthropic" or lane.env:
            event.provider = lane.provider
        pricer.price(event)
        if lane.free:
            event.cost_nano = 0
    result = ledger.insert_events(events)
    cost = sum(e.reported_cost_nano if e.reported_cost_nano is not None else e.cost_nano or 0
               for e in events)  # fmt: skip
    return result.inserted, cost


def _ingest_transcripts(ledger: SqliteLedger) -> None:
    from spendlane.ingest import ingest

    ingest(ledger, sources=["claude_code"])
