"""Does a followed file still start with the bytes already read from it?

A training restarted into the same file truncates and rewrites it, keeping its inode; by the
next poll it may be as long as before, or longer, so size and identity alone miss it and the
old run's rows stay on screen. :class:`ReadPrefix` remembers the file's identity, how much was
read and a checksum of it; the watcher checks all three before taking appended bytes.
"""

from __future__ import annotations

import os
import zlib

#: Prefixes up to this size are checked whole (CRC32 reads ~2.5 GB/s from the page cache:
#: 25 ms); longer ones by their first and last :data:`WINDOW` bytes, which any rewrite that
#: differs from the old content from some point on also changes.
FULL_CHECK_BYTES = 64 << 20
WINDOW = 1 << 20
_PIECE = 1 << 20


class ReadPrefix:
    """Identity, length and checksum of the bytes read so far from the start of a file."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.identity: tuple[int, int] | None = None
        self.length = 0
        self._crc = 0
        self._head_crc = 0
        self._tail = bytearray()

    def extend(self, data: bytes, st: os.stat_result | None = None) -> None:
        """Record ``data`` as read, following what was read before (``st``: the file's
        ``fstat``, for its identity)."""
        if st is not None and self.identity is None:
            self.identity = (st.st_dev, st.st_ino)
        if not data:
            return
        if self.length < WINDOW:
            self._head_crc = zlib.crc32(data[: WINDOW - self.length], self._head_crc)
        self.length += len(data)
        if self.length <= FULL_CHECK_BYTES:
            # Longer prefixes are checked by their windows alone (still_holds): the checksum
            # of all 480 MB of a 10M-row log took the reading 0.45 s and was never looked at.
            self._crc = zlib.crc32(data, self._crc)
        self._tail += data[-WINDOW:]
        if len(self._tail) > WINDOW:
            del self._tail[: len(self._tail) - WINDOW]

    def same_file(self, st: os.stat_result) -> bool:
        """False when the path now names another file, or one shorter than what was read."""
        if self.identity is not None and (st.st_dev, st.st_ino) != self.identity:
            return False
        return st.st_size >= self.length

    def still_holds(self, f) -> bool:
        """True when the open file ``f`` still starts with the bytes read (moves its offset)."""
        if not self.length:
            return True
        if self.length <= FULL_CHECK_BYTES:
            return _crc_of(f, 0, self.length) == self._crc
        if _crc_of(f, 0, WINDOW) != self._head_crc:
            return False
        f.seek(self.length - len(self._tail))
        return f.read(len(self._tail)) == self._tail


def _crc_of(f, start: int, length: int) -> int | None:
    f.seek(start)
    crc = 0
    while length > 0:
        piece = f.read(min(_PIECE, length))
        if not piece:
            return None  # shorter than it was
        crc = zlib.crc32(piece, crc)
        length -= len(piece)
    return crc
