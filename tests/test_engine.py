"""The engine: Values, the gates' forward values and recorded local gradients, backward()."""

import math

import pytest

from gategrad import Value, gradcheck
from gategrad.engine import Step

inf, nan = math.inf, math.nan


def test_cs231n_circuit_add_then_mul():
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = (x + y) * z
    f.backward()
    assert f.data == -12.0
    assert x.grad == -4.0
    assert y.grad == -4.0
    assert z.grad == 3.0


def test_cs231n_circuit_with_max():
    x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
    f = 2 * (x * y + z.max(w))
    f.backward()
    assert f.data == -20.0
    assert (x.grad, y.grad, z.grad, w.grad) == (-8.0, 6.0, 2.0, 0.0)


# ---- the Value itself ----


def test_a_leaf_has_no_gate():
    v = Value(3, label="x")
    assert v.data == 3.0 and type(v.data) is float
    assert v.grad == 0.0
    assert v.label == "x"
    assert v.op == ""
    assert v.children == ()
    assert v.local_grads == ()


@pytest.mark.parametrize("bad", [True, "3", None, 1 + 2j, [1.0], (1.0,)])
def test_constructor_refuses_what_is_not_a_real_number(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_constructor_refuses_a_label_that_is_not_a_string():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_repr_is_short():
    assert repr(Value(2.5, label="x")) == "Value(data=2.5, grad=0, label='x')"
    assert repr(Value(-1.0)) == "Value(data=-1, grad=0)"


@pytest.mark.parametrize("bad", ["2", None, [1.0], True])
def test_operators_refuse_non_numbers(bad):
    x = Value(1.0)
    for op in (lambda: x + bad, lambda: bad * x, lambda: x - bad, lambda: x / bad, lambda: x**bad, lambda: x.max(bad)):
        with pytest.raises(TypeError):
            op()


# ---- each gate records its inputs and local gradients ----


def test_add_gate_records_ones():
    a, b = Value(2.0), Value(3.0)
    out = a + b
    assert (out.data, out.op, out.children, out.local_grads) == (5.0, "add", (a, b), (1.0, 1.0))


def test_mul_gate_records_the_other_input():
    a, b = Value(2.0), Value(3.0)
    out = a * b
    assert (out.data, out.op, out.children, out.local_grads) == (6.0, "mul", (a, b), (3.0, 2.0))


def test_a_constant_needs_no_node_of_its_own():
    x = Value(4.0)
    doubled = 2 * x
    assert doubled.children == (x,) and doubled.local_grads == (2.0,)
    shifted = x + 1
    assert shifted.children == (x,) and shifted.local_grads == (1.0,) and shifted.data == 5.0


def test_an_add_gate_keeps_its_constant_as_the_other_gates_do():
    x, y = Value(4.0), Value(1.0)
    assert (x + 3).constant == 3.0
    assert (1 - x).constant == 1.0
    assert Value.sum([2, x, 3.5]).constant == 5.5
    assert Value.sum([x]).constant == 0.0
    assert (x + y).constant is None
    assert Value.sum([x, y, 2]).constant is None  # two Values: the 2 is in the sum, not kept apart


def test_max_gate_routes_to_the_larger_input():
    a, b = Value(2.0), Value(-1.0)
    out = a.max(b)
    assert (out.data, out.op, out.local_grads) == (2.0, "max", (1.0, 0.0))


def test_relu_is_a_max_against_zero():
    x = Value(-3.0)
    assert (x.relu().data, x.relu().op, x.relu().local_grads) == (0.0, "relu", (0.0,))
    assert Value(3.0).relu().local_grads == (1.0,)


def test_exp_gate_scales_by_its_own_output():
    out = Value(1.0).exp()
    assert out.data == math.e and out.local_grads == (math.e,)


def test_log_gate_records_one_over_x():
    out = Value(4.0).log()
    assert out.data == math.log(4.0) and out.local_grads == (0.25,)


def test_pow_gate_with_a_constant_exponent():
    out = Value(3.0) ** 2
    assert (out.data, out.op, out.local_grads) == (9.0, "pow", (6.0,))


def test_pow_gate_with_a_value_exponent_records_both_derivatives():
    x, k = Value(2.0), Value(3.0)
    out = x**k
    assert out.data == 8.0
    assert out.local_grads == (12.0, 8.0 * math.log(2.0))


def test_tanh_and_sigmoid_are_single_gates():
    t = Value(0.5).tanh()
    assert t.op == "tanh" and t.local_grads == (1 - math.tanh(0.5) ** 2,)
    s = Value(0.0).sigmoid()
    assert (s.op, s.data, s.local_grads) == ("sigmoid", 0.5, (0.25,))


def test_sum_is_one_n_ary_add_gate():
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    out = Value.sum([a, b, 10, c])
    assert out.data == 16.0
    assert out.op == "add"
    assert out.children == (a, b, c)
    assert out.local_grads == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("with_constant", [False, True])
def test_sum_of_any_length_records_every_input_and_passes_each_the_gradient(n, with_constant):
    xs = [Value(float(i + 1), label=f"x{i}") for i in range(n)]
    out = Value.sum([*xs, 0.5] if with_constant else xs) * 2.0
    assert out.data == 2.0 * (sum(range(1, n + 1)) + (0.5 if with_constant else 0.0))
    total = out.children[0]
    assert (total.op, total.children, total.local_grads) == ("add", tuple(xs), (1.0,) * n)
    out.backward()
    assert [x.grad for x in xs] == [2.0] * n


def test_a_value_summed_three_times_gets_three_gradients():
    a = Value(2.0)
    out = Value.sum([a, a, a])
    out.backward()
    assert (out.data, a.grad) == (6.0, 3.0)


def test_sum_refuses_non_numbers():
    with pytest.raises(TypeError, match="str"):
        Value.sum([Value(1.0), "2"])


def test_derived_operations_and_reflected_forms():
    x = Value(4.0)
    assert (-x).data == -4.0
    assert (x - 1).data == 3.0
    assert (1 - x).data == -3.0
    assert (x / 2).data == 2.0
    assert (1 / x).data == 0.25
    assert (2**x).data == 16.0
    assert sum([x, x, 1]).data == 9.0


# ---- backward ----


def test_a_shared_input_accumulates_its_gradient():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_diamond():
    # a feeds b and c, both feed d: d = (2a) * (a + 1); dd/da = 2(a + 1) + 2a = 4a + 2
    a = Value(3.0)
    d = (2 * a) * (a + 1)
    d.backward()
    assert d.data == 24.0
    assert a.grad == 14.0


def test_gradients_accumulate_across_calls_like_pytorch_leaves():
    x = Value(2.0)
    y = x * x * 3
    y.backward()
    assert x.grad == 12.0
    y.backward()
    assert x.grad == 24.0  # exactly twice, not more: only each call's own gradient flows
    assert y.grad == 2.0


def test_zero_grad_clears_the_whole_graph():
    x, w = Value(2.0), Value(-3.0)
    h = x * w
    y = h.relu() + h.exp()
    y.backward()
    assert x.grad != 0 and w.grad != 0
    y.zero_grad()
    assert (x.grad, w.grad, h.grad, y.grad) == (0.0, 0.0, 0.0, 0.0)


def test_backward_of_a_leaf_seeds_it():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0


@pytest.mark.slow
def test_a_million_node_chain_needs_no_recursion():
    x, w, y = Value(0.5), Value(1.0), Value(1.0)
    for _ in range(500_000):
        y = y * w + x  # two gates per step
    y.backward()
    assert y.data == 250_001.0
    assert x.grad == 500_000.0
    # dy/dw = sum over steps of y_k, with y_k = 1 + 0.5 k for k = 0 .. 499,999
    assert w.grad == pytest.approx(500_000 + 0.5 * 499_999 * 500_000 / 2, rel=1e-12)


def test_backward_steps_walk_the_gates_in_backward_order_and_end_with_backward_grads():
    def circuit():
        x, y, z = Value(1.5, label="x"), Value(-2.0, label="y"), Value(0.5, label="z")
        return (x * y + z.exp()).tanh() * x, (x, y, z)

    reference, inputs = circuit()
    reference.backward()
    stepped, stepped_inputs = circuit()
    steps = list(stepped.backward_steps())
    assert [s.op for s in steps] == ["mul", "tanh", "add", "exp", "mul"]
    assert all(isinstance(s, Step) for s in steps)
    assert [v.grad for v in stepped_inputs] == [v.grad for v in inputs]


def test_a_step_carries_the_chain_rule_numbers():
    x, y = Value(3.0, label="x"), Value(-4.0, label="y")
    f = (x * y) * 2
    first, second = list(f.backward_steps())
    assert (first.op, first.upstream) == ("mul", 1.0)
    assert (second.op, second.upstream) == ("mul", 2.0)
    assert [(i.value, i.local_grad, i.contribution) for i in second.inputs] == [(x, -4.0, -8.0), (y, 3.0, 6.0)]
    assert "swaps" in second.explanation and "-8" in second.explanation


# ---- gradcheck ----


def test_gradcheck_accepts_a_correct_gradient():
    assert gradcheck(lambda a, b: (a * b + a.exp()).tanh() / b, [0.3, -1.7])


def test_gradcheck_catches_a_broken_graph_and_lists_both_numbers():
    # A learner's bug: building a new leaf from .data cuts the circuit, so backward sees 0.
    with pytest.raises(AssertionError) as failure:
        gradcheck(lambda a, b: Value(a.data**2) + b, [3.0, 1.0])
    message = str(failure.value)
    assert "input 0" in message and "backward -0.0" in message and "finite difference 6.0" in message
    assert "input 1" not in message


def test_gradcheck_needs_a_value_back():
    with pytest.raises(TypeError, match="Value"):
        gradcheck(lambda a: 3.0, [1.0])
