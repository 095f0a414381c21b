"""User formulas: the parser accepts the grammar and refuses everything else, quickly and
with a position; values follow Python's precedence; gradients match finite differences."""

from __future__ import annotations

import ast
import math
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lrviz.errors import LrvizError
from lrviz.expressions import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_DIM,
    MAX_LENGTH,
    MAX_NODES,
    ExpressionError,
    formula_problem,
    parse_formula,
)

SOURCE = Path(__file__).resolve().parents[2] / "lrviz" / "expressions.py"


def rejection(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse_formula(text)
    return info.value


def assert_well_formed(error: ExpressionError, text: str) -> None:
    """One line, a column inside the text (or just past its end), the column in the words."""
    message = str(error)
    assert "\n" not in message and "\r" not in message
    assert 1 <= error.column <= len(text) + 1
    assert f"column {error.column}:" in message
    assert ">>>" in message  # the excerpt marks the spot
    formula_line, caret_line = error.caret_lines()
    assert len(formula_line) == len(text)
    assert caret_line.index("^") == error.column - 1


# --- what the grammar accepts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "point", "expected"),
    [
        ("x**2 + 10*y**2", (1.0, 2.0), 41.0),
        ("-x**2", (3.0,), -9.0),  # unary minus binds looser than **
        ("(-x)**2", (3.0,), 9.0),
        ("2**-1*x", (4.0,), 2.0),  # a sign may follow **
        ("x**3**2", (2.0,), 512.0),  # ** groups from the right
        ("x - y - 1", (5.0, 2.0), 2.0),  # - groups from the left
        ("x / y / 2", (8.0, 2.0), 2.0),
        ("--x", (3.0,), 3.0),
        ("+x", (3.0,), 3.0),
        ("1e-3*x + .5 + 5.*x", (2.0,), 0.002 + 0.5 + 10.0),
        ("2E2 * x", (1.0,), 200.0),
        ("pi*x + e", (1.0,), math.pi + math.e),
        ("(x < y)*x + (x >= y)*y", (1.0, 2.0), 1.0),
        ("x == y", (2.0, 2.0), 1.0),
        ("x != y", (2.0, 2.0), 0.0),
        ("x <= 1", (1.0,), 1.0),
        ("x > 1", (1.0,), 0.0),
        ("where(x > 0, x, -x)", (-3.0,), 3.0),
        ("minimum(x, y) + maximum(x, y)", (1.0, 5.0), 6.0),
        ("sigmoid(x) + softplus(x)", (0.0,), 0.5 + math.log(2.0)),
        ("sin(x)**2 + cos(x)**2", (0.7,), 1.0),
        ("tan(x) - sin(x)/cos(x)", (0.3,), 0.0),
        (
            "exp(log(x)) + log1p(x) + sqrt(x) + abs(-x) + tanh(x)",
            (2.0,),
            2.0 + math.log1p(2.0) + math.sqrt(2.0) + 2.0 + math.tanh(2.0),
        ),
        ("w[0]*w[2]", (2.0, 7.0, 3.0), 6.0),
        ("w [ 1 ] + w[0]", (2.0, 7.0), 9.0),
        ("\tx  *\t2 ", (1.5,), 3.0),
    ],
)
def test_values_follow_python_precedence(text, point, expected):
    formula = parse_formula(text)
    value = formula.value(np.array([point]))
    np.testing.assert_allclose(value, [expected], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("text", "dim", "names"),
    [
        ("x", 1, ("x",)),
        ("x*y", 2, ("x", "y")),
        ("y**2", 2, ("x", "y")),  # y is the second coordinate even without x
        ("w[3]", 4, ("w[0]", "w[1]", "w[2]", "w[3]")),
        (f"w[{MAX_DIM - 1}]", MAX_DIM, None),
        ("0*x", 1, ("x",)),
    ],
)
def test_dimension_comes_from_the_variables(text, dim, names):
    formula = parse_formula(text)
    assert formula.dim == dim
    if names is not None:
        assert formula.variables == names


def test_unused_coordinates_have_zero_gradient():
    loss, grad = parse_formula("w[0]**2 + w[2]").value_and_grad(np.array([[3.0, 5.0, 7.0]]))
    np.testing.assert_allclose(loss, [16.0])
    np.testing.assert_allclose(grad, [[6.0, 0.0, 1.0]])


