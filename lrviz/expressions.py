"""User formulas: a safe parser, a straight-line program, and exact gradients over many runs.

A formula is a function of ``x`` (1-D), ``x, y`` (2-D) or ``w[0] … w[n-1]`` (n-D). It is read
by a small hand-written parser (never ``eval``/``exec``, never Python's own parser) into a
straight-line program: each instruction applies one allow-listed numpy function to earlier
results. Evaluating the program is one loop over that list, for every run at once; the
gradient is the same loop run backwards (reverse mode), so it is exact up to rounding.

Grammar (Python's precedence; ``-x**2`` is ``-(x**2)``, ``**`` groups from the right)::

    formula    := comparison
    comparison := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]     (no chains)
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | power
    power      := atom ["**" unary]
    atom       := number | "x" | "y" | "w" "[" integer "]" | "pi" | "e"
                | function "(" formula ("," formula)* ")" | "(" formula ")"

Numbers are decimal (``3``, ``0.5``, ``.5``, ``1e-3``). Comparisons give 1.0 or 0.0 and are
allowed anywhere (``(x > 0) * x`` is a ReLU); ``where(c, a, b)`` is ``a`` where ``c`` is
non-zero, else ``b``.

Limits, each reported with the column it trips at: :data:`MAX_LENGTH` characters,
:data:`MAX_NODES` operations, :data:`MAX_DEPTH` levels of nesting (parentheses, calls,
signs and exponents), constant exponents within ±:data:`MAX_EXPONENT`, ``w`` indices below
:data:`MAX_DIM`. A part of the formula without variables is computed once while parsing and
must be a finite number (``1/0`` and ``exp(1000)`` are errors, not a silent inf).

Derivatives where the function is not differentiable (subgradient conventions):

- ``abs(u)``: 0 at ``u = 0``.
- ``minimum(a, b)``, ``maximum(a, b)``: the chosen argument gets the whole gradient; on a tie
  each gets half (so ``minimum(u, u)`` differentiates like ``u``).
- ``where(c, a, b)``: the gradient flows into the chosen branch only; the condition and the
  comparisons have zero gradient (they are piecewise constant).
- in the chain rule a zero factor wins over an infinite or NaN one: a branch that gets no
  gradient passes none on (``where(x > 0, sqrt(x), 0)`` has gradient 0 at ``x = -1``, not
  NaN), and a flat inner function silences an infinite outer slope (``sqrt(x**2)`` has
  gradient 0 at 0, like ``abs``).
  Reverse mode sees factors, not sums: in ``(x - x)**0.5`` the infinite slope of the power
  meets ``1 - 1``, a zero made of two partials, and the gradient is NaN there.
- ``u ** v`` with ``v`` depending on the variables: ``d/dv = u**v * log(u)`` for ``u > 0``,
  0 for ``u = 0``, NaN for ``u < 0`` (no real derivative there).
- ``sqrt(u)`` at 0 and ``u ** c`` for ``c < 1`` at 0: infinite, as in the maths.

Everything is computed in float64 with numpy's rules: outside a function's domain the value
is NaN (``log(-1)``) or infinite, which the engine treats as a diverged run. Nothing raises
while evaluating.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from lrviz.errors import LrvizError

MAX_LENGTH = 2000  # characters
MAX_NODES = 1000  # numbers, variables and operations
MAX_DEPTH = 40  # nested parentheses, calls, signs and exponents
MAX_EXPONENT = 100.0  # |c| in u ** c when c is a constant
MAX_DIM = 10_000  # w[i] needs i < MAX_DIM

# Error excerpts show this many characters either side of the offending column.
_EXCERPT_RADIUS = 30


class ExpressionError(LrvizError, ValueError):
    """A formula that cannot be read, with the 1-based column where reading stopped.

    Attributes
    ----------
    reason : str
        What is wrong, without the position (for a tooltip or a status line).
    formula : str
        The text that was read.
    column : int
        1-based column of the first offending character (``len(formula) + 1``: the end).
    length : int
        How many characters the offending part spans (at least 1), for highlighting.
    """

    def __init__(
        self, reason: str, formula: str, column: int, length: int = 1, advice: str = ""
    ) -> None:
        self.reason = reason
        self.formula = formula
        self.length = max(1, int(length))
        # The advice (e.g. the list of allowed names) goes after the excerpt, so a long list
        # never pushes the position out of a narrow status line.
        tail = f" ({advice})" if advice else ""
        super().__init__(
            f"formula, column {column}: {reason}: {_excerpt(formula, column)}{tail}",
            column=column,
        )

    def caret_lines(self) -> tuple[str, str]:
        """The formula and a line of ``^`` under the offending part (for a monospace label)."""
        text = _printable(self.formula)
        assert self.column is not None
        return text, " " * (self.column - 1) + "^" * self.length


def _printable(text: str) -> str:
    # One character stays one character, so columns still line up.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _excerpt(text: str, column: int) -> str:
    """The text around ``column`` with ``>>>`` just before the offending character."""
    index = column - 1
    lo = max(0, index - _EXCERPT_RADIUS)
    hi = min(len(text), index + _EXCERPT_RADIUS)
    before = ("..." if lo > 0 else "") + _printable(text[lo:index])
    after = _printable(text[index:hi]) + ("..." if hi < len(text) else "")
    return f"{before}>>>{after}" if after else f"{before}>>> (end)"


# ---------------------------------------------------------------------------------------
# Operations: the allow-list. Each has a forward function of numpy arrays (or float64
# scalars, for folding constants) and a partial derivative: (k, args, out) -> d out / d
# args[k], or None where no gradient flows (conditions, comparisons). The backward pass
# multiplies it by the output's gradient, with 0 * inf taken as 0 (see _chain_zero_wins).


def _sigmoid(a):
    return np.exp(-np.logaddexp(0.0, -a))  # never overflows, unlike 1 / (1 + exp(-a))


def _softplus(a):
    return np.logaddexp(0.0, a)


def _where(c, a, b):
    return np.where(c != 0, a, b)


def _compare(ufunc):
    return lambda a, b: np.where(ufunc(a, b), 1.0, 0.0)


def _pow_partial(k, args, out):
    base, exponent = args
    if k == 0:
        if np.ndim(exponent) == 0:
            # u ** 0 is 1 everywhere, even at u = 0 (where 0 * 0**-1 would be NaN)
            return 0.0 if exponent == 0 else exponent * np.power(base, exponent - 1.0)
        return np.where(exponent == 0, 0.0, exponent * np.power(base, exponent - 1.0))
    positive = base > 0
    log_base = np.log(np.where(positive, base, 1.0))
    return np.where(positive, out * log_base, np.where(base == 0, 0.0, np.nan))


def _tie_split(mine, other, wins):
    """Gradient share of ``mine`` in minimum/maximum: all when it wins, half on a tie."""
    return np.where(wins(mine, other), 1.0, np.where(mine == other, 0.5, 0.0))


def _min_partial(k, args, out):
    a, b = args
    return _tie_split(a, b, np.less) if k == 0 else _tie_split(b, a, np.less)


def _max_partial(k, args, out):
    a, b = args
    return _tie_split(a, b, np.greater) if k == 0 else _tie_split(b, a, np.greater)


def _where_partial(k, args, out):
    if k == 0:
        return None  # the condition is piecewise constant
    chosen = args[0] != 0
    return np.where(chosen, 1.0, 0.0) if k == 1 else np.where(chosen, 0.0, 1.0)


def _no_gradient(k, args, out):
    return None


@dataclass(frozen=True)
class _Operation:
    forward: Callable
    partial: Callable  # (k, args, out) -> d out / d args[k], or None


_OPERATIONS: dict[str, _Operation] = {
    "+": _Operation(np.add, lambda k, a, out: 1.0),
    "-": _Operation(np.subtract, lambda k, a, out: 1.0 if k == 0 else -1.0),
    "*": _Operation(np.multiply, lambda k, a, out: a[1 - k]),
    "/": _Operation(np.divide, lambda k, a, out: 1.0 / a[1] if k == 0 else -out / a[1]),
    "**": _Operation(np.power, _pow_partial),
    "square": _Operation(np.square, lambda k, a, out: 2.0 * a[0]),  # u**2, set by the builder
    "neg": _Operation(np.negative, lambda k, a, out: -1.0),
    "sin": _Operation(np.sin, lambda k, a, out: np.cos(a[0])),
    "cos": _Operation(np.cos, lambda k, a, out: -np.sin(a[0])),
    "tan": _Operation(np.tan, lambda k, a, out: 1.0 + out * out),
    "exp": _Operation(np.exp, lambda k, a, out: out),
    "log": _Operation(np.log, lambda k, a, out: 1.0 / a[0]),
    "log1p": _Operation(np.log1p, lambda k, a, out: 1.0 / (1.0 + a[0])),
    "sqrt": _Operation(np.sqrt, lambda k, a, out: 0.5 / out),
    "abs": _Operation(np.abs, lambda k, a, out: np.sign(a[0])),
    "tanh": _Operation(np.tanh, lambda k, a, out: 1.0 - out * out),
    "sigmoid": _Operation(_sigmoid, lambda k, a, out: out * (1.0 - out)),
    "softplus": _Operation(_softplus, lambda k, a, out: np.exp(a[0] - out)),
    "minimum": _Operation(np.minimum, _min_partial),
    "maximum": _Operation(np.maximum, _max_partial),
    "where": _Operation(_where, _where_partial),
    "<": _Operation(_compare(np.less), _no_gradient),
    "<=": _Operation(_compare(np.less_equal), _no_gradient),
    ">": _Operation(_compare(np.greater), _no_gradient),
    ">=": _Operation(_compare(np.greater_equal), _no_gradient),
    "==": _Operation(_compare(np.equal), _no_gradient),
    "!=": _Operation(_compare(np.not_equal), _no_gradient),
}

#: Function names and how many arguments each takes.
FUNCTIONS: dict[str, int] = {
    "sin": 1,
    "cos": 1,
    "tan": 1,
    "exp": 1,
    "log": 1,
    "log1p": 1,
    "sqrt": 1,
    "abs": 1,
    "tanh": 1,
    "sigmoid": 1,
    "softplus": 1,
    "minimum": 2,
    "maximum": 2,
    "where": 3,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
# Names people reach for, and what to write instead.
_HINTS = {
    "ln": "log",
    "pow": "**",
    "max": "maximum",
    "min": "minimum",
    "relu": "maximum(u, 0)",
    "np": "plain function names, e.g. sin(x)",
    "math": "plain function names, e.g. sin(x)",
}
_ALLOWED = "allowed: x, y, w[0], w[1], ..., pi, e and " + ", ".join(FUNCTIONS)


# ---------------------------------------------------------------------------------------
# Tokens


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op" or "end"
    text: str
    column: int  # 1-based

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the formula"
        return f"{self.kind} {self.text!r}" if self.kind != "op" else repr(self.text)


_TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\*\*|<=|>=|==|!=|[-+*/()\[\],<>])"
)

# Characters that are not part of the grammar, with what they would mean in Python.
_BAD_CHARACTERS = {
    "^": "'^' is not a power: write ** (x**2)",
    ".": "attribute access is not allowed",
    "'": "strings are not allowed",
    '"': "strings are not allowed",
    "=": "'=' is not allowed: write == to compare",
    "!": "'!' is only allowed in !=",
    ":": "':' is not allowed (no slices, lambdas or dictionaries)",
    ";": "';' is not allowed: a formula is one expression",
    "{": "braces are not allowed",
    "}": "braces are not allowed",
    "%": "'%' is not allowed",
    "@": "'@' is not allowed",
    "&": "'&' is not allowed: combine conditions with where(...) or *",
    "|": "'|' is not allowed",
    "~": "'~' is not allowed",
    "#": "comments are not allowed",
    "\\": "backslashes are not allowed",
}


def _tokens(text: str) -> Iterator[_Token]:
    """Tokens of ``text`` one at a time, so an early error is reported before later junk."""
    position = 0
    while position < len(text):
        if text.startswith("//", position):
            raise ExpressionError("'//' is not allowed: write /", text, position + 1, 2)
        match = _TOKEN.match(text, position)
        if match is None:
            ch = text[position]
            if ch in "\r\n":
                reason = "the formula must be on one line"
            else:
                reason = _BAD_CHARACTERS.get(ch, f"character {ch!r} is not allowed")
            raise ExpressionError(reason, text, position + 1)
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            yield _Token(kind, match.group(), position + 1)
        position = match.end()
    yield _Token("end", "", len(text) + 1)


# ---------------------------------------------------------------------------------------
# The program


@dataclass(frozen=True)
class _Step:
    """One instruction, resolved: output slot, functions, argument slots, and which
    arguments (position k, slot) can carry gradient (the non-constant ones)."""

    slot: int
    forward: Callable
    partial: Callable
    args: tuple[int, ...]
    differentiable: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Program:
    """A straight-line program over slots: constants, variables, then instructions.

    Every instruction depends on at least one variable (parts without variables were
    folded into constants while parsing), so the backward pass never visits constants.
    """

    template: tuple  # the value of each constant slot, None elsewhere
    variables: tuple[tuple[int, int], ...]  # (slot, coordinate)
    steps: tuple[_Step, ...]
    result: int

    def forward(self, weights: np.ndarray) -> list:
        values = list(self.template)
        for slot, coordinate in self.variables:
            values[slot] = weights[:, coordinate]
        for step in self.steps:
            values[step.slot] = step.forward(*[values[a] for a in step.args])
        return values

    def gradient(self, values: list, runs: int, dim: int) -> np.ndarray:
        """Reverse mode. The plain chain rule first; only if that leaves a non-finite
        entry, again with the rule that a zero factor wins (:func:`_chain_zero_wins`).
        Both agree whenever the first is finite: a non-finite product stays non-finite
        on every path to a variable (sums and products keep it so), unless a condition
        cuts the path, where neither pass lets it through."""
        grad = self._backward(values, runs, dim, _chain)
        if not np.all(np.isfinite(grad)):
            grad = self._backward(values, runs, dim, _chain_zero_wins)
        return grad

    def _backward(self, values: list, runs: int, dim: int, chain: Callable) -> np.ndarray:
        adjoints: list = [None] * len(values)
        adjoints[self.result] = np.ones(runs)
        for step in reversed(self.steps):
            g = adjoints[step.slot]
            if g is None:
                continue
            arg_values = [values[a] for a in step.args]
            out = values[step.slot]
            for k, arg in step.differentiable:
                contribution = chain(g, step.partial(k, arg_values, out))
                if contribution is None:
                    continue
                previous = adjoints[arg]
                adjoints[arg] = contribution if previous is None else previous + contribution
        grad = np.zeros((runs, dim))
        for slot, coordinate in self.variables:
            if adjoints[slot] is not None:
                grad[:, coordinate] = adjoints[slot]
        return grad


def _chain(g, local):
    """One step of the chain rule, ``g * local`` (None: no gradient flows)."""
    if local is None:
        return None
    if isinstance(local, float):  # constants and the +-1 of sums: no array product needed
        if local == 1.0:
            return g
        if local == -1.0:
            return -g
    return g * local


def _chain_zero_wins(g, local):
    """:func:`_chain` where a zero factor wins: 0 * inf is 0.

    That is the derivative of the composite wherever either factor is an exact zero: no
    gradient reaches a branch that ``where`` did not choose (``where(x > 0, sqrt(x), 0)``
    at x = -1), and an inner function that is flat at the point silences an infinite outer
    slope (``sqrt(x**2)`` at 0 has gradient 0, like ``abs``)."""
    contribution = _chain(g, local)
    if contribution is None or np.all(np.isfinite(contribution)):
        return contribution
    return np.where((g == 0) | (local == 0), 0.0, contribution)


class _ProgramBuilder:
    """Appends slots while parsing; folds constant parts and shares repeated ones."""

    def __init__(self) -> None:
        self.constants: list[tuple[int, float]] = []
        self.variables: list[tuple[int, int]] = []
        self.instructions: list[tuple[int, str, tuple[int, ...]]] = []
        self.value_of: list[float | None] = []  # the value of constant slots, else None
        self.shared: dict[tuple, int] = {}

    def _new_slot(self, key: tuple, value: float | None) -> int:
        slot = len(self.value_of)
        self.value_of.append(value)
        self.shared[key] = slot
        return slot

    def constant(self, value: float) -> int:
        # The sign of zero is kept apart: 1/(-0.0) and 1/0.0 differ.
        key = ("const", value, math.copysign(1.0, value))
        if key in self.shared:
            return self.shared[key]
        slot = self._new_slot(key, value)
        self.constants.append((slot, value))
        return slot

    def variable(self, coordinate: int) -> int:
        key = ("var", coordinate)
        if key in self.shared:
            return self.shared[key]
        slot = self._new_slot(key, None)
        self.variables.append((slot, coordinate))
        return slot

    def operation(self, op: str, args: tuple[int, ...]) -> tuple[int, float | None]:
        """The slot of ``op(args)``, and its value when every argument is a constant."""
        values = [self.value_of[a] for a in args]
        if all(v is not None for v in values):
            with np.errstate(all="ignore"):
                folded = float(_OPERATIONS[op].forward(*[np.float64(v) for v in values]))
            return self.constant(folded), folded
        key = (op, args)
        if key in self.shared:
            return self.shared[key], None
        slot = self._new_slot(key, None)
        self.instructions.append((slot, op, args))
        return slot, None

    def build(self, result: int) -> _Program:
        template: list = [None] * len(self.value_of)
        for slot, value in self.constants:
            template[slot] = value
        steps = []
        for slot, op, args in self.instructions:
            if op == "**" and self.value_of[args[1]] == 2.0:
                op, args = "square", args[:1]  # the commonest power, without pow()
            operation = _OPERATIONS[op]
            differentiable = tuple((k, a) for k, a in enumerate(args) if self.value_of[a] is None)
            steps.append(_Step(slot, operation.forward, operation.partial, args, differentiable))
        return _Program(tuple(template), tuple(self.variables), tuple(steps), result)


# ---------------------------------------------------------------------------------------
# The parser


@dataclass(frozen=True)
class _Part:
    """A parsed piece of the formula: its slot and the columns it spans [start, end)."""

    slot: int
    start: int
    end: int


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.stream = _tokens(text)
        self.token = next(self.stream)
        self.previous_end = 1
        self.depth = 0
        self.nodes = 0
        self.program = _ProgramBuilder()
        self.style: str | None = None  # "xy" or "w": the first variable seen decides
        self.coordinates: set[int] = set()

    # -- helpers

    def fail(self, reason: str, column: int, length: int = 1, advice: str = ""):
        raise ExpressionError(reason, self.text, column, length, advice)

    def advance(self) -> _Token:
        token = self.token
        self.previous_end = token.column + len(token.text)
        self.token = next(self.stream)
        return token

    def at(self, *texts: str) -> bool:
        return self.token.kind == "op" and self.token.text in texts

    def expect(self, text: str, context: str) -> _Token:
        if not self.at(text):
            self.fail(f"expected {text!r} {context}, found {self.token.describe()}", *self._span())
        return self.advance()

    def _span(self) -> tuple[int, int]:
        return self.token.column, max(1, len(self.token.text))

    def count_node(self, column: int) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(f"the formula is too large (more than {MAX_NODES} operations)", column)

    def operation(self, op: str, parts: list[_Part], column: int) -> _Part:
        self.count_node(column)
        slot, value = self.program.operation(op, tuple(p.slot for p in parts))
        start, end = min(p.start for p in parts), self.previous_end
        start = min(start, column)
        if value is not None and not math.isfinite(value):
            piece = self.text[start - 1 : end - 1]
            self.fail(f"{piece!r} is not a finite number ({value})", start, end - start)
        return _Part(slot, start, end)

    # -- grammar

    def parse(self) -> _Part:
        part = self.comparison()
        if self.token.kind != "end":
            self.fail(f"unexpected {self.token.describe()}", *self._span())
        if self.style is None:
            self.fail("the formula has no variable: use x, y or w[0], w[1], ...", 1)
        return part

    def comparison(self) -> _Part:
        left = self.sum()
        if self.at(*_COMPARISONS):
            op = self.advance()
            right = self.sum()
            if self.at(*_COMPARISONS):
                self.fail("comparisons cannot be chained: nest them with where(...)", *self._span())
            return self.operation(op.text, [left, right], op.column)
        return left

    def sum(self) -> _Part:
        left = self.product()
        while self.at("+", "-"):
            op = self.advance()
            left = self.operation(op.text, [left, self.product()], op.column)
        return left

    def product(self) -> _Part:
        left = self.unary()
        while self.at("*", "/"):
            op = self.advance()
            left = self.operation(op.text, [left, self.unary()], op.column)
        return left

    def unary(self) -> _Part:
        # Every nesting (parentheses, calls, signs, exponents) passes through here.
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                self.fail(
                    f"the formula is nested too deeply (more than {MAX_DEPTH} levels)",
                    self.token.column,
                )
            if self.at("-", "+"):
                sign = self.advance()
                operand = self.unary()
                if sign.text == "+":
                    return _Part(operand.slot, sign.column, operand.end)
                return self.operation("neg", [operand], sign.column)
            return self.power()
        finally:
            self.depth -= 1

    def power(self) -> _Part:
        base = self.atom()
        self.reject_juxtaposition()
        if not self.at("**"):
            return base
        op = self.advance()
        exponent = self.unary()
        value = self.program.value_of[exponent.slot]
        if value is not None and abs(value) > MAX_EXPONENT:
            self.fail(
                f"the exponent {value:g} is too large (at most {MAX_EXPONENT:g} in size)",
                exponent.start,
                exponent.end - exponent.start,
            )
        return self.operation("**", [base, exponent], op.column)

    def reject_juxtaposition(self) -> None:
        """An operand followed directly by another: give the likely intent."""
        token = self.token
        if token.kind == "op" and token.text == "[":
            self.fail("subscripts are only allowed as w[<integer>]", token.column)
        if token.kind == "op" and token.text == "(":
            self.fail("missing operator before '(' (write 2*(x+1), not 2(x+1))", token.column)
        if token.kind in ("number", "name"):
            self.fail(
                f"missing operator before {token.describe()} (write 2*x, not 2x)",
                *self._span(),
            )

    def atom(self) -> _Part:
        token = self.token
        if token.kind == "number":
            self.advance()
            self.count_node(token.column)
            value = float(token.text)
            if not math.isfinite(value):
                self.fail(f"the number {token.text} is too large", token.column, len(token.text))
            return _Part(self.program.constant(value), token.column, self.previous_end)
        if token.kind == "name":
            return self.name()
        if self.at("("):
            self.advance()
            inner = self.comparison()
            self.expect(")", f"to close the '(' at column {token.column}")
            return _Part(inner.slot, token.column, self.previous_end)
        if token.kind == "end":
            self.fail("the formula ends where a value is expected", token.column)
        self.fail(f"expected a number, a variable or '(', found {token.describe()}", *self._span())
        raise AssertionError  # unreachable: fail raises

    def name(self) -> _Part:
        token = self.token
        name = token.text
        span = (token.column, len(name))
        known = name in FUNCTIONS or name in CONSTANTS or name in ("x", "y", "w")
        if not known:
            # Judged before reading on, so `lambda: 0` or `__import__('os')` are refused for
            # the name itself, not for whatever junk follows it.
            self.fail(f"unknown name {name!r}{self.hint(name)}", *span, advice=_ALLOWED)
        self.advance()
        if name in FUNCTIONS:
            return self.call(token)
        if self.at("("):
            self.fail(f"{name!r} is not a function", *span)
        self.count_node(token.column)
        if name in CONSTANTS:
            return _Part(self.program.constant(CONSTANTS[name]), token.column, self.previous_end)
        if name == "w":
            self.use_style("w", token)
            return self.subscript(token)
        self.use_style("xy", token)
        return self.variable(0 if name == "x" else 1, token.column)

    @staticmethod
    def hint(name: str) -> str:
        return f" (use {_HINTS[name]})" if name in _HINTS else ""

    def use_style(self, style: str, token: _Token) -> None:
        if self.style is None:
            self.style = style
        elif self.style != style:
            self.fail(
                "use either x, y or w[0], w[1], ... in one formula, not both",
                token.column,
                len(token.text),
            )

    def variable(self, coordinate: int, column: int) -> _Part:
        self.coordinates.add(coordinate)
        return _Part(self.program.variable(coordinate), column, self.previous_end)

    def subscript(self, w: _Token) -> _Part:
        if not self.at("["):
            self.fail("write w with an index: w[0], w[1], ...", w.column)
        self.advance()
        index = self.token
        if index.kind != "number" or not index.text.isdigit():
            self.fail(
                f"the index of w must be a whole number from 0 to {MAX_DIM - 1}", *self._span()
            )
        if int(index.text) >= MAX_DIM:
            self.fail(
                f"w[{index.text}] is beyond the limit of {MAX_DIM} coordinates", *self._span()
            )
        self.advance()
        self.expect("]", "after the index of w")
        return self.variable(int(index.text), w.column)

    def call(self, function: _Token) -> _Part:
        name = function.text
        if not self.at("("):
            self.fail(f"{name} is a function: write {name}(...)", function.column, len(name))
        opening = self.advance()
        self.depth += 1  # a call nests like a parenthesis
        try:
            args: list[_Part] = []
            if not self.at(")"):
                args.append(self.comparison())
                while self.at(","):
                    self.advance()
                    args.append(self.comparison())
            self.expect(")", f"to close {name}( at column {opening.column}")
        finally:
            self.depth -= 1
        arity = FUNCTIONS[name]
        if len(args) != arity:
            plural = "s" if arity != 1 else ""
            self.fail(
                f"{name} takes {arity} argument{plural}, got {len(args)}",
                function.column,
                self.previous_end - function.column,
            )
        return self.operation(name, args, function.column)


# ---------------------------------------------------------------------------------------
# The public face


@dataclass(frozen=True, eq=False)
class Formula:
    """A parsed formula: evaluate it, and its exact gradient, for many points at once.

    Attributes
    ----------
    text : str
        The formula as typed.
    dim : int
        Number of coordinates: 1 for ``x``, 2 when ``y`` appears, ``max i + 1`` for ``w[i]``.
    variables : tuple of str
        The coordinate names, e.g. ``("x", "y")`` or ``("w[0]", "w[1]", "w[2]")``.
    """

    text: str
    dim: int
    variables: tuple[str, ...]
    _program: _Program

    @property
    def operations(self) -> int:
        """Instructions executed per evaluation (after folding and sharing)."""
        return len(self._program.steps)

    def evaluation_bytes(self, runs: int) -> int:
        """Peak memory of one :meth:`value_and_grad` on ``runs`` rows, to within a small
        factor: the forward pass keeps one (runs,) array per instruction for the backward
        pass, which adds one adjoint per instruction and variable, and the (runs, dim)
        gradient."""
        arrays = 2 * self.operations + len(self._program.variables) + 2 * self.dim
        return 8 * runs * arrays

    def value(self, points) -> np.ndarray:
        """The formula at ``points`` of shape (..., dim) -> shape (...). For contour grids."""
        points = self._as_points(points)
        flat = points.reshape(-1, self.dim)
        with np.errstate(all="ignore"):
            values = self._program.forward(flat)
        return self._result(values, flat.shape[0]).reshape(points.shape[:-1])

    def value_and_grad(self, points) -> tuple[np.ndarray, np.ndarray]:
        """Values (R,) and exact gradients (R, dim) at ``points`` of shape (R, dim)."""
        points = self._as_points(points)
        if points.ndim != 2:
            raise ValueError(f"points must have shape (runs, {self.dim}), got {points.shape}")
        runs = points.shape[0]
        with np.errstate(all="ignore"):
            values = self._program.forward(points)
            grad = self._program.gradient(values, runs, self.dim)
        return self._result(values, runs), grad

    def grid(self, xs, ys=None) -> np.ndarray:
        """Values on a grid, for contour plots: ``z[i, j] = f(xs[j], ys[i])`` in 2-D,
        ``z[j] = f(xs[j])`` in 1-D."""
        xs = np.asarray(xs, dtype=np.float64)
        if self.dim == 1:
            return self.value(xs[:, None])
        if self.dim != 2 or ys is None:
            raise ValueError(f"a grid needs a 1-D or 2-D formula and both axes (dim {self.dim})")
        gx, gy = np.meshgrid(xs, np.asarray(ys, dtype=np.float64))
        return self.value(np.stack([gx, gy], axis=-1))

    def _as_points(self, points) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        if points.ndim < 1 or points.shape[-1] != self.dim:
            raise ValueError(
                f"points must end in {self.dim} coordinates ({', '.join(self.variables)}), "
                f"got shape {points.shape}"
            )
        return points

    def _result(self, values: list, runs: int) -> np.ndarray:
        out = values[self._program.result]
        return np.array(np.broadcast_to(out, (runs,)), dtype=np.float64)

    def __repr__(self) -> str:
        return f"Formula({self.text!r}, dim={self.dim})"


def parse_formula(text: str) -> Formula:
    """Read ``text`` into a :class:`Formula`; raises :class:`ExpressionError` naming the
    column of the first problem. Nothing in the text is ever executed."""
    if not isinstance(text, str):
        raise TypeError(f"a formula is text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the formula is longer than {MAX_LENGTH} characters ({len(text)})",
            text,
            MAX_LENGTH + 1,
        )
    if not text.strip():
        raise ExpressionError("the formula is empty", text, 1)
    parser = _Parser(text)
    result = parser.parse()
    program = parser.program.build(result.slot)
    if parser.style == "w":
        dim = max(parser.coordinates) + 1
        names = tuple(f"w[{i}]" for i in range(dim))
    else:
        dim = 2 if 1 in parser.coordinates else 1
        names = ("x", "y")[:dim]
    return Formula(text=text, dim=dim, variables=names, _program=program)


def formula_problem(text: str) -> ExpressionError | None:
    """None when ``text`` is a valid formula, else the error (for live validation)."""
    try:
        parse_formula(text)
    except ExpressionError as exc:
        return exc
    return None


__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_DIM",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "MAX_NODES",
    "ExpressionError",
    "Formula",
    "formula_problem",
    "parse_formula",
]
