"""Checking backward()'s gradient against a central finite difference."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gategrad.engine.value import Value


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
) -> bool:
    """Compare backward()'s gradient of `f` at `inputs` with a central finite difference.

    Returns True when every input agrees within ``atol + rtol * |numeric|``; otherwise
    raises AssertionError listing each input that disagrees with both numbers.
    """
    point = [Value(x).data for x in inputs]
    args = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = f(*args)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck needs f to return a Value, got {type(out).__name__}")
    out.backward()
    failures = []
    for i, arg in enumerate(args):
        numeric = (_evaluate(f, point, i, eps) - _evaluate(f, point, i, -eps)) / (2 * eps)
        if not abs(arg.grad - numeric) <= atol + rtol * abs(numeric):
            failures.append(f"input {i} (x{i} = {point[i]!r}): backward {arg.grad!r}, finite difference {numeric!r}")
    if failures:
        raise AssertionError("gradcheck failed:\n  " + "\n  ".join(failures))
    return True


def _evaluate(f: Callable[..., Value], point: list[float], i: int, step: float) -> float:
    moved = list(point)
    moved[i] += step
    return f(*[Value(x) for x in moved]).data
