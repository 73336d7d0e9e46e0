"""`Value`: a number in a circuit, the gates that combine Values, and backpropagation.

Every gate records, at the moment it runs, its inputs (`children`) and the derivative of
its output with respect to each input (`local_grads`): each gate's math is one line, its
forward value next to its local gradient. `backward()` therefore knows nothing about any
particular gate: it visits the circuit from the output back to the inputs and applies the
chain rule, ``child.grad += local_grad * out.grad``. What a gate is called, drawn and said
lives in its row of `gategrad.engine.gates.GATES`.

Numerics follow PyTorch's float64 scalars: no gate raises a `math` error; overflow gives
inf, an undefined result gives nan, and ties and kinks take PyTorch's gradients.
"""

from __future__ import annotations

import copy
import gc
import math
import numbers
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gategrad.engine import floats, gates
from gategrad.engine.floats import fmt

# Hot path: gates build their output with object.__new__ and set the slots themselves,
# skipping __init__'s checks (they pass floats they computed).
_new = object.__new__


class Value:
    """A real number in a circuit: its value `data`, its gradient `grad`, and the gate that made it.

    `op` names that gate ("" for a leaf you created), `children` are the gate's inputs in
    order and `local_grads` the gate's derivative with respect to each of them.
    """

    # Slot layout, one object per node: a gate's first two inputs and their local gradients
    # (`_in0`, `_local0`, `_in1`, `_local1`; `_in0` is None for a leaf), then `_rest`, the
    # further inputs of an n-ary add (each with local gradient 1). A gate with one Value
    # input and a constant keeps the constant in `_local1` (the 2 of `x ** 2`). `grad` starts at
    # -0.0, IEEE's additive identity: adding a first gradient keeps it exactly, signed zero
    # included, as torch's first assignment does.
    __slots__ = ("data", "grad", "label", "op", "_in0", "_local0", "_in1", "_local1", "_rest")

    data: float
    grad: float
    label: str
    op: str
    _in0: Value | None
    _local0: float
    _in1: Value | None
    _local1: float
    _rest: tuple[Value, ...]

    def __init__(self, data: float, label: str = "") -> None:
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value needs a real number (int or float), got {type(data).__name__}: {data!r}")
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}: {label!r}")
        try:
            self.data = float(data)
        except OverflowError:
            too_large = _too_large(data)
            raise ValueError(f"Value needs a number that fits a float64 (|x| < 1.8e308), got {too_large}") from None
        self.grad = -0.0
        self.label = label
        self.op = ""
        self._in0 = self._in1 = None
        self._local0 = self._local1 = 0.0
        self._rest = ()

    @property
    def children(self) -> tuple[Value, ...]:
        """The gate's inputs, in order (empty for a leaf)."""
        if self._in0 is None:
            return ()
        if self._in1 is None:
            return (self._in0,)
        return (self._in0, self._in1, *self._rest)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """d self / d child for each input, recorded when the gate ran."""
        if self._in0 is None:
            return ()
        if self._in1 is None:
            return (self._local0,)
        return (self._local0, self._local1, *(1.0 for _ in self._rest))

    @property
    def constant(self) -> float | None:
        """The constant folded into this gate (the 2 of `2 * x`, `x ** 2` or `x + 2`), or None."""
        if self._in0 is not None and self._in1 is None and gates.GATES[self.op].constant:
            return self._local1
        return None

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={fmt(self.data)}, grad={fmt(self.grad)}{label})"

    # Compared by value, as floats are, so numpy can sort and pick; == stays identity, so Values hash.
    def __lt__(self, other: Value | float) -> bool:
        return self.data < _data(other)

    def __le__(self, other: Value | float) -> bool:
        return self.data <= _data(other)

    def __gt__(self, other: Value | float) -> bool:
        return self.data > _data(other)

    def __ge__(self, other: Value | float) -> bool:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # ---- the gates: each computes its output and its local gradients together ----

    def __add__(self, other: Value | float) -> Value:
        if type(other) is Value:
            return _node(self.data + other.data, "add", self, 1.0, other, 1.0)  # d/da = 1, d/db = 1
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(self.data + c, "add", self, 1.0, None, c)  # the constant kept, as every gate keeps its own

    __radd__ = __add__

    @staticmethod
    def sum(values: Iterable[Value | float]) -> Value:
        """One add gate over all of `values` (every local gradient is 1), summed left to right.

        With a single Value among them, the gate keeps the sum of the numbers as its constant.
        """
        items = tuple(values)
        total = constant = 0.0  # left to right, as a chain of binary adds would
        for v in items:  # hot path: a neuron's sum, all Values
            if type(v) is not Value:
                children, total, constant = _values_and_total(items)
                break
            total += v.data
        else:
            children = items  # type: ignore[assignment]
        first, second, *more = (*children, None, None)[: max(len(children), 2)]
        local1 = 1.0 if second is not None else constant
        return _node(total, "add", first, 1.0, second, local1, tuple(more))  # type: ignore[arg-type]

    def __mul__(self, other: Value | float) -> Value:
        if type(other) is Value:
            a, b = self.data, other.data
            return _node(a * b, "mul", self, b, other, a)  # d/da = b, d/db = a
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(self.data * c, "mul", self, c, None, c)  # d/dx = c

    __rmul__ = __mul__

    def __truediv__(self, other: Value | float) -> Value:
        a = self.data
        if type(other) is Value:
            b = other.data
            out = floats.div(a, b)
            return _node(out, "div", self, floats.div(1.0, b), other, -floats.div(out, b))  # 1/b, -a/b²
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(floats.div(a, c), "div", self, floats.div(1.0, c), None, c)  # d/da = 1/c

    def __rtruediv__(self, other: float) -> Value:
        c = _constant(other)
        if c is None:
            return NotImplemented
        return self**-1.0 * c  # as torch: c / x is reciprocal(x) * c

    def max(self, other: Value | float) -> Value:
        """The larger of the two; the gradient goes to the larger input, split 0.5/0.5 on a tie."""
        a = self.data
        if type(other) is Value:
            b = other.data
            grad_a, grad_b = floats.maximum_grads(a, b)
            return _node(floats.maximum(a, b), "max", self, grad_a, other, grad_b)  # 1 to the larger
        c = _constant(other)
        if c is None:
            raise TypeError(f"max needs a Value or a real number, got {type(other).__name__}: {other!r}")
        return _node(floats.maximum(a, c), "max", self, floats.maximum_grads(a, c)[0], None, c)

    def relu(self) -> Value:
        """max(x, 0) with PyTorch's gradient at the kink: relu'(0) = 0."""
        x = self.data
        # relu(-0.0) is -0.0 and relu(nan) nan, as torch's; the local gradient is 1 where x > 0 (and for nan)
        return _node(0.0 if x < 0.0 else x, "relu", self, 0.0 if x <= 0.0 else 1.0)

    def exp(self) -> Value:
        """e**x; its local gradient is its own output."""
        out = floats.exp(self.data)
        return _node(out, "exp", self, out)

    def log(self) -> Value:
        """Natural log: log(0) = -inf, log(x < 0) = nan; local gradient 1/x."""
        x = self.data
        return _node(floats.log(x), "log", self, floats.div(1.0, x))

    def __pow__(self, other: Value | float) -> Value:
        x = self.data
        if type(other) is Value:
            k = other.data
            out = floats.pow(x, k)
            base_grad, exponent_grad = floats.pow_base_grad(x, k), floats.pow_exponent_grad(x, k, out)
            return _node(out, "pow_value", self, base_grad, other, exponent_grad)  # k·x^(k-1), x^k·ln x
        c = _constant(other)
        if c is None:
            return NotImplemented
        return _node(floats.pow(x, c), "pow", self, floats.pow_base_grad(x, c), None, c)  # k·x^(k-1)

    def __rpow__(self, other: float) -> Value:
        base = _constant(other)
        if base is None:
            return NotImplemented
        out = floats.pow(base, self.data)
        return _node(out, "pow_value", self, floats.pow_exponent_grad(base, self.data, out), None, base)  # a^x·ln a

    def tanh(self) -> Value:
        """tanh as one gate, local gradient 1 - t**2 (cs231n's grouping of gates)."""
        t = math.tanh(self.data)
        return _node(t, "tanh", self, 1.0 - t * t)

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x) as one gate, local gradient s * (1 - s)."""
        s = 1.0 / (1.0 + floats.exp(-self.data))
        return _node(s, "sigmoid", self, s * (1.0 - s))

    def abs(self) -> Value:
        """|x|, local gradient the sign of x (0 at 0, as torch's)."""
        x = self.data
        return _node(abs(x), "abs", self, floats.sign(x))

    __abs__ = abs

    def sqrt(self) -> Value:
        """√x, local gradient 1/(2√x): inf at 0, nan below."""
        out = floats.sqrt(self.data)
        return _node(out, "sqrt", self, floats.div(0.5, out))

    # ---- built from the gates above ----

    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        if type(other) is Value:
            return self + (-other)
        c = _constant(other)
        if c is None:
            return NotImplemented
        return self + (-c)

    def __rsub__(self, other: float) -> Value:
        return (-self) + other

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
                    for child in v._rest:
                        child.grad += g
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
            step = Step.of(v, v.grad)
            for given in step.inputs:
                given.value.grad += given.contribution
            yield step
        for v, g in earlier:
            v.grad += g

    def _begin_backward(self) -> tuple[list[Value], list[tuple[Value, float]]]:
        """The gates from this Value back to the inputs, earlier calls' gradients set aside, this Value seeded with 1.

        Setting aside what a gate's `grad` already holds lets only this call's gradient flow
        on; the caller adds the set-aside gradients back at the end. Leaves keep theirs: they
        accumulate.
        """
        order = [v for v in reversed(topological_order(self)) if v._in0 is not None]
        earlier = [(v, v.grad) for v in order if v.grad]
        for v, _ in earlier:
            v.grad = -0.0
        self.grad += 1.0
        return order, earlier

    def zero_grad(self) -> None:
        """Set `grad` to 0 on this Value and every node it was computed from."""
        with gc_paused():
            for v in topological_order(self):
                v.grad = -0.0

    def __reduce__(self) -> tuple[Callable[..., Value], tuple[Any, ...]]:
        """Pickle and copy a circuit as a flat list, so a million-gate chain needs no recursion.

        Leaves travel as themselves (a model's parameters stay the model's); the gates above
        them travel as rows of numbers and indices and are rebuilt on arrival.
        """
        if self._in0 is None:
            return (_leaf, (self.data, self.grad, self.label, self.op))
        order = topological_order(self)
        leaves = [v for v in order if v._in0 is None]
        index = {v: i for i, v in enumerate(leaves + [v for v in order if v._in0 is not None])}
        rows = [
            (
                v.data,
                v.grad,
                v.label,
                v.op,
                index[v._in0],
                v._local0,
                -1 if v._in1 is None else index[v._in1],
                v._local1,
                tuple(index[c] for c in v._rest),
            )
            for v in order
            if v._in0 is not None
        ]
        return (_circuit, (leaves, rows))

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """A copy of the circuit, flat as a pickle is; its rows hold only numbers, so only the leaves are copied."""
        if self._in0 is None:
            return _leaf(self.data, self.grad, self.label, self.op)
        _, (leaves, rows) = self.__reduce__()
        return _circuit(copy.deepcopy(leaves, memo), rows)


# One flattened gate of a pickled circuit: data, grad, label, op, then each input's index and local gradient.
_Row = tuple[float, float, str, str, int, float, int, float, tuple[int, ...]]


def _leaf(data: float, grad: float, label: str, op: str) -> Value:
    v = Value(data, label)
    v.grad = grad
    v.op = op
    return v


def _circuit(leaves: list[Value], rows: list[_Row]) -> Value:
    """Rebuild the gates `Value.__reduce__` flattened; the last row is the circuit's output."""
    nodes = list(leaves)
    for data, grad, label, op, in0, local0, in1, local1, rest in rows:
        out = _node(
            data, op, nodes[in0], local0, None if in1 < 0 else nodes[in1], local1, tuple(nodes[i] for i in rest)
        )
        out.grad = grad
        out.label = label
        nodes.append(out)
    return nodes[-1]


def topological_order(root: Value) -> list[Value]:
    """Every Value `root` is computed from, each listed after its inputs, `root` last.

    The one traversal of the engine: backward() runs it in reverse, the walkthrough, the
    pictures and the pickler read it forward. An iterative depth-first search, so a
    million-gate chain needs no recursion; a gate's inputs are met left to right.
    """
    order: list[Value] = []
    seen = set()
    stack: list[Value | None] = [root]
    path: list[Value] = []  # the gates entered but not yet placed; None on the stack marks the newest one's end
    while stack:
        v = stack.pop()
        if v is None:  # all inputs of the newest entered gate are placed: it can be placed
            order.append(path.pop())
            continue
        if v in seen:
            continue
        seen.add(v)
        a = v._in0
        if a is None:
            order.append(v)
            continue
        path.append(v)
        stack.append(None)
        b = v._in1
        if b is not None:  # pushed last to first, so that they are met first to last
            for child in reversed(v._rest):
                if child not in seen:
                    stack.append(child)
            if b not in seen:
                stack.append(b)
        if a not in seen:
            stack.append(a)
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

    @classmethod
    def of(cls, gate: Value, upstream: float) -> Step:
        """The Step of `gate` when `upstream` reaches it: each input gets local gradient × upstream."""
        inputs = tuple(StepInput(c, local, local * upstream) for c, local in zip(gate.children, gate.local_grads))
        return cls(gate.op, gate, upstream, inputs)

    @property
    def explanation(self) -> str:
        """One sentence, with the numbers, saying what this gate does to the gradient."""
        template, numbers = gates.sentence(self)
        return gates.fill(gates.english(template, len(self.inputs)), numbers)


def _node(
    data: float,
    op: str,
    in0: Value | None = None,
    local0: float = 0.0,
    in1: Value | None = None,
    local1: float = 0.0,
    rest: tuple[Value, ...] = (),
) -> Value:
    # Hot path: builds a gate's output without __init__'s checks; the gates pass floats.
    out = _new(Value)
    out.data = data
    out.grad = -0.0
    out.label = ""
    out.op = op
    out._in0 = in0
    out._local0 = local0
    out._in1 = in1
    out._local1 = local1
    out._rest = rest
    return out


def _values_and_total(items: tuple[object, ...]) -> tuple[list[Value], float, float]:
    """Value.sum's inputs that are Values, the total of all of them, and the total of the numbers alone."""
    children, total, constant = [], 0.0, 0.0
    for v in items:
        if isinstance(v, Value):
            children.append(v)
            total += v.data
        elif (c := _constant(v)) is not None:
            total += c
            constant += c
        else:
            raise TypeError(f"Value.sum needs Values or real numbers, got {type(v).__name__}: {v!r}")
    return children, total, constant


def _constant(x: object) -> float | None:
    """A plain real number as a float, or None for anything else (bool included)."""
    if type(x) is float:
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:
            raise ValueError(f"the constant {_too_large(x)} does not fit a float64 (|x| < 1.8e308)") from None
    return None


def _too_large(x: object) -> str:
    """A number too large for a float, described without converting it to one."""
    digits = len(str(abs(x))) if isinstance(x, int) else 0
    return f"an int of {digits} digits" if digits else repr(x)


def _data(x: object) -> float:
    if isinstance(x, Value):
        return x.data
    c = _constant(x)
    if c is None:
        raise TypeError(f"a Value compares with a Value or a real number, not {type(x).__name__}: {x!r}")
    return c


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
