"""Classic wrong gradients, computed from the circuit the engine recorded, so a grader can name them.

Each slip is a backward loop as a learner writes it, reading the recorded `children` and `local_grads`
with one thing done wrong: a local gradient left out; an input of a gate whose local gradients swap its
inputs (mul, by its row in the gate table) given its own value instead of the other's; `=` where `+=`
belongs (explain.mistakes' overwrite walk); the upstream gradient forgotten. The circuit's own `.grad`s
are never touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gategrad.engine import GATES, Value, fmt, topological_order
from gategrad.engine.gates import name
from gategrad.exercise.variant import Slip, tolerance
from gategrad.explain.mistakes import overwrite_walk

Local = Callable[[Value, int, float], float]  # (gate, input index, recorded local gradient) -> the one the slip uses


def _walk(root: Value, local: Local) -> dict[Value, float]:
    grad: dict[Value, float] = {root: 1.0}
    for v in reversed(topological_order(root)):
        g = grad.get(v, 0.0)
        for i, (child, recorded) in enumerate(zip(v.children, v.local_grads)):
            grad[child] = grad.get(child, 0.0) + local(v, i, recorded) * g
    return grad


def _without(gate: Value, index: int) -> Local:
    return lambda v, i, recorded: 1.0 if (v is gate and i == index) else recorded


def _own_value(gate: Value, index: int) -> Local:
    return lambda v, i, recorded: v.children[i].data if (v is gate and i == index) else recorded


def slips(root: Value, items: Mapping[str, Value], rule: str) -> dict[str, tuple[Slip, ...]]:
    """For each item's Value (after `root.backward()`), the classic wrong gradients that differ from the right one."""
    found: dict[str, list[Slip]] = {item: [Slip("sign", -v.grad)] for item, v in items.items()}
    users: dict[Value, list[Value]] = {}
    for v in topological_order(root):
        for child in v.children:
            users.setdefault(child, []).append(v)
    for v in topological_order(root):
        for i, child in enumerate(v.children):
            numbers = {"gate": v.op, "output": name(v), "input": name(child), "local": fmt(v.local_grads[i])}
            walked = _walk(root, _without(v, i))
            for item, node in items.items():
                found[item].append(Slip("missing_local", walked.get(node, 0.0), numbers))
            if GATES[v.op].local == ("b", "a") and len(v.children) == 2 and v.children[0] is not v.children[1]:
                walked = _walk(root, _own_value(v, i))
                numbers = {"output": name(v), "input": name(child), "value": fmt(child.data)}
                for item, node in items.items():
                    found[item].append(Slip("own_value", walked.get(node, 0.0), numbers))
    overwritten = overwrite_walk(root).grads
    for item, node in items.items():
        uses = users.get(node, [])
        if len(uses) > 1:
            found[item].append(
                Slip("missing_term", overwritten.get(node, 0.0), {"name": name(node), "n": str(len(uses))})
            )
        elif len(uses) == 1 and uses[0].grad != 1.0:
            (gate,) = uses
            local = sum(loc for c, loc in zip(gate.children, gate.local_grads) if c is node)
            found[item].append(Slip("missing_upstream", local, {"output": name(gate), "g": fmt(gate.grad)}))
    return {item: _distinct(node.grad, found[item], rule) for item, node in items.items()}


def _distinct(right: float, candidates: list[Slip], rule: str) -> tuple[Slip, ...]:
    """The candidates that a grader can tell from the right answer and from each other, first ones kept."""
    kept: list[Slip] = []
    for slip in candidates:
        if abs(slip.value - right) <= tolerance(right, rule) or any(
            abs(slip.value - k.value) <= tolerance(k.value, rule) for k in kept
        ):
            continue
        kept.append(slip)
    return tuple(kept)
