"""Every gate of the gate table against PyTorch float64: values and gradients, edge cases included.

Where IEEE arithmetic fixes the result (add, mul, div, max, relu, abs) gategrad equals torch bit
for bit. exp, log, tanh, sigmoid, pow and sqrt come from Python's libm, torch's from its own
vector library, so they may differ in the last bits: each row of the table states by how many
ulps (`Gate.torch_ulps`), and the worst case over 10^5 random points is measured here.
"""

import math
import random
import warnings

import pytest
from conftest import needs
from hypothesis import given, settings
from hypothesis import strategies as st

from gategrad import Value
from gategrad.engine import GATES

torch = needs("torch")

inf, nan = math.inf, math.nan


class C(float):
    """A constant operand: folded into the gate, not a Value (a plain float on the torch side)."""


def points(gate):
    """The operands the row of `gate` is compared at: its points, and its constant points with the constant a C."""
    folded = [tuple(C(x) if i == gate.constant_place else x for i, x in enumerate(p)) for p in gate.constant_points]
    return [*gate.points, *folded]


CASES = [pytest.param(op, xs, id=f"{op}{xs}") for op, gate in GATES.items() for xs in points(gate)]


def close(got: float, want: float, ulps: int, floor: float = 0.0) -> bool:
    """Equal as float64 (nan equals nan, the sign of zero and of inf matter), or within `ulps` ulps.

    `floor` sets the smallest scale an ulp is counted at: 1.0 for gradients, since tanh's
    1 - t² and sigmoid's s·(1 - s) cancel as they saturate, and a last-bit difference in t
    is then a large share of a tiny gradient.
    """
    if math.isnan(got) or math.isnan(want):
        return math.isnan(got) and math.isnan(want)
    if got == want:
        return math.copysign(1.0, got) == math.copysign(1.0, want)
    if math.isinf(got) or math.isinf(want):
        return False
    return abs(got - want) <= ulps * math.ulp(max(abs(got), abs(want), floor))