def test_repeated_parts_are_computed_once():
    # (x + y) appears three times; sharing leaves one addition, three products/powers.
    formula = parse_formula("(x + y)**2 + (x + y)*(x + y)")
    assert formula.operations <= 5


@pytest.mark.parametrize(
    "text", ["x**2 + 10*y**2", "sin(x)*exp(-y) + where(x > y, x, y)**3", "w[0]*w[49] + w[7]"]
)
def test_the_memory_estimate_bounds_what_an_evaluation_allocates(text):
    formula = parse_formula(text)
    runs = 20_000
    points = np.random.default_rng(0).normal(size=(runs, formula.dim))
    tracemalloc.start()
    try:
        formula.value_and_grad(points)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = formula.evaluation_bytes(runs)
    assert 0.5 * estimate <= peak <= 1.5 * estimate, (peak, estimate)


def test_constant_parts_are_folded_while_parsing():
    assert parse_formula("x * (2*pi/4 + exp(0))").operations == 1


# --- what it refuses, and how ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ("__import__('os')", 1, "unknown name '__import__'"),
        ("__import__('os').system('touch /tmp/lrviz-pwned')", 1, "unknown name"),
        ("().__class__", 2, "expected a number"),
        ("x.real", 2, "attribute access"),
        ("(x).__class__.__bases__", 4, "attribute access"),
        ("x[0]", 2, "subscripts are only allowed as w[<integer>]"),
        ("(x+y)[0]", 6, "subscripts"),
        ("w[0][1]", 5, "subscripts"),
        ("w", 1, "w[0], w[1]"),
        ("w[x]", 3, "whole number"),
        ("w[-1]", 3, "whole number"),
        ("w[1.0]", 3, "whole number"),
        (f"w[{MAX_DIM}]", 3, "beyond the limit"),
        ("lambda: 0", 1, "unknown name 'lambda'"),
        ("lambda x: x", 1, "unknown name 'lambda'"),
        ("[x for x in (1,)]", 1, "expected a number"),
        ("(x for x in y)", 4, "missing operator"),
        ('f"{x}"', 1, "unknown name 'f'"),
        ("'x'", 1, "strings are not allowed"),
        ("9**9**9", 4, "exponent 3.8742e+08 is too large"),
        ("x**101", 4, "exponent 101 is too large"),
        ("x**-101", 4, "exponent -101 is too large"),
        ("x**(10*11)", 4, "exponent 110 is too large"),
        ("1/0 + x", 1, "'1/0' is not a finite number (inf)"),
        ("x + log(0)", 5, "not a finite number (-inf)"),
        ("x*exp(1000)", 3, "'exp(1000)' is not a finite number"),
        ("x*(-1)**0.5", 3, "not a finite number (nan)"),
        ("1e999*x", 1, "too large"),
        ("x^2", 2, "write **"),
        ("x // 2", 3, "'//'"),
        ("x % 2", 3, "'%'"),
        ("x = 1", 3, "write =="),
        ("x < y < 1", 7, "cannot be chained"),
        ("x if y else 0", 3, "missing operator"),
        ("2x", 2, "write 2*x"),
        ("x y", 3, "missing operator"),
        ("2(x+1)", 2, "missing operator before '('"),
        ("x(1)", 1, "'x' is not a function"),
        ("pi(1)", 1, "'pi' is not a function"),
        ("sin", 1, "sin is a function"),
        ("sin x", 1, "sin is a function"),
        ("sin(x, y)", 1, "sin takes 1 argument, got 2"),
        ("where(x > 0, x)", 1, "where takes 3 arguments, got 2"),
        ("minimum()", 1, "minimum takes 2 arguments, got 0"),
        ("minimum(x,)", 11, "expected a number"),
        ("ln(x)", 1, "(use log)"),
        ("np.sin(x)", 1, "unknown name 'np'"),
        ("max(x, y)", 1, "(use maximum)"),
        ("w[0] + x", 8, "not both"),
        ("x + w[0]", 5, "not both"),
        ("x +", 4, "ends where a value is expected"),
        ("(x + 1", 7, "expected ')' to close the '(' at column 1"),
        ("sin(x", 6, "to close sin( at column 4"),
        ("x)", 2, "unexpected ')'"),
        ("x, y", 2, "unexpected ','"),
        ("", 1, "empty"),
        ("   ", 1, "empty"),
        ("3 + 4", 1, "no variable"),
        ("x\n+ 1", 2, "one line"),
        ("x\x00", 2, "not allowed"),
        ("x²", 2, "'²' is not allowed"),
        ("ｘ + 1", 1, "not allowed"),  # a full-width x is not x
        ("x; import os", 2, "';'"),
        ("{x}", 1, "braces"),
        ("x @ y", 3, "'@'"),
        ("x # comment", 3, "comments"),
        ("True * x", 1, "unknown name 'True'"),
        ("x and y", 3, "missing operator"),
        ("not x", 1, "unknown name 'not'"),
        ("1j*x", 2, "missing operator"),
        ("0x10*x", 2, "missing operator"),
        ("1_000*x", 2, "missing operator"),
    ],
)
def test_refusals_name_the_position(text, column, words):
    error = rejection(text)
    assert error.column == column, str(error)
    assert words in str(error)
    assert_well_formed(error, text)


