"""The walk as text and JSON, checked on cs231n's circuits and their known numbers."""

import json
import math

import pytest

from gategrad import Value
from gategrad.engine import topological_order
from gategrad.explain.expr import build
from gategrad.explain.walkthrough import (
    format_forward,
    format_grads,
    format_report,
    format_step,
    format_walk,
    to_json,
    walk,
)


@pytest.fixture
def walked_add_mul(add_mul):
    return add_mul, walk(add_mul.output)


@pytest.fixture
def with_max(max_circuit):
    return max_circuit, walk(max_circuit.output)


def test_add_mul_circuit_gradients(walked_add_mul):
    c, _ = walked_add_mul
    assert c.inputs["x"].grad == -4.0
    assert c.inputs["y"].grad == -4.0
    assert c.inputs["z"].grad == 3.0


def test_max_circuit_gradients(with_max):
    c, _ = with_max
    assert c.inputs["x"].grad == -8.0
    assert c.inputs["y"].grad == 6.0
    assert c.inputs["z"].grad == 2.0
    assert c.inputs["w"].grad == 0.0


def test_the_max_step_routes_2_to_z_and_0_to_w(with_max):
    _, steps = with_max
    (max_step,) = [s for s in steps if s.op == "max"]
    z, w = max_step.inputs
    assert z.value.label == "z"
    assert z.contribution == 2.0
    assert w.value.label == "w"
    assert w.contribution == 0.0
    assert "routes" in max_step.explanation
    assert "z (2) gets the upstream gradient 2" in max_step.explanation
    assert "w (-1) gets 0" in max_step.explanation


def test_each_gate_kind_says_what_it_does(with_max):
    _, steps = with_max
    assert [s.op for s in steps] == ["mul", "add", "max", "mul"]
    assert steps[0].explanation == "The mul gate scales by its constant factor 2: x*y+max(z,w) gets 1 × 2 = 2."
    assert "The add gate distributes" in steps[1].explanation
    assert steps[3].explanation == (
        "The mul gate swaps its inputs: x gets 2 × y's value -4 = -8, and y gets 2 × x's value 3 = 6."
    )


@pytest.mark.parametrize(
    ("expression", "x", "sentence"),
    [
        ("exp(x)", 0.0, "The exp gate scales by its own output 1: x gets 1 × 1 = 1."),
        ("log(x)", 2.0, "The log gate scales by 1/x = 1/2: x gets 1 × 0.5 = 0.5."),
        ("relu(x)", -3.0, "The relu gate (max against 0) routes: x = -3 <= 0, so it gets 0."),
        ("tanh(x)", 0.0, "The tanh gate scales by 1 - t² with its output t = 0: x gets 1 × 1 = 1."),
        ("sigmoid(x)", 0.0, "The sigmoid gate scales by s·(1 - s) with its output s = 0.5: x gets 1 × 0.25 = 0.25."),
        (
            "max(x, 1)",
            3.0,
            "The max gate routes against a constant: x is larger than the constant 1, so it gets "
            "the upstream gradient 1.",
        ),
        (
            "x**3",
            2.0,
            "The pow gate raises x to the constant power 3: x gets 1 × 3·x^(3-1) = 1 × 12 = 12.",
        ),
    ],
)
def test_one_sentence_per_gate_kind(expression, x, sentence):
    (step,) = walk(build(expression, {"x": x}).output)
    assert step.explanation == sentence


def test_topological_order_lists_inputs_before_the_gates_they_feed(with_max):
    c, _ = with_max
    labels = [v.label for v in topological_order(c.output)]
    assert labels == ["x", "y", "x*y", "z", "w", "max(z,w)", "x*y+max(z,w)", "2*(x*y+max(z,w))"]


def test_topological_order_of_a_deep_chain_needs_no_recursion():
    v = Value(1.0)
    for _ in range(5000):
        v = v * 1.0
    assert len(topological_order(v)) == 5001


def test_forward_table_shows_each_value(walked_add_mul):
    c, _ = walked_add_mul
    assert format_forward(c.output).splitlines() == [
        "value of  gate   data",
        "x         input  -2",
        "y         input  5",
        "x+y       add    3",
        "z         input  -4",
        "(x+y)*z   mul    -12",
    ]


def test_a_step_on_its_own_shows_its_inputs_table(walked_add_mul):
    _, steps = walked_add_mul
    assert format_step(steps[0], 1).splitlines() == [
        "step 1: mul gate, output (x+y)*z = -12, upstream gradient 1",
        "  input  data  local grad  gets",
        "  x+y    3     -4          -4",
        "  z      -4    3           3",
        "  The mul gate swaps its inputs: x+y gets 1 × z's value -4 = -4, and z gets 1 × x+y's value 3 = 3.",
    ]


def test_the_walk_table_has_one_line_per_gate(walked_add_mul):
    _, steps = walked_add_mul
    lines = format_walk(steps).splitlines()
    assert lines[0] == "step  gate  output   upstream  what happens"
    assert lines[1].startswith("1     mul   (x+y)*z  1         The mul gate swaps its inputs")
    assert lines[2] == (
        "2     add   x+y      -4        The add gate distributes: each of its 2 inputs (x, y) gets the upstream "
        "gradient -4 unchanged."
    )
    assert len(lines) == 3


def test_the_gradient_table(walked_add_mul):
    c, _ = walked_add_mul
    assert format_grads(c.inputs).splitlines() == ["input  grad", "x      -4", "y      -4", "z      3"]


def test_the_report_has_three_parts(walked_add_mul):
    c, steps = walked_add_mul
    report = format_report(c.expression, c.output, c.inputs, steps)
    assert "Forward pass of (x+y)*z:" in report
    assert "Backward pass, one gate at a time:" in report
    assert report.endswith("Gradients of (x+y)*z:\n  input  grad\n  x      -4\n  y      -4\n  z      3")


def test_json_has_exactly_the_issue_keys(with_max):
    c, steps = with_max
    data = to_json(c.expression, c.output, c.inputs, steps)
    assert list(data) == ["expression", "forward", "steps", "grads"]
    assert list(data["steps"][0]) == ["gate", "output", "upstream", "inputs", "explanation"]
    assert list(data["steps"][0]["output"]) == ["label", "data", "grad"]
    assert list(data["steps"][0]["inputs"][0]) == ["label", "data", "local_grad", "contribution"]


def test_json_numbers_of_the_max_circuit(with_max):
    c, steps = with_max
    data = to_json(c.expression, c.output, c.inputs, steps)
    max_step = data["steps"][2]
    assert data["grads"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    assert data["forward"][-1] == {"label": "2*(x*y+max(z,w))", "op": "mul", "data": -20.0}
    assert max_step["output"] == {"label": "max(z,w)", "data": 2.0, "grad": 2.0}
    assert max_step["inputs"][0] == {"label": "z", "data": 2.0, "local_grad": 1.0, "contribution": 2.0}
    assert max_step["inputs"][1] == {"label": "w", "data": -1.0, "local_grad": 0.0, "contribution": 0.0}


def test_json_spells_inf_and_nan_as_strings():
    c = build("log(x) * y", {"x": 0.0, "y": math.nan})
    data = to_json(c.expression, c.output, c.inputs, walk(c.output))
    text = json.dumps(data, allow_nan=False)
    assert data["forward"][1]["data"] == "-Infinity"
    assert data["forward"][2]["data"] == "NaN"
    assert data["grads"]["y"] == "-Infinity"
    assert float(json.loads(text)["grads"]["y"]) == -math.inf
