"""One table of gates: everything gategrad knows about each kind of gate, one row per `Value.op`.

A gate's math lives in its `Value` method, its forward value next to its local gradient,
written for speed. Everything else lives here, and nowhere else: the symbol pictures draw,
its name in tables and in `explain`'s expression language, the sentences the walkthrough
says (templates with named numbers, ready for translation) and which one a step takes, its
math once more as expressions that replay runs on numpy arrays and the training page on
numbers, the torch function the tests compare it with, the points they compare it at, and,
for an activation, what nn needs of it. A gate missing from this table is an error wherever
it is looked up, never a silent default. Adding a gate is adding its method and its row.

The numbers a sentence may name, each written by `fmt`: {g} the upstream gradient, {out}
the gate's output, {c} its constant, {n} its number of inputs and {names} their names; and
for the first and second input {a} and {b} (their names), {a_value}, {a_local} (the local
gradient) and {a_gets} (what it receives, local × upstream), likewise for b.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import CodeType
from typing import TYPE_CHECKING, TypeVar

from gategrad.engine.floats import fmt

if TYPE_CHECKING:
    from gettext import NullTranslations

    from gategrad.engine.value import Step, Value

T = TypeVar("T")
# A sentence template, or a pair (singular, plural) for one that counts the inputs {n}: gettext's ngettext picks.
Template = str | tuple[str, str]
_NEGATIVE_FACTOR = re.compile(r"([×·] ?)(-(?:inf|\d[\d.]*(?:e[+-]?\d+)?))")
inf, nan = math.inf, math.nan

# The functions `forward` and `local` may call, each in a sentence; replay gives their
# numpy versions and the training page their JavaScript ones, with the edge rules of engine.floats.
FUNCTIONS = {
    "where": "where(c, x, y): x where c holds, else y",
    "exp": "e**x, inf on overflow",
    "log": "the natural log: -inf at 0, nan below",
    "tanh": "tanh",
    "sqrt": "the square root, nan below 0",
    "abs": "|x|",
    "sign": "1 or -1, and 0 at zero and for nan",
    "maximum": "the larger of two, the first on a tie (max(-0.0, 0.0) is -0.0), nan with a nan",
    "max_grad": "max's local gradient for its first operand: 1 if larger, 0 if smaller, 0.5 on a tie, 1 with a nan",
    "pow": "x**k, nan for a negative base to a finite fractional power",
    "pow_base_grad": "pow_base_grad(x, k): k * x**(k-1), and 0 when k = 0",
    "pow_exponent_grad": "pow_exponent_grad(x, k, out): out * log x, and 0 when x = 0 and k >= 0",
    "total": "the sum of all operands in Value.sum's order: from 0.0, left to right (a + b for two)",
}


@dataclass(frozen=True)
class Activation:
    """What nn needs of a gate that may be a layer's activation."""

    torch_module: str  # the torch.nn module computing it (ReLU, Tanh): for to_torch and from_torch
    # When a unit passes (almost) no gradient back, as expressions in `out`, the unit's output (with abs):
    dead_when: str = ""  # it is dead, such as a relu giving 0 ("": it cannot die)
    saturated_when: str = ""  # it is saturated, beyond nn's threshold `limit` ("": it cannot saturate)


