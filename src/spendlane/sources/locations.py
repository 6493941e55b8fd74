"""Where each agent keeps its logs, and finding them: no parsing, no third-party imports.

Kept apart from the parsers so that a warm run (nothing new) only lists and stats files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

CLAUDE_CODE = "claude_code"
CODEX = "codex"


def claude_roots() -> list[Path]:
    """CLAUDE_CONFIG_DIR (one path or a comma list) replaces ~/.config/claude and ~/.claude."""
    configured = os.environ.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return _comma_list(configured)
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [xdg / "claude", home / ".claude"]


def claude_files(roots: list[Path]) -> Iterator[str]:
    """Every transcript under each root's projects/, subagent files included.

    The same file reached through two roots (a symlinked ~/.claude) is yielded twice; the
    ingest skips the second by its inode.
    """
    for root in roots:
        projects = root / "projects"
        if projects.is_dir():
            yield from walk_jsonl(str(projects))


def codex_roots() -> list[Path]:
    """CODEX_HOME (one path or a comma list), else ~/.codex."""
    configured = os.environ.get("CODEX_HOME", "").strip()
    if configured:
        return _comma_list(configured)
    return [Path.home() / ".codex"]


def codex_files(roots: list[Path]) -> Iterator[str]:
    """Rollouts under sessions/ and archived_sessions/ of each root."""
    for root in roots:
        for folder in ("sessions", "archived_sessions"):
            top = root / folder
            if top.is_dir():
                yield from walk_jsonl(str(top))


def _comma_list(value: str) -> list[Path]:
    return [Path(p.strip()).expanduser() for p in value.split(",") if p.strip()]


def walk_jsonl(top: str) -> Iterator[str]:
    """Every *.jsonl file below `top`, without following symlinked folders."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".jsonl") and entry.is_file():
                yield entry.path
            elif entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)


_ROOT_MARKERS = (f"{os.sep}projects{os.sep}", f"{os.sep}sessions{os.sep}",
                 f"{os.sep}archived_sessions{os.sep}")  # fmt: skip


def log_root(path: str) -> str:
    """The agent folder a log lives in: a Claude config dir (`<root>/projects/…`) or a Codex
    home (`<root>/sessions/…`); "" when the path shows neither. Accounts are told apart by it.
    """
    cut = max(path.rfind(marker) for marker in _ROOT_MARKERS)
    return path[:cut] if cut > 0 else ""
