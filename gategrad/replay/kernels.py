"""Each gate over a whole batch: numpy forward values and local gradients, found by `Value.op`.

A kernel takes its inputs as arrays (a row of values per gate, a column per sample) and the
gate's constant (None, or an array that broadcasts), and gives the numbers the scalar gate in
`gategrad.engine.value` gives, with the same tie, kink and edge rules (`gategrad.engine.floats`):
inf on overflow, nan where undefined, torch's gradients at ties and kinks. Run them under
`np.errstate(all="ignore")`: those infs and nans are answers, not accidents.

Nothing here knows a gate: each kernel is its row's `forward` and `local` expressions
(`gategrad.engine.gates`) compiled against `NUMPY`, numpy's versions of the table's `FUNCTIONS`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import CodeType

import numpy as np

from gategrad.engine import GATES
from gategrad.engine.gates import FUNCTIONS, Gate

Arrays = Sequence[np.ndarray]
Constant = np.ndarray | None


def _total(operands: Arrays) -> np.ndarray:
    """Value.sum's order: a + b for two, else from 0.0, left to right."""
    if len(operands) == 2:
        return operands[0] + operands[1]
    total = 0.0 + operands[0]
    for x in operands[1:]:
        total = total + x
    return total


def _pow(x: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """floats.pow: C's pow, and nan for a negative base (-inf too) to a finite fractional power."""
    fractional = np.isfinite(k) & (np.floor(k) != k)
    return np.where((np.asarray(x) < 0.0) & fractional, np.nan, np.power(x, k))


def _pow_base_grad(x: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    """k * x**(k-1), and 0 when k = 0."""
    return np.where(np.asarray(k) == 0.0, 0.0, k * _pow(x, np.asarray(k) - 1.0))


def _pow_exponent_grad(x: np.ndarray | float, k: np.ndarray | float, out: np.ndarray) -> np.ndarray:
    """x**k * log x, and 0 when x = 0 and k >= 0."""
    return np.where((np.asarray(x) == 0.0) & (np.asarray(k) >= 0.0), 0.0, out * np.log(x))


def _maximum(a: np.ndarray | float, b: np.ndarray | float, out: np.ndarray | None = None) -> np.ndarray:
    """floats.maximum: a when a >= b (so max(-0.0, 0.0) is -0.0), nan when either is nan; into `out` if given.

    Written for speed: np.maximum, then a on the ties, whose sign of zero numpy does not promise. np.where
    would branch on every element, and on a mask that flips at random (relu's) runs about 5x slower (measured).
    """
    larger: np.ndarray = np.maximum(a, b, out=out)
    np.copyto(larger, a, where=np.equal(a, b))
    return larger


def _max_grad(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """To the larger input, 0.5 each on a tie, 1 to both through a nan."""
    return np.where(a == b, 0.5, np.where(a < b, 0.0, 1.0))


def _sign(x: np.ndarray) -> np.ndarray:
    """abs's gradient: 1 or -1, and 0 at zero and for nan (np.sign gives nan there)."""
    return (x > 0.0).astype(float) - (x < 0.0)


def _where(condition: np.ndarray, x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """np.where, written for speed where x and y are the numbers 1.0 and 0.0 (a relu's local gradient): the mask
    itself, whose True and False multiply as 1.0 and 0.0 do. np.where makes a branch per element, about 8x
    slower on a mask that flips at random (measured), and a mask of floats is 8 times the memory to write and read.
    """
    if isinstance(condition, np.ndarray) and isinstance(x, float) and isinstance(y, float):
        if (x, y) == (1.0, 0.0) and math.copysign(1.0, y) > 0:  # +0.0: a -0.0 takes np.where
            return condition
        if (x, y) == (0.0, 1.0) and math.copysign(1.0, x) > 0:
            flipped: np.ndarray = np.logical_not(condition)
            return flipped
    chosen: np.ndarray = np.where(condition, x, y)
    return chosen


NUMPY: dict[str, Callable[..., np.ndarray]] = {
    "where": _where,
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sign": _sign,
    "maximum": _maximum,
    "max_grad": _max_grad,
    "pow": _pow,
    "pow_base_grad": _pow_base_grad,
    "pow_exponent_grad": _pow_exponent_grad,
    "total": _total,
}
assert NUMPY.keys() == FUNCTIONS.keys(), "replay needs a numpy version of every function the gate table may call"
# Those that can write their result into a given array (numpy's `out=`): a row whose forward is one call to one of
# them writes straight into the table of values, which saves an array and a copy (about a third of relu's time).
WRITES_INTO = {name for name, f in NUMPY.items() if isinstance(f, np.ufunc)} | {"maximum"}


@dataclass(frozen=True)
class Kernel:
    """A gate's math on arrays: its output (written into an array when given one), then d output / d input for each
    input (an array or a number, or a mask of booleans, which multiplies as 1.0 and 0.0 do)."""

    forward: Callable[[Arrays, Constant, np.ndarray | None], np.ndarray]  # the last: an array to write it into
    local_grads: Callable[[Arrays, np.ndarray, Constant], list[np.ndarray | float]]
    # The gate a folded constant becomes when it turns into an input, and the input's place:
    # `x ** c` is `pow_value(x, c)`, `c ** x` is `pow_value(c, x)`. None: the gate takes no constant.
    constant_as_input: tuple[str, int] | None = None


def kernel(gate: Gate) -> Kernel:
    """`gate`'s row compiled into numpy: its `forward` and `local` expressions on the operands."""
    scope = {"__builtins__": {}, **NUMPY}
    forward_code = compile(gate.forward, f"<{gate.op} forward>", "eval")
    into_code = _written_into(gate)
    local_code = {text: compile(text, f"<{gate.op} local>", "eval") for text in gate.local}

    def names(ins: Arrays, c: Constant) -> dict[str, object]:
        operands = gate.operands(list(ins), c)
        return {"a": operands[0], "b": operands[1] if len(operands) > 1 else None, "inputs": operands}

    def forward(ins: Arrays, c: Constant, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return eval(forward_code, scope, names(ins, c))  # type: ignore[no-any-return]
        if into_code is not None:
            return eval(into_code, scope, {**names(ins, c), "out": out})  # type: ignore[no-any-return]
        out[...] = eval(forward_code, scope, names(ins, c))
        return out

    def local_grads(ins: Arrays, out: np.ndarray, c: Constant) -> list[np.ndarray | float]:
        known = {**names(ins, c), "out": out}
        return [eval(local_code[gate.local_for(i, c is not None)], scope, known) for i in range(len(ins))]

    as_input = (gate.constant_op or gate.op, gate.constant_place) if gate.constant else None
    return Kernel(forward, local_grads, as_input)


def _written_into(gate: Gate) -> CodeType | None:
    """`gate`'s forward compiled to write into `out`, when it is one call to a function of WRITES_INTO; else None."""
    tree = ast.parse(gate.forward, mode="eval")
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in WRITES_INTO):
        return None
    call.keywords.append(ast.keyword(arg="out", value=ast.Name(id="out", ctx=ast.Load())))
    return compile(ast.fix_missing_locations(tree), f"<{gate.op} forward, into out>", "eval")


KERNELS: dict[str, Kernel] = {op: kernel(gate) for op, gate in GATES.items()}
