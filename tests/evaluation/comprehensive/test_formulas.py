"""The calculation rules' formula evaluator: arithmetic over known data items and nothing else
(every refusal named), and hypothesis properties against Python's own arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evaluation.comprehensive.formulas import FormulaError, check, evaluate

ITEMS = {"road_area": 200.0, "clean_area": 150.0, "population": 40.0, "zero": 0.0}


def test_arithmetic_over_items():
    assert evaluate("clean_area / road_area * 100", ITEMS) == 75.0
    assert evaluate("(clean_area + 50) // 3", ITEMS) == 66.0
    assert evaluate("clean_area % 40 - -2", ITEMS) == 32.0
    assert evaluate("population ** 2 + +1", ITEMS) == 1601.0
    assert evaluate("min(road_area, clean_area, 170) + max(1, 2)", ITEMS) == 152.0
    assert evaluate("abs(zero - population) + round(2 / 3, 2)", ITEMS) == 40.67
    assert check("clean_area / road_area * 100 + road_area", ITEMS) == ["clean_area", "road_area"]
    assert check("42", ITEMS) == []


@pytest.mark.parametrize(
    ("formula", "says"),
    [
        ("road_area.real", "attribute access"),
        ("().__class__", "attribute access"),
        ("__import__('os').system('true')", "attribute access"),
        ("__import__('os')", "calling __import__"),
        ("eval('1')", "calling eval"),
        ("open('/etc/passwd')", "calling open"),
        ("road_area(1)", "calling road_area"),
        ("(lambda: 1)()", "a lambda"),
        ("[x for x in (1, 2)]", "comprehension"),
        ("sum(x for x in (1, 2))", "calling sum"),
        ("{x: 1 for x in (1,)}", "comprehension"),
        ("lambda x: x", "a lambda"),
        ("road_area[0]", "a subscript"),
        ("road_area > 1", "a comparison"),
        ("road_area and 1", "a boolean operator"),
        ("1 if road_area else 2", "a conditional"),
        ("(y := 2)", "an assignment"),
        ("'text'", "only numbers"),
        ("True + 1", "only numbers"),
        ("[1, 2]", "a list"),
        ("(1, 2)", "a tuple"),
        ("road_area << 2", "the operator LShift"),
        ("road_area & 1", "the operator BitAnd"),
        ("~road_area", "the operator Invert"),
        ("not road_area", "the operator Not"),
        ("unknown_item + 1", "unknown data item 'unknown_item'"),
        ("__builtins__", "unknown data item"),
        ("2 ** 1000", "exponent is at most 100"),
        ("9 ** 9 ** 9", "exponent must be a written number"),
        ("2 ** road_area", "exponent must be a written number"),
        ("2 ** -101", "exponent is at most 100"),
        ("1e400", "too large"),
        ("10" * 120, "too large"),
        ("round(road_area, 99)", "round's digits"),
        ("round(road_area, ndigits=2)", "keyword"),
        ("max(road_area)", "takes 2 to 20"),
        ("max(*road_area)", "unpacking"),
        ("abs()", "takes 1 to 1"),
        ("", "give a formula"),
        ("road_area +", "not a formula"),
        ("import os", "not a formula"),
        ("1; 2", "not a formula"),
        ("-" * 100 + "1", "nests at most"),
        ("(" * 300 + "1" + ")" * 300, "not a formula"),
        ("1 + " * 1000 + "1", "at most 2000 characters"),
    ],
)
def test_refuses(formula, says):
    with pytest.raises(FormulaError) as refused:
        check(formula, ITEMS)
    assert says in str(refused.value)
    with pytest.raises(FormulaError):
        evaluate(formula, ITEMS)


@pytest.mark.parametrize(
    ("formula", "says"),
    [
        ("road_area / zero", "division by zero"),
        ("road_area // zero", "division by zero"),
        ("road_area % zero", "division by zero"),
        ("zero ** -1", "division by zero"),
        ("road_area ** 100", "too large"),
        ("road_area ** 50 * road_area ** 50", "too large"),
        ("(zero - road_area) ** 0.5", "no real value"),
    ],
)
def test_values_it_cannot_compute(formula, says):
    check(formula, ITEMS)  # well formed
    with pytest.raises(FormulaError) as refused:
        evaluate(formula, ITEMS)
    assert says in str(refused.value)


def test_a_missing_value_is_an_error():
    with pytest.raises(FormulaError, match="no value"):
        evaluate("road_area + 1", {"road_area": None})
    with pytest.raises(FormulaError, match="unknown data item"):
        evaluate("road_area + clean_area", {"road_area": 1.0})


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
OPERATORS = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__}


@given(a=finite, b=finite, op=st.sampled_from(sorted(OPERATORS)))
def test_binary_arithmetic_is_pythons(a, b, op):
    assert evaluate(f"a {op} b", {"a": a, "b": b}) == OPERATORS[op](a, b)


@given(a=finite, b=finite.filter(lambda v: abs(v) > 1e-9))
def test_division_is_pythons(a, b):
    assert evaluate("a / b", {"a": a, "b": b}) == a / b
    assert evaluate("(a) // (b)", {"a": a, "b": b}) == a // b


@given(a=st.floats(min_value=-1e3, max_value=1e3), n=st.integers(min_value=0, max_value=30))
def test_small_powers_are_pythons(a, n):
    assert math.isclose(evaluate(f"a ** {n}", {"a": a}), float(a) ** n, rel_tol=1e-12)


@given(st.text(max_size=60))
def test_any_text_is_a_number_or_a_formula_error(text):
    """Whatever is typed, the evaluator answers a finite float or a FormulaError — never
    another exception, never a side effect."""
    try:
        value = evaluate(text, ITEMS)
    except FormulaError:
        return
    assert isinstance(value, float) and math.isfinite(value)
