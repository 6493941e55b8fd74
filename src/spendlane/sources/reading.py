"""Reading the new part of an append-only log file, as decided by its cursor.

A re-run reads only the appended bytes; a file that shrank, changed inode or changed its first
bytes was replaced and is read from the start (stable event keys absorb the repeat). A
half-written last line is left for next time; a complete last line without its newline is taken
(a JSON object cannot be a valid prefix of a longer one, so this never counts a line twice or
half).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from spendlane.ledger.sqlite import FileCursor

HEAD_BYTES = 1024


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
    import msgspec

    try:
        msgspec.json.decode(tail)
    except msgspec.DecodeError:
        return False
    return True