def run_gategrad(op, xs):
    values = [x if isinstance(x, C) else Value(x) for x in xs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no math exception or warning escapes a gate
        out = GATES[op](*values)
        out.backward()
    assert out.op == op, f"{GATES[op].python} at {xs} made a {out.op} gate"
    return out.data, [v.grad for v in values if isinstance(v, Value)]


def run_torch(op, xs):
    def tensor(x):
        return torch.tensor(float(x), dtype=torch.float64, requires_grad=not isinstance(x, C))

    args = [float(x) if isinstance(x, C) else tensor(x) for x in xs]
    try:
        out = eval(GATES[op].torch, {"torch": torch}, dict(zip("ab", args)))
    except TypeError:  # torch.maximum takes tensors only
        args = [tensor(x) for x in xs]
        out = eval(GATES[op].torch, {"torch": torch}, dict(zip("ab", args)))
    out.backward()
    grads = [a.grad.item() if a.grad is not None else 0.0 for a, x in zip(args, xs) if not isinstance(x, C)]
    return out.item(), grads


def test_every_gate_of_the_table_is_compared_with_torch():
    assert {op for op, _ in (case.values for case in CASES)} == set(GATES)


@pytest.mark.parametrize("op, xs", CASES)
def test_gate_matches_torch_float64(op, xs):
    ulps = GATES[op].torch_ulps
    data, grads = run_gategrad(op, xs)
    expected_data, expected_grads = run_torch(op, xs)
    assert close(data, expected_data, ulps), (data, expected_data)
    for got, want in zip(grads, expected_grads, strict=True):
        assert close(got, want, ulps, floor=1.0), (grads, expected_grads)


def sweep(gate, rng):
    """A point of the row's sweep: uniform, or log-uniform over a range of positive numbers."""
    lo, hi = gate.sweep
    return math.exp(rng.uniform(math.log(lo), math.log(hi))) if lo > 0 else rng.uniform(lo, hi)


@pytest.mark.slow
@pytest.mark.parametrize("op", [op for op, gate in GATES.items() if gate.torch_ulps])
def test_the_stated_ulps_hold_over_100_000_random_points(op):
    """The worst case over 10^5 points of torch's vector path and 500 of its scalar path."""
    gate = GATES[op]
    rng = random.Random(op)
    xs = [sweep(gate, rng) for _ in range(100_000)]

    def operands(x):
        return [x] if gate.sweep_constant is None else gate.operands([x], gate.sweep_constant)

    batch = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    out = eval(gate.torch, {"torch": torch}, dict(zip("ab", operands(batch))))
    out.sum().backward()
    want = list(zip(out.tolist(), batch.grad.tolist()))
    for x in xs[:500]:
        scalar = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        one = eval(gate.torch, {"torch": torch}, dict(zip("ab", operands(scalar))))
        one.backward()
        want.append((one.item(), scalar.grad.item()))
    worst_value = worst_grad = 0.0
    for x, (value, grad) in zip(xs + xs[:500], want):
        v = Value(x)
        got = gate(*operands(v))
        got.backward()
        worst_value = max(worst_value, abs(got.data - value) / math.ulp(max(abs(got.data), abs(value))))
        worst_grad = max(worst_grad, abs(v.grad - grad) / math.ulp(max(abs(v.grad), abs(grad), 1.0)))
    assert worst_value <= gate.torch_ulps and worst_grad <= gate.torch_ulps, (worst_value, worst_grad)


def test_sqrt_is_correctly_rounded_where_torchs_is_not_always():
    """IEEE's sqrt is exact to the last bit; torch 2.13's vectorised one is off by one ulp at some points."""
    from decimal import Decimal, getcontext

    getcontext().prec = 40
    rng = random.Random(0)
    for x in [rng.uniform(0, 1e6) for _ in range(2000)] + [534197.968260724, 15285.139969726803]:
        got = Value(x).sqrt().data
        exact = Decimal(x).sqrt()
        assert abs(Decimal(got) - exact) <= Decimal(math.ulp(got)) / 2


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


def test_a_negative_base_to_a_fractional_power_is_nan_not_inf():
    for base, exponent in [(-10.0, 400.5), (-1e10, 33.5)]:
        x = Value(base)
        out = x**exponent
        out.backward()
        assert math.isnan(out.data) and math.isnan(x.grad)
        b, k = Value(base), Value(exponent)
        out = b**k
        out.backward()
        assert math.isnan(out.data) and math.isnan(b.grad) and math.isnan(k.grad)


def test_signed_zeros_follow_torch():
    assert math.copysign(1.0, Value(-0.0).relu().data) == -1.0
    x = Value(-math.inf)
    x.log().backward()
    assert x.grad == 0.0 and math.copysign(1.0, x.grad) == -1.0


def test_division_is_one_gate_equal_to_torch_bit_for_bit():
    rng = random.Random(3)
    pairs = [(7.0, 3.0)] + [(rng.uniform(-1e3, 1e3), rng.uniform(-1e3, 1e3)) for _ in range(2000)]
    a = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    b = torch.tensor([p[1] for p in pairs], dtype=torch.float64)
    assert [(Value(x) / Value(y)).data for x, y in pairs] == (a / b).tolist()
    assert (Value(7.0) / Value(3.0)).data == 2.3333333333333335
    assert (Value(7.0) / 3).op == "div"


def test_a_power_with_a_constant_exponent_is_another_gate_than_a_power_of_a_value():
    x = Value(3.0)
    assert (x**2).op == "pow" and (2**x).op == "pow_value" and (x ** Value(2.0)).op == "pow_value"
    assert (x**2).op != (2**x).op


# ---- random circuits against torch ----


def circuit_gategrad(f, xs):
    values = [Value(x) for x in xs]
    out = f(*values)
    out.backward()
    return out.data, [v.grad for v in values]


def circuit_torch(f, xs):
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    out = f(*tensors)
    out.backward()
    return out.item(), [t.grad.item() if t.grad is not None else 0.0 for t in tensors]


UNARY = ["exp", "tanh", "sigmoid", "relu", "square", "neg", "log_abs", "abs", "sqrt_square"]
BINARY = ["add", "sub", "mul", "div", "max"]
TABLE = [f"gate {op}" for op in GATES]  # each gate of the table, as its row writes it for each library


def through_gate(op, a, b, torch_side):
    """The gate `op` on its inputs squashed into (1, 3), where every gate is finite: its method, or its torch."""
    gate = GATES[op]
    x, y = (torch.tanh(a) + 2.0, torch.tanh(b) + 2.0) if torch_side else (a.tanh() + 2.0, b.tanh() + 2.0)
    operands = [x, y][: len(gate.points[0])] if gate.points else gate.operands([x], 0.5)
    return eval(gate.torch, {"torch": torch}, dict(zip("ab", operands))) if torch_side else gate(*operands)


def apply(op, a, b=None, torch_side=False):
    """One step of a random circuit, written once for both libraries."""
    if op.startswith("gate "):
        return through_gate(op.removeprefix("gate "), a, b, torch_side)
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
    if op == "abs":
        return torch.abs(a) if torch_side else a.abs()
    if op == "sqrt_square":
        return torch.sqrt(a * a + 1) if torch_side else (a * a + 1).sqrt()
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
        st.tuples(st.sampled_from(TABLE), st.integers(0, 50), st.integers(0, 50)),
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
    data, grads = circuit_gategrad(lambda *v: build(recipe, v, torch_side=False), xs)
    expected_data, expected_grads = circuit_torch(lambda *t: build(recipe, t, torch_side=True), xs)
    assert math.isclose(data, expected_data, rel_tol=1e-12, abs_tol=1e-12)
    for got, want in zip(grads, expected_grads, strict=True):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), (grads, expected_grads)


@settings(max_examples=300, deadline=None)
@given(op=st.sampled_from(sorted(GATES)), x=st.floats(), y=st.floats())
def test_no_math_exception_escapes_a_gate(op, x, y):
    gate = GATES[op]
    a, b = Value(x), Value(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = gate(*[a, b][: len(gate.points[0])]) if gate.points else gate(*gate.operands([a], y))
        out.backward()
    assert out.op == op and isinstance(out.data, float) and isinstance(a.grad, float)
