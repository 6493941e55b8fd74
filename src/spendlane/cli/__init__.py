"""Command line: thin click commands over the core.

`main` (the click group) is loaded on first use, so that `spendlane check`, which runs before
every dispatch, can take its quick path (`cli.quick`) without importing click at all.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not from typing: this package is on the statusline's path
if TYPE_CHECKING:
    from typing import Any

__all__ = ["main"]

# Modules that add commands to `main` when imported (app.py defines it and the reports).
COMMAND_MODULES = ("budgets", "lanes", "mcp", "hooks", "watch")


def __getattr__(name: str) -> Any:
    if name == "main":
        from spendlane.cli.app import main

        for module in COMMAND_MODULES:
            import_module(f"spendlane.cli.{module}")
        return main
    raise AttributeError(name)
