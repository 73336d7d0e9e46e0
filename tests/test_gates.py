"""The gate table: every gate has one row, every row is complete, and everything reads it."""

import copy
import math
import pickle
import string

import pytest

from gategrad import Value, draw_dot
from gategrad.engine import GATES, topological_order
from gategrad.engine.gates import sentence
from gategrad.explain import expr
from gategrad.explain.expr import build
from gategrad.viz.dot import _gate_text

# An example of every case of every gate's sentence: (expression, values, index of the step, case).
EXAMPLES = [
    ("x + 2", {"x": 1.0}, 0, "add", "one"),
    ("x + y", {"x": 1.0, "y": 2.0}, 0, "add", "many"),
    ("x * y", {"x": 3.0, "y": -4.0}, 0, "mul", "two"),
    ("3 * x", {"x": 2.0}, 0, "mul", "constant"),
    ("x / y", {"x": 6.0, "y": 3.0}, 0, "div", "two"),
    ("x / 4", {"x": 6.0}, 0, "div", "constant"),
    ("max(x, y)", {"x": 3.0, "y": 1.0}, 0, "max", "first larger"),
    ("max(x, y)", {"x": 1.0, "y": 3.0}, 0, "max", "second larger"),
    ("max(x, y)", {"x": 2.0, "y": 2.0}, 0, "max", "tie"),
    ("max(x, y)", {"x": math.nan, "y": 2.0}, 0, "max", "nan"),
    ("max(x, 1)", {"x": 3.0}, 0, "max", "above constant"),
    ("max(x, 1)", {"x": -3.0}, 0, "max", "below constant"),
    ("max(x, 1)", {"x": 1.0}, 0, "max", "tie with constant"),
    ("relu(x)", {"x": 2.0}, 0, "relu", "pass"),
    ("relu(x)", {"x": -2.0}, 0, "relu", "block"),
    ("exp(x)", {"x": 0.0}, 0, "exp", "one"),
    ("log(x)", {"x": 2.0}, 0, "log", "one"),
    ("x ** 3", {"x": 2.0}, 0, "pow", "constant"),
    ("x ** y", {"x": 2.0, "y": 3.0}, 0, "pow_value", "two"),
    ("2 ** x", {"x": 3.0}, 0, "pow_value", "constant"),
    ("tanh(x)", {"x": 0.0}, 0, "tanh", "one"),
    ("sigmoid(x)", {"x": 0.0}, 0, "sigmoid", "one"),
    ("abs(x)", {"x": -3.0}, 0, "abs", "one"),
    ("sqrt(x)", {"x": 4.0}, 0, "sqrt", "one"),
]


def test_every_case_of_every_gate_has_an_example():
    assert {(op, case) for *_, op, case in EXAMPLES} == {(op, c) for op, g in GATES.items() for c in g.sentences}


@pytest.mark.parametrize("expression, values, k, op, case", EXAMPLES, ids=lambda x: str(x))
def test_each_sentence_fills_every_number_it_names(expression, values, k, op, case):
    step = list(build(expression, values).output.backward_steps())[k]
    template, numbers = sentence(step)
    assert (step.op, GATES[op].case(step)) == (op, case)
    assert template == GATES[op].sentences[case]
    named = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    assert named <= set(numbers)
    assert "{" not in step.explanation and "}" not in step.explanation


def test_the_new_gates_speak_with_their_numbers():
    steps = list(build("sqrt(x) + abs(y)", {"x": 4.0, "y": -3.0}).output.backward_steps())
    said = [s.explanation for s in steps]
    assert said[1] == "The abs gate passes the gradient on with the sign of y = -3: y gets 1 × -1 = -1."
    assert said[2] == "The sqrt gate scales by 1/(2√x) = 1/(2 × 2): x gets 1 × 0.25 = 0.25."
    assert list(build("x / 4", {"x": 6.0}).output.backward_steps())[0].explanation == (
        "The div gate divides by the constant 4: x gets 1 × 1/4 = 0.25."
    )


def test_every_row_names_a_method_of_value_and_a_symbol():
    for op, gate in GATES.items():
        assert gate.op == op and gate.symbol and gate.sentences
        assert callable(getattr(Value, gate.method))


def test_the_expression_language_reads_its_functions_from_the_table():
    assert set(expr.FUNCTIONS) == {g.function for g in GATES.values() if g.function}
    assert expr.FUNCTIONS["max"][1] == 2 and expr.FUNCTIONS["sqrt"][1] == 1
    c = build("sqrt(x) * abs(y)", {"x": 9.0, "y": -2.0})
    c.output.backward()
    assert (c.output.data, c.inputs["x"].grad, c.inputs["y"].grad) == (6.0, 2 / 6, -3.0)


def test_abs_and_sqrt_at_zero_take_torchs_gradients():
    x = Value(0.0)
    x.abs().backward()
    assert x.grad == 0.0
    y = Value(0.0)
    y.sqrt().backward()
    assert y.grad == math.inf
    z = Value(-4.0)
    out = z.sqrt()
    out.backward()
    assert math.isnan(out.data) and math.isnan(z.grad)
    assert (abs(Value(-2.5)).data, abs(Value(-2.5)).op) == (2.5, "abs")


def test_pictures_draw_the_tables_symbols_with_folded_constants():
    x = Value(3.0, label="x")
    assert [_gate_text(v) for v in (x.sqrt(), x.abs(), x * 2, x / 4, x**2, 2**x, x.max(1.5))] == [
        "√",
        "abs",
        "× 2",
        "÷ 4",
        "** 2",
        "2 **",
        "max 1.5",
    ]
    assert "√" in draw_dot(x.sqrt()).source


def test_an_op_missing_from_the_table_is_an_error_not_a_default():
    v = Value(2.0) * Value(3.0)
    v.op = "mull"  # a typo
    with pytest.raises(KeyError):
        _gate_text(v)
    with pytest.raises(KeyError):
        [s.explanation for s in v.backward_steps()]


def test_the_constant_folded_into_a_gate():
    x = Value(3.0)
    assert [g.constant for g in (x * 2, x / 4, x**2, 2**x, x.max(0.5), x + 1, x * x, x.exp(), x + x)] == [
        2.0, 4.0, 2.0, 2.0, 0.5, 1.0, None, None, None,
    ]  # fmt: skip


def test_values_compare_by_data_and_hash_by_identity():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and a < 1.5 and b >= 2
    assert sorted([b, a]) == [a, b]
    assert a != Value(1.0) and len({a, Value(1.0)}) == 2
    with pytest.raises(TypeError, match="compares with a Value or a real number"):
        a < "2"  # noqa: B015


def test_a_number_too_large_for_a_float_is_a_clear_error():
    with pytest.raises(ValueError, match="fits a float64 .* got an int of 401 digits"):
        Value(10**400)
    with pytest.raises(ValueError, match="does not fit a float64"):
        Value(1.0) * 10**400


@pytest.mark.slow
def test_pickle_and_deepcopy_a_million_gate_circuit_without_recursion():
    x, w, y = Value(0.5, label="x"), Value(0.999, label="w"), Value(1.0)
    for _ in range(500_000):
        y = y * w + x
    assert len(topological_order(y)) == 1_000_003
    y2, w2 = pickle.loads(pickle.dumps((y, w)))
    y3, w3 = copy.deepcopy((y, w))
    for out, weight in ((y, w), (y2, w2), (y3, w3)):
        out.backward()
        assert (out.data, weight.grad) == (y.data, 499999.99999995227)
    assert w2 is not w and w3 is not w and w2.label == "w"
    assert y2.children[0].children[1] is w2  # the copy's gate uses the copy's leaf, as the original does
