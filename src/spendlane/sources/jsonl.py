"""Splitting JSONL bytes into decoded records, counting what cannot be decoded."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import msgspec

from spendlane.sources.reading import Chunk

T = TypeVar("T")


_MAX_OBJECT_LINES = 100_000
_BLANK_OR_OPENER = (b"", b"{")

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


# Which lines a source decodes: called with (data, start, end) for each line, so that it can
# search the line in place (`data.find(needle, start, end)`) without copying it out.
Prefilter = Callable[[bytes, int, int], bool]


class RecordReader(Generic[T]):
    """Decode JSONL records into `type_`, counting what cannot be decoded.

    A line that is only "{" opens a pretty-printed object: lines are joined until it decodes.
    `prefilter` lets a source skip lines it knows carry nothing for it without decoding them;
    a line holding `take` (the source's most common kind) is decoded without asking it, which
    spares a Python call on most lines.
    Lines are found and decoded in place (views of the chunk, no copy per line): a first
    import walks a gigabyte of them.
    """

    # A record is (value, start, end): the decoded line (or pretty-printed object) and where
    # its bytes lie in the chunk's data, so that a source can search them in place. A plain
    # tuple: one is made per decoded line.

    def __init__(
        self,
        type_: type[T],
        prefilter: Prefilter | None = None,
        loose: type[T] | None = None,
        take: bytes | None = None,
    ) -> None:
        self._decoder = msgspec.json.Decoder(type_)
        # `loose`: a shape that accepts what `type_` refuses (a field's value of another type
        # than the agent writes), so such a line is still read rather than lost.
        self._loose = msgspec.json.Decoder(loose) if loose is not None else None
        self._prefilter = prefilter
        self._take = take
        self.malformed = 0
        # Where a pretty-printed object that the chunk cuts off begins: the caller reads on
        # from there next time instead of losing the object as malformed lines.
        self.resume_at: int | None = None

    def records(self, chunk: Chunk) -> Iterator[tuple[T, int, int]]:
        data = chunk.data
        view = memoryview(data)
        find = data.find
        decode = self._decoder.decode
        prefilter = self._prefilter
        take = self._take
        size = len(data)
        start = 0
        while start < size:
            end = find(b"\n", start)
            if end < 0:
                end = size
            line_start, start = start, end + 1
            # A compact line ends with "}"; only other lines can be blank or open an object.
            if (
                data[end - 1 : end] != b"}"
                and (stripped := data[line_start:end].strip()) in _BLANK_OR_OPENER
            ):
                if not stripped:
                    continue
                joined, after = self._join_object(data, line_start)
                if after == 0:
                    self.resume_at = chunk.start + line_start
                    return
                if joined is not None:
                    start = after
                    yield joined, line_start, after
                else:
                    self.malformed += 1
                continue
            if (
                prefilter is not None
                and (take is None or find(take, line_start, end) < 0)
                and not prefilter(data, line_start, end)
            ):
                continue
            value: T | None
            try:
                value = decode(view[line_start:end])
            except _UNDECODABLE:
                value = self._decode_repaired(data[line_start:end])
                if value is None:
                    self.malformed += 1
                    continue
            yield value, line_start, end

    def _decode_repaired(self, data: bytes) -> T | None:
        """A line the decoder refused, read again: with lone surrogates repaired, in the loose
        shape, or both; None when it still cannot be read."""
        repaired = without_lone_surrogates(data)
        attempts = [(self._decoder, repaired)]
        if self._loose is not None:
            attempts += [(self._loose, data), (self._loose, repaired)]
        for decoder, text in attempts:
            if text is None:
                continue
            try:
                return decoder.decode(text)
            except _UNDECODABLE:
                continue
        return None

    def _join_object(self, data: bytes, first: int) -> tuple[T | None, int]:
        """The object opened by the line at `first`, and where the line after its last line
        starts; (None, _) when it is not one, (None, 0) when the data ends before it does
        (more may be on the way)."""
        size = len(data)
        line_start = first
        for _ in range(_MAX_OBJECT_LINES):
            if line_start >= size:
                return None, 0
            end = data.find(b"\n", line_start)
            end = size if end < 0 else end
            buffer = data[first:end] + b"\n"
            last_line, line_start = data[line_start:end], end + 1
            try:
                return self._decoder.decode(buffer), line_start
            except (msgspec.ValidationError, UnicodeDecodeError):
                return self._decode_repaired(buffer), line_start
            except msgspec.DecodeError as exc:
                if "truncated" not in str(exc):
                    return self._decode_repaired(buffer), line_start
                if last_line.rstrip() == b"}" and (repaired := self._decode_repaired(buffer)):
                    return repaired, line_start  # "truncated" by a lone surrogate at a string's end
        return None, 0 if line_start >= size else line_start
