"""Small circuits written as Python programs, run on any micrograd-style `Value` class: the referee's test cases.

A circuit is a few lines such as ``b = a * 3; c = b + 1; d = b * c`` at ``a = 2``. It runs the
same way on the learner's class and on gategrad's, so the two can be compared number by number,
and it prints as the program a learner would type. Pure Python: it also runs in the browser.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gategrad.engine import GATES

# Python's operators, which a learner's class implements as methods. Several are not gates of
# their own in gategrad (a - b is a + (-1 × b)), so they are the operators' table, not the gates':
# symbol -> (the method for Value op Value and Value op number, the reflected one for number op Value).
OPERATORS: dict[str, tuple[str, str | None, Callable[[Any, Any], Any]]] = {
    "+": ("__add__", "__radd__", operator.add),
    "-": ("__sub__", "__rsub__", operator.sub),
    "*": ("__mul__", "__rmul__", operator.mul),
    "/": ("__truediv__", "__rtruediv__", operator.truediv),
    "**": ("__pow__", None, operator.pow),  # a constant exponent, as micrograd's
}
NEGATION = "__neg__"
# The gates a learner calls as a method of one Value, such as a.relu(), read from the gate table.
UNARY = tuple(gate.method for gate in GATES.values() if gate.function and gate.arity == 1)
# The ops learners often build from others (micrograd's a - b is a + (-b), a / b is a * b**-1).
BUILT = ("__sub__", "__truediv__", *(r for _, r, _ in OPERATORS.values() if r))
METHODS = (*(m for m, _, _ in OPERATORS.values()), NEGATION, *(r for _, r, _ in OPERATORS.values() if r), *UNARY)

Arg = str | float  # a variable's name, or a plain number


@dataclass(frozen=True)
class Line:
    """One line of a circuit: `name = ...`, an operator on two arguments, `-x`, or a method such as `x.relu()`."""

    name: str
    op: str  # a symbol of OPERATORS, "neg", or a method of UNARY
    args: tuple[Arg, ...]

    @property
    def method(self) -> str:
        """The method of the learner's class this line calls."""
        if self.op == "neg":
            return NEGATION
        if self.op not in OPERATORS:
            return self.op
        method, reflected, _ = OPERATORS[self.op]
        return reflected if isinstance(self.args[0], float) and reflected else method

    def python(self, parenthesise: Callable[[Arg], str] | None = None) -> str:
        """The right-hand side as Python, each argument written by `parenthesise` (default: its name or number)."""
        show = parenthesise or _text
        if self.op == "neg":
            return f"-{show(self.args[0])}"
        if self.op in OPERATORS:
            return f"{show(self.args[0])} {self.op} {show(self.args[1])}"
        return f"{show(self.args[0])}.{self.op}()"

    def run(self, env: dict[str, Any]) -> Any:
        """Apply the line to the objects in `env` (by name) and plain numbers."""
        args = [env[a] if isinstance(a, str) else a for a in self.args]
        if self.op == "neg":
            return -args[0]
        if self.op in OPERATORS:
            return OPERATORS[self.op][2](*args)
        return getattr(args[0], self.op)()


@dataclass(frozen=True)
class Circuit:
    """Named inputs and lines; the last line's variable is the output."""

    inputs: tuple[tuple[str, float], ...]
    lines: tuple[Line, ...]

    @property
    def output(self) -> str:
        return self.lines[-1].name

    @property
    def methods(self) -> set[str]:
        return {line.method for line in self.lines}

    def program(self) -> str:
        """The lines as Python statements: ``b = a * 3; c = b + 1; d = b * c``."""
        return "; ".join(f"{line.name} = {line.python()}" for line in self.lines)

    def values(self) -> dict[str, float]:
        return dict(self.inputs)

    def at(self) -> str:
        """The inputs' values: ``a = 2, b = -3``."""
        return ", ".join(f"{name} = {number(x)}" for name, x in self.inputs)

    def __str__(self) -> str:
        return f"{self.program()}  at {self.at()}"

    def run(self, cls: Callable[[float], Any], label: bool = False) -> dict[str, Any]:
        """Every variable of the circuit as an object of `cls`, by name; with `label`, each gets its name."""
        env = {name: cls(x) for name, x in self.inputs}
        for line in self.lines:
            env[line.name] = line.run(env)
        if label:
            for name, v in env.items():
                v.label = name
        return env

    def expression(self) -> str | None:
        """The circuit as one expression for `gategrad explain` (each line inlined where it is used).

        None when two lines would inline to the same text, since explain would build them as one gate.
        """
        inline: dict[str, str] = {}

        def show(a: Arg) -> str:
            if isinstance(a, float):
                return f"({number(a)})" if a < 0 else number(a)
            return inline.get(a, a)

        seen = set()
        for line in self.lines:
            if line.op in OPERATORS or line.op == "neg":
                text = f"({line.python(show).replace(' ', '')})"
            else:
                text = f"{line.op}({show(line.args[0])})"
            if text in seen:
                return None
            seen.add(text)
            inline[line.name] = text
        whole = inline[self.output]
        return whole[1:-1] if whole.startswith("(") and whole.endswith(")") else whole

    def uses(self) -> dict[str, int]:
        """How many times each variable is an argument of a line."""
        counts = {name: 0 for name, _ in self.inputs} | {line.name: 0 for line in self.lines}
        for line in self.lines:
            for a in line.args:
                if isinstance(a, str):
                    counts[a] += 1
        return counts


