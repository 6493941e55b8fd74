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


Where = tuple[str | int, ...]
"""A place in a parsed config: keys and list indexes from the top, e.g. ("budget", 2, "period")."""

_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


def key_lines(text: str) -> dict[Where, int]:
    """The line (1-based) where each table, array-of-tables entry and key of a TOML text starts.

    `[[budget]]` entries get their index: the second entry's `period` is ("budget", 1,
    "period"); `[budget.levels]` after it is ("budget", 1, "levels"). Values inside inline
    tables and arrays are not listed: `line_at` falls back to the key that holds them. Like
    `locate`, a reading of the text for hand-written files, and never wrong about the file.
    """
    lines: dict[Where, int] = {}
    arrays: dict[Where, int] = {}  # array-of-tables path -> entries so far
    table: Where = ()
    state: tuple[int, str | None] = (0, None)  # open brackets, open multi-line string quote

    def resolve(parts: list[str]) -> list[str | int]:
        out: list[str | int] = []
        for part in parts:
            out.append(part)
            count = arrays.get(tuple(out))
            if count:
                out.append(count - 1)
        return out

    for number, line in enumerate(text.splitlines(), start=1):
        if state != (0, None):  # inside a multi-line array or string
            state = _scan_value(line, state)
            continue
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            parts, _ = _split_key(stripped[2:], "]")
            if parts:
                prefix = resolve(parts[:-1])
                array: Where = (*prefix, parts[-1])
                arrays[array] = arrays.get(array, 0) + 1
                lines.setdefault(array, number)
                table = (*array, arrays[array] - 1)
                lines[table] = number
            continue
        if stripped.startswith("["):
            parts, _ = _split_key(stripped[1:], "]")
            if parts:
                table = tuple(resolve(parts))
                lines.setdefault(table, number)
            continue
        parts, rest = _split_key(stripped, "=")
        if not parts:
            continue
        for end in range(1, len(parts) + 1):
            lines.setdefault((*table, *parts[:end]), number)
        state = _scan_value(rest, (0, None))
    return lines


def line_at(lines: dict[Where, int], where: Where) -> int | None:
    """The line of `where`, else of the nearest enclosing key or table that has one."""
    for end in range(len(where), 0, -1):
        found = lines.get(where[:end])
        if found is not None:
            return found
    return None


def _split_key(text: str, stop: str) -> tuple[list[str], str]:
    """A dotted key at the start of `text` ending at `stop`; its parts and the text after."""
    parts: list[str] = []
    position = 0
    while True:
        match = _KEY_PART.match(text, position)
        if not match:
            return [], ""
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if text.startswith(".", position):
            position += 1
            continue
        if text.startswith(stop, position):
            return parts, text[position + 1 :]
        return [], ""


def _scan_value(text: str, state: tuple[int, str | None]) -> tuple[int, str | None]:
    """Follow brackets and multi-line strings through one line of a value."""
    depth, quote = state
    index = 0
    while index < len(text):
        if quote is not None:
            end = text.find(quote, index)
            if end < 0:
                return depth, quote
            index = end + len(quote)
            quote = None
            continue
        char = text[index]
        if text.startswith('"""', index) or text.startswith("'''", index):
            quote = text[index : index + 3]
            index += 3
        elif char == '"':
            end = index + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            index = end + 1
        elif char == "'":
            end = text.find("'", index + 1)
            index = len(text) if end < 0 else end + 1
        elif char == "#":
            break
        else:
            if char in "[{":
                depth += 1
            elif char in "]}":
                depth = max(depth - 1, 0)
            index += 1
    return depth, quote
