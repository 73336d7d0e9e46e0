"""Reading the circuit of loss(p) after backward(): which arrays are nearer the loss, and how one entry's
gradient is made, gate by gate.

Everything here reads what the engine recorded: each gate's inputs, its local gradients and each node's
`grad`. The only arithmetic is the chain rule's products along a path, to split one gradient into terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gategrad.engine import Step, Value, fmt, topological_order
from gategrad.engine.gates import GATES

Marks = Mapping[Value, tuple[str, tuple[int, ...]]]  # each entry of a checked array: (array name, index)


def order_from_loss(root: Value, marks: Marks) -> tuple[list[Value], dict[str, tuple[float, float]]]:
    """The circuit in forward order, and for each array how far it is from the loss, walking back.

    The distance is (how many marked arrays lie between it and the loss, at most; how many gates, at
    least), over its entries: sorting by it lists the arrays in the order the gradient reaches them.
    """
    order = topological_order(root)
    passed: dict[Value, int] = {root: 0}
    gates: dict[Value, int] = {root: 0}
    distance: dict[str, tuple[float, float]] = {}
    for v in reversed(order):  # each node after every gate that uses it
        h, g = passed.pop(v), gates.pop(v)
        mark = marks.get(v)
        if mark is not None:
            name = mark[0]
            far, near = distance.get(mark[0], (-1, math.inf))
            distance[name] = (max(far, h), min(near, g))
            h += 1
        g += 1
        for child in v.children:
            if passed.get(child, -1) < h:
                passed[child] = h
            if gates.get(child, math.inf) > g:
                gates[child] = g
    return order, distance


@dataclass(frozen=True)
class Term:
    """One way from an entry to the loss: through `output`, the nearest marked entry (or the loss) on it."""

    output: Value
    tapped: bool  # False for the loss itself, reached on a way that passes no marked entry
    upstream: float  # ∂L/∂output, the engine's
    local: float  # ∂output/∂entry: the product of the local gradients recorded along the way


@dataclass(frozen=True)
class Route:
    """How the gradient of one entry is made: ∂L/∂entry = Σ upstream × local over the terms."""

    entry: Value
    terms: tuple[Term, ...]
    steps: tuple[Step, ...]  # the gates from terms[0].output back to the entry, when those are one chain


def route(order: Sequence[Value], entry: Value, marks: Marks, root: Value) -> Route:
    """Follow `entry` forward to the nearest marked entries (or the loss), multiplying local gradients."""
    reach: dict[Value, float] = {entry: 1.0}  # node -> ∂node/∂entry, for nodes between entry and the terms
    ends: list[Term] = []
    for v in order:
        d, hit = 0.0, False
        for child, local in zip(v.children, v.local_grads):
            r = reach.get(child)
            if r is not None:
                d += local * r
                hit = True
        if not hit:
            continue
        if v in marks or v is root:
            ends.append(Term(v, v in marks, v.grad, d))
        else:
            reach[v] = d
    steps = _chain(ends[0].output, entry, reach, marks) if ends else ()
    return Route(entry, tuple(ends), steps)


def _chain(end: Value, entry: Value, reach: Mapping[Value, float], marks: Marks) -> tuple[Step, ...]:
    """The Steps of the gates from `end` back to `entry`, or () when the way branches.

    A marked entry's own gate is the identity `tap` adds, so it is left out.
    """
    chain = []
    v = end
    while v is not entry:
        inputs = [child for child in v.children if child is entry or child in reach]
        if len(inputs) != 1:
            return ()
        if not (v is end and v in marks):
            chain.append(v)
        v = inputs[0]
    for parent, v in zip([None, *chain], chain):  # a gate's sentence names its inputs and output by expression
        for named, user in ((v, parent), *((child, v) for child in v.children)):
            if not named.label and named.children:
                inside_sum = user is None or user.op == "add"  # a term of a sum needs no parentheses
                named.label = expression(named) if inside_sum else _wrapped(expression(named))
    return tuple(Step.of(v, v.grad) for v in chain)  # the Steps backward() took, read back from the gradients


def expression(v: Value, depth: int = 2) -> str:
    """How an unnamed node is written: its gate on its inputs' names, `…` for unnamed ones deeper down."""
    if v.label:
        return v.label
    if not v.children:
        return fmt(v.data)  # a constant
    if depth == 0:
        return "…"
    gate = GATES[v.op]
    args = [expression(child, depth - 1) for child in v.children]
    if v.constant is not None:
        args.append(fmt(v.constant))
    if gate.function is not None:
        return f"{gate.function}({', '.join(args)})"
    return f" {gate.symbol} ".join(_wrapped(arg) for arg in args)


def _wrapped(text: str) -> str:
    return f"({text})" if " " in text else text


def elementwise_next(order: Sequence[Value], array: Mapping[tuple[int, ...], Value], marks: Marks) -> str | None:
    """The marked array whose entry [i] is a function of `array`'s entry [i] alone (or a constant), if any.

    Such as a1 = sigmoid(z1) for z1: then ∂L/∂z1 = ∂L/∂a1 × a1's derivative, entry by entry.
    """
    source: dict[Value, tuple[int, ...] | str] = {v: i for i, v in array.items()}  # the entry each node comes from
    alone: dict[str, bool] = {}
    numbers: dict[str, dict[tuple[int, ...], float]] = {}
    for v in order:
        if v in source:
            continue
        seen = {source.get(child, "elsewhere") for child in v.children}
        if seen <= {"elsewhere"}:
            continue
        one = next(iter(seen)) if len(seen) == 1 else "many"
        mark = marks.get(v)
        if mark is None:
            source[v] = one
        else:
            name, index = mark
            alone[name] = alone.get(name, True) and one == index
            numbers.setdefault(name, {})[index] = v.data
    found = [name for name, every in alone.items() if every]
    if not found:
        return None
    # the same numbers under a later name are the caller's name for a helper's result: A2 = sigmoid(Z2), not s
    return [name for name in found if numbers[name] == numbers[found[0]]][-1]


