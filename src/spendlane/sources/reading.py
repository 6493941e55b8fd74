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
    at_end: bool = True  # False: stopped at the read limit, more complete lines may follow


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


READ_LIMIT = 32 * 1024 * 1024


def read_new(
    path: str, source: str, cursor: FileCursor | None, limit: int = READ_LIMIT
) -> Chunk | None:
    """The complete lines appended since `cursor`, about `limit` bytes at most (more only if
    one line is longer). Raises OSError if the file vanished.

    When the read stops before the end of the file, the returned cursor records the size read
    so far, so that it can never be mistaken for "unchanged" later.
    """
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
        data = f.read(min(limit, st.st_size - start))
        while b"\n" not in data and start + len(data) < st.st_size:
            more = f.read(min(limit, st.st_size - start - len(data)))
            if not more:
                break
            data += more
    at_end = start + len(data) >= st.st_size
    end_of_lines = data.rfind(b"\n") + 1
    tail = data[end_of_lines:]
    if at_end and tail.strip() and _is_complete_json(tail):
        end_of_lines = len(data)
    data = data[:end_of_lines]
    new_cursor = FileCursor(
        path=path,
        source=source,
        inode=st.st_ino,
        size=st.st_size if at_end else start + len(data),
        mtime_ns=st.st_mtime_ns,
        offset=start + len(data),
        head_len=len(head),
        head_hash=_head_hash(head),
        state=None if reset or cursor is None else cursor.state,
        malformed_lines=0 if reset or cursor is None else cursor.malformed_lines,
        id=cursor.id if cursor is not None else None,
    )
    return Chunk(data, start, start + len(data), reset, new_cursor, at_end)


def _is_complete_json(tail: bytes) -> bool:
    import msgspec

    try:
        msgspec.json.decode(tail)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return False  # not whole yet (or never will be: then the parser counts it, later)
    return True
