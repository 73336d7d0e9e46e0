"""One hand-written gradient against the true one: does it agree, and if not, what kind of wrong is it.

`compare` looks at the two arrays alone; `in_context` looks at the circuit around an array that is
wrong in no simple way (the array after it, the uses of it, the products it enters) and names the
mistake a teacher would name. Every message is English in the code and translated by the catalogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from gettext import NullTranslations

import numpy as np

from gategrad.arrays import label
from gategrad.engine import fmt
from gategrad.explain.lang import ENGLISH, translator

RTOL = 1e-8  # an array agrees when every entry is within RTOL × the array's largest |true| entry
KINDS = (
    "shape",
    "transposed",
    "scale",
    "zero",
    "nonfinite",
    "mask",
    "derivative_at_output",
    "missing_path",
    "regularization",
    "label_entries",
    "wrong_operand",
    "other",
)


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with one array: a `kind` from KINDS and what to fix.

    `factor` is yours / true for a scale and c for a regularization (yours - true = c·P);
    `equals` names the array yours was computed from, for a wrong_operand.
    """

    kind: str
    factor: float | None
    message: str
    equals: str | None = None


@dataclass(frozen=True)
class Comparison:
    """Yours against the true gradient of one array; `max_abs_error` is None when the shapes differ."""

    agrees: bool
    max_abs_error: float | None
    diagnosis: Diagnosis | None


def close(yours: np.ndarray, true: np.ndarray) -> bool:
    """Same shape, and every entry within RTOL × max|true| (an inf or nan must match exactly)."""
    return yours.shape == true.shape and bool(np.all(errors(yours, true) <= tolerance(true)))


def compare(
    yours: np.ndarray,
    true: np.ndarray,
    lang: str = ENGLISH,
    name: str = "",
    values: np.ndarray | None = None,
    bias: str | None = None,
) -> Comparison:
    """Compare yours with the true gradient of the array `name` and, when they disagree, diagnose it.

    `values` are the parameter's own numbers, for a regularization; None for an intermediate array.
    `bias` is "row" or "column" when row 0 (column 0) of a weight matrix multiplies a column (row) of ones.
    """
    t = translator(lang)
    if yours.shape != true.shape:
        return Comparison(False, None, _diagnose_shape(yours, true, t))
    diffs = errors(yours, true)
    worst = float(np.max(diffs)) if diffs.size else 0.0
    if np.all(diffs <= tolerance(true)):
        return Comparison(True, worst, None)
    return Comparison(False, worst, _diagnose(yours, true, diffs, t, name, values, bias))


def entry(index: tuple[int, ...]) -> str:
    """An index as the labels write it: `[0,2]`, or "" for a 0-d array."""
    return label("", index)


def tolerance(true: np.ndarray) -> float:
    """How far an entry may be from `true` and agree: RTOL × the largest finite |true| entry."""
    finite = np.abs(true[np.isfinite(true)])
    return RTOL * float(finite.max()) if finite.size else 0.0


def errors(yours: np.ndarray, true: np.ndarray) -> np.ndarray:
    """|yours - true| per entry: 0 where both are the same inf or both nan, nan or inf where only one is."""
    same = (yours == true) | (np.isnan(yours) & np.isnan(true))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(yours - true))


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(shape))


def _diagnose_shape(yours: np.ndarray, true: np.ndarray, t: NullTranslations) -> Diagnosis:
    shapes = t.gettext("Yours has shape {yours}, the true gradient {true}").format(
        yours=_shape(yours.shape), true=_shape(true.shape)
    )
    if yours.ndim == 2 and yours.shape == true.shape[::-1] and close(yours.T, true):
        said = t.gettext("{shapes}: yours is its transpose. {fix}")
        return Diagnosis("transposed", None, said.format(shapes=shapes, fix=_transpose_fix(t)))
    if yours.size == true.size and close(yours.reshape(true.shape), true):
        said = t.gettext("{shapes}, with the right numbers: reshape yours to {true} (or use keepdims=True).")
        return Diagnosis("shape", None, said.format(shapes=shapes, true=_shape(true.shape)))
    for axis in range(yours.ndim):
        summed = yours.sum(axis=axis)
        if summed.size == true.size and close(summed.reshape(true.shape), true):
            keep = ", keepdims=True" if summed.shape != true.shape else ""
            said = t.gettext(
                "{shapes}: yours keeps one gradient per sample along axis {axis}, but every sample shares the "
                "array, so add them up: {fix}."
            )
            return Diagnosis("shape", None, said.format(shapes=shapes, axis=axis, fix=f".sum(axis={axis}{keep})"))
    return Diagnosis("shape", None, t.gettext("{shapes}: a gradient has the shape of its array.").format(shapes=shapes))


