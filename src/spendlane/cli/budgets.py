"""`budget`, `costs`, `check`, `reserve`, `settle`: thin commands over `policy.service`.

`check` runs before every dispatch, so this module imports nothing heavy at the top and the
command touches neither rich nor the price catalog.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from spendlane.cli.app import Context, _echo_json, _ingest, _report_filter, _sources, main

CONFIG_OPTION = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Budget config (default: config.toml or budgets.yaml in the config dir).",
)  # fmt: skip
_SCOPE_FLAGS = ("provider", "model", "agent", "project", "task_type", "source", "machine",
                "account")  # fmt: skip


def _scope_options(function: Any) -> Any:
    for name in reversed(_SCOPE_FLAGS):
        flag = "--" + name.replace("_", "-")
        function = click.option(flag, name, help=f"The call's {name.replace('_', ' ')}.")(function)
    return function


def _config(path: Path | None) -> Any:
    from spendlane.policy.service import load_budgets
    from spendlane.tomlconfig import ConfigError

    try:
        return load_budgets(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _call(**flags: Any) -> Any:
    from spendlane.policy.service import make_call

    try:
        return make_call(**{name: flags.get(name) for name in _SCOPE_FLAGS})
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--source") from None


def _usd_to_nano(value: str, option: str) -> int:
    from spendlane.money import parse_usd

    try:
        return parse_usd(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


_TTL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_ttl(text: str) -> int:
    """'30m', '2h', '90s', '1d' (a bare number is minutes) -> milliseconds."""
    match = _TTL.match(text)
    if not match or float(match.group(1)) <= 0:
        raise click.BadParameter(f"expected a duration like 30m, 2h or 90s, got {text!r}",
                                 param_hint="--ttl")  # fmt: skip
    return int(float(match.group(1)) * _UNIT_MS[match.group(2) or "m"])


def _after(ledger: Any, config: Any, states: list[Any], at_ms: int) -> None:
    from spendlane.policy.service import status_after

    status_after(ledger, config, states, at_ms)


@main.command("budget")
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.option("--no-ingest", is_flag=True, help="Use the ledger as it is.")
@click.pass_obj
def budget_command(
    context: Context, config_path: Path | None, as_json: bool, no_ingest: bool
) -> None:
    """Each budget: spent, limit, level, remaining, reset time, projection and lane."""
    from spendlane.policy.service import budget_states, now_ms, state_json, zone_of

    config = _config(config_path)
    at = now_ms()
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, _sources("all"), quiet=as_json)
        states = budget_states(ledger, config, at)
        _after(ledger, config, states, at)
    zone = zone_of(config)
    if as_json:
        _echo_json({"budgets": [state_json(s, zone) for s in states],
                    "config": str(config.path) if config.path else None})  # fmt: skip
        return
    from spendlane.cli import render

    render.budget_table(states, zone, config.path)


@main.command("costs")
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.option("--no-ingest", is_flag=True, help="Use the ledger as it is.")
@click.pass_obj
def costs_command(
    context: Context, config_path: Path | None, as_json: bool, no_ingest: bool
) -> None:
    """Today's and this month's cost, per provider and per model."""
    import datetime as dt

    from spendlane.policy.service import zone_of
    from spendlane.reports.calendar import daily_report

    config = _config(config_path)
    zone = zone_of(config)
    today = dt.datetime.now(zone).date()
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, _sources("all"), quiet=as_json)
        report = daily_report(ledger, zone=zone, since=today.replace(day=1), until=today,
                              sources=_report_filter("all"))  # fmt: skip
    from spendlane.reports.costs import costs_json, costs_summary

    summary = costs_summary(report, today)
    if as_json:
        _echo_json(costs_json(summary))
        return
    from spendlane.cli import render

    render.costs_tables(summary)


@main.command("check")
@_scope_options
@click.option("--estimate-usd", help="What the call may cost (counted against USD budgets).")
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.option("--ingest", "ingest_first", is_flag=True, help="Ingest new log lines first.")
@click.pass_obj
def check_command(
    context: Context,
    /,
    estimate_usd: str | None,
    config_path: Path | None,
    as_json: bool,
    ingest_first: bool,
    **flags: Any,
) -> None:
    """Allow, warn, throttle or block a call about to be made.

    Exit codes: 0 allow, 10 warn, 20 throttle, 30 block (1: error, 2: usage). Reads the ledger
    as it is (run `spendlane ingest` or use --ingest to read new log lines first).
    """
    from spendlane.policy.service import check, check_json, check_text, now_ms

    config = _config(config_path)
    call = _call(**flags)
    estimate = _usd_to_nano(estimate_usd, "--estimate-usd") if estimate_usd else 0
    at = now_ms()
    with context.ledger() as ledger:
        if ingest_first:
            _ingest(ledger, _sources("all"), quiet=True)
        result = check(ledger, config, call, estimate, at)
        _after(ledger, config, result.states, at)
    if as_json:
        _echo_json(check_json(result))
    else:
        click.echo(check_text(result))
    sys.exit(int(result.decision.action))


@main.command("reserve")
@click.option("--usd", "amount", required=True, help="How much to hold, in dollars.")
@click.option("--ttl", default="30m", show_default=True, help="Free it after (30m, 2h, 90s).")
@click.option("--note", help="What it is for (shown nowhere else; kept with the hold).")
@_scope_options
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.pass_obj
def reserve_command(
    context: Context,
    /,
    amount: str,
    ttl: str,
    note: str | None,
    config_path: Path | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Hold money against the budgets a call counts toward; prints the reservation id.

    Refused (exit 30) when it would take a hard-stop budget to its block level. Settle it
    with `spendlane settle ID --usd REAL`; unsettled, it frees itself after --ttl.
    """
    from spendlane.policy.service import ReservationRefused, now_ms, reserve

    config = _config(config_path)
    nano = _usd_to_nano(amount, "--usd")
    if nano == 0:
        raise click.BadParameter("a reservation must be for more than $0", param_hint="--usd")
    at = now_ms()
    with context.ledger() as ledger:
        try:
            ident, result = reserve(ledger, config, _call(**flags), nano, parse_ttl(ttl),
                                    note=note, at_ms=at)  # fmt: skip
        except ReservationRefused as refused:
            _after(ledger, config, refused.result.states, at)
            if as_json:
                _echo_json({"reserved": False, "notice": refused.result.notice})
            else:
                click.echo(f"refused: {refused.result.notice}", err=True)
            sys.exit(30)
        _after(ledger, config, result.states, at)
    if as_json:
        _echo_json({"reserved": True, "id": ident, "decision": result.decision.action.word,
                    "notice": result.notice})  # fmt: skip
    else:
        click.echo(ident)
        if result.notice:
            click.echo(result.notice, err=True)


