"""Tracing: one sample's circuit written down as a flat program of gates.

Run a function on leaves that hold one sample's numbers, walk the circuit it builds, and
number every Value: a slot. The parameters come first (shared by every sample), then the
sample's inputs, then any other leaf (a constant: the same for every sample), then each
gate's output in topological order. A gate becomes an `Instruction`: its op, the slots it
reads, the slot it writes, and the constant folded into it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from gategrad.engine import GATES, Value, fmt, topological_order

SCALAR = 'Use the scalar engine for it (engine="scalar", or gategrad train --engine scalar)'


class ReplayError(ValueError):
    """A circuit replay cannot run: it depends on the data, or holds something replay cannot rebuild."""


class Instruction(NamedTuple):
    """One gate: `output = op(inputs..., constant)`, by slot, and the label its output had.

    A named tuple, written for speed: a wide net's trace makes one per weight, and a tuple is made, and two
    programs compared, several times faster than a frozen dataclass (measured)."""

    op: str
    inputs: tuple[int, ...]
    output: int
    constant: float | None = None
    label: str = ""


@dataclass(frozen=True, eq=False)
class Program:
    """One sample's circuit as a flat program: parameters, inputs, constants, then gates.

    Slots 0 .. P-1 are `params`, the next `n_inputs` the sample's inputs, the next ones
    `constants` (leaves that are neither), and gate i of `instructions` writes the slot
    after those, plus i. `outputs` are the slots the function returned (`single`: one
    Value, not a list).
    """

    params: tuple[Value, ...]
    n_inputs: int
    constants: tuple[float, ...]
    instructions: tuple[Instruction, ...]
    outputs: tuple[int, ...]
    single: bool

    @property
    def first_gate(self) -> int:
        """The slot of the first gate's output."""
        return len(self.params) + self.n_inputs + len(self.constants)

    def slot_name(self, slot: int) -> str:
        """p3 for a parameter, x0 for an input, the number for a constant, v7 for a gate's output."""
        p, d = len(self.params), self.n_inputs
        if slot < p:
            return f"p{slot}"
        if slot < p + d:
            return f"x{slot - p}"
        if slot < self.first_gate:
            return fmt(self.constants[slot - p - d])
        return f"v{slot - self.first_gate}"

    def line(self, ins: Instruction) -> str:
        """One gate written out: v2 = mul(p0, x0), v5 = add(v4, 1), v9 = pow_value(2, v8)."""
        args = [self.slot_name(s) for s in ins.inputs]
        if ins.constant is not None:
            args.insert(GATES[ins.op].constant_place, fmt(ins.constant))  # c ** x has the constant first
        return f"{self.slot_name(ins.output)} = {ins.op}({', '.join(args)})"

    def __str__(self) -> str:
        outputs = ", ".join(self.slot_name(s) for s in self.outputs)
        return "\n".join([*(self.line(ins) for ins in self.instructions), f"return {outputs}"])

    def same_as(self, other: Program) -> str | None:
        """None when both programs are the same gates on the same slots; else the first difference, in words."""
        if (self.n_inputs, len(self.params)) != (other.n_inputs, len(other.params)):
            return f"{self.n_inputs} and {other.n_inputs} inputs, {len(self.params)} and {len(other.params)} parameters"
        if any(a is not b for a, b in zip(self.params, other.params)):
            return "other parameters"
        if not _same_numbers(self.constants, other.constants):
            return f"the constants {self.constants} against {other.constants}"
        if self.instructions == other.instructions and (self.outputs, self.single) == (other.outputs, other.single):
            return None  # compared as tuples, in C; a nan constant (nan != nan) takes the gate-by-gate walk below
        for a, b in zip(self.instructions, other.instructions):
            if (a.op, a.inputs) != (b.op, b.inputs) or not _same_numbers((a.constant,), (b.constant,)):
                name = self.slot_name(a.output)
                return f"gate {name} is {_describe(self, a)} in one and {_describe(other, b)} in the other"
        if len(self.instructions) != len(other.instructions):
            return f"{len(self.instructions)} gates against {len(other.instructions)}"
        if (self.outputs, self.single) != (other.outputs, other.single):
            return "other outputs"
        return None

    def circuit(self, x: Sequence[float | Value]) -> Value | list[Value]:
        """Rebuild the circuit of one sample `x` from the program, with the gates of `Value`.

        The parameters are the program's own Values, so `backward()` and `backward_steps()`
        on the result walk replay's program gate by gate, as the scalar engine would.
        """
        if len(x) != self.n_inputs:
            raise ValueError(f"this program takes {self.n_inputs} inputs, got {len(x)}")
        slots: list[Value] = [
            *self.params,
            *(v if isinstance(v, Value) else Value(v, label=f"x{i}") for i, v in enumerate(x)),
            *(Value(c) for c in self.constants),
        ]
        for ins in self.instructions:
            slots.append(_gate(ins.op, [slots[s] for s in ins.inputs], ins.constant))
            slots[-1].label = ins.label
        out = [slots[s] for s in self.outputs]
        return out[0] if self.single else out