def test_the_refused_code_does_not_run(tmp_path):
    target = tmp_path / "pwned"
    error = rejection(f"__import__('os').system('touch {target}')")
    assert error.column == 1
    assert not target.exists()


def test_the_parser_never_uses_python_eval_exec_or_its_parser():
    # The test reads the module's own (trusted) source with ast to look for such calls.
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    forbidden = {"eval", "exec", "compile", "__import__", "getattr", "globals", "locals"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in forbidden, node.func.id
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [alias.name for alias in node.names] + [getattr(node, "module", None)]
            assert not {"ast", "builtins", "importlib"} & set(modules)


def test_error_is_a_one_line_lrviz_error_and_a_value_error():
    error = rejection("x + foo(1)")
    assert isinstance(error, LrvizError) and isinstance(error, ValueError)
    assert (error.column, error.length) == (5, 3)
    assert error.reason.startswith("unknown name 'foo'")
    assert str(error).startswith("formula, column 5: unknown name 'foo': x + >>>foo(1) (allowed:")
    assert error.caret_lines() == ("x + foo(1)", "    ^^^")
    assert formula_problem("x + foo(1)").column == 5
    assert formula_problem("x + 1") is None


def test_error_at_the_end_says_so():
    assert str(rejection("x *")).endswith("x *>>> (end)")


def test_long_text_is_refused_before_it_is_read():
    text = "x+" * 50_000 + "x"
    started = time.perf_counter()
    error = rejection(text)
    assert time.perf_counter() - started < 0.05
    assert error.column == MAX_LENGTH + 1
    assert f"longer than {MAX_LENGTH} characters" in str(error)
    assert len(str(error)) < 200  # the excerpt is a window, not the whole text
    assert_well_formed(error, text)


def test_too_many_operations_are_refused_at_the_one_too_many():
    text = "+".join(["x"] * (MAX_LENGTH // 2))  # within the length, over the node count
    assert len(text) <= MAX_LENGTH
    error = rejection(text)
    assert f"more than {MAX_NODES} operations" in str(error)
    assert_well_formed(error, text)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("(", ")"), ("sin(", ")"), ("-", ""), ("x**", ""), ("where(x>0,", ",x)"), ("+", "")],
)
def test_deep_nesting_is_refused_without_recursion_errors(opening, closing):
    depth = 800
    text = opening * depth + "x" + closing * depth
    text = text[:MAX_LENGTH]
    started = time.perf_counter()
    error = rejection(text)
    assert time.perf_counter() - started < 0.05
    assert f"more than {MAX_DEPTH} levels" in str(error)
    assert_well_formed(error, text)


def test_nesting_up_to_the_limit_is_accepted():
    text = "(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1)
    assert parse_formula(text).value(np.array([[2.0]]))[0] == 2.0


def test_a_left_deep_chain_of_many_operations_evaluates_without_recursion():
    text = "+".join(["x"] * (MAX_NODES // 2))
    loss, grad = parse_formula(text).value_and_grad(np.array([[2.0]]))
    assert loss[0] == 2.0 * (MAX_NODES // 2) and grad[0, 0] == MAX_NODES // 2


JUNK_ALPHABET = "xyw[]()+-*/.,0123456789e<>=!^_ \tabcdfijlmnopqrstuv'\"{}:;@#\\"


@settings(max_examples=400, deadline=200)
@given(text=st.one_of(st.text(max_size=80), st.text(alphabet=JUNK_ALPHABET, max_size=80)))
def test_junk_is_either_a_formula_or_a_positioned_error(text):
    try:
        formula = parse_formula(text)
    except ExpressionError as error:
        assert_well_formed(error, text)
        return
    # Accepted junk is a real formula: it evaluates without raising.
    points = np.linspace(-2.0, 2.0, 5 * formula.dim).reshape(5, formula.dim)
    loss, grad = formula.value_and_grad(points)
    assert loss.shape == (5,) and grad.shape == (5, formula.dim)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_junk_spliced_into_a_valid_formula_is_refused_no_later_than_the_junk(data):
    text = data.draw(FORMULA_TREES).text
    cut = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.sampled_from(["'", "@", ".real", "[0]", "^", "__x", "lambda", "$", "{"]))
    spliced = text[:cut] + junk + text[cut:]
    error = formula_problem(spliced)
    assert error is not None, spliced
    assert_well_formed(error, spliced)
    # The parser reads left to right and never skips what it cannot read.
    assert error.column <= cut + len(junk) + 1, (spliced, str(error))


# --- random formulas: a tree, its text, its reference value ---------------------------------


@dataclass(frozen=True)
class Tree:
    """A formula built by the test, with its own text and its own reference evaluation."""

    text: str  # fully correct text, parenthesised only where precedence needs it
    precedence: int  # 1 comparison, 2 sum, 3 product, 4 unary, 5 power, 6 atom
    evaluate: object  # callable: dict of coordinate arrays -> array
    smooth: bool


def _wrap(tree: Tree, at_least: int, extra_parens: bool) -> str:
    return f"({tree.text})" if tree.precedence < at_least or extra_parens else tree.text


def _number_text(value: float, style: int) -> str:
    return [repr(value), f"{value:e}", f"{value:.6g}"][style]


UNARY = {
    "sin": (np.sin, True),
    "cos": (np.cos, True),
    "tanh": (np.tanh, True),
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), True),
    "softplus": (lambda a: np.log1p(np.exp(-np.abs(a))) + np.maximum(a, 0.0), True),
    "exp": (np.exp, True),
    "abs": (np.abs, False),
    "log": (np.log, True),
    "log1p": (np.log1p, True),
    "sqrt": (np.sqrt, True),
    "tan": (np.tan, True),
}
BINARY = {
    "+": (2, 2, 3, np.add),
    "-": (2, 2, 3, np.subtract),
    "*": (3, 3, 4, np.multiply),
    "/": (3, 3, 4, np.divide),
}


def variable_trees(names: list[str]):
    def leaf(name):
        return Tree(name, 6, lambda env, n=name: env[n], True)

    return st.sampled_from(names).map(leaf)


def number_trees():
    return st.builds(
        lambda v, style: Tree(_number_text(v, style), 6, lambda env, v=v: v, True),
        st.sampled_from([0.5, 1.0, 2.0, 3.0, 0.25, 1.5, 10.0]),
        st.integers(0, 2),
    )


def extend(children):
    """One operation over smaller trees; every operation has an argument with a variable
    in it, so nothing is folded and nothing is refused as a non-finite constant."""
    operand = st.one_of(children, number_trees())
    spaces = st.sampled_from(["", " ", "  "])

    def binary(op, left, right, swap, extra, space):
        prec, left_min, right_min, fn = BINARY[op]
        if swap:
            left, right = right, left
        text = f"{_wrap(left, left_min, extra)}{space}{op}{space}{_wrap(right, right_min, False)}"
        return Tree(
            text,
            prec,
            lambda env: fn(left.evaluate(env), right.evaluate(env)),
            left.smooth and right.smooth,
        )

    def unary_function(name, arg, space):
        fn, smooth = UNARY[name]
        return Tree(
            f"{name}({space}{arg.text}{space})",
            6,
            lambda env: fn(arg.evaluate(env)),
            smooth and arg.smooth,
        )

    def power(base, exponent_value, extra):
        text = f"{_wrap(base, 6, extra)}**{exponent_value}"
        return Tree(
            text, 5, lambda env: np.power(base.evaluate(env), float(exponent_value)), base.smooth
        )

    def variable_power(base, exponent):
        text = f"{_wrap(base, 6, False)}**{_wrap(exponent, 4, False)}"
        return Tree(
            text,
            5,
            lambda env: np.power(base.evaluate(env), exponent.evaluate(env)),
            base.smooth and exponent.smooth,
        )

    def negate(arg, space):
        return Tree(
            f"-{space}{_wrap(arg, 4, False)}", 4, lambda env: -arg.evaluate(env), arg.smooth
        )

    def two_argument(name, a, b, swap):
        if swap:
            a, b = b, a
        fn = np.minimum if name == "minimum" else np.maximum
        return Tree(
            f"{name}({a.text}, {b.text})",
            6,
            lambda env: fn(a.evaluate(env), b.evaluate(env)),
            False,
        )

    def where(op, left, right, a, b):
        ops = {"<": np.less, ">": np.greater, "<=": np.less_equal, ">=": np.greater_equal}
        condition = f"{_wrap(left, 2, False)} {op} {_wrap(right, 2, False)}"
        return Tree(
            f"where({condition}, {a.text}, {b.text})",
            6,
            lambda env: np.where(
                ops[op](left.evaluate(env), right.evaluate(env)), a.evaluate(env), b.evaluate(env)
            ),
            False,
        )

    def comparison_product(op, left, right, factor):
        ops = {"<": np.less, ">": np.greater}
        text = f"({left.text} {op} {right.text})*{_wrap(factor, 4, False)}"
        return Tree(
            text,
            3,
            lambda env: (
                np.where(ops[op](left.evaluate(env), right.evaluate(env)), 1.0, 0.0)
                * factor.evaluate(env)
            ),
            False,
        )

    return st.one_of(
        st.builds(
            binary,
            st.sampled_from(sorted(BINARY)),
            children,
            operand,
            st.booleans(),
            st.booleans(),
            spaces,
        ),
        st.builds(unary_function, st.sampled_from(sorted(UNARY)), children, spaces),
        st.builds(power, children, st.integers(0, 4), st.booleans()),
        st.builds(variable_power, children, children),
        st.builds(negate, children, spaces),
        st.builds(
            two_argument, st.sampled_from(["minimum", "maximum"]), children, operand, st.booleans()
        ),
        st.builds(
            where, st.sampled_from(["<", ">", "<=", ">="]), children, operand, operand, operand
        ),
        st.builds(comparison_product, st.sampled_from(["<", ">"]), children, operand, children),
    )


# Random formulas in x, in x and y, or in w[0..2]. Built once: hypothesis caches what it
# learns about a strategy object, and rebuilding the recursion per draw tripled the time.
FORMULA_TREES = st.one_of(
    [
        st.recursive(variable_trees(names), extend, max_leaves=8)
        for names in (["x"], ["x", "y"], ["w[0]", "w[1]", "w[2]"])
    ]
)


def environment(formula, points):
    return {name: points[:, i] for i, name in enumerate(formula.variables)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=FORMULA_TREES, data=st.data())
def test_random_formulas_parse_and_match_their_reference_value(tree, data):
    formula = parse_formula(tree.text)
    coordinates = data.draw(
        st.lists(st.floats(-3.0, 3.0), min_size=4 * formula.dim, max_size=4 * formula.dim)
    )
    points = np.array(coordinates).reshape(4, formula.dim)
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(tree.evaluate(environment(formula, points)), (4,))
    got = formula.value(points)
    both_finite = np.isfinite(expected) & np.isfinite(got)
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(expected))
    np.testing.assert_allclose(got[both_finite], expected[both_finite], rtol=1e-9, atol=1e-12)


