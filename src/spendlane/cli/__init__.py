"""Command line: thin click commands over the core."""

from spendlane.cli.app import main

__all__ = ["main"]