def _transpose_fix(t: NullTranslations) -> str:
    return t.gettext("For z = x @ W the gradient is dW = x.T @ dz; for z = W @ x it is dW = dz @ x.T.")


def _diagnose(
    yours: np.ndarray,
    true: np.ndarray,
    diffs: np.ndarray,
    t: NullTranslations,
    name: str,
    values: np.ndarray | None,
    bias: str | None = None,
) -> Diagnosis:
    size = yours.size
    bad = ~np.isfinite(yours) & np.isfinite(true)
    if bad.any():
        first = entry(tuple(int(i) for i in np.argwhere(bad)[0]))
        said = t.ngettext(
            "{bad} of {size} entry is nan or inf (the first at {first}): look for an exp that overflows, "
            "a log of 0 or a division by 0 in your backward pass.",
            "{bad} of {size} entries are nan or inf (the first at {first}): look for an exp that overflows, "
            "a log of 0 or a division by 0 in your backward pass.",
            size,
        )
        return Diagnosis("nonfinite", None, said.format(bad=int(bad.sum()), size=size, first=first))
    if not yours.any():
        said = t.gettext(
            "Every entry is 0 and the true gradient is not: it is never computed, or never added to the "
            "zeros it starts from."
        )
        return Diagnosis("zero", None, said)
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1] and close(yours.T, true):
        said = t.gettext("Yours is the transpose of the true gradient. {fix}").format(fix=_transpose_fix(t))
        return Diagnosis("transposed", None, said)
    factor = _factor(yours, true)
    if factor is not None:
        return Diagnosis("scale", factor, _scale_message(factor, t))
    labels = _label_entries(yours, true, diffs, t)
    if labels is not None:
        return labels
    if values is not None:
        c = _regularization(yours, true, values)
        if c is not None:
            said = t.gettext(
                "Yours - true = {c}·{name} in every entry: the gradient of the regularisation term is off. "
                "A loss term 0.5·reg·Σ{name}² has the gradient reg·{name} (reg·Σ{name}² has 2·reg·{name}); "
                "add it once, with the reg of the loss, and leave the biases unregularised unless the loss "
                "regularises them too."
            )
            return Diagnosis("regularization", c, said.format(c=fmt(c), name=name))
        if bias is not None:
            found = _bias_line(yours, true, diffs, values, bias, name, t)
            if found is not None:
                return found
    return Diagnosis("other", None, _other_message(yours, true, diffs, t))


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
    whole = _round(f)
    if whole is not None:
        return whole
    return f if np.count_nonzero(t) > 1 else None


def _round(f: float) -> float | None:
    """f as a whole number or the inverse of one, when it is that to 1e-9; else None."""
    for whole in (round(f), 1 / round(1 / f) if abs(f) < 1 else None):
        if whole and abs(f - whole) <= 1e-9 * abs(f):
            return float(whole)
    return None


def _scale_message(f: float, t: NullTranslations, times: str = "") -> str:
    times = times or t.gettext("Yours is {f} times the true gradient in every entry").format(f=fmt(f))
    if f == -1.0:
        return t.gettext("{times}: the sign is flipped (y - a where a - y is due, or a minus lost on the way).").format(
            times=times
        )
    k = abs(f)
    if k >= 2 and k.is_integer():
        if f < 0:
            said = t.gettext(
                "{times} and its sign is flipped: a 1/{k} is missing, such as the 1/m of a mean over m = {k} samples."
            )
        elif k == 2:
            said = t.gettext(
                "{times}: a 1/{k} is missing, such as the 1/m of a mean over m = {k} samples "
                "(or the ½ of ½·(a - y)² left out)."
            )
        else:
            said = t.gettext("{times}: a 1/{k} is missing, such as the 1/m of a mean over m = {k} samples.")
        return said.format(times=times, k=fmt(k))
    if k < 1 and (1 / k).is_integer():
        if f < 0:
            said = t.gettext(
                "{times} and its sign is flipped: there is a 1/{k} too many, such as a 1/m applied twice, "
                "or a mean where the loss sums."
            )
        else:
            said = t.gettext(
                "{times}: there is a 1/{k} too many, such as a 1/m applied twice, or a mean where the loss sums."
            )
        return said.format(times=times, k=fmt(1 / k))
    if f < 0:
        return t.gettext("{times} and its sign is flipped: a constant factor is wrong.").format(times=times)
    return t.gettext("{times}: a constant factor is wrong.").format(times=times)