def number(x: float) -> str:
    """A constant as Python writes it, without a needless .0: 3, -0.5, 1e+20."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def _text(a: Arg) -> str:
    return a if isinstance(a, str) else number(a)


def names() -> Iterator[str]:
    """Variable names in order: a, b, ..., z, then a1, b1, ..."""
    k = 0
    while True:
        yield "abcdefghijklmnopqrstuvwxyz"[k % 26] + (str(k // 26) if k >= 26 else "")
        k += 1


def circuit(inputs: Sequence[float], *lines: tuple[str, tuple[Arg | int, ...]]) -> Circuit:
    """A circuit from values and lines of (op, args), where an int argument is the index of an earlier variable.

    ``circuit([2.0], ("*", (0, 3.0)), ("+", (1, 1.0)), ("*", (1, 2)))`` is ``b = a * 3; c = b + 1; d = b * c``.
    """
    namer = names()
    variables = [next(namer) for _ in inputs]
    built = []
    for op, args in lines:
        name = next(namer)
        built.append(Line(name, op, tuple(variables[a] if isinstance(a, int) else float(a) for a in args)))
        variables.append(name)
    return Circuit(tuple(zip(variables, map(float, inputs))), tuple(built))


def pruned(c: Circuit) -> Circuit:
    """`c` without the lines its output does not depend on, renamed a, b, c, ... in order."""
    needed = {c.output}
    for line in reversed(c.lines):
        if line.name in needed:
            needed.update(a for a in line.args if isinstance(a, str))
    kept_inputs = [(n, x) for n, x in c.inputs if n in needed] or [c.inputs[0]]
    kept_lines = [line for line in c.lines if line.name in needed]
    index = {n: i for i, (n, _) in enumerate(kept_inputs)} | {
        line.name: len(kept_inputs) + i for i, line in enumerate(kept_lines)
    }
    return circuit(
        [x for _, x in kept_inputs],
        *((line.op, tuple(index[a] if isinstance(a, str) else a for a in line.args)) for line in kept_lines),
    )


# ---- the adversarial circuits, each built only from what the class supports ----

BINARY_POINTS = ((2.0, -3.0), (-1.5, 0.5), (0.0, 2.5))  # and an edge: 0 on the left
CONSTANT = 3.0
POW_BASE = 4.0
EXPONENTS = (2.0, 3.0, 0.5, -1.0, -2.0, -0.5, 1.5)
# Points for the one-input gates: an edge at 0 (relu's kink), and large |x|, where tanh's and exp's
# formulas overflow or cancel. A point where gategrad's value or gradient is not finite is skipped.
UNARY_POINTS = (-2.0, -0.5, 0.0, 0.5, 1.5, 20.0, -20.0, 400.0, -400.0)


def one_gate(op: str) -> list[Circuit]:
    """Circuits of a single line calling `op` with distinct inputs, at several points."""
    if op == "neg":
        return [circuit([x], ("neg", (0,))) for x in (2.0, -0.5)]
    if op == "**":
        return [circuit([POW_BASE], ("**", (0, k))) for k in EXPONENTS]
    if op in OPERATORS:
        return [circuit([x, y], (op, (0, 1))) for x, y in BINARY_POINTS]
    return [circuit([x], (op, (0,))) for x in UNARY_POINTS]


SCALE = -2.0  # a gradient from above that is not 1, so a gate that forgets to multiply by it shows


def scaled(c: Circuit) -> Circuit:
    """`c`, a circuit of one line, with its output multiplied by SCALE."""
    return circuit([x for _, x in c.inputs], *_indexed(c), ("*", (len(c.inputs), SCALE)))


def _indexed(c: Circuit) -> list[tuple[str, tuple[Arg | int, ...]]]:
    index = {n: i for i, n in enumerate([n for n, _ in c.inputs] + [line.name for line in c.lines])}
    return [(line.op, tuple(index[a] if isinstance(a, str) else a for a in line.args)) for line in c.lines]


def alone(line: Line, values: dict[str, float]) -> Circuit:
    """`line` on its own: each argument that is a variable made an input of its own, at its value in `values`."""
    used = [a for a in line.args if isinstance(a, str)]
    args, k = [], 0
    for a in line.args:
        args.append(k if isinstance(a, str) else a)
        k += isinstance(a, str)
    return circuit([values[n] for n in used], (line.op, tuple(args)))


def with_constant(op: str, left: bool) -> Circuit:
    """`a op 3` or, with `left`, `3 op a` (the reflected method), at a = 2."""
    return circuit([2.0], (op, (CONSTANT, 0) if left else (0, CONSTANT)))


ACCUMULATION = (
    circuit([3.0], ("+", (0, 0))),  # b = a + a
    circuit([3.0], ("*", (0, 0))),  # b = a * a
    circuit([2.0, -3.0], ("*", (0, 1)), ("+", (2, 0))),  # c = a * b; d = c + a
)
ORDER = (
    circuit([2.0, -3.0, 0.5], ("*", (0, 1)), ("*", (3, 2))),  # d = a * b; e = d * c: a chain
    circuit([2.0], ("*", (0, CONSTANT)), ("+", (1, 1.0)), ("*", (1, 2))),  # b = a * 3; c = b + 1; d = b * c
    circuit([2.0, -3.0], ("*", (0, 1)), ("+", (2, 1)), ("*", (2, 3))),  # c = a * b; d = c + b; e = c * d
    circuit([1.5], ("*", (0, 2.0)), ("*", (1, 3.0)), ("+", (1, 4.0)), ("*", (2, 3))),  # a diamond under a chain
)
TWICE = (circuit([2.0], ("*", (0, CONSTANT)), ("*", (1, 4.0))), circuit([2.0, 3.0, 4.0], ("*", (0, 1)), ("*", (3, 2))))
CHAIN = 2000  # gates in the deep chain: twice Python's default recursion limit


def finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))


INPUT_VALUES = (2.0, -1.5, 0.5, 3.0, -2.0, 1.0)  # hypothesis shrinks towards the first
CONSTANTS = (2.0, 3.0, 0.5, -1.0)
MAX_LINES = 6


def random_circuits(ops: Sequence[str], left: set[str]) -> Any:
    """A hypothesis strategy for circuits of 1 to 6 lines over `ops`, with 1 to 3 inputs, shrinking to few lines.

    A line's arguments are earlier variables (so a Value may be used many times) or constants; a
    constant goes on the left only of the operators in `left`, whose reflected method works.
    """
    from hypothesis import strategies as st

    @st.composite
    def draw(draw: Any) -> Circuit:
        inputs = draw(st.lists(st.sampled_from(INPUT_VALUES), min_size=1, max_size=3))
        count = draw(st.integers(1, MAX_LINES))
        lines: list[tuple[str, tuple[Arg | int, ...]]] = []
        for k in range(count):
            top = len(inputs) + k - 1
            earlier = st.integers(0, top).map(functools.partial(operator.sub, top))  # shrinks to the newest variable
            either = st.one_of(earlier, st.sampled_from(CONSTANTS))
            op = draw(st.sampled_from(ops))
            if op == "**":
                args: tuple[Arg | int, ...] = (draw(earlier), draw(st.sampled_from(EXPONENTS)))
            elif op in OPERATORS:
                first = draw(either) if op in left else draw(earlier)
                second = draw(earlier) if isinstance(first, float) else draw(either)
                args = (first, second)
            else:
                args = (draw(earlier),)
            lines.append((op, args))
        return pruned(circuit(inputs, *lines))

    return draw()
