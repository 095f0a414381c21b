"""TFRecord framing used by TensorBoard event files, with masked CRC32C checks.

Each record is ``uint64 length | uint32 masked_crc32c(length) | data | uint32
masked_crc32c(data)``, little-endian. CRCs are computed with numpy over many records at once.
"""

from __future__ import annotations

import struct
from array import array

import numpy as np

from lrviz.errors import LrvizError

_POLY = 0x82F63B78  # Castagnoli, reflected
#: Records larger than this have their data CRC skipped (images, graphs: never read here).
MAX_CHECKED = 1 << 16


def _table() -> np.ndarray:
    t = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t[i] = c
    return t


_TABLE = _table()
_TABLE_PY = [int(v) for v in _TABLE]


def crc32c(data: bytes) -> int:
    """CRC32C of ``data`` (pure Python; for small inputs)."""
    crc = 0xFFFFFFFF
    t = _TABLE_PY
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(crc: int) -> int:
    """TFRecord's masked CRC: rotate right by 15 and add a constant."""
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    return mask(crc32c(data))


#: Ranges whose CRCs are computed together: the work arrays stay small (a few hundred KB)
#: however many records a file holds.
_CRC_BATCH = 8192


def crc32c_many(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC32C of many byte ranges of ``buf`` at once (uint32 per range).

    Ranges are taken longest first, in batches of similar lengths, so that a batch runs for
    about as many steps as its ranges have bytes.
    """
    n = starts.size
    out = np.empty(n, dtype=np.uint32)
    if n == 0:
        return out
    order = np.argsort(-lengths, kind="stable")
    for i in range(0, n, _CRC_BATCH):
        picked = order[i : i + _CRC_BATCH]
        out[picked] = _crc32c_sorted(buf, starts[picked], lengths[picked])
    return out


def _crc32c_sorted(buf: np.ndarray, st: np.ndarray, ln: np.ndarray) -> np.ndarray:
    """CRC32C of ranges sorted by decreasing length."""
    n = st.size
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    active = n
    # ln is sorted descending: the ranges still running at byte i are a prefix.
    longest = int(ln[0])
    for i in range(longest):
        while active and ln[active - 1] <= i:
            active -= 1
        c = crc[:active]
        b = buf[st[:active] + i].astype(np.uint32)
        crc[:active] = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return crc ^ np.uint32(0xFFFFFFFF)


def mask_many(crc: np.ndarray) -> np.ndarray:
    c = crc.astype(np.uint64)
    rot = ((c >> np.uint64(15)) | (c << np.uint64(17))) & np.uint64(0xFFFFFFFF)
    return ((rot + np.uint64(0xA282EAD8)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def looks_like_tfrecord(head: bytes) -> bool:
    """True when the first 12 bytes are a TFRecord length with its valid CRC."""
    return len(head) >= 12 and struct.unpack_from("<I", head, 8)[0] == masked_crc32c(head[:8])


def record_spans(data: bytes, path: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and lengths (int64 arrays) of every record's data in ``data``.

    A truncated last record (file still being written) is ignored. A bad length or data CRC
    elsewhere raises LrvizError with the byte offset. Offsets are kept in arrays, not lists of
    Python ints (which cost more than the records themselves).
    """
    offsets = array("q")
    lengths = array("q")
    n = len(data)
    off = 0
    while off + 12 <= n:
        (length,) = struct.unpack_from("<Q", data, off)
        if off + 12 + length + 4 > n:
            # Cut off: either the writer is mid-record, or the length itself is garbage.
            if struct.unpack_from("<I", data, off + 8)[0] != masked_crc32c(data[off : off + 8]):
                raise LrvizError(f"corrupt event record (bad length CRC) at byte {off}", path)
            break
        offsets.append(off)
        lengths.append(length)
        off += 12 + length + 4
    if not offsets:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    buf = np.frombuffer(data, dtype=np.uint8)
    offs = np.frombuffer(offsets, dtype=np.int64)  # views: the arrays are complete
    lens = np.frombuffer(lengths, dtype=np.int64)
    for i in range(0, offs.size, _CHECK_BATCH):  # bounded temporaries, however many records
        _check_crcs(buf, offs[i : i + _CHECK_BATCH], lens[i : i + _CHECK_BATCH], path)
    offs += 12  # where each record's data starts
    return offs, lens


#: Records whose CRCs are checked together.
_CHECK_BATCH = 1 << 14


def _check_crcs(buf: np.ndarray, offs: np.ndarray, lens: np.ndarray, path: str | None) -> None:
    got = _words(buf, offs + 8)
    want = mask_many(crc32c_many(buf, offs, np.full(offs.size, 8, dtype=np.int64)))
    bad = np.flatnonzero(got != want)
    if bad.size:
        at = int(offs[bad[0]])
        raise LrvizError(f"corrupt event record (bad length CRC) at byte {at}", path)
    small = np.flatnonzero(lens <= MAX_CHECKED)
    if small.size:
        starts = offs[small] + 12
        got = _words(buf, starts + lens[small])
        want = mask_many(crc32c_many(buf, starts, lens[small]))
        bad = np.flatnonzero(got != want)
        if bad.size:
            at = int(offs[small][bad[0]])
            raise LrvizError(f"corrupt event record (bad data CRC) at byte {at}", path)


def _words(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian uint32 at each byte offset of ``at`` (read through a view with a
    one-byte stride: no per-byte temporaries)."""
    words = np.ndarray((buf.size - 3,), dtype="<u4", buffer=buf, strides=(1,))
    return words[at]


def read_records(data: bytes, path: str | None = None) -> list[tuple[int, int]]:
    """(offset, length) of every record's data in ``data`` (see :func:`record_spans`)."""
    starts, lengths = record_spans(data, path)
    return list(zip(starts.tolist(), lengths.tolist(), strict=True))
