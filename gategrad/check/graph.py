"""Reading the circuit of loss(p) after backward(): which arrays are nearer the loss, and how one entry's
gradient is made, gate by gate.

Everything here reads what the engine recorded: each gate's inputs, its local gradients and each node's
`grad`. The only arithmetic is the chain rule's products along a path, to split one gradient into terms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gategrad.engine import Step, Value, topological_order

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
    steps = []
    v = end
    while v is not entry:
        inputs = [child for child in v.children if child is entry or child in reach]
        if len(inputs) != 1:
            return ()
        if not (v is end and v in marks):
            steps.append(Step.of(v, v.grad))  # the Step backward() took here, read back from the finished gradients
        v = inputs[0]
    return tuple(steps)


def elementwise_next(order: Sequence[Value], array: Mapping[tuple[int, ...], Value], marks: Marks) -> str | None:
    """The marked array whose entry [i] is a function of `array`'s entry [i] alone (or a constant), if any.

    Such as a1 = sigmoid(z1) for z1: then ∂L/∂z1 = ∂L/∂a1 × a1's derivative, entry by entry.
    """
    source: dict[Value, tuple[int, ...] | str] = {v: i for i, v in array.items()}  # the entry each node comes from
    alone: dict[str, bool] = {}
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
    return next((name for name, every in alone.items() if every), None)
