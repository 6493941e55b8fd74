"""Log sources: where each agent's logs are, and (imported only when there is work) parsers."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from spendlane.sources import locations

if TYPE_CHECKING:
    from spendlane.sources.parsed import Parsed
    from spendlane.sources.reading import Chunk


@dataclass(frozen=True, slots=True)
class LogSource:
    """A kind of local log: where it lives by default, how to find its files, how to parse."""

    name: str
    label: str
    default_roots: Callable[[], list[Path]]
    discover: Callable[[list[Path]], Iterator[str]]
    parser_module: str

    def parse(self, chunk: Chunk, path: str) -> Parsed:
        parse: Callable[[Chunk, str], Parsed] = importlib.import_module(self.parser_module).parse
        return parse(chunk, path)


LOG_SOURCES: dict[str, LogSource] = {
    locations.CLAUDE_CODE: LogSource(
        locations.CLAUDE_CODE, "Claude Code", locations.claude_roots, locations.claude_files,
        "spendlane.sources.claude_code",
    ),
    locations.CODEX: LogSource(
        locations.CODEX, "Codex", locations.codex_roots, locations.codex_files,
        "spendlane.sources.codex",
    ),
}  # fmt: skip

# What users type for --source.
SOURCE_ALIASES = {"claude": locations.CLAUDE_CODE, "codex": locations.CODEX}
