"""Splitting JSONL bytes into decoded records, counting what cannot be decoded."""

from __future__ import annotations

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


class RecordReader(Generic[T]):
    """Decode JSONL records into `type_`, counting what cannot be decoded.

    A line that is only "{" opens a pretty-printed object: lines are joined until it decodes.
    `prefilter` lets a source skip lines it knows carry nothing for it without decoding them.
    """

    def __init__(self, type_: type[T], prefilter: Callable[[bytes], bool] | None = None) -> None:
        self._decoder = msgspec.json.Decoder(type_)
        self._prefilter = prefilter
        self.malformed = 0

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
                if joined is not None:
                    offset += sum(len(x) + 1 for x in lines[i : i + used - 1])
                    i += used - 1
                    yield Record(joined, line_offset)
                else:
                    self.malformed += 1
                continue
            if prefilter is not None and not prefilter(line):
                continue
            try:
                yield Record(decode(line), line_offset)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.malformed += 1

    def _join_object(self, lines: list[bytes], first: int) -> tuple[T | None, int]:
        buffer = bytearray()
        for n, line in enumerate(lines[first : first + _MAX_OBJECT_LINES], start=1):
            buffer += line + b"\n"
            try:
                return self._decoder.decode(bytes(buffer)), n
            except msgspec.ValidationError:
                return None, 1
            except msgspec.DecodeError as exc:
                if "truncated" not in str(exc):
                    return None, 1
        return None, 1
