"""One table of gates: everything gategrad knows about each kind of gate, one row per `Value.op`.

A gate's math lives in its `Value` method, its forward value next to its local gradient.
Everything else lives here, and nowhere else: the symbol pictures draw, the name and arity
in `explain`'s expression language, the sentence the walkthrough says (a template with
named numbers, ready for translation), and the torch function the tests compare it with.
A gate missing from this table is an error wherever it is looked up, never a silent default.

The numbers a sentence may name, each written by `fmt`: {g} the upstream gradient, {out}
the gate's output, {c} its constant, {n} its number of inputs and {names} their names; and
for the first and second input {a} and {b} (their names), {a_value}, {a_local} (the local
gradient) and {a_gets} (what it receives, local × upstream), likewise for b.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gategrad.engine.floats import fmt

if TYPE_CHECKING:
    from gategrad.engine.value import Step, Value


@dataclass(frozen=True)
class Gate:
    """One row of the table: the facts about a gate that are not its math."""

    op: str  # Value.op
    symbol: str  # drawn in pictures
    method: str  # the Value method that runs it
    python: str  # how you write it in Python, in the names a and b
    torch: str  # the torch expression it equals, in the same names (the tests evaluate both)
    sentences: Mapping[str, str]  # the explanation templates, by case
    case: Callable[[Step], str]  # which template a step takes
    function: str | None = None  # its name in `explain`'s expressions (None: written with an operator)
    arity: int = 1  # the function's number of arguments
    constant: bool = False  # may fold a constant operand into the gate (kept in Value._local1)
    torch_ulps: int = 0  # how far from torch it may be: 0 where IEEE arithmetic fixes the result, else libm's share


def _one_or_two(step: Step) -> str:
    return "two" if len(step.inputs) == 2 else "constant"


def _max_case(step: Step) -> str:
    if len(step.inputs) == 1:
        local = step.inputs[0].local_grad
        return "above constant" if local == 1.0 else "below constant" if local == 0.0 else "tie with constant"
    a, b = (i.local_grad for i in step.inputs)
    if a == b:
        return "tie" if a == 0.5 else "nan"
    return "first larger" if a > b else "second larger"


_ALL_GATES = [
    Gate(
        op="add",
        symbol="+",
        method="__add__",
        python="a + b",
        torch="a + b",
        sentences={
            "one": "The add gate distributes: its input {a} gets the upstream gradient {g} unchanged.",
            "many": "The add gate distributes: each of its {n} inputs ({names}) gets the upstream gradient {g} "
            "unchanged.",
        },
        case=lambda step: "one" if len(step.inputs) == 1 else "many",
        constant=True,
    ),
    Gate(
        op="mul",
        symbol="×",
        method="__mul__",
        python="a * b",
        torch="a * b",
        sentences={
            "two": "The mul gate swaps its inputs: {a} gets {g} × {b}'s value {a_local} = {a_gets}, "
            "and {b} gets {g} × {a}'s value {b_local} = {b_gets}.",
            "constant": "The mul gate scales by its constant factor {c}: {a} gets {g} × {c} = {a_gets}.",
        },
        case=_one_or_two,
        constant=True,
    ),
    Gate(
        op="div",
        symbol="÷",
        method="__truediv__",
        python="a / b",
        torch="a / b",
        sentences={
            "two": "The div gate {a}/{b}: {a} gets {g} × 1/{b} = {g} × {a_local} = {a_gets}, "
            "and {b} gets {g} × (-{a}/{b}²) = {g} × {b_local} = {b_gets}.",
            "constant": "The div gate divides by the constant {c}: {a} gets {g} × 1/{c} = {a_gets}.",
        },
        case=_one_or_two,
        constant=True,
    ),
    Gate(
        op="max",
        symbol="max",
        method="max",
        python="a.max(b)",
        torch="torch.maximum(a, b)",
        sentences={
            "first larger": "The max gate routes: the larger input {a} ({a_value}) gets the upstream gradient "
            "{a_gets}, and {b} ({b_value}) gets 0.",
            "second larger": "The max gate routes: the larger input {b} ({b_value}) gets the upstream gradient "
            "{b_gets}, and {a} ({a_value}) gets 0.",
            "tie": "The max gate splits a tie: {a} and {b} each get {g} × 0.5 = {a_gets}.",
            "nan": "The max gate meets a nan: {a} and {b} both get the upstream gradient {g}.",
            "above constant": "The max gate routes against a constant: {a} is larger than the constant {c}, "
            "so it gets the upstream gradient {g}.",
            "below constant": "The max gate routes against a constant: the constant {c} is larger than {a}, "
            "so {a} gets 0.",
            "tie with constant": "The max gate routes against a constant: {a} ties with the constant {c}, "
            "so it gets {g} × 0.5 = {a_gets}.",
        },
        case=_max_case,
        function="max",
        arity=2,
        constant=True,
    ),
    Gate(
        op="relu",
        symbol="relu",
        method="relu",
        python="a.relu()",
        torch="torch.relu(a)",
        sentences={
            "pass": "The relu gate (max against 0) routes: {a} = {a_value} > 0, so it gets {g}.",
            "block": "The relu gate (max against 0) routes: {a} = {a_value} <= 0, so it gets 0.",
        },
        case=lambda step: "pass" if step.inputs[0].local_grad else "block",
        function="relu",
    ),
    Gate(
        op="exp",
        symbol="exp",
        method="exp",
        python="a.exp()",
        torch="torch.exp(a)",
        sentences={"one": "The exp gate scales by its own output {out}: {a} gets {g} × {a_local} = {a_gets}."},
        case=lambda step: "one",
        function="exp",
        torch_ulps=4,
    ),
    Gate(
        op="log",
        symbol="log",
        method="log",
        python="a.log()",
        torch="torch.log(a)",
        sentences={"one": "The log gate scales by 1/x = 1/{a_value}: {a} gets {g} × {a_local} = {a_gets}."},
        case=lambda step: "one",
        function="log",
        torch_ulps=4,
    ),
    Gate(
        op="pow",
        symbol="**",
        method="__pow__",
        python="a ** b",
        torch="a ** b",
        sentences={
            "constant": "The pow gate raises {a} to the constant power {c}: {a} gets {g} × {c}·{a}^({c}-1) = "
            "{g} × {a_local} = {a_gets}."
        },
        case=lambda step: "constant",
        constant=True,
        torch_ulps=4,
    ),
    Gate(
        op="pow_value",
        symbol="**",
        method="__pow__",
        python="a ** b",
        torch="torch.pow(a, b)",
        sentences={
            "two": "The pow gate {a}**{b}: the base {a} gets {g} × {b}·{a}^({b}-1) = {g} × {a_local} = {a_gets}, "
            "and the exponent {b} gets {g} × {a}^{b}·log {a} = {g} × {b_local} = {b_gets}.",
            "constant": "The pow gate raises the constant {c} to the power {a}: {a} gets {g} × {c}^{a}·log {c} = "
            "{g} × {a_local} = {a_gets}.",
        },
        case=_one_or_two,
        constant=True,
        torch_ulps=4,
    ),
    Gate(
        op="tanh",
        symbol="tanh",
        method="tanh",
        python="a.tanh()",
        torch="torch.tanh(a)",
        sentences={
            "one": "The tanh gate scales by 1 - t² with its output t = {out}: {a} gets {g} × {a_local} = {a_gets}."
        },
        case=lambda step: "one",
        function="tanh",
        torch_ulps=4,
    ),
    Gate(
        op="sigmoid",
        symbol="σ",
        method="sigmoid",
        python="a.sigmoid()",
        torch="torch.sigmoid(a)",
        sentences={
            "one": "The sigmoid gate scales by s·(1 - s) with its output s = {out}: "
            "{a} gets {g} × {a_local} = {a_gets}."
        },
        case=lambda step: "one",
        function="sigmoid",
        torch_ulps=4,
    ),
    Gate(
        op="abs",
        symbol="abs",
        method="abs",
        python="a.abs()",
        torch="torch.abs(a)",
        sentences={
            "one": "The abs gate passes the gradient on with the sign of {a} = {a_value}: "
            "{a} gets {g} × {a_local} = {a_gets}."
        },
        case=lambda step: "one",
        function="abs",
    ),
    Gate(
        op="sqrt",
        symbol="√",
        method="sqrt",
        python="a.sqrt()",
        torch="torch.sqrt(a)",
        sentences={"one": "The sqrt gate scales by 1/(2√x) = 1/(2 × {out}): {a} gets {g} × {a_local} = {a_gets}."},
        case=lambda step: "one",
        function="sqrt",
        torch_ulps=4,
    ),
]

GATES: dict[str, Gate] = {gate.op: gate for gate in _ALL_GATES}


def name(v: Value) -> str:
    """How a sentence names a Value: its label, or else its value."""
    return v.label or fmt(v.data)


def sentence(step: Step) -> tuple[str, dict[str, str]]:
    """The English template for `step` and the numbers it names, ready for `template.format(**numbers)`."""
    gate = GATES[step.op]
    inputs = step.inputs
    names = [name(i.value) for i in inputs]
    numbers = {
        "g": fmt(step.upstream),
        "out": fmt(step.output.data),
        "n": str(len(inputs)),
        "names": ", ".join(names) if len(inputs) <= 4 else "...",
    }
    constant = step.output.constant
    if constant is not None:
        numbers["c"] = fmt(constant)
    for key, i, label in zip("ab", inputs, names):
        numbers.update(
            {
                key: label,
                f"{key}_value": fmt(i.value.data),
                f"{key}_local": fmt(i.local_grad),
                f"{key}_gets": fmt(i.contribution),
            }
        )
    return gate.sentences[gate.case(step)], numbers