@dataclass(frozen=True)
class Gate:
    """One row of the table: the facts about a gate that are not its hot-path math.

    `forward` and `local` state the gate's math once more, as expressions: replay evaluates them
    on numpy arrays, the training page on numbers, and a test holds the `Value` method to them at
    every one of `points` and `constant_points`. They name the operands `a` and `b` (`inputs`: all
    of them; a folded constant is the operand at `constant_place`) and `out`, the forward value,
    and call only `FUNCTIONS`. `case` is an expression too, in `n` (the number of inputs) and the
    local gradients `a_local` and `b_local`, that gives a key of `sentences`.
    """

    op: str  # Value.op
    name: str  # its short name in tables (English), translated in the context "gate"
    symbol: str  # drawn in pictures
    method: str  # the Value method that runs it
    python: str  # how you write it in Python, in the names a and b
    torch: str  # the torch expression it equals, in the same names (the tests evaluate both)
    sentences: Mapping[str, Template]  # the explanation templates, by case
    case: str  # which template a step takes
    forward: str  # its output
    local: tuple[str, ...]  # each operand's local gradient; the last one also serves any further inputs
    points: tuple[tuple[float, ...], ...]  # Value operands the tests run it at, edge cases included
    constant_points: tuple[tuple[float, ...], ...] = ()  # operands with the one at `constant_place` a constant
    function: str | None = None  # its name in `explain`'s expressions (None: written with an operator)
    arity: int = 1  # the function's number of arguments
    constant: bool = False  # may fold a constant operand into the gate (kept in Value._local1)
    constant_place: int = 1  # which operand a folded constant is: 1 in x * 2, 0 in 2 ** x
    constant_op: str = ""  # the gate it is when its constant turns into an input ("": this one)
    activation: Activation | None = None  # set when nn may use it as a layer's activation
    torch_ulps: int = 0  # how far from torch it may be: 0 where IEEE arithmetic fixes the result, else libm's share
    sweep: tuple[float, float] | None = None  # where torch_ulps is measured (log-uniformly when both are > 0)
    sweep_constant: float | None = None  # the constant operand of that measure, for a gate that needs one

    def __call__(self, *operands: object) -> Value:
        """The gate's `Value` method on `operands` (Values, a number at `constant_place`), as `python` writes it."""
        return eval(_compiled(self.python), {"__builtins__": {}}, dict(zip("ab", operands)))  # type: ignore[no-any-return]

    def choose(self, step: Step) -> str:
        """The key of `sentences` that `step` takes."""
        names: dict[str, object] = {"n": len(step.inputs)}
        names.update({f"{k}_local": i.local_grad for k, i in zip("ab", step.inputs)})
        return eval(_compiled(self.case), {"__builtins__": {}}, names)  # type: ignore[no-any-return]

    def is_dead(self, out: float) -> bool:
        """Whether a unit of this activation giving `out` is dead, by its row's `dead_when` (False for other gates)."""
        rule = self.activation.dead_when if self.activation else ""
        return bool(rule) and bool(eval(_compiled(rule), {"__builtins__": {}, "abs": abs}, {"out": out}))

    def is_saturated(self, out: float, limit: float) -> bool:
        """Whether a unit of this activation giving `out` is saturated beyond `limit`, by `saturated_when`."""
        rule = self.activation.saturated_when if self.activation else ""
        names = {"out": out, "limit": limit}
        return bool(rule) and bool(eval(_compiled(rule), {"__builtins__": {}, "abs": abs}, names))

    def operands(self, inputs: list[T], constant: T | None) -> list[T]:
        """The operands in order: the inputs, with a folded constant put at `constant_place`."""
        if constant is None:
            return list(inputs)
        return [*inputs[: self.constant_place], constant, *inputs[self.constant_place :]]

    def local_for(self, i: int, folded: bool) -> str:
        """The `local` expression of input `i`, a folded constant's place skipped."""
        place = i + 1 if folded and i >= self.constant_place else i
        return self.local[min(place, len(self.local) - 1)]


@cache
def _compiled(expression: str) -> CodeType:
    """A row's expression compiled, once, when first used (compiling every row at import would slow it)."""
    return compile(expression, "<gate table>", "eval")


