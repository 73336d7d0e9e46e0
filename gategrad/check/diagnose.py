"""One hand-written gradient against the true one: does it agree, and if not, what kind of wrong is it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gategrad.arrays import label
from gategrad.engine import fmt

RTOL = 1e-8  # an array agrees when every entry is within RTOL × the array's largest |true| entry
KINDS = ("shape", "transposed", "scale", "zero", "nonfinite", "other")


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with one array: a `kind` from KINDS, `factor` = yours / true for a scale, and what to fix."""

    kind: str
    factor: float | None
    message: str


@dataclass(frozen=True)
class Comparison:
    """Yours against the true gradient of one array; `max_abs_error` is None when the shapes differ."""

    agrees: bool
    max_abs_error: float | None
    diagnosis: Diagnosis | None


def close(yours: np.ndarray, true: np.ndarray) -> bool:
    """Same shape, and every entry within RTOL × max|true| (an inf or nan must match exactly)."""
    return yours.shape == true.shape and bool(np.all(errors(yours, true) <= _tolerance(true)))


def compare(yours: np.ndarray, true: np.ndarray) -> Comparison:
    """Compare yours with the true gradient and, when they disagree, diagnose it."""
    if yours.shape != true.shape:
        return Comparison(False, None, _diagnose_shape(yours, true))
    diffs = errors(yours, true)
    worst = float(np.max(diffs)) if diffs.size else 0.0
    if np.all(diffs <= _tolerance(true)):
        return Comparison(True, worst, None)
    return Comparison(False, worst, _diagnose(yours, true, diffs))


def entry(index: tuple[int, ...]) -> str:
    """An index as the labels write it: `[0,2]`, or "" for a 0-d array."""
    return label("", index)


def _tolerance(true: np.ndarray) -> float:
    finite = np.abs(true[np.isfinite(true)])
    return RTOL * float(finite.max()) if finite.size else 0.0


