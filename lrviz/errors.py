"""The one error type users see: a clear, one-line message, never a traceback."""

from __future__ import annotations


class LrvizError(Exception):
    """A problem with the user's input, described in one line.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    path : str, optional
        The file concerned.
    line, column : int, optional
        1-based position in that file, where known.
    """

    def __init__(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return (where + self.message).replace("\n", " ")
