"""The backward pass as text: a table of the forward values, one line per gate, and JSON.

Everything here reads what the engine recorded (`Value.backward_steps()` and its Steps);
no gradient is computed twice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from gategrad.engine import Step, Value, fmt, topological_order
from gategrad.engine.gates import name


def walk(root: Value) -> list[Step]:
    """Run `root.backward_steps()` to the end, as backward() would, and keep every Step."""
    return list(root.backward_steps())


def format_forward(root: Value) -> str:
    """A table of every Value in the forward pass: its gate and its value."""
    rows = [(name(v), v.op or "input", fmt(v.data)) for v in topological_order(root)]
    return _table(("value of", "gate", "data"), rows)


def format_step(step: Step, index: int | None = None) -> str:
    """One gate of the walk on its own: what arrives, what each input gets, and why."""
    title = f"step {index}: " if index is not None else ""
    head = f"{title}{step.op} gate, output {name(step.output)} = {fmt(step.output.data)}"
    rows = [(name(i.value), fmt(i.value.data), fmt(i.local_grad), fmt(i.contribution)) for i in step.inputs]
    table = _table(("input", "data", "local grad", "gets"), rows)
    return f"{head}, upstream gradient {fmt(step.upstream)}\n{_indent(table)}\n  {step.explanation}"


def format_walk(steps: Sequence[Step]) -> str:
    """The whole backward pass as a table, one line per gate, in the order backward() runs them."""
    rows = [(str(k), s.op, name(s.output), fmt(s.upstream), s.explanation) for k, s in enumerate(steps, start=1)]
    return _table(("step", "gate", "output", "upstream", "what happens"), rows)


def format_grads(inputs: Mapping[str, Value]) -> str:
    """Each named input's gradient, one line each."""
    return _table(("input", "grad"), [(n, fmt(v.grad)) for n, v in inputs.items()])


def format_report(expression: str, root: Value, inputs: Mapping[str, Value], steps: Sequence[Step]) -> str:
    """What `gategrad explain` prints: the forward table, the backward walk, the gradients."""
    return "\n\n".join(
        [
            f"Forward pass of {expression}:\n{_indent(format_forward(root))}",
            f"Backward pass, one gate at a time:\n{_indent(format_walk(steps))}",
            f"Gradients of {expression}:\n{_indent(format_grads(inputs))}",
        ]
    )


def to_json(expression: str, root: Value, inputs: Mapping[str, Value], steps: Sequence[Step]) -> dict:
    """The walk as a JSON-ready dict with the keys of `gategrad explain --json`.

    JSON has no inf or nan, so those become the strings "Infinity", "-Infinity" and
    "NaN", which both Python's float() and JavaScript's Number() read back.
    """
    return {
        "expression": expression,
        "forward": [{"label": v.label, "op": v.op, "data": _json_number(v.data)} for v in topological_order(root)],
        "steps": [_json_step(s) for s in steps],
        "grads": {n: _json_number(v.grad) for n, v in inputs.items()},
    }


def _json_step(s: Step) -> dict:
    out = s.output
    return {
        "gate": s.op,
        "output": {"label": out.label, "data": _json_number(out.data), "grad": _json_number(s.upstream)},
        "upstream": _json_number(s.upstream),
        "inputs": [
            {
                "label": i.value.label,
                "data": _json_number(i.value.data),
                "local_grad": _json_number(i.local_grad),
                "contribution": _json_number(i.contribution),
            }
            for i in s.inputs
        ],
        "explanation": s.explanation,
    }


def _json_number(x: float) -> float | str:
    """`x` itself when finite; "Infinity", "-Infinity" or "NaN" otherwise."""
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns; the last column is not padded, so long sentences do not make trailing spaces."""
    lines = [list(header), *map(list, rows)]
    widths = [max(len(line[c]) for line in lines) for c in range(len(header) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(line, widths)), line[-1]]) for line in lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


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
