"""Every gate against PyTorch float64: forward values and gradients, edge cases included."""

import math
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gategrad import Value

inf, nan = math.inf, math.nan


def same(a: float, b: float) -> bool:
    """Equal as float64, where nan equals nan and the sign of an infinity matters."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def run_gategrad(f, xs):
    values = [Value(x) for x in xs]
    out = f(*values)
    out.backward()
    return out.data, [v.grad for v in values]


def run_torch(f, xs):
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*tensors)
    out.backward()
    return out.item(), [t.grad.item() if t.grad is not None else 0.0 for t in tensors]


# (name, gategrad, torch, input points): each gate on ordinary points and on its edge cases.
GATES = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(1.5, -2.25), (inf, 1.0), (inf, -inf)]),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(1.5, -2.25), (0.0, inf), (1e200, 1e200)]),
    ("max", lambda a, b: a.max(b), torch.maximum, [(1.0, 2.0), (2.0, 1.0), (3.0, 3.0), (nan, 1.0)]),
    ("max constant", lambda a: a.max(0.5), lambda a: torch.clamp(a, min=0.5), [(1.0,), (0.0,)]),
    ("relu", lambda a: a.relu(), torch.relu, [(2.0,), (-2.0,), (0.0,), (nan,)]),
    ("exp", lambda a: a.exp(), torch.exp, [(0.5,), (-3.0,), (1000.0,), (-1000.0,), (inf,), (-inf,)]),
    ("log", lambda a: a.log(), torch.log, [(2.0,), (0.0,), (-0.0,), (-1.0,), (inf,)]),
    ("pow 2", lambda a: a**2, lambda a: a**2, [(3.0,), (-3.0,), (0.0,), (1e200,)]),
    ("pow 0.5", lambda a: a**0.5, lambda a: a**0.5, [(4.0,), (0.0,), (-4.0,)]),
    ("pow 0", lambda a: a**0, lambda a: a**0, [(0.0,), (5.0,)]),
    ("pow -1", lambda a: a**-1, lambda a: a**-1, [(4.0,), (0.0,), (-0.0,)]),
    ("pow -1.5", lambda a: a**-1.5, lambda a: a**-1.5, [(4.0,), (0.0,), (-2.0,)]),
    ("pow value", lambda a, b: a**b, torch.pow, [(2.0, 3.0), (0.0, 2.0), (0.0, 0.0), (0.0, -1.0), (-2.0, 2.0)]),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [(3.0,), (-1.5,), (2000.0,)]),
    ("rpow zero base", lambda a: 0.0**a, lambda a: 0.0**a, [(2.0,), (0.0,), (-1.0,)]),
    ("tanh", lambda a: a.tanh(), torch.tanh, [(0.5,), (-2.0,), (20.0,), (-1000.0,), (inf,)]),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid, [(0.5,), (-2.0,), (40.0,), (-40.0,), (1000.0,), (-1000.0,)]),
    ("neg", lambda a: -a, lambda a: -a, [(2.0,), (-0.0,)]),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(1.5, 4.0), (inf, inf)]),
    ("rsub", lambda a: 1 - a, lambda a: 1 - a, [(4.0,)]),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(3.0, 4.0), (1.0, 0.0), (0.0, 0.0)]),
    ("rdiv", lambda a: 1 / a, lambda a: 1 / a, [(4.0,), (0.0,), (-0.0,), (inf,)]),
    ("div constant", lambda a: a / 4, lambda a: a / 4, [(3.0,), (inf,)]),
]
CASES = [pytest.param(g, t, x, id=f"{name}{x}") for name, g, t, points in GATES for x in points]


@pytest.mark.parametrize("gg, tt, xs", CASES)
def test_gate_matches_torch_float64(gg, tt, xs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no math exception or warning escapes a gate
        data, grads = run_gategrad(gg, xs)
    expected_data, expected_grads = run_torch(tt, xs)
    assert same(data, expected_data), (data, expected_data)
    for got, want in zip(grads, expected_grads, strict=True):
        assert same(got, want), (grads, expected_grads)


def test_the_edge_cases_named_in_the_design():
    assert Value(1000.0).exp().data == inf
    assert Value(0.0).log().data == -inf
    assert math.isnan(Value(-1.0).log().data)
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == inf
    x = Value(0.0)
    (1 / x).backward()
    assert ((1 / x).data, x.grad) == (inf, -inf)
    assert math.isnan((Value(-8.0) ** (1 / 3)).data)
    a, b = Value(1.0), Value(1.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.5, 0.5)
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0
    assert Value(1000.0).sigmoid().data == 1.0 and Value(-1000.0).sigmoid().data == 0.0
    assert Value(-1000.0).tanh().data == -1.0 and Value(-1000.0).tanh().local_grads == (0.0,)


# ---- random circuits against torch ----

UNARY = ["exp", "tanh", "sigmoid", "relu", "square", "neg", "log_abs"]
BINARY = ["add", "sub", "mul", "div", "max"]


def apply(op, a, b=None, torch_side=False):
    """One step of a random circuit, written once for both libraries."""
    if op == "exp":
        return (a * 0.1).exp()
    if op == "tanh":
        return a.tanh()
    if op == "sigmoid":
        return a.sigmoid()
    if op == "relu":
        return a.relu()
    if op == "square":
        return a**2
    if op == "neg":
        return -a
    if op == "log_abs":
        return (a * a + 1).log()
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return a / (b * b + 1)
    if op == "max":
        return torch.maximum(a, b) if torch_side else a.max(b)
    raise AssertionError(op)


recipes = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(UNARY), st.integers(0, 50)),
        st.tuples(st.sampled_from(BINARY), st.integers(0, 50), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=25,
)
points = st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=4)


def build(recipe, inputs, torch_side):
    """Each step reads earlier nodes (inputs or results) by index, so nodes get shared."""
    nodes = list(inputs)
    for op, *refs in recipe:
        args = [nodes[r % len(nodes)] for r in refs]
        nodes.append(apply(op, *args, torch_side=torch_side))
    return sum(nodes[len(inputs) :], nodes[-1] * 0)


@settings(max_examples=200, deadline=None)
@given(recipe=recipes, xs=points)
def test_random_circuits_match_torch(recipe, xs):
    data, grads = run_gategrad(lambda *v: build(recipe, v, torch_side=False), xs)
    expected_data, expected_grads = run_torch(lambda *t: build(recipe, t, torch_side=True), xs)
    assert math.isclose(data, expected_data, rel_tol=1e-12, abs_tol=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (grads, expected_grads)


@settings(max_examples=200, deadline=None)
@given(
    op=st.sampled_from(["exp", "log", "tanh", "sigmoid", "relu", "sqrt", "inv", "pow_value", "max"]),
    x=st.floats(allow_nan=True, allow_infinity=True),
    y=st.floats(allow_nan=True, allow_infinity=True),
)
def test_no_math_exception_escapes_a_gate(op, x, y):
    a, b = Value(x), Value(y)
    out = {
        "exp": lambda: a.exp(),
        "log": lambda: a.log(),
        "tanh": lambda: a.tanh(),
        "sigmoid": lambda: a.sigmoid(),
        "relu": lambda: a.relu(),
        "sqrt": lambda: a**0.5,
        "inv": lambda: 1 / a,
        "pow_value": lambda: a**b,
        "max": lambda: a.max(b),
    }[op]()
    out.backward()
    assert isinstance(out.data, float) and isinstance(a.grad, float)