def central_differences(formula, point, step):
    steps = step * np.maximum(1.0, np.abs(point))
    shifts = np.diag(steps)
    with np.errstate(all="ignore"):
        values = formula.value(np.vstack([point + shifts, point - shifts]))
        return (values[: point.size] - values[point.size :]) / (2.0 * steps)


def forward_differences(formula, point, step):
    steps = step * np.maximum(1.0, np.abs(point))
    with np.errstate(all="ignore"):
        values = formula.value(np.vstack([point + np.diag(steps), point]))
        return (values[: point.size] - values[point.size]) / steps


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(tree=FORMULA_TREES, data=st.data())
def test_gradients_match_central_differences_on_random_formulas(tree, data):
    formula = parse_formula(tree.text)
    if tree.smooth:
        # hypothesis's favourite points (0, 1, -1, ...) find the edges of the domains
        point = np.array(
            data.draw(st.lists(st.floats(-2.0, 2.0), min_size=formula.dim, max_size=formula.dim))
        )
    else:
        # Kinks (abs at 0, a tie in minimum, the switch of where) lie on sets of measure
        # zero, where a subgradient convention need not be the derivative of the whole
        # formula (minimum(abs(x), x) is x, yet at 0 gets half of each side): a point drawn
        # from a continuous distribution misses them.
        seed = data.draw(st.integers(0, 2**32 - 1))
        point = np.random.default_rng(seed).uniform(-2.0, 2.0, formula.dim)
    loss, grad = formula.value_and_grad(point[None, :])
    coarse = central_differences(formula, point, 1e-4)
    fine = central_differences(formula, point, 1e-5)
    one_sided = forward_differences(formula, point, 1e-6)
    # Skip points where the function is not finite, or not smooth at the scale of the
    # steps: there the difference quotients disagree with each other (the one-sided one
    # catches an even function straddling a singularity, log(x**2) at x = 1e-138, where
    # both central quotients are 0).
    quotients = np.concatenate([coarse, fine, one_sided])
    assume(np.isfinite(loss[0]) and np.all(np.isfinite(quotients)))
    scale = max(1.0, float(np.max(np.abs(fine))), abs(float(loss[0])))
    assume(np.all(np.abs(coarse - fine) <= 1e-5 * scale))
    assume(np.all(np.abs(one_sided - fine) <= 1e-2 * scale))
    # ... and per coordinate: x/y at x = y = 3e-80 has a huge ∂/∂x (1/y) that makes
    # ``scale`` hide a ∂/∂y whose steps (1e-4 ≫ y) straddle the pole at y = 0.
    each = np.maximum(max(1.0, abs(float(loss[0]))), np.abs(fine))
    assume(np.all(np.abs(one_sided - fine) <= 1e-2 * each))
    # Reverse mode cannot see a zero that is a sum of partials: (x - x)**0.5 has slope
    # 0.5/0 * (1 - 1), which it computes as inf - inf. Such points are skipped;
    # test_each_function_matches_finite_differences keeps every partial honest.
    assume(np.all(np.isfinite(grad)))
    np.testing.assert_allclose(grad[0], fine, rtol=1e-4, atol=1e-5 * scale)