def _label_entries(yours: np.ndarray, true: np.ndarray, diffs: np.ndarray, t: NullTranslations) -> Diagnosis | None:
    """Yours differs from the true gradient at one entry of each row (or each column) alone: the label's."""
    if yours.ndim != 2 or min(yours.shape) < 2:
        return None
    wrong = diffs > tolerance(true)
    for axis, said in (
        (
            1,
            t.gettext(
                "Yours differs from the true gradient only at one entry in each row, the label's column "
                "(yours - true = {d} there): the -1 of p - onehot is missing or doubled. After "
                "dscores = probs.copy(), subtract 1 once at each row's label: dscores[np.arange(m), y] -= 1, "
                "then divide by m."
            ),
        ),
        (
            0,
            t.gettext(
                "Yours differs from the true gradient only at one entry in each column, the label's row "
                "(yours - true = {d} there): the -1 of p - onehot is missing or doubled. With one sample per "
                "column, dZ = A - Y where Y is one-hot: subtract 1 once at each column's label."
            ),
        ),
    ):
        d = (yours - true)[wrong]
        # softmax's (p - onehot) / m is negative at each label alone, and the -1 shifts those entries alike
        if np.all(wrong.sum(axis=axis) == 1) and np.array_equal(wrong, true < 0) and np.allclose(d, d[0]):
            return Diagnosis("label_entries", None, said.format(d=fmt(float(d[0]))))
    return None


def _regularization(yours: np.ndarray, true: np.ndarray, values: np.ndarray) -> float | None:
    """c when yours - true = c × the parameter itself, for a parameter with more than one nonzero entry."""
    if values.shape != yours.shape or np.count_nonzero(values) < 2:
        return None
    diff = yours - true
    c = float(np.dot(diff.ravel(), values.ravel())) / float(np.dot(values.ravel(), values.ravel()))
    if c == 0.0 or not close(yours, true + c * values):
        return None
    whole = _round(c)
    return whole if whole is not None else c


def _bias_line(
    yours: np.ndarray,
    true: np.ndarray,
    diffs: np.ndarray,
    values: np.ndarray,
    bias: str,
    name: str,
    t: NullTranslations,
) -> Diagnosis | None:
    """Yours is wrong in the bias row (column) of P alone: 0 there, or yours - true = c·P there (the bias
    regularised where the loss does not)."""
    wrong = diffs > tolerance(true)
    line = (0, slice(None)) if bias == "row" else (slice(None), 0)
    inside = np.zeros_like(wrong)
    inside[line] = True
    p = values[line]
    if not wrong[line].any() or wrong[~inside].any():
        return None
    if not yours[line].any():
        if bias == "row":
            said = t.gettext(
                "Yours is 0 in row 0 of {name} alone, and row 0 is the bias: it multiplies the column of ones "
                "added to the layer's input, so its gradient is the upstream gradient summed over the samples, "
                "not 0. Keep the column of ones as it is when you compute d{name} (do not zero it in place)."
            )
        else:
            said = t.gettext(
                "Yours is 0 in column 0 of {name} alone, and column 0 is the bias: it multiplies the row of ones "
                "added to the layer's input, so its gradient is the upstream gradient summed over the samples, "
                "not 0. Keep the row of ones as it is when you compute d{name} (do not zero it in place)."
            )
        return Diagnosis("zero", None, said.format(name=name))
    if not p.any():
        return None
    c = float(np.dot((yours - true)[line], p)) / float(np.dot(p, p))
    if not close(yours[line], true[line] + c * p):
        return None
    if bias == "row":
        said = t.gettext(
            "Yours - true = {c}·{name}[0,:] in row 0 alone, and row 0 of {name} is the bias: it multiplies the "
            "column of ones added to the layer's input. Regularise the bias as the loss does, which is usually "
            "not at all: add the regularisation gradient to {name}[1:] only."
        )
    else:
        said = t.gettext(
            "Yours - true = {c}·{name}[:,0] in column 0 alone, and column 0 of {name} is the bias: it multiplies "
            "the row of ones added to the layer's input. Regularise the bias as the loss does, which is usually "
            "not at all: add the regularisation gradient to {name}[:, 1:] only."
        )
    return Diagnosis("regularization", c, said.format(c=fmt(c), name=name))


