"""Each gate over a whole batch: numpy forward values and local gradients, found by `Value.op`.

A kernel takes its inputs as arrays (a row of values per gate, a column per sample) and the
gate's constant (None, or an array that broadcasts), and gives the numbers the scalar gate in
`gategrad.engine.value` gives, with the same tie, kink and edge rules (`gategrad.engine.floats`):
inf on overflow, nan where undefined, torch's gradients at ties and kinks. Run them under
`np.errstate(all="ignore")`: those infs and nans are answers, not accidents.

Every op in `GATES` has a kernel here; a missing one fails at import, never at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gategrad.engine import GATES

Arrays = Sequence[np.ndarray]
Constant = np.ndarray | None


@dataclass(frozen=True)
class Kernel:
    """A gate's math on arrays: its output, then d output / d input for each input."""

    forward: Callable[[Arrays, Constant], np.ndarray]
    local_grads: Callable[[Arrays, np.ndarray, Constant], list[np.ndarray | float]]
    # The gate a folded constant becomes when it turns into an input, and the input's place:
    # `x ** c` is `pow_value(x, c)`, `c ** x` is `pow_value(c, x)`. None: the gate takes no constant.
    constant_as_input: tuple[str, int] | None = None


def _add(ins: Arrays, c: Constant) -> np.ndarray:
    if c is not None:
        return ins[0] + c
    if len(ins) == 2:
        return ins[0] + ins[1]
    total = 0.0 + ins[0]  # Value.sum's order: from 0.0, left to right
    for x in ins[1:]:
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


def _maximum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """floats.maximum: a when a >= b (so max(-0.0, 0.0) is -0.0), nan when either is nan."""
    return np.where((a >= b) | np.isnan(a), a, b)


def _maximum_grads(a: np.ndarray, b: np.ndarray) -> list[np.ndarray | float]:
    """To the larger input, 0.5 each on a tie, 1 to both through a nan."""
    tie = a == b
    return [np.where(tie, 0.5, np.where(a < b, 0.0, 1.0)), np.where(tie, 0.5, np.where(a > b, 0.0, 1.0))]


def _max(ins: Arrays, c: Constant) -> np.ndarray:
    return _maximum(ins[0], ins[1] if c is None else c)


def _max_grads(ins: Arrays, out: np.ndarray, c: Constant) -> list[np.ndarray | float]:
    return _maximum_grads(ins[0], ins[1]) if c is None else _maximum_grads(ins[0], c)[:1]


def _pow_value(ins: Arrays, c: Constant) -> np.ndarray:
    return _pow(ins[0], ins[1]) if c is None else _pow(c, ins[0])  # with a constant, it is the base


def _pow_value_grads(ins: Arrays, out: np.ndarray, c: Constant) -> list[np.ndarray | float]:
    if c is None:
        return [_pow_base_grad(ins[0], ins[1]), _pow_exponent_grad(ins[0], ins[1], out)]
    return [_pow_exponent_grad(c, ins[0], out)]


def _sign(x: np.ndarray) -> np.ndarray:
    """abs's gradient: 1 or -1, and 0 at zero and for nan (np.sign gives nan there)."""
    return (x > 0.0).astype(float) - (x < 0.0)


KERNELS: dict[str, Kernel] = {
    "add": Kernel(_add, lambda ins, out, c: [1.0] * len(ins), ("add", 1)),
    "mul": Kernel(
        lambda ins, c: ins[0] * (ins[1] if c is None else c),
        lambda ins, out, c: [ins[1], ins[0]] if c is None else [c],
        ("mul", 1),
    ),
    "div": Kernel(
        lambda ins, c: ins[0] / (ins[1] if c is None else c),
        lambda ins, out, c: [1.0 / ins[1], -(out / ins[1])] if c is None else [1.0 / c],
        ("div", 1),
    ),
    "max": Kernel(_max, _max_grads, ("max", 1)),
    "relu": Kernel(
        lambda ins, c: np.where(ins[0] < 0.0, 0.0, ins[0]),  # relu(-0.0) is -0.0, relu(nan) nan
        lambda ins, out, c: [np.where(ins[0] <= 0.0, 0.0, 1.0)],  # 1 for nan, as the scalar gate
    ),
    "exp": Kernel(lambda ins, c: np.exp(ins[0]), lambda ins, out, c: [out]),
    "log": Kernel(lambda ins, c: np.log(ins[0]), lambda ins, out, c: [1.0 / ins[0]]),
    "pow": Kernel(
        lambda ins, c: _pow(ins[0], c),  # type: ignore[arg-type]
        lambda ins, out, c: [_pow_base_grad(ins[0], c)],  # type: ignore[arg-type]
        ("pow_value", 1),
    ),
    "pow_value": Kernel(_pow_value, _pow_value_grads, ("pow_value", 0)),
    "tanh": Kernel(lambda ins, c: np.tanh(ins[0]), lambda ins, out, c: [1.0 - out * out]),
    "sigmoid": Kernel(
        lambda ins, c: 1.0 / (1.0 + np.exp(-ins[0])),
        lambda ins, out, c: [out * (1.0 - out)],
    ),
    "abs": Kernel(lambda ins, c: np.abs(ins[0]), lambda ins, out, c: [_sign(ins[0])]),
    "sqrt": Kernel(lambda ins, c: np.sqrt(ins[0]), lambda ins, out, c: [0.5 / out]),
}

_missing = sorted(GATES.keys() - KERNELS.keys())
if _missing:
    raise ImportError(f"gategrad.replay has no kernel for the gates {', '.join(_missing)}: add them to KERNELS")