@settings(max_examples=150, deadline=None)
@given(tree=FORMULA_TREES, data=st.data())
def test_many_runs_at_once_match_one_at_a_time(tree, data):
    formula = parse_formula(tree.text)
    runs = data.draw(st.integers(2, 9))
    values = data.draw(
        st.lists(st.floats(-3.0, 3.0), min_size=runs * formula.dim, max_size=runs * formula.dim)
    )
    points = np.array(values).reshape(runs, formula.dim)
    loss, grad = formula.value_and_grad(points)
    for r in range(runs):
        one_loss, one_grad = formula.value_and_grad(points[r : r + 1])
        np.testing.assert_allclose(loss[r], one_loss[0], rtol=1e-12, atol=1e-300, equal_nan=True)
        np.testing.assert_allclose(grad[r], one_grad[0], rtol=1e-12, atol=1e-300, equal_nan=True)


# --- derivatives at the points where the function is not differentiable --------------------


@pytest.mark.parametrize(
    ("text", "point", "expected"),
    [
        ("abs(x)", (0.0,), (0.0,)),
        ("abs(x)", (-2.0,), (-1.0,)),
        ("minimum(x, y)", (1.0, 1.0), (0.5, 0.5)),  # a tie splits the gradient
        ("maximum(x, y)", (1.0, 1.0), (0.5, 0.5)),
        ("minimum(x, x)", (1.0,), (1.0,)),  # and so differentiates like x
        ("maximum(x, 0)", (0.0,), (0.5,)),
        ("maximum(x, 0)", (-1.0,), (0.0,)),
        ("minimum(x, y)", (1.0, 2.0), (1.0, 0.0)),
        ("where(x > 0, x**2, 3*x)", (2.0,), (4.0,)),
        ("where(x > 0, x**2, 3*x)", (0.0,), (3.0,)),  # the condition is false at 0
        ("where(x > 0, sqrt(x), 0)", (-1.0,), (0.0,)),  # not NaN from the unused branch
        ("where(x > 0, log(x), x)", (-1.0,), (1.0,)),
        ("(x > 0)*x", (3.0,), (1.0,)),  # comparisons have zero gradient
        ("x**0", (0.0,), (0.0,)),
        ("x**1", (0.0,), (1.0,)),
        ("x**y", (0.0, 2.0), (0.0, 0.0)),  # d/dy of x**y is 0 at x = 0
        ("x**y", (2.0, 3.0), (12.0, 8.0 * math.log(2.0))),
        ("0*sqrt(x)", (0.0,), (0.0,)),  # no gradient in, none out
        ("sqrt(x**2)", (0.0,), (0.0,)),  # a flat inside silences the infinite outer slope
        ("x*sqrt(x)", (0.0,), (0.0,)),
    ],
)
def test_subgradient_conventions(text, point, expected):
    _, grad = parse_formula(text).value_and_grad(np.array([point]))
    np.testing.assert_allclose(grad[0], expected, rtol=1e-12, atol=1e-12)