LOSS = "the loss"  # the use name of the loss itself, reached on a way that passes no marked array


def parts(order: Sequence[Value], array: np.ndarray, marks: Marks, root: Value) -> dict[str, np.ndarray]:
    """The gradient of `array` through each marked array that uses it directly (or the loss), entry by entry.

    Their sum is the array's gradient: one backward pass per use, from that use's engine gradients,
    through the unmarked gates between it and `array`.
    """
    own, uses = _uses(order, array, marks, root)
    return {
        use: _pull(_reaching(starts, own, marks), starts, own, marks, root, array.shape, None)
        for use, starts in uses.items()
    }


def pulls(
    order: Sequence[Value], array: np.ndarray, marks: Marks, root: Value, use: str, guesses: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """What `array` would get through `use` if each guess were the use's gradient, one array per guess."""
    own, uses = _uses(order, array, marks, root)
    starts = uses[use]
    gates = _reaching(starts, own, marks)  # found once, walked once per guess
    return [_pull(gates, starts, own, marks, root, array.shape, guess) for guess in guesses]


def _uses(
    order: Sequence[Value], array: np.ndarray, marks: Marks, root: Value
) -> tuple[dict[Value, tuple[int, ...]], dict[str, list[Value]]]:
    """`array`'s entries (node -> index), and each marked array that uses them directly with all its entries."""
    own = {v: i for i, v in np.ndenumerate(array) if isinstance(v, Value)}
    between: set[Value] = set()
    uses: dict[str, list[Value]] = {}
    for v in order:
        if v in own or not any(child in own or child in between for child in v.children):
            continue
        if v in marks:
            uses.setdefault(marks[v][0], []).append(v)
        elif v is root:
            uses.setdefault(LOSS, []).append(v)
        else:
            between.add(v)
    every: dict[str, list[Value]] = {}
    for v, (name, _) in marks.items():
        if name in uses:
            every.setdefault(name, []).append(v)
    # every entry of a use, also those that no longer reach the loss (where a relu passed a constant 0 on)
    return own, {use: every.get(use, reached) for use, reached in uses.items()}


def _pull(
    gates: Sequence[Value],
    starts: Sequence[Value],
    own: Mapping[Value, tuple[int, ...]],
    marks: Marks,
    root: Value,
    shape: tuple[int, ...],
    given: np.ndarray | None,
) -> np.ndarray:
    """One backward pass from `starts` (their engine gradients, or `given`) down to `own`, through `gates`."""
    pending = {v: (1.0 if v is root else v.grad if given is None else given[marks[v][1]]) for v in starts}
    part = np.zeros(shape)
    for v in reversed(gates):
        g = pending.pop(v, None)
        if g is None:
            continue
        for child, local in zip(v.children, v.local_grads):
            if child in own:
                part[own[child]] += local * g
            elif child not in marks:
                pending[child] = pending.get(child, 0.0) + local * g
    return part


def _reaching(starts: Sequence[Value], own: Mapping[Value, object], marks: Marks) -> list[Value]:
    """`starts` and the unmarked gates below them that lead down to `own`, inputs before outputs."""
    reach: set[Value] = set()
    gates = []
    for v in _below(starts, own, marks):
        if any(child in own or child in reach for child in v.children):
            reach.add(v)
            gates.append(v)
    return gates


def _below(starts: Sequence[Value], own: Mapping[Value, object], marks: Marks) -> list[Value]:
    """`starts` and the unmarked gates below them, down to `own`, each after the gates it takes inputs from."""
    seen: set[Value] = set()
    out: list[Value] = []
    stack = [(v, False) for v in starts]
    while stack:
        v, done = stack.pop()
        if done:
            out.append(v)
            continue
        if v in seen:
            continue
        seen.add(v)
        stack.append((v, True))
        stack += [
            (child, False) for child in v.children if child not in seen and child not in own and child not in marks
        ]
    return out


def bias_line(shape: tuple[int, ...], route_of: Callable[[tuple[int, int]], Route]) -> str | None:
    """ "row" when row 0 of a weight matrix of `shape` multiplies a column of ones (x @ W with x = [1, ...]),
    "column" for column 0 and a row of ones (W @ x); else None. Read from the local gradients recorded at
    [0,j] and [i,0], whose routes `route_of` gives."""
    if len(shape) != 2 or shape[0] * shape[1] < 2:
        return None

    def ones(index: tuple[int, int]) -> bool:
        terms = route_of(index).terms
        return bool(terms) and all(term.local == 1.0 for term in terms)

    rows, columns = shape
    row = ones((0, 1 if columns > 1 else 0)) and (rows == 1 or not ones((1, 0)))
    if row:
        return "row"
    column = ones((1 if rows > 1 else 0, 0)) and (columns == 1 or not ones((0, 1)))
    return "column" if column else None
