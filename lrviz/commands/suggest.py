"""``lrviz suggest``: read a saved LR-finder curve (``lr,loss`` CSV) and print suggestions."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from pathlib import Path

import numpy as np

from lrviz.errors import LrvizError
from lrviz.export import format_lr
from lrviz.suggest import RANGE_RULES, Suggestion, suggest

LR_NAMES = ("lr", "lrs", "learning_rate", "learning rate", "learningrate", "lr_find_lr")
LOSS_NAMES = ("loss", "losses", "smoothed_loss", "smooth_loss", "train_loss", "loss_smoothed")
MISSING = {"", "na", "n/a", "nan", "none", "null", "-nan"}
RULE_TEXT = {
    "start": "from where the loss starts to improve",
    "third": "from max / 3",
    "fourth": "from max / 4",
}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "suggest",
        help="suggest learning rates from a saved LR-finder curve",
        description="Read an LR range test curve (a CSV with lr and loss columns, as saved "
        "from fastai, torch-lr-finder or Lightning) and print the suggested lr and range.",
    )
    p.add_argument("file", help="CSV file with lr and loss columns")
    p.add_argument("--lr-col", default=None, help="name of the lr column (default: found)")
    p.add_argument("--loss-col", default=None, help="name of the loss column (default: found)")
    p.add_argument(
        "--input-smoothing",
        type=float,
        default=0.0,
        metavar="WEIGHT",
        help="the losses were saved smoothed with this EMA weight, undo it before reading: "
        "0.98 for fastai and Lightning, 0.95 for torch-lr-finder (default 0: raw losses)",
    )
    add_suggest_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=run)


def add_suggest_arguments(p: argparse.ArgumentParser) -> None:
    """Options of the reading shared by ``suggest`` and ``rangetest``."""
    p.add_argument(
        "--range-rule",
        choices=RANGE_RULES,
        default="start",
        help="bottom of the recommended range: where the loss starts to improve (start), "
        "max/3 (third) or max/4 (fourth); default %(default)s",
    )
    p.add_argument(
        "--smoothing",
        type=float,
        default=None,
        help="smoothing width in decades of lr (default 0.15, wider for sparse curves)",
    )


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.input_smoothing < 1.0:
        raise ValueError(f"--input-smoothing must be in [0, 1), got {args.input_smoothing}")
    lr, loss = read_curve(args.file, args.lr_col, args.loss_col)
    result = suggest(
        lr,
        loss,
        range_rule=args.range_rule,
        smoothing=args.smoothing,
        input_smoothing=args.input_smoothing,
    )
    if args.json:
        data = {
            "file": str(args.file),
            "points": int(lr.size),
            "input_smoothing": args.input_smoothing,
            **result.to_dict(),
        }
        json.dump(data, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    print(f"{args.file}: {lr.size} points")
    print_summary(result)
    return 0


def print_summary(result: Suggestion, stream=None) -> None:
    """Print a suggestion for people: the lr, the range, the other rules, the warnings."""
    out = stream or sys.stdout

    def fmt(value: float | None) -> str:
        return "-" if value is None else format_lr(value)

    if result.tested_range is not None:
        lo, hi = result.tested_range
        out.write(f"tested lr:         {fmt(lo)} .. {fmt(hi)}\n")
    out.write(f"suggested lr:      {fmt(result.suggested_lr)}  (confidence {result.confidence})\n")
    if result.max_lr is not None:
        out.write(
            f"recommended range: {fmt(result.min_lr)} .. {fmt(result.max_lr)}  "
            f"({RULE_TEXT[result.range_rule]} to where it turns up)\n"
        )
    others = ", ".join(f"{name} {fmt(value)}" for name, value in result.methods.items())
    out.write(f"other rules:       {others}\n")
    for warning in result.warnings:
        out.write(f"warning: {warning}\n")


def read_curve(path, lr_col: str | None = None, loss_col: str | None = None):
    """(lr, loss) float arrays from a range-test log; LrvizError naming the problem.

    Reads ``lr,loss`` CSVs with :func:`read_csv_curve`.
    """
    return read_csv_curve(path, lr_col, loss_col)


def read_csv_curve(path, lr_col: str | None = None, loss_col: str | None = None):
    """(lr, loss) float arrays from a CSV with a header naming an lr and a loss column.

    Copes with a UTF-8 BOM, ``,``/``;``/tab separators (decimal commas with ``;``), a pandas
    index column (``,lr,loss``), padded or quoted cells, trailing separators, CR/CRLF line
    ends, headers repeated mid-file and missing values (empty, NA, None, nan, inf).
    A file without a header is read as ``lr,loss`` when it has two numeric columns.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise LrvizError("is a folder, not a CSV file", path=str(path)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LrvizError(
            f"not a text file (undecodable byte at offset {exc.start})", path=str(path)
        ) from None
    if "\x00" in text:
        raise LrvizError("not a text file (contains NUL bytes)", path=str(path))
    text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    lines = [(number, line) for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    if not lines:
        raise LrvizError("empty file", path=str(path))
    delimiter = _delimiter(lines[0][1])
    rows = [
        (number, [cell.strip().strip('"').strip() for cell in cells])
        for number, cells in _split(lines, delimiter)
    ]
    header_number, header = rows[0]
    names = [name.lower() for name in header]
    if all(_is_number(cell, delimiter) for cell in header if cell):
        if lr_col or loss_col:
            raise LrvizError("has no header row to find the named columns in", path=str(path))
        numeric = [cell for cell in header if cell]
        if len(numeric) != 2:
            raise LrvizError(
                f"no header row, and {len(numeric)} columns: expected a header naming an lr "
                "and a loss column",
                path=str(path),
                line=header_number,
            )
        lr_index, loss_index, body = 0, 1, rows
        names = []
    else:
        lr_index = _column(names, lr_col, LR_NAMES, "lr", "--lr-col", path)
        loss_index = _column(names, loss_col, LOSS_NAMES, "loss", "--loss-col", path)
        body = rows[1:]
    lr_values, loss_values = [], []
    for number, cells in body:
        if names and [c.lower() for c in cells] == names:
            continue  # header repeated after an append
        lr_values.append(_number(cells, lr_index, delimiter, path, number, "lr"))
        loss_values.append(_number(cells, loss_index, delimiter, path, number, "loss"))
    if not lr_values:
        raise LrvizError("no data rows after the header", path=str(path))
    return np.array(lr_values, dtype=np.float64), np.array(loss_values, dtype=np.float64)


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _split(lines, delimiter):
    for number, line in lines:
        try:
            cells = next(csv.reader(io.StringIO(line), delimiter=delimiter))
        except (csv.Error, StopIteration):
            cells = line.split(delimiter)
        yield number, cells


def _column(names, wanted, candidates, role, option, path) -> int:
    if wanted is not None:
        key = wanted.strip().lower()
        if key in names:
            return names.index(key)
        raise LrvizError(
            f"no column named {wanted!r} (columns: {', '.join(n or '(unnamed)' for n in names)})",
            path=str(path),
        )
    for candidate in candidates:
        if candidate in names:
            return names.index(candidate)
    raise LrvizError(
        f"no {role} column found (columns: {', '.join(n or '(unnamed)' for n in names)}); "
        f"name it with {option}",
        path=str(path),
    )


def _parse(cell: str, delimiter: str) -> float:
    """A cell as a float; NaN for missing values. Raises ValueError if it is not a number."""
    key = cell.strip().lower()
    if key in MISSING:
        return math.nan
    if delimiter == ";":
        cell = cell.replace(",", ".")
    return float(cell)  # accepts inf, -inf, infinity, 1e-3, padded text


def _is_number(cell: str, delimiter: str) -> bool:
    try:
        _parse(cell, delimiter)
    except ValueError:
        return False
    return cell.strip().lower() not in MISSING


def _number(cells, index, delimiter, path, line, role) -> float:
    if index >= len(cells):
        return math.nan  # a short row: the value is missing
    try:
        return _parse(cells[index], delimiter)
    except ValueError:
        raise LrvizError(
            f"{role} value {cells[index]!r} is not a number", path=str(path), line=line
        ) from None
