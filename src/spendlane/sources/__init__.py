"""Log sources: one module per agent, each with `default_roots`, `discover` and `parse`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from spendlane.sources import claude_code, codex
from spendlane.sources.jsonl import Chunk
from spendlane.sources.parsed import Parsed


@dataclass(frozen=True, slots=True)
class LogSource:
    """A kind of local log: where it lives by default, how to find files, how to parse."""

    name: str
    label: str
    default_roots: Callable[[], list[Path]]
    discover: Callable[[list[Path]], Iterator[str]]
    parse: Callable[[Chunk, str], Parsed]


LOG_SOURCES: dict[str, LogSource] = {
    claude_code.SOURCE: LogSource(
        claude_code.SOURCE, "Claude Code", claude_code.default_roots, claude_code.discover,
        claude_code.parse,
    ),
    codex.SOURCE: LogSource(
        codex.SOURCE, "Codex", codex.default_roots, codex.discover, codex.parse
    ),
}  # fmt: skip

# What users type for --source.
SOURCE_ALIASES = {"claude": claude_code.SOURCE, "codex": codex.SOURCE}
