"""`hooks install|uninstall` and `hook gate|session-end|stop-failure`: thin commands over
`integrations.hooks`.

The `hook …` commands are what Claude Code runs. They read the hook's JSON on stdin and always
exit 0 on spendlane's own errors (exit 2 would block the user's tool call or prompt), saying
what went wrong on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from spendlane.cli.app import Context, main

_SCOPE = click.option(
    "--scope", type=click.Choice(["user", "project"]), default="user", show_default=True,
    help="user: ~/.claude/settings.json (or CLAUDE_CONFIG_DIR's); project: ./.claude/.",
)  # fmt: skip
_SETTINGS = click.option(
    "--settings", "settings_file", type=click.Path(dir_okay=False, path_type=Path),
    help="Another settings file (e.g. .claude/settings.local.json) instead of --scope's.",
)  # fmt: skip


def _target(scope: str, settings_file: Path | None) -> Path:
    from spendlane.integrations.hooks import settings_path

    return settings_file or settings_path("project" if scope == "project" else "user", Path.cwd())


def _report(plan: Any, done: str) -> None:
    lead = "would change" if plan.dry_run and plan.changes else done
    if plan.changes:
        click.echo(f"{lead} {plan.path}{' (new file)' if plan.created else ''}:")
        for line in plan.changes:
            click.echo(f"  {line}")
    else:
        click.echo(f"{plan.path}: nothing to change")
    for line in plan.notes:
        click.echo(f"  note: {line}")
    if plan.backup is not None:
        click.echo(f"backup of the previous file: {plan.backup}")
    if plan.dry_run and plan.changes:
        click.echo("dry run: nothing written")


@main.group("hooks")
def hooks_group() -> None:
    """Install spendlane into Claude Code: budget gate, session-end ingest, statusline."""


@hooks_group.command("install")
@_SCOPE
@_SETTINGS
@click.option("--dry-run", is_flag=True, help="Say what would change; write nothing.")
@click.option("--command", "prefix", metavar="CMD",
              help="How hooks start spendlane (default: this spendlane's full path).")  # fmt: skip
def hooks_install_command(
    scope: str, settings_file: Path | None, dry_run: bool, prefix: str | None
) -> None:
    """Add spendlane's hooks to Claude Code's settings (idempotent; other hooks are kept).

    PreToolUse and UserPromptSubmit run `spendlane hook gate` (budgets can deny a tool call or
    block a prompt), SessionEnd ingests the session's transcript, StopFailure records rate
    limits and billing errors as alerts, and statusLine shows spend, unless you have one.
    """
    from spendlane.integrations.hooks import HooksError, install

    try:
        plan = install(_target(scope, settings_file), command_prefix=prefix, dry_run=dry_run)
    except (HooksError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    _report(plan, "changed")


@hooks_group.command("uninstall")
@_SCOPE
@_SETTINGS
def hooks_uninstall_command(scope: str, settings_file: Path | None) -> None:
    """Remove exactly spendlane's hooks (and its statusLine) from Claude Code's settings."""
    from spendlane.integrations.hooks import HooksError, uninstall

    try:
        plan = uninstall(_target(scope, settings_file))
    except (HooksError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    _report(plan, "changed")


@main.group("hook")
def hook_group() -> None:
    """What Claude Code runs (JSON on stdin); see `spendlane hooks install`."""


def _stdin() -> str:
    return sys.stdin.buffer.read().decode("utf-8", "replace")


def _finish(stdout: str = "", stderr: str = "") -> None:
    if stdout:
        click.echo(stdout, nl=False)
    if stderr:
        click.echo(stderr, nl=False, err=True)
    sys.exit(0)


@hook_group.command("gate")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Budget config (default: the one in the config dir).")  # fmt: skip
@click.pass_obj
def hook_gate_command(context: Context, config_path: Path | None) -> None:
    """PreToolUse / UserPromptSubmit: deny or block at a budget's block level, warn at
    throttle, allow otherwise (and on any error of spendlane's own)."""
    from spendlane.integrations.hooks import run_gate

    result = run_gate(_stdin(), db=context.db, config=config_path)
    if result.stdout:
        click.echo(result.stdout, nl=False)
    if result.stderr:
        click.echo(result.stderr, nl=False, err=True)
    sys.exit(result.exit_code)


@hook_group.command("session-end")
@click.pass_obj
def hook_session_end_command(context: Context) -> None:
    """SessionEnd: ingest the ended session's transcript (only that file)."""
    from spendlane.integrations.hooks import HookInputError, read_payload, session_end

    try:
        payload = read_payload(_stdin())
    except HookInputError as exc:
        _finish(stderr=f"spendlane: {exc}; nothing ingested\n")
        return
    try:
        from spendlane.cli.reporting import refresh_status

        with context.ledger() as ledger:
            report = session_end(payload, ledger)
            if report is None:
                _finish(stderr="spendlane: no transcript_path to ingest\n")
                return
            changed = report.new_events or any(s.replaced for s in report.sources.values())
            refresh_status(ledger, changed=bool(changed))
    except Exception as exc:  # never fail the session's end on spendlane's account
        _finish(stderr=f"spendlane: session-end ingest skipped ({exc})\n")
        return
    _finish()


@hook_group.command("stop-failure")
@click.pass_obj
def hook_stop_failure_command(context: Context) -> None:
    """StopFailure: a rate limit or billing error becomes an alert (`spendlane alerts list`)."""
    from spendlane.integrations.hooks import HookInputError, read_payload, stop_failure

    try:
        payload = read_payload(_stdin())
    except HookInputError as exc:
        _finish(stderr=f"spendlane: {exc}; nothing recorded\n")
        return
    try:
        from spendlane.policy.service import load_budgets

        with context.ledger() as ledger:
            raised = stop_failure(payload, ledger)
            if raised is not None:
                config = load_budgets(None)
                if config.alerts.urls:
                    from spendlane.alerts.background import deliver_soon

                    deliver_soon(config.path, ledger.path)
    except Exception as exc:
        _finish(stderr=f"spendlane: stop-failure not recorded ({exc})\n")
        return
    _finish()
