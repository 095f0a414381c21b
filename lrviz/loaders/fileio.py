"""Opening logs safely: regular files only, never blocking, never reading without a bound.

A named pipe named like a log blocks ``open()`` until some writer appears, and ``/dev/zero``
behind a symlink reads until memory runs out. Every reader opens through :func:`open_regular`
(which refuses anything but a regular file, and opens without blocking in case the path was
swapped for a pipe in between) and reads at most :func:`size_cap` bytes. :func:`read_head`
reads the first bytes a format is told from, with the whole first line however long it is
(up to :data:`MAX_LINE_BYTES`), so that every caller (the command line, the app through the
live watcher, the column dialog) decides the same way.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from dataclasses import dataclass

from lrviz.errors import LrvizError

#: Environment variable: the largest log lrviz reads, in megabytes.
CAP_VARIABLE = "LRVIZ_MAX_FILE_MB"
#: Default size cap, in megabytes: well above real training logs (a 2-million-row Lightning
#: log is 150 MB), well below what would exhaust memory.
DEFAULT_CAP_MB = 2048
#: Bytes a format is detected from (more when the first line is longer).
HEAD_BYTES = 65536
#: The longest line lrviz reads (a CSV header of 100,000 long column names fits).
MAX_LINE_BYTES = 16 * 1024 * 1024

_UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def size_cap() -> int:
    """The largest file, in bytes, lrviz reads: ``$LRVIZ_MAX_FILE_MB`` megabytes, else 2048.

    Raises
    ------
    LrvizError
        When the variable is set to something other than a positive number.
    """
    text = os.environ.get(CAP_VARIABLE, "").strip()
    if not text:
        return DEFAULT_CAP_MB << 20
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not (mb > 0 and mb < 1 << 40):
        raise LrvizError(f"{CAP_VARIABLE} must be a positive number of megabytes, got {text!r}")
    return int(mb * (1 << 20))


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB" if n >= 1 << 20 else f"{n} bytes"


def too_big(path: str, size: int | None, cap: int) -> LrvizError:
    """The error for a file past the size cap (``size`` None: not known, only that it is more)."""
    what = f"{_mb(size)}, more than" if size is not None else "more than"
    return LrvizError(
        f"file is {what} the {_mb(cap)} lrviz reads (set {CAP_VARIABLE} to read more)", path
    )


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a named pipe", ...), or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def not_regular(path: str, kind: str) -> LrvizError:
    return LrvizError(f"{kind}, not a regular file: only regular files are read", path)


def cannot_read(exc: OSError, path: str) -> LrvizError:
    """An operating-system error (permissions, I/O) as one line naming the file."""
    return LrvizError(f"cannot read: {exc.strerror or exc}", path)


def check_regular(path: str) -> None:
    """Raise unless ``path`` is a regular file (checked without opening it).

    Raises
    ------
    LrvizError
        ``no such file``, or what the path is instead (a named pipe, a device...).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise LrvizError("no such file", path) from None
    except OSError as exc:
        raise cannot_read(exc, path) from None
    kind = special_kind(mode)
    if kind is not None:
        raise not_regular(path, kind)


def open_regular(path: str):
    """Open a regular file for binary reading, or raise.

    The path is checked before opening (opening some devices has effects) and the open file
    again after (the path may have been swapped); the open itself does not block, so a pipe
    put there in between cannot hang the caller.

    Raises
    ------
    LrvizError
        For anything but an existing regular file one may read, or one past the size cap.
    """
    check_regular(path)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise LrvizError("no such file", path) from None
    except OSError as exc:
        raise cannot_read(exc, path) from None
    try:
        st = os.fstat(fd)
        kind = special_kind(st.st_mode)
        if kind is not None:
            raise not_regular(path, kind)
        cap = size_cap()
        if st.st_size > cap:
            raise too_big(path, st.st_size, cap)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # no effect on regular files; plain reads from here
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_all(f, path: str, cap: int | None = None) -> bytes:
    """The rest of an open file, at most ``cap`` bytes (default :func:`size_cap`).

    Reads what ``fstat`` announces in one piece (no doubling copies for the usual case), then
    whatever was appended meanwhile.

    Raises
    ------
    LrvizError
        Past the cap.
    """
    cap = size_cap() if cap is None else cap
    try:
        expected = os.fstat(f.fileno()).st_size - f.tell()
    except (OSError, AttributeError, io.UnsupportedOperation):
        expected = 0
    if expected > cap:
        raise too_big(path, expected + f.tell(), cap)
    data = f.read(max(expected, 0) + 1)
    if len(data) <= expected:
        return data
    # The file grew since fstat (a live log) or announces no size (/proc): read on, bounded.
    chunks = [data]
    total = len(data)
    while True:
        if total > cap:
            raise too_big(path, None, cap)
        chunk = f.read(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)


