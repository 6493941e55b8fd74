"""Reading TOML config files so that every error names the file, the line and the field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A config file that cannot be used, with where and what was expected."""

    def __init__(self, path: Path, line: int | None, field: str | None, message: str) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.message = message
        where = [str(path)]
        if line:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}")


def load_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; a syntax error becomes a ConfigError with its line."""
    import tomllib

    text = path.read_text(encoding="utf-8")
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            path, int(match.group(1)) if match else None, None, f"invalid TOML: {exc}"
        ) from None


def locate(text: str, array_table: str, index: int, field: str | None) -> int | None:
    """Line number (1-based) of `field` inside the `index`-th `[[array_table]]` block.

    tomllib does not report positions of values, so find them in the text: good enough for
    the plain files people write by hand, and never wrong about the file.
    """
    header = re.compile(r"^\s*\[\[\s*" + re.escape(array_table) + r"\s*\]\]")
    any_header = re.compile(r"^\s*\[")
    key = re.compile(r"^\s*" + re.escape(field) + r"\s*=") if field else None
    seen = -1
    inside = False
    block_start: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            seen += 1
            inside = seen == index
            if inside:
                block_start = number
            continue
        if any_header.match(line):
            if inside:
                break
            continue
        if inside and key is not None and key.match(line):
            return number
    return block_start
