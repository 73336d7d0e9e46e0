"""Where a circuit first stops being finite, and that place said in one sentence with its numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gategrad.engine.floats import fmt
from gategrad.engine.gates import Template, name, translate
from gategrad.engine.value import Value, topological_order

if TYPE_CHECKING:
    from gettext import NullTranslations

# What `describe_nonfinite` says, by kind: templates with named numbers, so a page or the command line can say
# them in its reader's language (the catalogues translate them; `say_nonfinite` fills one in). A pair (singular,
# plural) tells one input from several (English says "inputs" for one too). The count is not said, so ngettext is
# asked for 1 or 2: Russian's rule would make 21 inputs singular.
NONFINITE: dict[str, Template] = {
    "input": "the input {name} is {value}",
    "gate": (
        "the {op} gate gave {value} from the finite inputs {inputs}",
        "the {op} gate gave {value} from the finite inputs {inputs}",
    ),
    "input_gradient": "the gradient of the input {name} added up to {grad}",
    "gate_gradient": "the gradient of the {op} gate = {value} added up to {grad}",
    "sent_back": "the {op} gate = {value} sent back a gradient of {sent}: its gradient {grad} × local gradient {local}",
}
# A "gate" sentence lists the first SHOWN inputs, each as INPUT, and says how many more there are (a plural pair).
SHOWN = 3
INPUT = "{value} (local gradient {local})"
MORE = ("{inputs} and {more} more", "{inputs} and {more} more")
# A leaf its caller names ("parameter w.0"), in the caller's own words: `describe_nonfinite(v, leaf_name)`.
_NAMED_LEAF = {"input": "{name} is {value}", "input_gradient": "the gradient of {name} added up to {grad}"}


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


def nonfinite_numbers(v: Value) -> tuple[str, dict[str, Any]]:
    """What went non-finite at `v`, the Value `first_nonfinite` found: a key of `NONFINITE` and the numbers its
    template names, as text. A gate's `op` is its row's key; a "gate" kind's `inputs` are the first SHOWN of
    its `n` inputs' [value, local gradient], and `more` counts the others."""
    if not math.isfinite(v.data):
        if not v.children:
            return "input", {"name": name(v), "value": fmt(v.data)}
        pairs = [[fmt(c.data), fmt(local)] for c, local in zip(v.children, v.local_grads)]
        shown, more = pairs[:SHOWN], len(pairs[SHOWN:])
        return "gate", {"op": v.op, "value": fmt(v.data), "n": str(len(pairs)), "inputs": shown, "more": more}
    if not math.isfinite(v.grad):
        if not v.children:
            return "input_gradient", {"name": name(v), "grad": fmt(v.grad)}
        return "gate_gradient", {"op": v.op, "value": fmt(v.data), "grad": fmt(v.grad)}
    bad = next(local for local in v.local_grads if not math.isfinite(local * v.grad))
    numbers = {"op": v.op, "value": fmt(v.data), "sent": fmt(bad * v.grad), "grad": fmt(v.grad), "local": fmt(bad)}
    return "sent_back", numbers


def say_nonfinite(kind: str, numbers: Mapping[str, Any], t: NullTranslations | None = None, **names: str) -> str:
    """`NONFINITE[kind]` filled in with `numbers` (`nonfinite_numbers`'), in the language of `t`, a gettext
    translations object (English without one); `names` are numbers to use instead, such as the gate's name in
    that language."""
    if t is None:
        from gettext import NullTranslations  # English: each message is itself

        t = NullTranslations()
    filled = dict(numbers)
    if kind == "gate":
        items = [t.gettext(INPUT).format(value=value, local=local) for value, local in numbers["inputs"]]
        filled["inputs"] = t.pgettext("list", ", ").join(items)
        if numbers["more"]:
            filled["inputs"] = t.ngettext(*MORE, numbers["more"]).format(inputs=filled["inputs"], more=numbers["more"])
    count = min(int(numbers.get("n", 1)), 2)  # see NONFINITE: one input or several, never the number itself
    return translate(NONFINITE[kind], count, t).format(**{**filled, **names})


def describe_nonfinite(v: Value, leaf_name: str = "") -> str:
    """What went non-finite at `v`, the Value `first_nonfinite` found, in one sentence with its numbers.

    `leaf_name` replaces the label of a leaf, such as "parameter layers.0.neurons.1.w.0".
    """
    kind, numbers = nonfinite_numbers(v)
    if leaf_name and kind in _NAMED_LEAF:
        return _NAMED_LEAF[kind].format(**{**numbers, "name": leaf_name})
    return say_nonfinite(kind, numbers)
