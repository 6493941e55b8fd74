"""Command line: thin click commands over the core."""

from spendlane.cli import budgets as _budgets  # noqa: F401  (registers budget commands)
from spendlane.cli.app import main

__all__ = ["main"]
