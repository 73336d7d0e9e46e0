"""numpy arrays of Values: numpy code written for floats runs on them and records every gate.

numpy's object arrays call each element's own operators and methods (`+`, `*`, `.exp()`,
`.sqrt()`, `__abs__`, comparisons), so `X @ W + b`, `np.tanh(z)` or `np.maximum(0, z)` build
the circuit one scalar gate at a time.
"""

from __future__ import annotations

import numpy as np

from gategrad.engine import Value


def values(array: object, name: str) -> np.ndarray:
    """`array`'s numbers as an object array of Values of the same shape, labelled like `W1[0,2]`."""
    floats = np.asarray(array, dtype=float)
    out = np.empty(floats.shape, dtype=object)
    for index, x in np.ndenumerate(floats):
        out[index] = Value(float(x), label=label(name, index))
    return out


def label(name: str, index: tuple[int, ...]) -> str:
    """The label of entry `index` of the array `name`: `W1[0,2]`, `b1[2]`, or `name` itself for a 0-d array."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def data(array: object) -> np.ndarray:
    """Each entry's `.data` as a float array (a plain number stands for itself)."""
    items = np.asarray(array, dtype=object)
    out = np.empty(items.shape, dtype=float)
    for index, v in np.ndenumerate(items):
        out[index] = v.data if isinstance(v, Value) else float(v)
    return out


def grad(array: object) -> np.ndarray:
    """Each entry's `.grad` as a float array (a plain number is a constant: gradient 0)."""
    items = np.asarray(array, dtype=object)
    out = np.zeros(items.shape, dtype=float)
    for index, v in np.ndenumerate(items):
        if isinstance(v, Value):
            out[index] = v.grad
    return out
