"""`spendlane mcp`: the MCP server on stdin/stdout (see docs/mcp.md).

The SDK is imported inside the command: it is heavy, and no other command should load it.
"""

from __future__ import annotations

import click

from spendlane.cli.app import Context, main


@main.command("mcp")
@click.pass_obj
def mcp_command(context: Context) -> None:
    """Serve the ledger and budgets as MCP tools on stdin/stdout.

    For Claude Code: `claude mcp add spendlane -- spendlane mcp`. Tools: spend_summary,
    budget_status, quota_status, pick_lane. The ledger is --db (or the default one); budgets
    come from the config dir, read anew on every call.
    """
    from spendlane.integrations.mcp_server import serve

    serve(context.db)