@dataclass
class Head:
    """The first bytes of a file, as read and as text to detect its format from.

    Parameters
    ----------
    raw : bytes
        As read (at least :data:`HEAD_BYTES` unless the file is shorter, and the whole first
        non-blank line when it fits in :data:`MAX_LINE_BYTES`).
    text : bytes
        ``raw`` as UTF-8 without a byte-order mark (UTF-16 transcoded; bytes of another
        encoding left as they are).
    encoding : str
        ``"utf-8"`` (or no byte-order mark), ``"utf-16-le"`` or ``"utf-16-be"``.
    complete : bool
        ``raw`` is the whole file.
    line_cut : bool
        The first non-blank line goes on past :data:`MAX_LINE_BYTES`.
    """

    raw: bytes
    text: bytes
    encoding: str = "utf-8"
    complete: bool = False
    line_cut: bool = False


def utf16_encoding(raw: bytes) -> str | None:
    """The UTF-16 variant named by a leading byte-order mark, or None."""
    for bom, encoding in _UTF16_BOMS:
        if raw.startswith(bom):
            return encoding
    return None


def _as_utf8(raw: bytes, encoding: str, final: bool) -> bytes:
    if encoding == "utf-8":
        return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    return decoder.decode(raw[2:], final).encode("utf-8")


def _first_line_ends(text: bytes) -> bool:
    """True when the first non-blank line of ``text`` is followed by a line end."""
    body = text.lstrip()
    return b"\n" in body or b"\r" in body


def head_of(raw: bytes, complete: bool = False) -> Head:
    """A :class:`Head` for bytes already read."""
    encoding = utf16_encoding(raw) or "utf-8"
    return Head(raw, _as_utf8(raw, encoding, complete), encoding, complete)


def read_head(f, path: str | None = None) -> Head:
    """Read the head of an open file (see :class:`Head`); the file is left at its end."""
    raw = f.read(HEAD_BYTES)
    encoding = utf16_encoding(raw) or "utf-8"
    chunk = HEAD_BYTES
    complete = len(raw) < HEAD_BYTES
    while not complete:
        text = _as_utf8(raw, encoding, False)
        if _first_line_ends(text) or (
            text.lstrip()[:1] in (b"{", b"[") and b'"log_history"' in text
        ):
            break  # a minified trainer_state.json is one line: its head need not hold it all
        if len(raw) >= MAX_LINE_BYTES:
            text = _as_utf8(raw, encoding, False)
            return Head(raw, text, encoding, False, line_cut=True)
        more = f.read(min(chunk, MAX_LINE_BYTES - len(raw)))
        chunk *= 2
        if not more:
            complete = True
        raw += more
    return Head(raw, _as_utf8(raw, encoding, complete), encoding, complete)


def transcoded(f, head: Head, path: str) -> io.BytesIO:
    """A UTF-16 file's whole content as UTF-8 bytes (no byte-order mark), from its start."""
    f.seek(0)
    raw = read_all(f, path)
    try:
        # Not final: a code unit still being written at the end is left out, as a line
        # without its end is; a bad one anywhere else is an error.
        text = codecs.getincrementaldecoder(head.encoding)("strict").decode(raw[2:], False)
    except UnicodeDecodeError as exc:
        raise LrvizError(f"not valid {head.encoding} text (byte {exc.start + 2})", path) from None
    del raw
    return io.BytesIO(text.encode("utf-8"))


def iter_chunks(f, path: str, size: int = 1 << 20, cap: int | None = None):
    """The rest of an open file in pieces of ``size`` bytes, failing past the size cap."""
    cap = size_cap() if cap is None else cap
    total = f.tell()
    while True:
        chunk = f.read(size)
        if not chunk:
            return
        total += len(chunk)
        if total > cap:
            raise too_big(path, None, cap)
        yield chunk
