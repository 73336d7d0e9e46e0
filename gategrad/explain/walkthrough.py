"""The backward pass as text: a table of the forward values, one line per gate, and JSON.

Everything here reads what the engine recorded (`Value.backward_steps()` and its Steps);
no gradient is computed twice. Each function takes `lang` ("en", "zh", "ru", ...): the
words change, the numbers do not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gategrad.engine import Step, Value, fmt, json_number, topological_order
from gategrad.engine.gates import name
from gategrad.explain.lang import ENGLISH, gate_name, gate_words, sentence, translator


def walk(root: Value) -> list[Step]:
    """Run `root.backward_steps()` to the end, as backward() would, and keep every Step."""
    return list(root.backward_steps())


def format_forward(root: Value, lang: str = ENGLISH) -> str:
    """A table of every Value in the forward pass: its gate and its value."""
    t = translator(lang)
    rows = [(name(v), gate_name(v.op or "input", lang), fmt(v.data)) for v in topological_order(root)]
    return table((t.gettext("value of"), t.gettext("gate"), t.gettext("data")), rows)


def format_step(step: Step, index: int | None = None, lang: str = ENGLISH) -> str:
    """One gate of the walk on its own: what arrives, what each input gets, and why."""
    t = translator(lang)
    numbers = {
        "k": index,
        **gate_words(step.op, lang),
        "output": name(step.output),
        "data": fmt(step.output.data),
        "g": fmt(step.upstream),
    }
    if index is None:
        head = t.gettext("{gate} gate, output {output} = {data}, upstream gradient {g}")
    else:
        head = t.gettext("step {k}: {gate} gate, output {output} = {data}, upstream gradient {g}")
    rows = [(name(i.value), fmt(i.value.data), fmt(i.local_grad), fmt(i.contribution)) for i in step.inputs]
    header = (t.gettext("input"), t.gettext("data"), t.gettext("local grad"), t.gettext("gets"))
    return f"{head.format(**numbers)}\n{indent(table(header, rows))}\n  {sentence(step, lang)}"


def format_walk(steps: Sequence[Step], lang: str = ENGLISH) -> str:
    """The whole backward pass as a table, one line per gate, in the order backward() runs them."""
    t = translator(lang)
    rows = [
        (str(k), gate_name(s.op, lang), name(s.output), fmt(s.upstream), sentence(s, lang))
        for k, s in enumerate(steps, start=1)
    ]
    header = (
        t.gettext("step"),
        t.gettext("gate"),
        t.gettext("output"),
        t.gettext("upstream"),
        t.gettext("what happens"),
    )
    return table(header, rows)


def format_grads(inputs: Mapping[str, Value], lang: str = ENGLISH) -> str:
    """Each named input's gradient, one line each."""
    t = translator(lang)
    return table((t.gettext("input"), t.gettext("grad")), [(n, fmt(v.grad)) for n, v in inputs.items()])


def format_report(
    expression: str, root: Value, inputs: Mapping[str, Value], steps: Sequence[Step], lang: str = ENGLISH
) -> str:
    """What `gategrad explain` prints: the forward table, the backward walk, the gradients."""
    t = translator(lang)
    return "\n\n".join(
        [
            t.gettext("Forward pass of {expression}:").format(expression=expression)
            + f"\n{indent(format_forward(root, lang))}",
            t.gettext("Backward pass, one gate at a time:") + f"\n{indent(format_walk(steps, lang))}",
            t.gettext("Gradients of {expression}:").format(expression=expression)
            + f"\n{indent(format_grads(inputs, lang))}",
        ]
    )


def to_json(
    expression: str, root: Value, inputs: Mapping[str, Value], steps: Sequence[Step], lang: str = ENGLISH
) -> dict[str, Any]:
    """The walk as a JSON-ready dict with the keys of `gategrad explain --json`; the explanations are in `lang`.

    JSON has no inf or nan, so those become the strings "Infinity", "-Infinity" and
    "NaN", which both Python's float() and JavaScript's Number() read back.
    """
    return {
        "expression": expression,
        "forward": [{"label": v.label, "op": v.op, "data": json_number(v.data)} for v in topological_order(root)],
        "steps": [_json_step(s, sentence(s, lang)) for s in steps],
        "grads": {n: json_number(v.grad) for n, v in inputs.items()},
    }


def _json_step(s: Step, explanation: str) -> dict[str, Any]:
    out = s.output
    return {
        "gate": s.op,
        "output": {"label": out.label, "data": json_number(out.data), "grad": json_number(s.upstream)},
        "upstream": json_number(s.upstream),
        "inputs": [
            {
                "label": i.value.label,
                "data": json_number(i.value.data),
                "local_grad": json_number(i.local_grad),
                "contribution": json_number(i.contribution),
            }
            for i in s.inputs
        ],
        "explanation": explanation,
    }


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns; the last column is not padded, so long sentences do not make trailing spaces."""
    lines = [list(header), *map(list, rows)]
    widths = [max(_width(line[c]) for line in lines) for c in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell + " " * (w - _width(cell)) for cell, w in zip(line, widths)), line[-1]]) for line in lines
    )


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters (East Asian wide or full-width) take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())
