"""Where a circuit first stops being finite, found by the engine and said with its numbers."""

import math

from gategrad.engine import Value, describe_nonfinite, first_nonfinite, fmt, json_number


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
