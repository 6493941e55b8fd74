"""Splitting JSONL bytes into decoded records, counting what cannot be decoded."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from spendlane.sources.reading import Chunk

T = TypeVar("T")


@dataclass(slots=True)
class Record(Generic[T]):
    """One decoded line (or pretty-printed object) and the byte offset where it started."""

    value: T
    offset: int


_MAX_OBJECT_LINES = 100_000

# Agents written in JavaScript cut strings inside an emoji and write half a surrogate pair
# ("\\ud83d"), which strict decoders reject; the usage beside it is intact, so such escapes
# become U+FFFD and the line is decoded again (only on the error path: no cost otherwise).
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_UNDECODABLE = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


def without_lone_surrogates(data: bytes) -> bytes | None:
    """`data` with lone surrogate escapes replaced, or None when it has none."""
    if b"\\u" not in data:
        return None
    repaired, count = _LONE_SURROGATE.subn(rb"\\ufffd", data)
    return repaired if count else None


class RecordReader(Generic[T]):
    """Decode JSONL records into `type_`, counting what cannot be decoded.

    A line that is only "{" opens a pretty-printed object: lines are joined until it decodes.
    `prefilter` lets a source skip lines it knows carry nothing for it without decoding them.
    """

    def __init__(self, type_: type[T], prefilter: Callable[[bytes], bool] | None = None) -> None:
        self._decoder = msgspec.json.Decoder(type_)
        self._prefilter = prefilter
        self.malformed = 0
        # Where a pretty-printed object that the chunk cuts off begins: the caller reads on
        # from there next time instead of losing the object as malformed lines.
        self.resume_at: int | None = None

    def records(self, chunk: Chunk) -> Iterator[Record[T]]:
        data = chunk.data
        decode = self._decoder.decode
        prefilter = self._prefilter
        lines = data.split(b"\n")
        offset = chunk.start
        i = 0
        while i < len(lines):
            line = lines[i]
            line_offset = offset
            offset += len(line) + 1
            i += 1
            stripped = line.strip()
            if not stripped:
                continue
            if stripped == b"{":
                joined, used = self._join_object(lines, i - 1)
                if used == 0:
                    self.resume_at = line_offset
                    return
                if joined is not None:
                    offset += sum(len(x) + 1 for x in lines[i : i + used - 1])
                    i += used - 1
                    yield Record(joined, line_offset)
                else:
                    self.malformed += 1
                continue
            if prefilter is not None and not prefilter(line):
                continue
            value: T | None
            try:
                value = decode(line)
            except _UNDECODABLE:
                value = self._decode_repaired(line)
                if value is None:
                    self.malformed += 1
                    continue
            yield Record(value, line_offset)

    def _decode_repaired(self, data: bytes) -> T | None:
        repaired = without_lone_surrogates(data)
        if repaired is None:
            return None
        try:
            return self._decoder.decode(repaired)
        except _UNDECODABLE:
            return None

    def _join_object(self, lines: list[bytes], first: int) -> tuple[T | None, int]:
        """The object opened at `lines[first]` and how many lines it took; (None, 1) when it
        is not one, (None, 0) when the lines end before it does (more may be on the way)."""
        buffer = bytearray()
        window = lines[first : first + _MAX_OBJECT_LINES]
        for n, line in enumerate(window, start=1):
            buffer += line + b"\n"
            try:
                return self._decoder.decode(bytes(buffer)), n
            except (msgspec.ValidationError, UnicodeDecodeError):
                return self._decode_repaired(bytes(buffer)), n
            except msgspec.DecodeError as exc:
                if "truncated" not in str(exc):
                    return self._decode_repaired(bytes(buffer)), n
                if line.rstrip() == b"}" and (repaired := self._decode_repaired(bytes(buffer))):
                    return repaired, n  # "truncated" by a lone surrogate at a string's end
        if len(window) < _MAX_OBJECT_LINES and first + len(window) == len(lines):
            return None, 0
        return None, 1