def _other_message(yours: np.ndarray, true: np.ndarray, diffs: np.ndarray, t: NullTranslations) -> str:
    wrong = diffs > tolerance(true)
    where = entry(tuple(int(i) for i in np.unravel_index(np.argmax(diffs), diffs.shape)))
    worst = fmt(float(diffs.max()))
    if wrong.all():
        if where:
            said = t.gettext(
                "Every entry differs (the largest difference, {worst}, at {where}), by no common factor: "
                "a wrong term rather than a wrong constant."
            )
        else:
            said = t.gettext("Every entry differs, by no common factor: a wrong term rather than a wrong constant.")
        return said.format(worst=worst, where=where)
    if yours[wrong].any():
        said = t.ngettext(
            "{n} of {size} entry differ (the largest difference, {worst}, at {where}); the others agree.",
            "{n} of {size} entries differ (the largest difference, {worst}, at {where}); the others agree.",
            yours.size,
        )
    else:
        said = t.ngettext(
            "{n} of {size} entry differ (the largest difference, {worst}, at {where}) and yours is 0 at each "
            "of them; the others agree.",
            "{n} of {size} entries differ (the largest difference, {worst}, at {where}) and yours is 0 at each "
            "of them; the others agree.",
            yours.size,
        )
    return said.format(n=int(wrong.sum()), size=yours.size, worst=worst, where=where)


@dataclass(frozen=True)
class Context:
    """What the circuit tells about the array `name`, for the mistakes `compare` cannot see alone.

    `after` is the array whose entry [i] is a function of this one's entry [i] alone (a1 = relu(z1) for z1);
    `parts` the true gradient through each array that uses this one directly (or "the loss");
    `data` and `grads` every named array's forward numbers and true gradient, in forward order.
    """

    name: str
    after: str | None
    parts: Mapping[str, np.ndarray]
    data: Mapping[str, np.ndarray]
    grads: Mapping[str, np.ndarray]


Guess = tuple[str, np.ndarray, str]  # a kind, the gradient an array would get from that mistake, and what to say


def in_context(yours: np.ndarray, true: np.ndarray, c: Context, lang: str = ENGLISH) -> Diagnosis | None:
    """The mistake behind an "other": a forgotten mask, a derivative at the wrong place, a missing use of a
    value used twice, or a product's gradient taken with another array than the forward pass used."""
    t = translator(lang)
    for kind, guess, said in guesses(c, lang):
        if close(yours, guess):
            return Diagnosis(kind, None, said)
    for find in (_missing_path, _wrong_operand):
        found = find(yours, true, c, t)
        if found is not None:
            return found
    return None


