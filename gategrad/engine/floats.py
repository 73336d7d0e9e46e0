"""float64 math that never raises, with the results C and PyTorch give: inf on overflow, nan when undefined."""

from __future__ import annotations

import math


def fmt(x: float) -> str:
    """The one way gategrad writes a number in words, tables and pictures: 4 significant digits."""
    return f"{x + 0.0:.4g}"  # + 0.0 turns -0.0 into 0.0: a zero is written "0"


def json_number(x: float) -> float | str:
    """`x` itself when finite; "Infinity", "-Infinity" or "NaN" otherwise."""
    if math.isfinite(x):
        return x
    if math.isnan(x):
        return "NaN"
    return "Infinity" if x > 0 else "-Infinity"


def is_odd_integer(y: float) -> bool:
    return y.is_integer() and math.fmod(y, 2.0) != 0.0


def exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -math.inf
    return math.nan  # negative or nan


def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else math.nan  # sqrt(-0.0) is -0.0, as IEEE says


def div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def pow(x: float, y: float) -> float:
    if x < 0.0 and math.isfinite(y) and not y.is_integer():
        return math.nan  # a negative base to a fractional power has no real value
    try:
        result: float = x**y  # float ** float is typed Any for a complex result, which the line above rules out
        return result
    except ZeroDivisionError:  # zero to a negative power
        return -math.inf if math.copysign(1.0, x) < 0.0 and is_odd_integer(y) else math.inf
    except OverflowError:
        return -math.inf if x < 0.0 and is_odd_integer(y) else math.inf


def pow_base_grad(x: float, k: float) -> float:
    """d(x**k)/dx = k * x**(k-1), and 0 when k = 0 (as PyTorch)."""
    return 0.0 if k == 0.0 else k * pow(x, k - 1.0)


def pow_exponent_grad(x: float, k: float, out: float) -> float:
    """d(x**k)/dk = x**k * log(x), and 0 when x = 0 and k >= 0 (as PyTorch)."""
    return 0.0 if x == 0.0 and k >= 0.0 else out * log(x)


def maximum(a: float, b: float) -> float:
    if a != a or b != b:
        return math.nan
    return a if a >= b else b


def maximum_grads(a: float, b: float) -> tuple[float, float]:
    """torch.maximum's gradients: to the larger input, split on a tie, to both through a nan."""
    if a == b:
        return (0.5, 0.5)
    return (0.0 if a < b else 1.0, 0.0 if a > b else 1.0)


def sign(x: float) -> float:
    """abs's gradient, as torch's: 1 or -1, and 0 at zero and for nan."""
    return float((x > 0.0) - (x < 0.0))