def test_outside_the_domain_the_value_is_nan_not_an_exception():
    loss, grad = parse_formula("log(x) + sqrt(y)").value_and_grad(np.array([[-1.0, -1.0]]))
    assert np.isnan(loss[0]) and np.isnan(grad[0, 1])  # the engine stops such a run
    loss, _ = parse_formula("exp(x)").value_and_grad(np.array([[1e6]]))
    assert loss[0] == np.inf


def test_sigmoid_and_softplus_are_stable_far_out():
    formula = parse_formula("sigmoid(x) + softplus(x)")
    loss, grad = formula.value_and_grad(np.array([[-800.0], [800.0]]))
    np.testing.assert_allclose(loss, [0.0, 801.0])
    np.testing.assert_allclose(grad[:, 0], [0.0, 1.0])


def test_value_takes_any_leading_shape_and_grid_lays_out_rows_by_y():
    formula = parse_formula("x + 10*y")
    assert formula.value(np.zeros((3, 4, 2))).shape == (3, 4)
    z = formula.grid([0.0, 1.0, 2.0], [0.0, 1.0])
    np.testing.assert_allclose(z, [[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]])
    np.testing.assert_allclose(parse_formula("x**2").grid([1.0, 2.0]), [1.0, 4.0])
    with pytest.raises(ValueError, match="2 coordinates"):
        formula.value(np.zeros((3, 3)))


