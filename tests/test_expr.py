"""The expression parser: what it builds, how it labels the gates, and what it refuses."""

import math
import re

import pytest

from gategrad.engine import topological_order
from gategrad.explain.expr import MAX_DEPTH, MAX_LABEL, ExpressionError, build, parse_values


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


def test_a_repeated_subexpression_is_two_gates_unless_shared():
    apart = build("x*y + x*y*z", {"x": 2, "y": 3, "z": 4}).output
    assert apart.children[0] is not apart.children[1].children[0]
    shared = build("x*y + x * y*z", {"x": 2, "y": 3, "z": 4}, share=True)
    xy = shared.output.children[0]
    assert shared.output.children[1].children == (xy, shared.inputs["z"])
    assert (xy.label, xy.data) == ("x*y", 6.0)
    shared.output.backward()
    assert [v.grad for v in shared.inputs.values()] == [15.0, 10.0, 6.0]  # y + y*z, x + x*z, x*y


def test_sharing_a_term_of_a_long_flat_chain_builds_it_once():
    circuit = build("+".join(["x*y"] * 5000), {"x": 1, "y": 2}, share=True)
    gates = [v.op for v in topological_order(circuit.output) if v.children]
    assert (gates.count("mul"), gates.count("add")) == (1, 4999)
    assert circuit.output.data == 10000.0


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
    "x + " * 30_000 + "x": "120001 characters long; the limit is 100000",
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


# ---- limits: long flat chains, real nesting, names and values ----


def test_a_flat_sum_of_10000_terms_is_one_level_deep_and_works():
    c = build("+".join(["x"] * 10_000), {"x": 1.0})
    assert c.output.data == 10_000.0
    c.output.backward()
    assert c.inputs["x"].grad == 10_000.0


def test_a_flat_product_of_10000_terms_works_with_the_engines_numbers():
    c = build("*".join(["x"] * 10_000), {"x": 1.0001})
    product = 1.0
    for _ in range(10_000):
        product *= 1.0001
    assert c.output.data == product
    c.output.backward()
    assert c.inputs["x"].grad == pytest.approx(10_000 * 1.0001**9_999, rel=1e-9)


def test_a_sum_of_101_terms_mixing_plus_and_minus_is_not_nesting():
    c = build("x" + "+x-x" * 50, {"x": 2.0})  # 101 terms
    assert c.output.data == 2.0


def test_a_long_chain_labels_each_gate_with_both_ends_of_its_text():
    text = "+".join(["x"] * 1000)
    labels = [v.label for v in topological_order(build(text, {"x": 1.0}).output)]
    assert max(map(len, labels)) == MAX_LABEL - 1  # 28 characters, "...", 28 characters
    assert labels[-1] == text[:28] + "..." + text[-28:]
    assert labels[1:4] == ["x+x", "x+x+x", "x+x+x+x"]


@pytest.mark.parametrize("levels, refused", [(99, False), (101, True)])
def test_real_nesting_counts_and_the_message_states_the_limit(levels, refused):
    text = "-" * levels + "x"  # each unary minus is one level, the name one more
    if not refused:
        assert build(text, {"x": 1.0}).output.data == (-1.0) ** levels
        return
    with pytest.raises(ExpressionError) as error:
        build(text, {"x": 1.0})
    assert str(error.value) == (
        f"the expression is nested more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH} "
        "(a flat chain such as a+b-c or a*b/c is one level)"
    )


def test_a_chain_inside_parentheses_is_one_level_more_than_they_are():
    text = "(" * 98 + "+".join(["x"] * 500) + ")" * 98  # parentheses add no level; the chain and x do
    assert build(text, {"x": 1.0}).output.data == 500.0
    nested = "exp(" * 98 + "+".join(["x"] * 500) + ")" * 98  # 98 calls, the chain, x: 100 levels
    assert build(nested, {"x": -1.0}).output.op == "exp"
    with pytest.raises(ExpressionError, match="the limit is 100"):
        build("-" + nested, {"x": -1.0})


def test_names_are_nfkc_normalised_as_python_normalises_the_expression():
    values = parse_values(["ｘ=3", "ﬁ=2"])  # fullwidth x; the ligature fi
    assert values == {"x": 3.0, "fi": 2.0}
    c = build("ｘ*2 + ﬁ", values)
    assert c.output.data == 8.0 and list(c.inputs) == ["x", "fi"]
    with pytest.raises(ExpressionError, match="x is given twice"):
        parse_values(["x=1", "ｘ=2"])


@pytest.mark.parametrize("text", ["1e999", "-1e999", "1" + "0" * 400, "1e400"])
def test_a_value_that_overflows_to_inf_is_refused(text):
    with pytest.raises(ExpressionError) as error:
        parse_values([f"x={text}"])
    assert str(error.value) == f"the value of x, {text}, is too large for a float; write inf for inf"


@pytest.mark.parametrize("text", ["inf", "-inf", "+Infinity", "INF", "nan", "-NaN"])
def test_inf_and_nan_written_as_such_are_values(text):
    value = parse_values([f"x={text}"])["x"]
    assert not math.isfinite(value)


def test_a_constant_that_overflows_to_inf_in_the_expression_is_refused():
    with pytest.raises(ExpressionError, match="a number in the expression is too large for a float"):
        build("1e999 * x", {"x": 1.0})
