"""Reading JSON logs piece by piece: JSON lines, and a ``trainer_state.json`` whose
``log_history`` entries are handed over one at a time.

Memory then holds a window of the text and the columns built so far, never the whole text and
every parsed object at once. Errors name the line and column in the file, like ``json.loads``.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterable, Iterator

from lrviz.errors import LrvizError
from lrviz.loaders.fileio import MAX_LINE_BYTES
from lrviz.loaders.records import huge_integer_at, loads

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
#: How close to the end of the text window a parse error must be to mean "cut by the window"
#: (the longest token is ``-Infinity``).
_CUT_MARGIN = 16
_HISTORY = "log_history"


def _binary(path: str | None) -> LrvizError:
    return LrvizError("binary file, not a text log", path)


def _text(line: bytes) -> str:
    """A line as text: UTF-8, else Latin-1 (each line on its own)."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def iter_json_lines(
    chunks: Iterable[bytes],
    path: str | None = None,
    first_line: int = 1,
    last_may_be_cut: bool = True,
) -> Iterator[tuple[int, dict]]:
    """(line number, object) of every JSON-lines record in the bytes ``chunks`` make up.

    Blank lines are skipped, and lines holding something other than an object. A final line
    that does not parse (cut off while being written) is ignored when ``last_may_be_cut``; a
    bad line anywhere else raises LrvizError with its line and column.

    Raises
    ------
    LrvizError
        A bad line, a line longer than :data:`~lrviz.loaders.fileio.MAX_LINE_BYTES`, or NUL
        bytes in the first 64 KB (a binary file).
    """
    carry = b""
    lineno = first_line - 1
    pending: LrvizError | None = None
    first = True
    for chunk in chunks:
        if first and chunk:
            first = False
            if chunk.startswith(b"\xef\xbb\xbf"):
                chunk = chunk[3:]
            if b"\x00" in chunk[:65536]:
                raise _binary(path)
        data = carry + chunk if carry else chunk
        lines = data.split(b"\n")
        carry = lines.pop()
        if len(carry) > MAX_LINE_BYTES:
            raise LrvizError(
                f"line longer than {MAX_LINE_BYTES >> 20} MB: not a JSON-lines log",
                path,
                lineno + len(lines) + 1,
            )
        for raw in lines:
            lineno += 1
            if not raw.strip():
                continue
            if pending is not None:
                raise pending
            record, pending = _parse_line(raw, path, lineno)
            if record is not None:
                yield lineno, record
    if carry.strip():
        lineno += 1
        if pending is not None:
            raise pending
        record, pending = _parse_line(carry, path, lineno)
        if record is not None:
            yield lineno, record
    if pending is not None and not last_may_be_cut:
        raise pending


def _parse_line(raw: bytes, path: str | None, lineno: int) -> tuple[dict | None, LrvizError | None]:
    line = _text(raw)
    try:
        obj = loads(line.strip(), path, lineno)
    except LrvizError as exc:
        if exc.column is not None:  # point into the line as written, not as stripped
            exc.column += len(line) - len(line.lstrip())
            exc.args = (str(exc),)
        return None, exc
    return (obj if isinstance(obj, dict) else None), None


class _Window:
    """The decoded text of a file, read a chunk at a time; consumed text is dropped."""

    def __init__(self, chunks: Iterable[bytes], path: str | None) -> None:
        self._chunks = iter(chunks)
        self.path = path
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.text = ""
        self.pos = 0
        self._eof = False
        self._first = True
        self._line = 1  # line and column of text[0] in the file
        self._column = 1

    def more(self) -> bool:
        """Append the next chunk of the file; False at its end."""
        while not self._eof:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._eof = True
                added = self._decoder.decode(b"", True)
            else:
                if self._first and chunk:
                    self._first = False
                    if chunk.startswith(b"\xef\xbb\xbf"):
                        chunk = chunk[3:]
                    if b"\x00" in chunk[:65536]:
                        raise _binary(self.path)
                added = self._decoder.decode(chunk)
            if added:
                self._drop_consumed()
                self.text += added
                return True
        return False

    def _drop_consumed(self) -> None:
        if not self.pos:
            return
        gone = self.text[: self.pos]
        newlines = gone.count("\n")
        if newlines:
            self._line += newlines
            self._column = len(gone) - gone.rfind("\n")
        else:
            self._column += len(gone)
        self.text = self.text[self.pos :]
        self.pos = 0

    def where(self, at: int) -> tuple[int, int]:
        before = self.text[:at]
        newlines = before.count("\n")
        if newlines:
            return self._line + newlines, at - before.rfind("\n")
        return self._line, self._column + at

    def error(self, message: str, at: int | None = None) -> LrvizError:
        line, column = self.where(self.pos if at is None else at)
        return LrvizError(f"invalid JSON: {message}", self.path, line, column)

    def peek(self) -> str:
        """The next character that is not white space ("" at the end of the file)."""
        while True:
            self.pos = _SPACE.match(self.text, self.pos).end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def value(self):
        """Parse the JSON value after the current position (reading on when it is cut)."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - _CUT_MARGIN or exc.msg.startswith(
                    "Unterminated string"
                )
                if cut and self.more():
                    continue
                raise self.error(exc.msg, exc.pos) from None
            except RecursionError:
                raise self.error("nested too deeply") from None
            except ValueError:
                found = huge_integer_at(self.text, self.pos)
                at, digits = found if found else (self.pos, 0)
                raise self.error(f"an integer of {digits} digits (too long to read)", at) from None
            near_end = len(self.text) - end < _CUT_MARGIN
            if near_end and not isinstance(obj, (dict, list, str)) and self.more():
                continue  # a number or word near the window's end may go on ("0." of "0.5")
            self.pos = end
            return obj

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self.pos += 1


def read_trainer_state(
    chunks: Iterable[bytes], path: str | None, on_entry: Callable[[dict], None]
) -> object:
    """Parse a ``trainer_state.json``: each ``log_history`` entry that is an object goes to
    ``on_entry`` as soon as it is read.

    Returns
    -------
    dict or other
        The document's top-level keys, ``log_history`` as an empty list when it was a list
        (its entries went to ``on_entry``); a document that is not an object, as parsed.

    Raises
    ------
    LrvizError
        Invalid JSON, with line and column.
    """
    w = _Window(chunks, path)
    if w.peek() != "{":
        doc = w.value()
        if w.peek():
            raise w.error("Extra data")
        return doc
    w.pos += 1
    top: dict = {}
    if w.peek() == "}":
        w.pos += 1
    else:
        while True:
            if w.peek() != '"':
                raise w.error("Expecting property name enclosed in double quotes")
            key = w.value()
            w.expect(":", "Expecting ':' delimiter")
            if key == _HISTORY and w.peek() == "[":
                w.pos += 1
                _history(w, on_entry)
                top[key] = []
            else:
                top[key] = w.value()
            c = w.peek()
            w.pos += 1
            if c == "}":
                break
            if c != ",":
                w.pos -= 1
                raise w.error("Expecting ',' delimiter")
    if w.peek():
        raise w.error("Extra data")
    return top


def _history(w: _Window, on_entry: Callable[[dict], None]) -> None:
    if w.peek() == "]":
        w.pos += 1
        return
    while True:
        entry = w.value()
        if isinstance(entry, dict):
            on_entry(entry)
        c = w.peek()
        w.pos += 1
        if c == "]":
            return
        if c != ",":
            w.pos -= 1
            raise w.error("Expecting ',' delimiter")
