"""Command line: thin click commands over the core.

`main` (the click group) is loaded on first use, so that `spendlane check`, which runs before
every dispatch, can take its quick path (`cli.quick`) without importing click at all.
"""

from __future__ import annotations

from typing import Any

__all__ = ["main"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from spendlane.cli import budgets, lanes  # noqa: F401  (register their commands)
        from spendlane.cli.app import main

        return main
    raise AttributeError(name)