# Points inside each function's domain and away from its kinks.
FUNCTION_POINTS = [-1.7, -0.4, 0.3, 0.9, 2.2]


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_each_function_matches_finite_differences(name):
    inner = "x" if name not in ("log", "log1p", "sqrt") else "(x*x + 0.5)"
    args = {1: inner, 2: f"{inner}, 0.5*y", 3: f"x > y, {inner}, y**2"}[FUNCTIONS[name]]
    formula = parse_formula(f"{name}({args}) + 0*y")
    for x in FUNCTION_POINTS:
        for y in (-0.8, 1.1):
            point = np.array([x, y])
            _, grad = formula.value_and_grad(point[None, :])
            np.testing.assert_allclose(
                grad[0], central_differences(formula, point, 1e-6), rtol=1e-6, atol=1e-8
            )


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_each_operator_matches_finite_differences(op):
    formula = parse_formula(f"(x*x + 0.5) {op} (y + 2)")
    for x in FUNCTION_POINTS:
        point = np.array([x, 0.7])
        _, grad = formula.value_and_grad(point[None, :])
        np.testing.assert_allclose(
            grad[0], central_differences(formula, point, 1e-6), rtol=1e-6, atol=1e-8
        )


def test_every_function_in_the_allow_list_has_an_implementation():
    for name, arity in FUNCTIONS.items():
        args = ", ".join(["x"] * arity) if name != "where" else "x > 0, x, -x"
        formula = parse_formula(f"{name}({args})")
        loss, grad = formula.value_and_grad(np.array([[0.3]]))
        assert np.isfinite(loss).all() and np.isfinite(grad).all(), name