@main.command("settle")
@click.argument("reservation_id")
@click.option("--usd", "amount", help="The call's real cost (recorded as a call).")
@click.option("--no-record", is_flag=True,
              help="Only release the hold: the call's own log will be ingested.")  # fmt: skip
@click.pass_obj
def settle_command(context: Context, reservation_id: str, amount: str | None,
                   no_record: bool) -> None:  # fmt: skip
    """Release a reservation and record what the call really cost."""
    from spendlane.policy.service import UnknownReservation, settle

    nano = _usd_to_nano(amount, "--usd") if amount is not None else None
    with context.ledger() as ledger:
        try:
            settle(ledger, reservation_id, nano, record=not no_record)
        except UnknownReservation:
            raise click.ClickException(
                f"no open reservation {reservation_id!r} (settled already, or expired)"
            ) from None
    click.echo(f"settled {reservation_id}" + (f" at ${amount}" if amount else ""))


@main.command("quota")
@CONFIG_OPTION
@click.option("-j", "--json", "as_json", is_flag=True)
@click.option("--no-ingest", is_flag=True, help="Use the ledger as it is.")
@click.pass_obj
def quota_command(
    context: Context, config_path: Path | None, as_json: bool, no_ingest: bool
) -> None:
    """Subscription windows: used, reset, burn rate, projected at reset; the plan's value."""
    from spendlane.periods import local_iso as _iso
    from spendlane.policy.accounts import accounts_of
    from spendlane.policy.quota import PLAN_PRICES, plan_values, quota_alerts, window_states
    from spendlane.policy.service import now_ms, zone_of

    config = _config(config_path)
    zone = zone_of(config)
    at = now_ms()
    accounts = accounts_of(config.accounts, config.plan)
    with context.ledger() as ledger:
        if not no_ingest:
            _ingest(ledger, _sources("all"), quiet=as_json)
        states = window_states(ledger, at, config.accounts)
        values = plan_values(ledger, accounts, {**PLAN_PRICES, **dict(config.plan_prices)},
                             zone, at, dict(config.plan_notes))  # fmt: skip
        quota_alerts(ledger, config.accounts, config.plan, at, zone)
    if as_json:
        _echo_json({
            "windows": [{
                "account": s.account, "source": s.source, "window": s.window, "name": s.name,
                "usedPercent": s.used_percent, "level": s.level,
                "resetsAt": _iso(s.resets_at_ms, zone), "observedAt": _iso(s.observed_ms, zone),
                "burnPercentPerHour": s.burn_per_hour, "projectedPercentAtReset":
                    s.projected_percent,
            } for s in states],
            "accounts": [{
                "account": v.account, "auth": v.auth, "plan": v.plan, "planPriceUsd": v.price_usd,
                "planNotes": v.notes, "monthValueUsd": v.month_value_nano / 1e9,
                "callsToday": v.calls_today,
            } for v in values],
            # the first account's figures, where scripts read them before there were accounts
            "plan": values[0].plan, "planPriceUsd": values[0].price_usd,
            "monthValueUsd": values[0].month_value_nano / 1e9,
            "callsToday": values[0].calls_today,
        })  # fmt: skip
        return
    from spendlane.cli import render

    render.quota_tables(states, values, zone)
