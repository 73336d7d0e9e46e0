"""Where a circuit first stops being finite, and that place said in one sentence with its numbers."""

from __future__ import annotations

import math

from gategrad.engine.floats import fmt
from gategrad.engine.gates import name
from gategrad.engine.value import Value, topological_order


def first_nonfinite(root: Value) -> Value | None:
    """Where the circuit of `root` first stops being finite: a Value, or None when every number is finite.

    First the values, in forward order: the first Value whose data is inf or nan, so its
    inputs are finite (a gate that overflowed, or a leaf that was never finite). When every
    value is finite, the gradients backward() left, in backward order: the first gate that
    sends an input a non-finite gradient while its own is finite, or whose own gradient, a sum
    of finite contributions, overflowed.
    """
    order = topological_order(root)
    for v in order:
        if not math.isfinite(v.data):
            return v
    for v in reversed(order):
        if not math.isfinite(v.grad):
            return v
        if not all(math.isfinite(local * v.grad) for local in v.local_grads):
            return v
    return None


def describe_nonfinite(v: Value, leaf_name: str = "") -> str:
    """What went non-finite at `v`, the Value `first_nonfinite` found, in one sentence with its numbers.

    `leaf_name` replaces the label of a leaf, such as "parameter layers.0.neurons.1.w.0".
    """
    inputs = [f"{fmt(c.data)} (local gradient {fmt(local)})" for c, local in zip(v.children, v.local_grads)]
    shown = ", ".join(inputs[:3]) + (f" and {len(inputs) - 3} more" if len(inputs) > 3 else "")
    if not math.isfinite(v.data):
        if not v.children:
            return f"{leaf_name or 'the input ' + name(v)} is {fmt(v.data)}"
        return f"the {v.op} gate gave {fmt(v.data)} from the finite inputs {shown}"
    if not math.isfinite(v.grad):
        what = f"the {v.op} gate = {fmt(v.data)}" if v.children else leaf_name or f"the input {name(v)}"
        return f"the gradient of {what} added up to {fmt(v.grad)}"
    bad = next(local for local in v.local_grads if not math.isfinite(local * v.grad))
    return (
        f"the {v.op} gate = {fmt(v.data)} sent back a gradient of {fmt(bad * v.grad)}: "
        f"its gradient {fmt(v.grad)} × local gradient {fmt(bad)}"
    )