def _same_numbers(a: Sequence[float | None], b: Sequence[float | None]) -> bool:
    """Equal, a nan matching a nan."""
    same = [x == y or (x is not None and y is not None and math.isnan(x) and math.isnan(y)) for x, y in zip(a, b)]
    return len(a) == len(b) and all(same)


def _describe(program: Program, ins: Instruction) -> str:
    args = ", ".join(program.slot_name(s) for s in ins.inputs)
    constant = "" if ins.constant is None else f" with the constant {fmt(ins.constant)}"
    return f"{ins.op}({args}){constant}"


def _gate(op: str, inputs: list[Value], constant: float | None) -> Value:
    """The Value gate an instruction stands for: its GATES row's method, on its inputs and constant."""
    if len(inputs) > 2:  # only an n-ary add has more than two
        return Value.sum(inputs)
    values: list[Value | float] = list(inputs)
    return GATES[op](*GATES[op].operands(values, constant))


def trace(fn: Callable[[list[Value]], Value | Sequence[Value]], params: Sequence[Value], x: Sequence[float]) -> Program:
    """Run `fn` on leaves holding the sample `x` and write down the circuit it builds as a Program.

    `params` are the Values shared by every sample (a model's parameters); any other leaf
    the circuit reaches is a constant. `fn` may return one Value or a list of them.
    """
    inputs = [Value(float(v), label=f"x{i}") for i, v in enumerate(x)]
    try:
        out = fn(inputs)
    except TypeError as e:
        raise ReplayError(f"replay calls the model and the loss with Values, and that failed: {e}. {SCALAR}") from e
    single = isinstance(out, Value)
    roots: list[Value] = [out] if isinstance(out, Value) else list(out)
    if not roots or not all(isinstance(v, Value) for v in roots):
        raise ReplayError(f"replay needs a function that returns a Value or a list of Values, got {out!r}")
    order = topological_order(Value.sum(roots))[:-1]  # one walk over all the outputs; the sum itself is dropped

    # Written for speed, as the loop below: a 12288-64-1 net's trace holds 786,000 gates and as many parameters,
    # so the slots are numbered with zip and one pass over the order (about 2x faster than comprehensions, measured).
    slot: dict[Value, int] = dict(zip(params, range(len(params))))
    slot.update(zip(inputs, range(len(params), len(params) + len(inputs))))
    leaves: list[Value] = []
    gates: list[Value] = []
    for v in order:
        if v not in slot:
            (gates if v.op else leaves).append(v)  # a leaf is the one Value without an op
    first_leaf = len(params) + len(inputs)
    slot.update(zip(leaves, range(first_leaf, first_leaf + len(leaves))))
    slot.update(zip(gates, range(first_leaf + len(leaves), first_leaf + len(leaves) + len(gates))))

    instructions = []
    at = slot.__getitem__
    for v in gates:
        children = v.children
        if v.op == "add" and len(children) > 1 and not _same_numbers([_sum(children)], [v.data]):
            raise ReplayError(
                f"an add gate of {len(children)} inputs holds a number it does not record ({fmt(v.data)} is not "
                f"the sum of its inputs): Value.sum of Values and numbers. Add the number with + instead"
            )
        instructions.append(Instruction(v.op, tuple(map(at, children)), at(v), v.constant, v.label))
    return Program(
        params=tuple(params),
        n_inputs=len(inputs),
        constants=tuple(v.data for v in leaves),
        instructions=tuple(instructions),
        outputs=tuple(slot[v] for v in roots),
        single=single,
    )


def _sum(values: Sequence[Value]) -> float:
    total = 0.0
    for v in values:
        total += v.data
    return total