_ALL_GATES = [
    Gate(
        op="add",
        name="add",
        symbol="+",
        method="__add__",
        python="a + b",
        torch="a + b",
        sentences={
            "constant": "The add gate adds the constant {c}: {a} gets the upstream gradient {g} unchanged, and the "
            "constant gets no gradient.",
            # Two inputs are "both" in Russian (оба входа), not a count: a case of their own, not a plural form.
            "two": "The add gate distributes: each of its 2 inputs ({names}) gets the upstream gradient {g} unchanged.",
            "many": (
                "The add gate distributes: each of its {n} input ({names}) gets the upstream gradient {g} unchanged.",
                "The add gate distributes: each of its {n} inputs ({names}) gets the upstream gradient {g} unchanged.",
            ),
        },
        case="'constant' if n == 1 else 'two' if n == 2 else 'many'",
        forward="total(inputs)",
        local=("1.0",),
        points=((1.5, -2.25), (inf, 1.0), (inf, -inf), (-0.0, -0.0), (nan, 1.0), (1e308, 1e308)),
        constant_points=((1.5, 2.0), (-2.5, 2.5), (inf, 2.5), (nan, 2.5)),
        constant=True,
    ),
    Gate(
        op="mul",
        name="mul",
        symbol="×",
        method="__mul__",
        python="a * b",
        torch="a * b",
        sentences={
            "two": "The mul gate swaps its inputs: {a} gets {g} × {b}'s value {a_local} = {a_gets}, "
            "and {b} gets {g} × {a}'s value {b_local} = {b_gets}.",
            "constant": "The mul gate scales by its constant factor {c}: {a} gets {g} × {c} = {a_gets}.",
        },
        case="'two' if n == 2 else 'constant'",
        forward="a * b",
        local=("b", "a"),
        points=((1.5, -2.25), (0.0, inf), (1e200, 1e200), (-0.0, 5.0)),
        constant_points=((3.0, -0.5), (2.0, -3.0), (0.0, -3.0), (nan, -3.0)),
        constant=True,
    ),
    Gate(
        op="div",
        name="div",
        symbol="÷",
        method="__truediv__",
        python="a / b",
        torch="a / b",
        sentences={
            "two": "The div gate {a}/{b}: {a} gets {g} × 1/{b} = {g} × {a_local} = {a_gets}, "
            "and {b} gets {g} × (-{a}/{b}²) = {g} × {b_local} = {b_gets}.",
            "constant": "The div gate divides by the constant {c}: {a} gets {g} × 1/{c} = {a_gets}.",
        },
        case="'two' if n == 2 else 'constant'",
        forward="a / b",
        local=("1.0 / b", "-(out / b)"),
        points=((7.0, 3.0), (1.0, 0.0), (0.0, 0.0), (-1.0, 0.0), (1.0, -0.0), (1.0, 4.0)),
        constant_points=((7.0, 3.0), (inf, 4.0), (1.0, 0.0), (-2.0, 0.0), (0.0, 0.0)),
        constant=True,
    ),
    Gate(
        op="max",
        name="max",
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
        case="('above constant' if a_local == 1.0 else 'below constant' if a_local == 0.0 else 'tie with constant')"
        " if n == 1 else ('tie' if a_local == 0.5 else 'nan') if a_local == b_local"
        " else 'first larger' if a_local > b_local else 'second larger'",
        forward="maximum(a, b)",
        local=("max_grad(a, b)", "max_grad(b, a)"),
        points=((1.0, 2.0), (2.0, 1.0), (3.0, 3.0), (nan, 1.0), (1.0, nan)),
        constant_points=((1.0, 0.5), (0.0, 0.5), (0.5, 0.5), (nan, 1.0)),
        function="max",
        arity=2,
        constant=True,
    ),
    Gate(
        op="relu",
        name="relu",
        symbol="relu",
        method="relu",
        python="a.relu()",
        torch="torch.relu(a)",
        sentences={
            "pass": "The relu gate (max against 0) routes: {a} = {a_value} > 0, so it gets {g}.",
            "block": "The relu gate (max against 0) routes: {a} = {a_value} <= 0, so it gets 0.",
        },
        case="'pass' if a_local != 0.0 else 'block'",
        forward="maximum(a, 0.0)",  # relu(-0.0) is -0.0 (maximum's first on a tie) and relu(nan) nan
        local=("where(a <= 0.0, 0.0, 1.0)",),  # 1 for nan, as torch's
        points=((2.0,), (-2.0,), (0.0,), (-0.0,), (nan,), (inf,)),
        function="relu",
        activation=Activation(torch_module="ReLU", dead_when="out == 0.0"),
    ),
    Gate(
        op="exp",
        name="exp",
        symbol="exp",
        method="exp",
        python="a.exp()",
        torch="torch.exp(a)",
        sentences={"one": "The exp gate scales by its own output {out}: {a} gets {g} × {a_local} = {a_gets}."},
        case="'one'",
        forward="exp(a)",
        local=("out",),
        points=((0.5,), (-3.0,), (1000.0,), (-1000.0,), (inf,), (-inf,), (nan,)),
        function="exp",
        torch_ulps=4,
        sweep=(-700.0, 700.0),
    ),
    Gate(
        op="log",
        name="log",
        symbol="log",
        method="log",
        python="a.log()",
        torch="torch.log(a)",
        sentences={"one": "The log gate scales by 1/{a} = 1/{a_value}: {a} gets {g} × {a_local} = {a_gets}."},
        case="'one'",
        forward="log(a)",
        local=("1.0 / a",),
        points=((2.0,), (0.0,), (-0.0,), (-1.0,), (inf,), (-inf,), (nan,)),
        function="log",
        torch_ulps=4,
        sweep=(1e-300, 1e300),
    ),
    Gate(
        op="pow",
        name="pow",
        symbol="**",
        method="__pow__",
        python="a ** b",
        torch="a ** b",
        sentences={
            "constant": "The pow gate raises {a} to the constant power {c}: {a} gets {g} × {c}·{a}^({c}-1) = "
            "{g} × {a_local} = {a_gets}."
        },
        case="'constant'",
        forward="pow(a, b)",
        local=("pow_base_grad(a, b)",),
        points=(),
        constant_points=(
            (3.0, 2.0),
            (-3.0, 2.0),
            (0.0, 2.0),
            (1e200, 2.0),
            (4.0, 0.5),
            (0.0, 0.5),
            (-4.0, 0.5),
            (0.0, 0.0),
            (5.0, 0.0),
            (4.0, -1.0),
            (0.0, -1.0),
            (-0.0, -1.0),
            (4.0, -1.5),
            (0.0, -1.5),
            (-2.0, -1.5),
            (-10.0, 400.5),
            (-1e10, 33.5),
            (-2.0, 3.0),
            (-0.0, 3.0),
            (-1e200, 3.0),
            (-inf, 0.5),
            (inf, 0.5),
            (-inf, -1.0),
            (nan, 0.0),
        ),  # fmt: skip
        constant=True,
        constant_op="pow_value",
        torch_ulps=4,
        sweep=(0.0, 100.0),
        sweep_constant=2.7,
    ),
    Gate(
        op="pow_value",
        name="pow_value",
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
        case="'two' if n == 2 else 'constant'",
        forward="pow(a, b)",
        local=("pow_base_grad(a, b)", "pow_exponent_grad(a, b, out)"),
        points=((2.0, 3.0), (0.0, 2.0), (0.0, 0.0), (0.0, -1.0), (-2.0, 2.0), (-10.0, 400.5), (-8.0, 1.0 / 3)),
        constant_points=(
            (2.0, 3.0),
            (2.0, -1.5),
            (2.0, 2000.0),
            (2.0, 0.5),
            (0.0, 2.0),
            (0.0, 0.0),
            (0.0, -1.0),
            (-10.0, 400.5),
        ),  # fmt: skip
        constant=True,
        constant_place=0,
        torch_ulps=4,
        sweep=(-100.0, 100.0),
        sweep_constant=1.7,
    ),
    Gate(
        op="tanh",
        name="tanh",
        symbol="tanh",
        method="tanh",
        python="a.tanh()",
        torch="torch.tanh(a)",
        sentences={
            "one": "The tanh gate scales by 1 - t² with its output t = {out}: {a} gets {g} × {a_local} = {a_gets}."
        },
        case="'one'",
        forward="tanh(a)",
        local=("1.0 - out * out",),
        points=((0.5,), (-2.0,), (20.0,), (-1000.0,), (inf,), (0.0,), (nan,)),
        function="tanh",
        activation=Activation(torch_module="Tanh", saturated_when="abs(out) > limit"),
        torch_ulps=4,
        sweep=(-20.0, 20.0),
    ),
    Gate(
        op="sigmoid",
        name="sigmoid",
        symbol="σ",
        method="sigmoid",
        python="a.sigmoid()",
        torch="torch.sigmoid(a)",
        sentences={
            "one": "The sigmoid gate scales by s·(1 - s) with its output s = {out}: "
            "{a} gets {g} × {a_local} = {a_gets}."
        },
        case="'one'",
        forward="1.0 / (1.0 + exp(-a))",
        local=("out * (1.0 - out)",),
        points=((0.5,), (-2.0,), (40.0,), (-40.0,), (1000.0,), (-1000.0,), (0.0,), (nan,)),
        function="sigmoid",
        activation=Activation(torch_module="Sigmoid", saturated_when="not 1.0 - limit <= out <= limit"),
        torch_ulps=4,
        sweep=(-40.0, 40.0),
    ),
    Gate(
        op="abs",
        name="abs",
        symbol="abs",
        method="abs",
        python="a.abs()",
        torch="torch.abs(a)",
        sentences={
            "one": "The abs gate passes the gradient on with the sign of {a} = {a_value}: "
            "{a} gets {g} × {a_local} = {a_gets}."
        },
        case="'one'",
        forward="abs(a)",
        local=("sign(a)",),
        points=((2.0,), (-2.0,), (0.0,), (-0.0,), (nan,), (-inf,)),
        function="abs",
    ),
    Gate(
        op="sqrt",
        name="sqrt",
        symbol="√",
        method="sqrt",
        python="a.sqrt()",
        torch="torch.sqrt(a)",
        sentences={"one": "The sqrt gate scales by 1/(2√{a}) = 1/(2 × {out}): {a} gets {g} × {a_local} = {a_gets}."},
        case="'one'",
        forward="sqrt(a)",
        local=("0.5 / out",),
        points=((4.0,), (2.0,), (0.0,), (-0.0,), (-1.0,), (inf,), (nan,)),
        function="sqrt",
        torch_ulps=4,
        sweep=(0.0, 1e6),
    ),
]

GATES: dict[str, Gate] = {gate.op: gate for gate in _ALL_GATES}


def name(v: Value) -> str:
    """How a sentence names a Value: its label, or else its value."""
    return v.label or fmt(v.data)


def english(template: Template, n: int) -> str:
    """The English of a template: itself, or of a pair the singular for `n` = 1 and the plural otherwise."""
    return template if isinstance(template, str) else template[n != 1]


def translate(template: Template, n: int, t: NullTranslations) -> str:
    """A template in the language of `t`, a gettext translations object: gettext, or for a pair ngettext's form
    for the count `n`."""
    return t.gettext(template) if isinstance(template, str) else t.ngettext(*template, n)


def fill(template: str, numbers: Mapping[str, str]) -> str:
    """`template` with its named numbers, a negative number in a product bracketed: 2 × (-4), not 2 × -4."""
    return _NEGATIVE_FACTOR.sub(r"\1(\2)", template.format(**numbers))


def sentence(step: Step) -> tuple[Template, dict[str, str]]:
    """The English template for `step` (a pair, for one that counts {n}) and the numbers it names, for `fill`."""
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
    return gate.sentences[gate.choose(step)], numbers
