"""Reading the new part of an append-only JSONL log, and splitting it into records.

Shared by every log source. What is read is decided by a `FileCursor`: a re-run reads only the
appended bytes; a file that shrank, changed inode or changed its first bytes was replaced and is
read from the start (stable event keys absorb the repeat). A half-written last line is left for
next time; a complete last line without its newline is taken (a JSON object cannot be a valid
prefix of a longer one, so this can never count a line twice or half).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from spendlane.ledger.sqlite import FileCursor

HEAD_BYTES = 1024
T = TypeVar("T")


@dataclass(slots=True)
class Chunk:
    """The new complete bytes of a file, from `start` to `end`."""

    data: bytes
    start: int
    end: int
    reset: bool  # read from the start because the file was replaced or truncated
    cursor: FileCursor  # the cursor to store once `data` is consumed (offset = end)


def _head_hash(head: bytes) -> str:
    return hashlib.blake2b(head, digest_size=12).hexdigest()


def unchanged(cursor: FileCursor | None, st: os.stat_result) -> bool:
    """Cheap check, no read: the file is exactly as it was at the last read."""
    return (
        cursor is not None
        and cursor.inode == st.st_ino
        and cursor.size == st.st_size
        and cursor.mtime_ns == st.st_mtime_ns
    )


def read_new(path: str, source: str, cursor: FileCursor | None) -> Chunk | None:
    """The bytes appended since `cursor`; None if nothing new. Raises OSError if it vanished."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        head = f.read(HEAD_BYTES)
        reset = (
            cursor is None
            or cursor.inode != st.st_ino
            or st.st_size < cursor.offset
            or len(head) < cursor.head_len
            or _head_hash(head[: cursor.head_len]) != cursor.head_hash
        )
        start = 0 if reset or cursor is None else cursor.offset
        if start == st.st_size and not reset and cursor is not None:
            cursor.size, cursor.mtime_ns = st.st_size, st.st_mtime_ns
            return Chunk(b"", start, start, False, cursor)
        f.seek(start)
        data = f.read(st.st_size - start)
    end_of_lines = data.rfind(b"\n") + 1
    tail = data[end_of_lines:]
    if tail.strip() and _is_complete_json(tail):
        end_of_lines = len(data)
    data = data[:end_of_lines]
    new_cursor = FileCursor(
        path=path,
        source=source,
        inode=st.st_ino,
        size=st.st_size,
        mtime_ns=st.st_mtime_ns,
        offset=start + len(data),
        head_len=len(head),
        head_hash=_head_hash(head),
        state=None if reset or cursor is None else cursor.state,
        malformed_lines=0 if reset or cursor is None else cursor.malformed_lines,
        id=cursor.id if cursor is not None else None,
    )
    return Chunk(data, start, start + len(data), reset, new_cursor)


def _is_complete_json(tail: bytes) -> bool:
    try:
        msgspec.json.decode(tail)
    except msgspec.DecodeError:
        return False
    return True


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
