"""Text-level helpers shared by the readers: decoding, line splitting, delimiter sniffing, cells.

One cell at a time, the slow but forgiving way: every spelling of "missing" and "not finite"
seen in training logs, padded cells, quotes, decimal commas and ``mm:ss`` durations.
"""

from __future__ import annotations

import math
import re

from lrviz.errors import LrvizError

#: Returned by :func:`parse_cell` for a cell that holds no value.
MISSING = None


class _Text:
    """Marker type for a cell that is not a number."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "TEXT"


#: Returned by :func:`parse_cell` for a cell that is text, not a number.
TEXT = _Text()

_MISSING_WORDS = frozenset({"", "na", "n/a", "none", "null", "nil", "undefined"})
_NONFINITE = {
    "nan": math.nan,
    "+nan": math.nan,
    "-nan": math.nan,
    "inf": math.inf,
    "+inf": math.inf,
    "-inf": -math.inf,
    "infinity": math.inf,
    "+infinity": math.inf,
    "-infinity": -math.inf,
}
# Both patterns are unambiguous (every character can be matched one way only), so a failing
# match backtracks over each character once: linear in the cell's length. The old
# ``\d+\.?\d*`` could split a run of digits n ways and took 12 s on a 20,000-digit cell.
# Hours are at most nine digits: longer counts are not durations (and would overflow a float).
_DURATION = re.compile(r"^(?:(\d{1,9}):)?(\d{1,2}):(\d{2}(?:\.\d*)?)$")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def parse_cell(cell: str, decimal_comma: bool = False):
    """Read one cell.

    Parameters
    ----------
    cell : str
        The cell as written, possibly padded or quoted.
    decimal_comma : bool
        Read ``0,5`` as 0.5 (files written with ``;`` separators by European spreadsheets).

    Returns
    -------
    float, ``MISSING`` or ``TEXT``
        ``MISSING`` for empty, ``""``, ``NA``, ``None``, ``null``; a float (possibly NaN or
        ±inf) for numbers, ``nan``, ``inf``, ``Infinity``, ``"NaN"`` and ``mm:ss`` /
        ``h:mm:ss`` durations (in seconds); ``TEXT`` otherwise.
    """
    s = cell.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        s = s[1:-1].strip()
    low = s.lower()
    if low in _MISSING_WORDS:
        return MISSING
    value = _NONFINITE.get(low)
    if value is not None:
        return value
    if decimal_comma and "," in s and "." not in s:
        s = s.replace(",", ".", 1)
    if _NUMBER.match(s):
        return float(s)
    m = _DURATION.match(s)
    if m:
        hours = int(m.group(1) or 0)
        return hours * 3600.0 + int(m.group(2)) * 60.0 + float(m.group(3))
    return TEXT


def decode(raw: bytes, path: str | None = None) -> str:
    """Decode a text log: UTF-8 or UTF-16 with a byte-order mark, else UTF-8, else Latin-1.

    Raises
    ------
    LrvizError
        If the bytes look binary (NUL bytes without a UTF-16 byte-order mark).
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise LrvizError(f"not valid {encoding} text", path) from exc
    if b"\x00" in raw[:65536]:
        raise LrvizError("binary file, not a text log", path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def split_lines(text: str) -> list[str]:
    """Split on LF (CR before it, even ``\\r\\r\\n``, is removed); old Mac files on CR.

    A final line without a newline is kept; a final empty string after the last newline is not.
    """
    if "\n" not in text and "\r" in text:
        lines = text.split("\r")
    else:
        lines = text.split("\n")
        lines = [line.rstrip("\r") for line in lines]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def iter_lines(text: str):
    """The lines of :func:`split_lines`, one at a time (the header of a 16 MB head is read
    without splitting all the rest)."""
    sep = "\r" if "\n" not in text and "\r" in text else "\n"
    pos = 0
    while pos < len(text):
        end = text.find(sep, pos)
        if end < 0:
            end = len(text)
        line = text[pos:end]
        if sep == "\n":
            line = line.rstrip("\r")
            if end == len(text) and not line:
                return  # a last piece of nothing but CRs is no line (as split_lines has it)
        yield line
        pos = end + 1


def sniff_delimiter(header: str) -> str:
    """Pick the separator of a CSV/TSV from its header line: tab, ``;``, ``|`` or comma."""
    counts = {}
    in_quote = False
    for ch in header:
        if ch == '"':
            in_quote = not in_quote
        elif not in_quote and ch in ",;\t|":
            counts[ch] = counts.get(ch, 0) + 1
    if not counts:
        return ","
    best = max(counts.values())
    for ch in (",", "\t", ";", "|"):
        if counts.get(ch) == best:
            return ch
    return ","


def split_row(line: str, sep: str, limit: int | None = None) -> list[str]:
    """Split one CSV line into cells, honouring double quotes (quotes are removed, ``""`` is a
    quote inside a quoted cell).

    With ``limit``, at most ``limit + 1`` cells: the last is the rest of the line as written.
    Works on the pieces between quotes (``str.split`` and ``str.find``), never character by
    character: time linear in the line, memory in its cells.
    """
    if '"' not in line:
        return line.split(sep) if limit is None else line.split(sep, limit)
    cells: list[str] = []
    cur: list[str] = []
    parts = line.split('"')  # even pieces are outside quotes, odd ones inside
    last = len(parts) - 1
    pos = 0  # where the piece starts in the line
    for k, part in enumerate(parts):
        if k % 2:
            cur.append(part)
        elif part or k in (0, last):
            start = 0
            while True:
                j = part.find(sep, start)
                if j < 0:
                    cur.append(part[start:])
                    break
                cur.append(part[start:j])
                cells.append("".join(cur))
                cur = []
                start = j + 1
                if limit is not None and len(cells) == limit:
                    cells.append(line[pos + start :])
                    return cells
        else:
            cur.append('"')  # nothing between two quoted pieces: `""` inside quotes
        pos += len(part) + 1
    cells.append("".join(cur))
    return cells


def quotes_balanced(line: str) -> bool:
    """False when a line ends inside a quoted field (it was cut off)."""
    return line.count('"') % 2 == 0


def clean_name(name: str) -> str:
    """A column name without padding or surrounding quotes."""
    s = name.strip()
    if len(s) >= 2 and s[0] == s[-1] == '"':
        s = s[1:-1].strip()
    return s
