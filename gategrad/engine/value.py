"""The engine: a scalar `Value`, the gates that combine Values, and backpropagation.

Every gate records, at the moment it runs, its inputs (`children`) and the derivative of
its output with respect to each input (`local_grads`). `backward()` therefore knows
nothing about any particular gate: it visits the circuit from the output back to the
inputs and applies the chain rule, ``child.grad += local_grad * out.grad``.

Numerics follow PyTorch's float64 scalars: no gate raises a `math` error; overflow gives
inf, an undefined result gives nan, and ties and kinks take PyTorch's gradients.
"""

from __future__ import annotations

import gc
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import cast

_new = object.__new__


class Value:
    """A real number in a circuit: its value `data`, its gradient `grad`, and the gate that made it.

    `op` names that gate ("" for a leaf you created), `children` are the gate's inputs in
    order and `local_grads` the gate's derivative with respect to each of them.
    """

    # Hot path: __slots__ and building nodes without __init__'s checks (see `_node`) keep a
    # node small and cheap. A gate's first two inputs and their local gradients live in the
    # node itself (`_in0`, `_local0`, `_in1`, `_local1`; None for no input), an n-ary add's
    # further ones in `_rest` = (child, local_grad, child, local_grad, ...). One object per
    # node, not a node and an edge tuple, halves what Python's cyclic GC scans as a circuit grows.
    __slots__ = ("data", "grad", "label", "op", "_in0", "_local0", "_in1", "_local1", "_rest")

    data: float
    grad: float
    label: str
    op: str
    _in0: Value | None
    _local0: float
    _in1: Value | None
    _local1: float
    _rest: tuple

    @property
    def children(self) -> tuple[Value, ...]:
        """The gate's inputs, in order (empty for a leaf)."""
        if self._in0 is None:
            return ()
        if self._in1 is None:
            return (self._in0,)
        return (self._in0, self._in1, *self._rest[::2])

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d child for each input, recorded when the gate ran."""
        if self._in0 is None:
            return ()
        if self._in1 is None:
            return (self._local0,)
        return (self._local0, self._local1, *self._rest[1::2])

    def __init__(self, data: float, label: str = "") -> None:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value needs a real number (int or float), got {type(data).__name__}: {data!r}")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}: {label!r}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self._in0 = self._in1 = None
        self._local0 = self._local1 = 0.0
        self._rest = ()

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    # ---- primitive gates: each computes its output and its local gradients together ----

    # Hot path: add, mul and relu build their node inline, as `_node` does, saving a call.

    def __add__(self, other: Value | float) -> Value:
        out = _new(Value)
        if isinstance(other, Value):
            out.data = self.data + other.data
            out._in1 = other
        else:
            c = _constant(other)
            if c is None:
                return NotImplemented
            out.data = self.data + c
            out._in1 = None
        out.grad = 0.0
        out.label = ""
        out.op = "add"
        out._in0 = self
        out._local0 = out._local1 = 1.0
        out._rest = ()
        return out

    __radd__ = __add__

    @staticmethod
    def sum(values: Iterable[Value | float]) -> Value:
        """One add gate over all of `values` (every local gradient is 1), summed left to right."""
        items = tuple(values)
        children: Sequence[Value] = cast("tuple[Value, ...]", items)
        total = 0.0  # left to right, as a chain of binary adds would
        for v in items:  # hot path: a neuron's sum, all Values
            if type(v) is not Value:
                children, total = _values_and_total(items)
                break
            total += v.data
        first, second = (*children[:2], None, None)[:2]
        rest: list[Value | float] = [1.0] * (2 * len(children[2:]))
        rest[::2] = children[2:]
        return _node(total, "add", first, 1.0, second, 1.0, tuple(rest))

    def __mul__(self, other: Value | float) -> Value:
        out = _new(Value)
        if isinstance(other, Value):
            a, b = self.data, other.data
            out.data = a * b
            out._local0 = b
            out._in1 = other
            out._local1 = a
        else:
            c = _constant(other)
            if c is None:
                return NotImplemented
            out.data = self.data * c
            out._local0 = c
            out._in1 = None
            out._local1 = 0.0
        out.grad = 0.0
        out.label = ""
        out.op = "mul"
        out._in0 = self
        out._rest = ()
        return out

    __rmul__ = __mul__

    def max(self, other: Value | float) -> Value:
        """The larger of the two; the gradient goes to the larger input, split 0.5/0.5 on a tie."""
        a = self.data
        if isinstance(other, Value):
            b = other.data
            grad_a, grad_b = _max_grads(a, b)
            return _node(_max(a, b), "max", self, grad_a, other, grad_b)
        c = _constant(other)
        if c is None:
            raise TypeError(f"max needs a Value or a real number, got {type(other).__name__}: {other!r}")
        return _node(_max(a, c), "max", self, _max_grads(a, c)[0])

    def relu(self) -> Value:
        """max(x, 0) with PyTorch's gradient at the kink: relu'(0) = 0."""
        x = self.data
        out = _new(Value)
        out.data = 0.0 if x <= 0.0 else x
        out.grad = 0.0
        out.label = ""
        out.op = "relu"
        out._in0 = self
        out._local0 = 0.0 if x <= 0.0 else 1.0
        out._in1 = None
        out._local1 = 0.0
        out._rest = ()
        return out

    def exp(self) -> Value:
        """e**x; its local gradient is its own output."""
        out = _exp(self.data)
        return _node(out, "exp", self, out)

    def log(self) -> Value:
        """Natural log: log(0) = -inf, log(x < 0) = nan; local gradient 1/x."""
        x = self.data
        return _node(_log(x), "log", self, _div(1.0, x))

    def __pow__(self, other: Value | float) -> Value:
        x = self.data
        if isinstance(other, Value):
            k = other.data
            out = _pow(x, k)
            return _node(out, "pow", self, _pow_base_grad(x, k), other, _pow_exponent_grad(x, k, out))
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(_pow(x, c), "pow", self, _pow_base_grad(x, c))

    def __rpow__(self, other: float) -> Value:
        base = _constant(other)
        if base is None:
            return NotImplemented
        out = _pow(base, self.data)
        return _node(out, "pow", self, _pow_exponent_grad(base, self.data, out))

    def tanh(self) -> Value:
        """tanh as one gate, local gradient 1 - t**2 (cs231n's grouping of gates)."""
        t = math.tanh(self.data)
        return _node(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x) as one gate, local gradient s * (1 - s)."""
        s = 1.0 / (1.0 + _exp(-self.data))
        return _node(s, "sigmoid", self, s * (1.0 - s))

    # ---- derived operations, built from the gates above ----

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return self + (-other)
        c = _constant(other)
        if c is None:
            return NotImplemented
        return self + (-c)

    def __rsub__(self, other: float) -> Value:
        return (-self) + other

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            return self * other**-1.0
        c = _constant(other)
        if c is None:
            return NotImplemented
        return self * _pow(c, -1.0)

    def __rtruediv__(self, other: float) -> Value:
        return self**-1.0 * other

    # ---- backpropagation ----

    def backward(self) -> None:
        """Add d self / d node to every node's `grad`, seeding this Value with 1.

        Gradients accumulate across calls, as PyTorch's leaves do: call `zero_grad()` first
        to start from zero. Only this call's gradient flows through the circuit, so calling
        it twice gives every node exactly twice the gradient of one call.
        """
        with gc_paused():
            order, earlier = self._begin_backward()
            # Hot path: the whole chain rule, one multiply-add per edge.
            for v in order:
                g = v.grad
                v._in0.grad += v._local0 * g  # type: ignore[union-attr]
                b = v._in1
                if b is not None:
                    b.grad += v._local1 * g
                    if v._rest:
                        edges = iter(v._rest)
                        for child, local in zip(edges, edges):
                            child.grad += local * g
            for v, g in earlier:
                v.grad += g

    def backward_steps(self) -> Iterator[Step]:
        """backward(), one gate at a time: yields a `Step` per gate after applying it.

        The gates come in the order backward() uses, and running the generator to the end
        leaves exactly the gradients backward() would.
        """
        with gc_paused():
            order, earlier = self._begin_backward()
        for v in order:
            g = v.grad
            inputs = []
            for child, local in zip(v.children, v.local_grads):
                child.grad += local * g
                inputs.append(StepInput(child, local, local * g))
            yield Step(v.op, v, g, tuple(inputs))
        for v, g in earlier:
            v.grad += g

    def _begin_backward(self) -> tuple[list[Value], list[tuple[Value, float]]]:
        """The gates in backward order, earlier calls' gradients set aside, this Value seeded with 1.

        Setting aside what a gate's `grad` already holds lets only this call's gradient flow
        on; the caller adds the set-aside gradients back at the end.
        """
        order = self._gates_in_backward_order()
        earlier = [(v, v.grad) for v in order if v.grad]
        for v, _ in earlier:
            v.grad = 0.0
        self.grad += 1.0
        return order, earlier

    def zero_grad(self) -> None:
        """Set `grad` to 0 on this Value and every node it was computed from."""
        with gc_paused():
            self.grad = 0.0
            for v in self._gates_in_backward_order():
                for child in v.children:
                    child.grad = 0.0

    def _gates_in_backward_order(self) -> list[Value]:
        """The gates this Value depends on, each listed before the gates that feed it.

        An iterative depth-first search, so a million-gate chain needs no recursion; leaves
        are left out since they pass nothing on.
        """
        if self._in0 is None:
            return []
        order = []
        seen = set()
        stack: list[Value | None] = [self]
        path: list[Value] = []  # the gates entered but not yet placed; None on the stack marks the newest one's end
        while stack:
            v = stack.pop()
            if v is None:  # all inputs of the newest entered gate are placed: it can be placed
                order.append(path.pop())
            elif v not in seen:
                seen.add(v)
                path.append(v)
                stack.append(None)
                for child in v.children:
                    if child._in0 is not None and child not in seen:
                        stack.append(child)
        order.reverse()
        return order


@dataclass(frozen=True)
class StepInput:
    """One input of a gate during backprop: its local gradient and what it receives."""

    value: Value
    local_grad: float
    contribution: float  # local_grad * the gate's upstream gradient


@dataclass(frozen=True)
class Step:
    """One gate of the backward pass: the chain rule applied to its inputs."""

    op: str
    output: Value
    upstream: float  # d root / d output, complete when the gate's turn comes
    inputs: tuple[StepInput, ...]

    @property
    def explanation(self) -> str:
        """One sentence, with the numbers, saying what this gate does to the gradient."""
        return _explain(self)


def _node(
    data: float,
    op: str,
    in0: Value | None = None,
    local0: float = 0.0,
    in1: Value | None = None,
    local1: float = 0.0,
    rest: tuple = (),
) -> Value:
    # Hot path: builds a gate's output without __init__'s checks; the gates pass floats.
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out._in0 = in0
    out._local0 = local0
    out._in1 = in1
    out._local1 = local1
    out._rest = rest
    return out


def _values_and_total(items: Sequence[object]) -> tuple[list[Value], float]:
    """Value.sum's inputs that are Values, and the total of all of them, constants included."""
    children, total = [], 0.0
    for v in items:
        if isinstance(v, Value):
            children.append(v)
            total += v.data
        elif (c := _constant(v)) is not None:
            total += c
        else:
            raise TypeError(f"Value.sum needs Values or real numbers, got {type(v).__name__}: {v!r}")
    return children, total


def _constant(x: object) -> float | None:
    """A plain real number as a float, or None for anything else (bool included)."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    return None


class gc_paused:
    """Pause Python's cyclic garbage collector inside a `with` block.

    A circuit holds no reference cycles, so the collector has nothing to find in it, yet
    each collection rescans every live node; backward() pauses it, and so can a training
    step that builds a large circuit and lets it go before the block ends.
    """

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


# ---- float64 math that never raises, with the results C and PyTorch give ----


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and math.fmod(y, 2.0) != 0.0


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -math.inf
    return math.nan  # negative or nan


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow(x: float, y: float) -> float:
    try:
        r = x**y
    except ZeroDivisionError:  # zero to a negative power
        return -math.inf if math.copysign(1.0, x) < 0.0 and _is_odd_integer(y) else math.inf
    except OverflowError:
        return -math.inf if x < 0.0 and _is_odd_integer(y) else math.inf
    if type(r) is complex:  # a negative base to a fractional power
        return math.nan
    return r


def _pow_base_grad(x: float, k: float) -> float:
    """d(x**k)/dx = k * x**(k-1), and 0 when k = 0 (as PyTorch)."""
    return 0.0 if k == 0.0 else k * _pow(x, k - 1.0)


def _pow_exponent_grad(x: float, k: float, out: float) -> float:
    """d(x**k)/dk = x**k * log(x), and 0 when x = 0 and k >= 0 (as PyTorch)."""
    return 0.0 if x == 0.0 and k >= 0.0 else out * _log(x)


def _max(a: float, b: float) -> float:
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


def _max_grads(a: float, b: float) -> tuple[float, float]:
    """torch.maximum's gradients: to the larger input, split on a tie, to both through a nan."""
    if a == b:
        return (0.5, 0.5)
    return (0.0 if a < b else 1.0, 0.0 if a > b else 1.0)


# ---- checking a gradient by finite differences ----


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Compare backward()'s gradient of `f` at `inputs` with a central finite difference.

    Returns True when every input agrees within ``atol + rtol * |numeric|``; otherwise
    raises AssertionError listing each input that disagrees with both numbers.
    """
    point = [Value(x).data for x in inputs]
    args = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = f(*args)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck needs f to return a Value, got {type(out).__name__}")
    out.backward()
    failures = []
    for i, arg in enumerate(args):
        numeric = (_evaluate(f, point, i, eps) - _evaluate(f, point, i, -eps)) / (2 * eps)
        if not abs(arg.grad - numeric) <= atol + rtol * abs(numeric):
            failures.append(f"input {i} (x{i} = {point[i]!r}): backward {arg.grad!r}, finite difference {numeric!r}")
    if failures:
        raise AssertionError("gradcheck failed:\n  " + "\n  ".join(failures))
    return True


def _evaluate(f: Callable[..., Value], point: list[float], i: int, step: float) -> float:
    moved = list(point)
    moved[i] += step
    return f(*[Value(x) for x in moved]).data


# ---- the walkthrough's sentences, one per kind of gate ----


def _name(v: Value) -> str:
    return v.label or f"{v.data:.4g}"


def _explain(step: Step) -> str:
    g = f"{step.upstream:.4g}"
    op, ins, out = step.op, step.inputs, step.output
    gets = "; ".join(f"{_name(i.value)} gets {g} × {i.local_grad:.4g} = {i.contribution:.4g}" for i in ins)
    if op == "add":
        names = ", ".join(_name(i.value) for i in ins) if len(ins) <= 4 else "..."
        who = f"its input {names} gets" if len(ins) == 1 else f"each of its {len(ins)} inputs ({names}) gets"
        return f"The add gate distributes: {who} the upstream gradient {g} unchanged."
    if op == "mul" and len(ins) == 2:
        a, b = ins
        return (
            f"The mul gate swaps its inputs: {_name(a.value)} gets {g} × {_name(b.value)}'s value "
            f"{a.local_grad:.4g} = {a.contribution:.4g}, and {_name(b.value)} gets {g} × "
            f"{_name(a.value)}'s value {b.local_grad:.4g} = {b.contribution:.4g}."
        )
    if op == "mul":
        (a,) = ins
        return f"The mul gate scales by its constant factor {a.local_grad:.4g}: {gets}."
    if op == "max" and len(ins) == 2:
        a, b = ins
        if a.local_grad == b.local_grad:
            return (
                f"The max gate splits a tie: {_name(a.value)} and {_name(b.value)} "
                f"each get {g} × 0.5 = {a.contribution:.4g}."
            )
        win, lose = (a, b) if a.local_grad > b.local_grad else (b, a)
        return (
            f"The max gate routes: the larger input {_name(win.value)} ({win.value.data:.4g}) gets the "
            f"upstream gradient {win.contribution:.4g}, and {_name(lose.value)} ({lose.value.data:.4g}) gets 0."
        )
    if op == "max":
        (a,) = ins
        if a.local_grad == 1.0:
            verdict = f"{_name(a.value)} is larger than the constant, so it gets the upstream gradient {g}"
        elif a.local_grad == 0.0:
            verdict = f"the constant is larger than {_name(a.value)}, so {_name(a.value)} gets 0"
        else:
            verdict = f"{_name(a.value)} ties with the constant, so it gets {g} × 0.5 = {a.contribution:.4g}"
        return f"The max gate routes against a constant: {verdict}."
    if op == "relu":
        (a,) = ins
        if a.local_grad:
            return f"The relu gate (max against 0) routes: {_name(a.value)} = {a.value.data:.4g} > 0, so it gets {g}."
        return f"The relu gate (max against 0) routes: {_name(a.value)} = {a.value.data:.4g} <= 0, so it gets 0."
    if op == "exp":
        return f"The exp gate scales by its own output {out.data:.4g}: {gets}."
    if op == "log":
        (a,) = ins
        return f"The log gate scales by 1/x = 1/{a.value.data:.4g}: {gets}."
    if op == "pow" and len(ins) == 2:
        base, k = ins
        x, n = _name(base.value), _name(k.value)
        return (
            f"The pow gate {x}**{n}: the base {x} gets {g} × {n}·{x}^({n}-1) = {g} × {base.local_grad:.4g} = "
            f"{base.contribution:.4g}, and the exponent {n} gets {g} × {x}^{n}·log {x} = {g} × "
            f"{k.local_grad:.4g} = {k.contribution:.4g}."
        )
    if op == "pow":
        return (
            f"The pow gate scales by its local gradient, k·x^(k-1) for x raised to a constant k "
            f"(or a^x·log a for a constant a raised to x): {gets}."
        )
    if op == "tanh":
        return f"The tanh gate scales by 1 - t² with its output t = {out.data:.4g}: {gets}."
    if op == "sigmoid":
        return f"The sigmoid gate scales by s·(1 - s) with its output s = {out.data:.4g}: {gets}."
    return f"The {op} gate: {gets}."
