"""Where a circuit first stops being finite, found by the engine and said with its numbers."""

import math

import pytest

from gategrad.engine import (
    Value,
    describe_nonfinite,
    first_nonfinite,
    fmt,
    json_number,
    nonfinite_numbers,
    say_nonfinite,
)
from gategrad.explain.lang import gate_numbers, translator


def said(v, code):
    """What went non-finite at `v`, in the language `code`, with the gates named in it."""
    kind, numbers = nonfinite_numbers(v)
    return say_nonfinite(kind, numbers, translator(code), **gate_numbers(numbers, code))


def test_json_number_keeps_a_finite_number_and_spells_the_others():
    assert json_number(0.25) == 0.25
    assert json_number(math.inf) == "Infinity"
    assert json_number(-math.inf) == "-Infinity"
    assert json_number(math.nan) == "NaN"


def test_a_finite_circuit_has_no_first_nonfinite(max_circuit):
    max_circuit.output.backward()
    assert first_nonfinite(max_circuit.output) is None


def test_the_first_gate_to_overflow_is_found_in_forward_order():
    x, y = Value(1e200, "x"), Value(1e200, "y")
    product = x * y  # 1e400: inf from finite inputs
    out = product.exp() + Value(float("nan"))  # later non-finite values do not count
    assert first_nonfinite(out) is product
    assert describe_nonfinite(product) == (
        "the mul gate gave inf from the finite inputs 1e+200 (local gradient 1e+200), 1e+200 (local gradient 1e+200)"
    )
    assert fmt(1e200) == "1e+200"


def test_a_leaf_that_is_not_finite_is_the_first():
    w = Value(float("-inf"))
    assert first_nonfinite(w * 2 + 1) is w
    assert describe_nonfinite(w) == "the input -inf is -inf"
    assert describe_nonfinite(w, "parameter w.0") == "parameter w.0 is -inf"


def test_a_finite_value_with_a_gradient_that_overflows_names_the_gate():
    x = Value(5e-324, "x")  # the smallest float: log is -744.44, its local gradient 1/x is inf
    log = x.log()
    out = log * 2
    out.backward()
    assert math.isfinite(out.data) and x.grad == math.inf
    assert first_nonfinite(out) is log
    assert (
        describe_nonfinite(log)
        == f"the log gate = {fmt(log.data)} sent back a gradient of inf: its gradient 2 × local gradient inf"
    )


def test_a_gradient_that_sums_finite_contributions_into_inf_is_found_where_it_adds_up():
    a = Value(1e-308, "a")
    out = a * 1e308 + a * 1e308  # two paths, each sending a the finite gradient 1e308
    out.backward()
    assert math.isfinite(out.data) and a.grad == math.inf
    assert first_nonfinite(out) is a
    assert describe_nonfinite(a) == "the gradient of the input a added up to inf"


def test_a_gate_of_one_input_that_overflows_is_said_in_the_singular():
    x = Value(1000.0, "x")  # e**1000 overflows; its local gradient e**1000 too
    out = x.exp()
    assert nonfinite_numbers(out) == (
        "gate",
        {"op": "exp", "value": "inf", "n": "1", "inputs": [["1000", "inf"]], "more": 0},
    )
    assert describe_nonfinite(out) == "the exp gate gave inf from the finite inputs 1000 (local gradient inf)"
    assert said(out, "zh") == "指数门由有限的输入得出了 inf：1000（局部梯度 inf）"
    assert said(out, "ru") == "вентиль экспоненты выдал inf при конечном входе 1000 (локальный градиент inf)"


def test_a_product_that_overflows_lists_both_inputs_as_the_language_lists():
    x, y = Value(1e200, "x"), Value(-1e200, "y")
    product = x * y  # -1e400: each input's local gradient is the other input
    assert (
        said(product, "zh") == "乘法门由有限的输入得出了 -inf：1e+200（局部梯度 -1e+200）、-1e+200（局部梯度 1e+200）"
    )
    assert said(product, "ru") == (
        "вентиль умножения выдал -inf при конечных входах 1e+200 (локальный градиент -1e+200), "
        "-1e+200 (локальный градиент 1e+200)"
    )


@pytest.mark.parametrize(
    ("k", "ru_more"), [(4, "ещё 1 вход"), (5, "ещё 2 входа"), (8, "ещё 5 входов"), (24, "ещё 21 вход")]
)
def test_a_sum_that_overflows_shows_three_inputs_and_counts_the_rest_with_the_languages_plural(k, ru_more):
    out = Value.sum([Value(1e308, f"x{i}") for i in range(k)])  # k * 1e308 > the largest float
    shown = "1e+308 (local gradient 1), 1e+308 (local gradient 1), 1e+308 (local gradient 1)"
    assert describe_nonfinite(out) == f"the add gate gave inf from the finite inputs {shown} and {k - 3} more"
    assert (
        said(out, "zh")
        == f"加法门由有限的输入得出了 inf：{'、'.join(['1e+308（局部梯度 1）'] * 3)}，以及另外 {k - 3} 个输入"
    )
    shown_ru = ", ".join(["1e+308 (локальный градиент 1)"] * 3)
    assert said(out, "ru") == f"вентиль сложения выдал inf при конечных входах {shown_ru} и {ru_more}"


def test_a_leaf_that_is_not_finite_is_said_in_each_language():
    w = Value(float("nan"), "w")
    assert describe_nonfinite(w) == "the input w is nan"
    assert said(w, "zh") == "输入 w 为 nan"
    assert said(w, "ru") == "вход w равен nan"


def test_a_gradient_that_overflows_is_said_in_each_language_where_it_overflows():
    x = Value(5e-324, "x")  # log x = -744.4 is finite, its local gradient 1/x is inf
    log = x.log()
    (log * 2).backward()
    assert said(log, "zh") == f"对数门（输出 {fmt(log.data)}）向输入传回的梯度为 inf：上游梯度 2 × 局部梯度 inf"
    assert said(log, "ru") == (
        f"вентиль логарифма = {fmt(log.data)} передал входу градиент inf: градиент по выходу 2 × локальный градиент inf"
    )
    a = Value(1e-308, "a")
    (a * 1e308 + a * 1e308).backward()  # two finite contributions of 1e308 add up to inf
    assert said(a, "zh") == "输入 a 的梯度累加为 inf"
    assert said(a, "ru") == "сумма вкладов в градиент входа a равна inf"


def test_a_gates_own_gradient_that_adds_up_to_inf_is_said_with_its_value():
    h = Value(1e-300, "x") * 2.0  # a gate reached along two paths, each bringing it 1e308
    out = h * 1e308 + h * 1e308
    out.backward()
    assert math.isfinite(out.data) and h.grad == math.inf
    assert first_nonfinite(out) is h
    assert describe_nonfinite(h) == "the gradient of the mul gate = 2e-300 added up to inf"
    assert said(h, "zh") == "乘法门（输出 2e-300）的梯度累加为 inf"
    assert said(h, "ru") == "вентиль умножения = 2e-300: сумма вкладов в его градиент равна inf"
