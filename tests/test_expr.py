"""The expression parser: what it builds, how it labels the gates, and what it refuses."""

import math
import re

import pytest

from gategrad.explain.expr import ExpressionError, build, parse_values


def test_cs231n_first_circuit_builds_add_then_mul():
    c = build("(x+y)*z", {"x": -2, "y": 5, "z": -4})
    assert c.output.op == "mul"
    assert c.output.data == -12.0
    assert c.output.children[0].label == "x+y"
    assert c.output.children[0].data == 3.0


def test_inputs_are_leaves_in_the_order_the_expression_names_them():
    c = build("2*(x*y+max(z,w))", {"w": -1, "z": 2, "y": -4, "x": 3})
    assert list(c.inputs) == ["x", "y", "z", "w"]
    assert c.inputs["w"].op == ""
    assert c.inputs["w"].label == "w"


def test_every_gate_is_labelled_with_its_source_text():
    c = build("2*(x*y+max(z,w))", {"x": 3, "y": -4, "z": 2, "w": -1})
    add = c.output.children[0]
    assert c.output.label == "2*(x*y+max(z,w))"
    assert add.label == "x*y+max(z,w)"
    assert [v.label for v in add.children] == ["x*y", "max(z,w)"]


def test_a_constant_factor_is_folded_into_the_mul_gate():
    c = build("2*x", {"x": 3})
    assert c.output.children == (c.inputs["x"],)
    assert c.output.local_grads == (2.0,)


def test_constant_subexpressions_fold_into_one_constant():
    c = build("x*(2+3)", {"x": 1})
    assert c.output.local_grads == (5.0,)


def test_subtraction_is_add_of_a_labelled_negation():
    c = build("x - y", {"x": 5, "y": 3})
    negation = c.output.children[1]
    assert c.output.op == "add"
    assert c.output.data == 2.0
    assert negation.label == "-y"
    assert negation.local_grads == (-1.0,)


def test_division_is_a_div_gate():
    c = build("x / (y+1)", {"x": 6, "y": 2})
    assert c.output.data == 2.0
    assert c.output.op == "div"
    assert [v.label for v in c.output.children] == ["x", "y+1"]
    assert c.output.local_grads == (1 / 3, -2 / 3)


def test_a_constant_over_a_name_is_a_reciprocal_times_the_constant():
    c = build("3/x", {"x": 2})
    assert c.output.data == 1.5
    assert c.output.local_grads == (3.0,)
    assert c.output.children[0].label == "1/x"


def test_unary_minus_is_a_gate_and_unary_plus_is_not():
    assert build("-x", {"x": 2}).output.label == "-x"
    assert build("+x", {"x": 2}).output.op == ""


@pytest.mark.parametrize(
    ("expression", "op", "value"),
    [
        ("exp(x)", "exp", math.e),
        ("log(x)", "log", 0.0),
        ("relu(x)", "relu", 1.0),
        ("tanh(x)", "tanh", math.tanh(1.0)),
        ("sigmoid(x)", "sigmoid", 1 / (1 + math.exp(-1.0))),
        ("max(x, 0)", "max", 1.0),
        ("x**2", "pow", 1.0),
    ],
)
def test_each_function_is_one_gate(expression, op, value):
    c = build(expression, {"x": 1.0})
    assert c.output.op == op
    assert c.output.data == value


def test_max_with_the_constant_first_is_the_same_gate():
    c = build("max(3, x)", {"x": 5})
    assert c.output.op == "max"
    assert c.output.data == 5.0
    assert c.output.local_grads == (1.0,)


def test_a_value_can_be_a_negative_number_inf_or_nan():
    values = parse_values(["x=-2", "y=inf", "z=nan"])
    assert values["x"] == -2.0
    assert values["y"] == math.inf
    assert math.isnan(values["z"])


REFUSED = {
    "x.real": "attribute access",
    "foo(x)": "only the functions",
    "__import__('os').system('true')": "only the functions",
    "(lambda: x)()": "only the functions",
    "lambda: x": "lambda",
    "x[0]": "subscripting",
    "'text' * x": "only real numbers",
    "x < 1": "comparison",
    "x if x else x": "if/else",
    "True * x": "only real numbers",
    "2j * x": "only real numbers",
    "x ** 2000": "exponent 2000 is too large",
    "x ** (100*100)": "exponent 10000 is too large",
    "2 ** 3 ** x": "power inside an exponent",
    "-" * 150 + "x": "nested more than 100",
    "(" * 150 + "x" + ")" * 150: "parentheses more than 100",
    "x + " * 300 + "x": "characters long",
    "exp": "exp is a function",
    "max(x)": "max() takes 2 arguments, got 1",
    "exp(x, x)": "exp() takes 1 argument, got 2",
    "exp(x=x)": "plain arguments",
    "x @ x": "operators",
    "~x": "unary minus and plus",
    "x +": "cannot read",
    "9" * 400 + " * x": "too large for a float",
}


@pytest.mark.parametrize("expression", REFUSED)
def test_refused_expressions_say_why(expression):
    with pytest.raises(ExpressionError, match=re.escape(REFUSED[expression])):
        build(expression, {"x": 1.0})


def test_an_expression_without_names_is_refused():
    with pytest.raises(ExpressionError, match="no names"):
        build("2 + 3", {})


def test_a_name_without_a_value_is_refused():
    with pytest.raises(ExpressionError, match="no value for z"):
        build("x*z", {"x": 1.0})


def test_a_value_the_expression_does_not_use_is_refused():
    with pytest.raises(ExpressionError, match="y given but not used"):
        build("x", {"x": 1.0, "y": 2.0})


@pytest.mark.parametrize(
    ("assignments", "message"),
    [
        (["x"], "not NAME=VALUE"),
        (["2x=1"], "not NAME=VALUE"),
        (["x=two"], "must be a number"),
        (["x=1", "x=2"], "x is given twice"),
    ],
)
def test_bad_assignments_say_why(assignments, message):
    with pytest.raises(ExpressionError, match=message):
        parse_values(assignments)
