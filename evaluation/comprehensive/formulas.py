"""The safe formula evaluator of calculation rules (计算规则): arithmetic over known data items.

A calculation rule's formula (``road_clean_area / road_area * 100``) combines base data items
(基础数据项) by their codes. It is parsed with `ast` and checked against a whitelist, never
passed to `eval`: numbers, item names, ``+ - * / // % **``, unary ``+``/``-``, parentheses, and
calls of ``min``, ``max``, ``abs`` and ``round`` (``round`` to at most `MAX_ROUND_DIGITS`
digits). Everything else is refused with a `FormulaError` naming what: attribute access,
other calls, subscripts, comprehensions, lambdas, comparisons, boolean operators, strings,
unknown names, exponents above `MAX_EXPONENT`, results or intermediates beyond `MAX_MAGNITUDE`,
formulas longer than `MAX_LENGTH` characters or deeper than `MAX_DEPTH`.

`check(formula, names)` validates once (when a rule is saved) and gives the item names the
formula uses; `evaluate(formula, values)` computes with floats. Division by zero is a
`FormulaError` too: an indicator whose denominator is missing has no value, not infinity.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Collection, Mapping

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_EXPONENT = 100
MAX_MAGNITUDE = 1e100
MAX_ROUND_DIGITS = 10
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    # name: (function, fewest arguments, most arguments)
    "min": (min, 2, 20),
    "max": (max, 2, 20),
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
}
BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class FormulaError(ValueError):
    """Why a formula is refused or cannot be computed."""


def _parse(formula: str) -> ast.expr:
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError("give a formula")
    if len(formula) > MAX_LENGTH:
        raise FormulaError(f"a formula is at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"not a formula: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError("not a formula") from None
    return tree.body


def _check_node(node: ast.AST, names: Collection[str], used: set[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise FormulaError(f"a formula nests at most {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"only numbers may be written in a formula, not {node.value!r}")
        if not math.isfinite(node.value) or abs(node.value) > MAX_MAGNITUDE:
            raise FormulaError("a number in the formula is too large")
        return
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise FormulaError(f"unknown data item {node.id!r}")
        used.add(node.id)
        return
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right)
        _check_node(node.left, names, used, depth + 1)
        _check_node(node.right, names, used, depth + 1)
        return
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        _check_node(node.operand, names, used, depth + 1)
        return
    if isinstance(node, ast.Call):
        _check_call(node, names, used, depth)
        return
    raise FormulaError(f"{_describe(node)} is not allowed in a formula")


def _check_exponent(node: ast.expr) -> None:
    """An exponent must be a written number of at most MAX_EXPONENT (``x ** 2``, ``x ** -1``,
    ``x ** 0.5``): an item or expression as exponent could grow without bound."""
    value = node
    sign = 1
    while isinstance(value, ast.UnaryOp) and type(value.op) in UNARY:
        sign *= -1 if isinstance(value.op, ast.USub) else 1
        value = value.operand
    if not (isinstance(value, ast.Constant) and isinstance(value.value, int | float)):
        raise FormulaError("an exponent must be a written number")
    if isinstance(value.value, bool) or abs(value.value) > MAX_EXPONENT:
        raise FormulaError(f"an exponent is at most {MAX_EXPONENT}")


def _check_call(node: ast.Call, names: Collection[str], used: set[str], depth: int) -> None:
    if not isinstance(node.func, ast.Name):
        raise FormulaError(f"{_describe(node.func)} is not allowed in a formula")
    if node.func.id not in FUNCTIONS:
        raise FormulaError(f"calling {node.func.id} is not allowed; only {', '.join(FUNCTIONS)}")
    _, fewest, most = FUNCTIONS[node.func.id]
    if node.keywords:
        raise FormulaError(f"{node.func.id} takes no keyword arguments")
    if any(isinstance(a, ast.Starred) for a in node.args):
        raise FormulaError("unpacking (*) is not allowed in a formula")
    if not fewest <= len(node.args) <= most:
        raise FormulaError(f"{node.func.id} takes {fewest} to {most} arguments")
    if node.func.id == "round" and len(node.args) == 2:
        digits = node.args[1]
        if not (
            isinstance(digits, ast.Constant)
            and isinstance(digits.value, int)
            and not isinstance(digits.value, bool)
            and 0 <= digits.value <= MAX_ROUND_DIGITS
        ):
            raise FormulaError(f"round's digits must be a whole number 0 to {MAX_ROUND_DIGITS}")
    for argument in node.args:
        _check_node(argument, names, used, depth + 1)


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a comprehension",
        ast.Compare: "a comparison",
        ast.BoolOp: "a boolean operator",
        ast.IfExp: "a conditional",
        ast.NamedExpr: "an assignment",
        ast.List: "a list",
        ast.Tuple: "a tuple",
        ast.Dict: "a dict",
        ast.Set: "a set",
        ast.JoinedStr: "a string",
        ast.Await: "await",
        ast.Starred: "unpacking (*)",
    }
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    if isinstance(node, ast.UnaryOp):
        return f"the operator {type(node.op).__name__}"
    return kinds.get(type(node), type(node).__name__)


def check(formula: str, names: Collection[str]) -> list[str]:
    """Gives the data item names `formula` uses, in alphabetical order, or raises
    `FormulaError` when it is not arithmetic over `names` (see the module doc)."""
    used: set[str] = set()
    _check_node(_parse(formula), names, used, 0)
    return sorted(used)


def evaluate(formula: str, values: Mapping[str, float]) -> float:
    """Gives the value of `formula` with each item name read from `values` (a missing one
    is a `FormulaError`); refuses what `check` refuses."""
    node = _parse(formula)
    _check_node(node, values.keys(), set(), 0)
    return _finite(_eval(node, values))


def _finite(value: float) -> float:
    if isinstance(value, complex):
        raise FormulaError("the formula has no real value (a negative number to a fraction)")
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise FormulaError("the formula's value is too large")
    return float(value)


def _eval(node: ast.expr, values: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        value = values[node.id]
        if value is None:
            raise FormulaError(f"data item {node.id!r} has no value")
        return _finite(float(value))
    if isinstance(node, ast.UnaryOp):
        return UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
            raise FormulaError("division by zero")
        if isinstance(node.op, ast.Pow):
            if left == 0 and right < 0:
                raise FormulaError("division by zero")
            if abs(left) > 1 and right * math.log10(abs(left)) > math.log10(MAX_MAGNITUDE):
                raise FormulaError("the formula's value is too large")
        try:
            return _finite(BINARY[type(node.op)](left, right))
        except OverflowError:
            raise FormulaError("the formula's value is too large") from None
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    function = FUNCTIONS[node.func.id][0]
    arguments = [_eval(a, values) for a in node.args]
    if node.func.id == "round" and len(arguments) == 2:
        return _finite(round(arguments[0], int(arguments[1])))
    return _finite(function(*arguments))