def errors(yours: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|yours - true| per entry: 0 where both are the same inf or both nan, nan or inf where only one is."""
    same = (yours == true) | (np.isnan(yours) & np.isnan(true))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(yours - true))


def _diagnose_shape(yours: np.ndarray, true: np.ndarray) -> Diagnosis:
    shapes = f"Yours has shape {yours.shape}, the true gradient {true.shape}"
    if yours.ndim == 2 and yours.shape == true.shape[::-1] and close(yours.T, true):
        return Diagnosis("transposed", None, f"{shapes}: yours is its transpose. {_TRANSPOSE_FIX}")
    if yours.size == true.size and close(yours.reshape(true.shape), true):
        return Diagnosis(
            "shape", None, f"{shapes}, with the right numbers: reshape yours to {true.shape} (or use keepdims=True)."
        )
    for axis in range(yours.ndim):
        summed = yours.sum(axis=axis)
        if summed.size == true.size and close(summed.reshape(true.shape), true):
            keep = ", keepdims=True" if summed.shape != true.shape else ""
            return Diagnosis(
                "shape",
                None,
                f"{shapes}: yours keeps one gradient per sample along axis {axis}, but every sample shares the "
                f"array, so add them up: .sum(axis={axis}{keep}).",
            )
    return Diagnosis("shape", None, f"{shapes}: a gradient has the shape of its array.")


_TRANSPOSE_FIX = "For z = x @ W the gradient is dW = x.T @ dz; for z = W @ x it is dW = dz @ x.T."


def _diagnose(yours: np.ndarray, true: np.ndarray, diffs: np.ndarray) -> Diagnosis:
    size = yours.size
    bad = ~np.isfinite(yours) & np.isfinite(true)
    if bad.any():
        first = entry(tuple(int(i) for i in np.argwhere(bad)[0]))
        return Diagnosis(
            "nonfinite",
            None,
            f"{int(bad.sum())} of {size} entries are nan or inf (the first at {first}): look for an exp that "
            "overflows, a log of 0 or a division by 0 in your backward pass.",
        )
    if not yours.any():
        return Diagnosis(
            "zero",
            None,
            "Every entry is 0 and the true gradient is not: it is never computed, or never added to the "
            "zeros it starts from.",
        )
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1] and close(yours.T, true):
        return Diagnosis("transposed", None, f"Yours is the transpose of the true gradient. {_TRANSPOSE_FIX}")
    factor = _factor(yours, true)
    if factor is not None:
        return Diagnosis("scale", factor, _scale_message(factor))
    return Diagnosis("other", None, _other_message(yours, true, diffs))


def _factor(yours: np.ndarray, true: np.ndarray) -> float | None:
    """f when yours = f × true for one number f ≠ 1, snapped to a whole number or its inverse when that close.

    With a single nonzero true entry any two numbers have a ratio, so there only a round one counts.
    """
    t, y = true[np.isfinite(true)], yours[np.isfinite(true)]
    norm = float(np.dot(t.ravel(), t.ravel()))
    if norm == 0.0:
        return None
    f = float(np.dot(y.ravel(), t.ravel())) / norm
    if f == 0.0 or not close(yours, f * true):
        return None
    for whole in (round(f), 1 / round(1 / f) if abs(f) < 1 else None):
        if whole and abs(f - whole) <= 1e-9 * abs(f):
            return float(whole)
    return f if np.count_nonzero(t) > 1 else None


def _scale_message(f: float) -> str:
    times = f"Yours is {fmt(f)} times the true gradient in every entry"
    if f == -1.0:
        return f"{times}: the sign is flipped (y - a where a - y is due, or a minus lost on the way)."
    sign = " and its sign is flipped" if f < 0 else ""
    k = abs(f)
    if k >= 2 and k.is_integer():
        half = " (or the ½ of ½·(a - y)² left out)" if k == 2 else ""
        return f"{times}{sign}: a 1/{fmt(k)} is missing, such as the 1/m of a mean over m = {fmt(k)} samples{half}."
    if k < 1 and (1 / k).is_integer():
        return (
            f"{times}{sign}: there is a 1/{fmt(1 / k)} too many, such as a 1/m applied twice, "
            "or a mean where the loss sums."
        )
    return f"{times}{sign}: a constant factor is wrong."


def _other_message(yours: np.ndarray, true: np.ndarray, diffs: np.ndarray) -> str:
    wrong = diffs > _tolerance(true)
    where = entry(tuple(int(i) for i in np.unravel_index(np.argmax(diffs), diffs.shape)))
    at = f" (the largest difference, {fmt(float(diffs.max()))}, at {where})" if where else ""
    if wrong.all():
        return f"Every entry differs{at}, by no common factor: a wrong term rather than a wrong constant."
    zeros = " and yours is 0 at each of them" if not yours[wrong].any() else ""
    return f"{int(wrong.sum())} of {yours.size} entries differ{at}{zeros}; the others agree."


def uses_note(name: str, entry_label: str, parts: dict[str, float], yours: float | None) -> str:
    """When an array is used more than once and yours at one entry is the gradient through one use alone."""
    if len(parts) < 2 or yours is None:
        return ""
    scale = max(abs(part) for part in parts.values())
    for use, part in parts.items():
        if abs(yours - part) <= RTOL * scale:
            others = ", ".join(other for other in parts if other != use)
            return (
                f"At {entry_label}, yours is the gradient through {use} alone, but {name} also reaches the loss "
                f"through {others}: an array used more than once gets the sum of the gradients through each use."
            )
    return ""


def derivative_note(
    name: str, after: str, yours: np.ndarray, upstream: np.ndarray, x: np.ndarray, t: np.ndarray
) -> str:
    """When yours is ∂L/∂after × a derivative at the wrong place, for after = f(name) entry by entry.

    `upstream` is the true ∂L/∂after, `x` and `t` the values of `name` and `after`.
    """
    with np.errstate(all="ignore"):
        s = 1 / (1 + np.exp(-t))
        guesses = [
            (
                s * (1 - s),
                f"Yours is ∂L/∂{after} × σ'({after}): σ' taken at the activation {after}, not at {name}. "
                f"σ'({name}) is {after}·(1 - {after}): use {after} * (1 - {after}).",
            ),
            (
                x * (1 - x),
                f"Yours is ∂L/∂{after} × {name}·(1 - {name}): a·(1 - a) is σ' only where a is the activation "
                f"σ(z); here that is {after}, so use {after} * (1 - {after}).",
            ),
            (
                1 - np.tanh(t) ** 2,
                f"Yours is ∂L/∂{after} × tanh'({after}): tanh' taken at the activation {after}, not at {name}. "
                f"tanh'({name}) is 1 - {after}²: use 1 - {after}**2.",
            ),
            (
                1 - x**2,
                f"Yours is ∂L/∂{after} × (1 - {name}²): 1 - a² is tanh' only where a is the activation "
                f"tanh(z); here that is {after}, so use 1 - {after}**2.",
            ),
            (
                np.ones_like(x),
                f"Yours is ∂L/∂{after} unchanged: the derivative of the step from {name} to {after} is missing "
                f"(relu's ({name} > 0), σ' or tanh').",
            ),
        ]
        for derivative, note in guesses:
            if close(yours, upstream * derivative):
                return note
    return ""