def guesses(c: Context, lang: str = ENGLISH) -> list[Guess]:
    """The gradients of c.name that a forgotten mask or a derivative at the wrong place would give.

    Each needs `after`, the activation made from c.name entry by entry, and its true gradient.
    """
    t = translator(lang)
    found = _label_guesses(c.grads[c.name], t) if c.name in c.grads else []
    if c.after is None or c.name not in c.grads:
        return found
    upstream, x, a, true = c.grads[c.after], c.data[c.name], c.data[c.after], c.grads[c.name]
    if not (upstream.shape == x.shape == a.shape == true.shape):
        return found
    off = ~np.isclose(true, upstream, rtol=0, atol=tolerance(upstream))
    if off.any() and not np.any(true[off] != 0):  # the truth is ∂L/∂after or 0: a relu's (or a max's) mask
        said = t.ngettext(
            "Yours is ∂L/∂{after} passed on unchanged, also where the true gradient is 0 ({n} of {size} entry): "
            "{after} = relu({name}) (or a max) lets the gradient through only where {name} > 0. "
            "Multiply by the mask: d{name} = d{after} * ({name} > 0).",
            "Yours is ∂L/∂{after} passed on unchanged, also where the true gradient is 0 ({n} of {size} entries): "
            "{after} = relu({name}) (or a max) lets the gradient through only where {name} > 0. "
            "Multiply by the mask: d{name} = d{after} * ({name} > 0).",
            true.size,
        )
        found.append(("mask", upstream, said.format(after=c.after, name=c.name, n=int(off.sum()), size=true.size)))
    with np.errstate(all="ignore"):
        s = 1 / (1 + np.exp(-a))
        derivatives = [
            (
                s * (1 - s),
                t.gettext(
                    "Yours is ∂L/∂{after} × σ'({after}): the sigmoid's derivative is taken at its output {after} "
                    "instead of its input {name}. σ'({name}) = {after}·(1 - {after}) (for tanh: 1 - {after}²), "
                    "so use d{name} = d{after} * {after} * (1 - {after})."
                ),
            ),
            (
                x * (1 - x),
                t.gettext(
                    "Yours is ∂L/∂{after} × {name}·(1 - {name}): the form a·(1 - a) of σ' holds for the output "
                    "a = σ(z), but it is applied to the input {name}. σ'({name}) = {after}·(1 - {after}) "
                    "(for tanh: 1 - {after}²), so use d{name} = d{after} * {after} * (1 - {after})."
                ),
            ),
            (
                1 - np.tanh(a) ** 2,
                t.gettext(
                    "Yours is ∂L/∂{after} × tanh'({after}): tanh's derivative is taken at its output {after} "
                    "instead of its input {name}. tanh'({name}) = 1 - {after}² (for the sigmoid: "
                    "{after}·(1 - {after})), so use d{name} = d{after} * (1 - {after}**2)."
                ),
            ),
            (
                1 - x**2,
                t.gettext(
                    "Yours is ∂L/∂{after} × (1 - {name}²): the form 1 - a² of tanh' holds for the output "
                    "a = tanh(z), but it is applied to the input {name}. tanh'({name}) = 1 - {after}² (for the "
                    "sigmoid: {after}·(1 - {after})), so use d{name} = d{after} * (1 - {after}**2)."
                ),
            ),
        ]
        for derivative, said in derivatives:
            guess = upstream * derivative
            if np.all(np.isfinite(guess)) and not close(guess, true):
                found.append(("derivative_at_output", guess, said.format(after=c.after, name=c.name)))
    return found


def _label_guesses(true: np.ndarray, t: NullTranslations) -> list[Guess]:
    """For a gradient shaped like softmax's (p - onehot) / m, negative only at each row's (column's) label:
    the same without its -1, or with it twice."""
    found: list[Guess] = []
    if true.ndim != 2 or min(true.shape) < 2:
        return found
    for axis in (1, 0):
        negative = true < 0
        if not np.all(negative.sum(axis=axis) == 1) or not np.allclose(true.sum(axis=axis), 0, atol=1e-12):
            continue
        m = true.shape[1 - axis]
        for d in (1 / m, -1 / m):
            guess = true + d * negative
            diffs = errors(guess, true)
            said = _label_entries(guess, true, diffs, t)
            if said is not None:
                found.append(("label_entries", guess, said.message))
    return found


def inherited(name: str, use: str, kind: str, why: str, lang: str = ENGLISH, shown: bool = False) -> Diagnosis:
    """The diagnosis of `name` when yours is right for the d{use} you had, and that d{use} is wrong by `why`.

    `shown`: your gradient of `use` is in the report with that diagnosis, so it is not said twice.
    """
    t = translator(lang)
    if shown:
        said = t.gettext("Yours follows rightly from your ∂L/∂{use}, which is wrong: see {use} above.")
        return Diagnosis(kind, None, said.format(use=use))
    said = t.gettext(
        "Yours follows rightly from your ∂L/∂{use}, but that is wrong: the mistake is one step nearer the loss. "
        "About ∂L/∂{use}: {why}"
    )
    return Diagnosis(kind, None, said.format(name=name, use=use, why=why))


