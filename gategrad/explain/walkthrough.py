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
