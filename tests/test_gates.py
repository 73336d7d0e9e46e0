"""The gate table: every gate has one row, every row is complete, and everything reads it."""

import ast
import copy
import math
import pickle
import string

import numpy as np
import pytest
from conftest import row_steps

from gategrad import Value, draw_dot
from gategrad.engine import GATES, topological_order
from gategrad.engine.gates import FUNCTIONS, sentence
from gategrad.explain import expr
from gategrad.explain.expr import build
from gategrad.replay import KERNELS
from gategrad.viz.dot import _gate_text


def same_number(a, b):
    """Equal as float64 (nan matches nan, a zero's sign counts), finite ones within 2 ulps (numpy is not libm)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == 0.0 or b == 0.0 or math.isinf(a) or math.isinf(b):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return abs(a - b) <= 2 * math.ulp(max(abs(a), abs(b)))


@pytest.mark.parametrize("op", sorted(GATES))
def test_the_rows_points_reach_every_case_of_its_sentences(op):
    assert {GATES[op].choose(step) for step in row_steps(GATES[op])} == set(GATES[op].sentences)


@pytest.mark.parametrize("op", sorted(GATES))
def test_each_sentence_fills_every_number_it_names(op):
    for step in row_steps(GATES[op]):
        template, numbers = sentence(step)
        assert step.op == op and template == GATES[op].sentences[GATES[op].choose(step)]
        for text in [template] if isinstance(template, str) else template:  # a pair: singular and plural
            named = {field for _, field, _, _ in string.Formatter().parse(text) if field}
            assert named <= set(numbers)
        assert "{" not in step.explanation and "}" not in step.explanation


@pytest.mark.parametrize("op", sorted(GATES))
def test_every_method_agrees_with_its_row_at_the_rows_points(op):
    """The hand-written method and the row's `forward` and `local` give the same numbers (replay runs the row)."""
    gate, kernel = GATES[op], KERNELS[op]
    for step in row_steps(gate):
        out = step.output
        ins = [np.array([i.value.data]) for i in step.inputs]
        c = None if out.constant is None else np.array([out.constant])
        into = np.full(1, 7.0)  # a row of replay's table, which the kernel writes into
        with np.errstate(all="ignore"):
            data = kernel.forward(ins, c)
            local = kernel.local_grads(ins, data, c)
            written = kernel.forward(ins, c, into)
        assert same_number(float(data[0]), out.data), (op, out)
        assert written is into and same_number(float(into[0]), out.data), (op, out)
        for want, got in zip(out.local_grads, local, strict=True):
            assert same_number(float(np.asarray(got).reshape(-1)[0]), want), (op, out, out.local_grads)


def test_the_first_point_of_each_case_says_its_numbers():
    said = {}
    for op in ("mul", "max", "relu"):
        for step in row_steps(GATES[op]):
            said.setdefault((op, GATES[op].choose(step)), step.explanation)
    assert said["mul", "two"] == (
        "The mul gate swaps its inputs: x gets 1 × y's value -2.25 = -2.25, and y gets 1 × x's value 1.5 = 1.5."
    )
    assert said["max", "tie"] == "The max gate splits a tie: x and y each get 1 × 0.5 = 0.5."
    assert said["max", "below constant"] == (
        "The max gate routes against a constant: the constant 0.5 is larger than x, so x gets 0."
    )
    assert said["relu", "block"] == "The relu gate (max against 0) routes: x = -2 <= 0, so it gets 0."


def test_the_new_gates_speak_with_their_numbers():
    steps = list(build("sqrt(x) + abs(y)", {"x": 4.0, "y": -3.0}).output.backward_steps())
    said = [s.explanation for s in steps]
    assert said[1] == "The abs gate passes the gradient on with the sign of y = -3: y gets 1 × (-1) = -1."
    assert said[2] == "The sqrt gate scales by 1/(2√x) = 1/(2 × 2): x gets 1 × 0.25 = 0.25."
    assert list(build("x / 4", {"x": 6.0}).output.backward_steps())[0].explanation == (
        "The div gate divides by the constant 4: x gets 1 × 1/4 = 0.25."
    )


def test_every_row_names_a_method_of_value_and_a_symbol():
    for op, gate in GATES.items():
        assert gate.op == op and gate.symbol and gate.name and gate.sentences
        assert callable(getattr(Value, gate.method)) and gate.method in gate.python or gate.function is None


def test_every_rows_expressions_are_python_calling_only_the_tables_functions():
    for gate in GATES.values():
        ast.parse(gate.python, mode="eval")
        stuck = (
            [(rule, {"abs"}) for rule in (gate.activation.dead_when, gate.activation.saturated_when) if rule]
            if gate.activation
            else []
        )
        for text, known in [(gate.case, ()), (gate.forward, FUNCTIONS), *((t, FUNCTIONS) for t in gate.local), *stuck]:
            calls = [node.func for node in ast.walk(ast.parse(text, mode="eval")) if isinstance(node, ast.Call)]
            assert all(isinstance(f, ast.Name) and f.id in known for f in calls), (gate.op, text)


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