def _missing_path(yours: np.ndarray, true: np.ndarray, c: Context, t: NullTranslations) -> Diagnosis | None:
    """A value used in two or more places, and yours is the gradient through one use alone."""
    if len(c.parts) < 2:
        return None
    for use, part in c.parts.items():
        if part.shape == yours.shape and close(yours, part):
            others = [other for other in c.parts if other != use]
            said = t.ngettext(
                "Yours is the gradient through {use} alone, but {name} also reaches the loss through {others}: "
                "a value used in more than one place gets the sum of the gradients through each use. Add the "
                "missing one with += (an = in its place overwrites the first).",
                "Yours is the gradient through {use} alone, but {name} also reaches the loss through {others}: "
                "a value used in more than one place gets the sum of the gradients through each use. Add the "
                "missing ones with += (an = in their place overwrites the first).",
                len(others),
            )
            return Diagnosis(
                "missing_path", None, said.format(use=use, name=c.name, others=t.pgettext("list", ", ").join(others))
            )
    return None


def _wrong_operand(yours: np.ndarray, true: np.ndarray, c: Context, t: NullTranslations) -> Diagnosis | None:
    """W's gradient through z = A @ W is A.T @ ∂L/∂z (z = W @ A: ∂L/∂z @ A.T); yours used B for A."""
    if yours.ndim != 2:
        return None
    for use, part in c.parts.items():
        g = c.grads.get(use)
        if g is None or g.ndim != 2:
            continue
        rest = yours - (true - part)  # yours through this use, if the other uses are right
        for layout in ("rows", "columns"):
            operand = next((n for n, a in _candidates(c, g, layout) if _fits(layout, a, g, part)), None)
            if operand is None:
                continue
            others = _candidates(c, g, layout, masks=True)
            own = [(n, b) for n, b in others if n == f"({operand} > 0)"]  # an in-place h[h > 0] = 1 first
            for equals, b in own + [(n, b) for n, b in others if n != f"({operand} > 0)"]:
                if equals != operand and _fits(layout, b, g, rest) and not close(b, c.data[operand]):
                    form = f"{equals}.T @ d{use}" if layout == "rows" else f"d{use} @ {equals}.T"
                    said = t.gettext(
                        "Yours is {form}, but the forward pass computed {use} from {operand}: a product's "
                        "gradient takes the other factor as the forward pass had it. Use {operand} there; if "
                        "{operand} was changed in place on the way (such as {operand}[{operand} > 0] = 1 for "
                        "relu's derivative), write the mask into an array of its own: ({operand} > 0)."
                    )
                    return Diagnosis(
                        "wrong_operand", None, said.format(form=form, use=use, operand=operand), equals=equals
                    )
    return None


def _candidates(c: Context, g: np.ndarray, layout: str, masks: bool = False) -> list[tuple[str, np.ndarray]]:
    """The named arrays (and with `masks`, each one's (a > 0)) that could be the other factor of a product."""
    rows = g.shape[0] if layout == "rows" else g.shape[1]
    found = []
    for name, a in c.data.items():
        if name == c.name or a.ndim != 2 or a.shape[0 if layout == "rows" else 1] != rows:
            continue
        if masks:
            found.append((f"({name} > 0)", (a > 0).astype(float)))
        found.append((name, a))
    return found


def _fits(layout: str, a: np.ndarray, g: np.ndarray, target: np.ndarray) -> bool:
    """Whether a.T @ g (rows: z = a @ W) or g @ a.T (columns: z = W @ a) is `target`."""
    shape = (a.shape[1], g.shape[1]) if layout == "rows" else (g.shape[0], a.shape[0])
    if shape != target.shape:
        return False
    return close(a.T @ g if layout == "rows" else g @ a.T, target)


def use_factor(rest: np.ndarray, part: np.ndarray) -> float | None:
    """k when yours, less the right gradient through the other uses, is k × the gradient through one use."""
    if not np.count_nonzero(part) > 1:
        return None
    return _factor(rest, part)


def inherited_scale(name: str, use: str, k: float, lang: str = ENGLISH, shown: bool = False) -> Diagnosis:
    """The diagnosis of `name` when the gradient it gets through `use` is k times too large."""
    t = translator(lang)
    if shown:
        said = t.gettext("Yours follows rightly from your ∂L/∂{use}, which is wrong: see {use} above.")
        return Diagnosis("scale", k, said.format(use=use))
    times = t.gettext("Yours is what {name} gets from a ∂L/∂{use} {k} times the true one").format(
        name=name, use=use, k=fmt(k)
    )
    return Diagnosis("scale", k, _scale_message(k, t, times))
