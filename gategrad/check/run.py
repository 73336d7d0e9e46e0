"""Running a learner's backprop against the engine: loss(p) on arrays of Values, backward(), grads(p) twice."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from gategrad import arrays
from gategrad.check import diagnose, graph
from gategrad.check.report import Checked, Divergence, Report
from gategrad.engine import Value


class CheckError(ValueError):
    """The file or its functions are not what the check needs: a missing function, a loss that is not a number."""


_taps: dict[str, np.ndarray] | None = None  # the arrays tapped by the loss(p) being checked; None outside a check


def tap(name: str, array: Any) -> Any:
    """Name an intermediate array of loss(p), so grads(p) may return its gradient under `name`.

    Returns `array` unchanged; during a check, the same numbers as Values labelled like `z1[0,2]`.
    """
    if _taps is None:
        return array
    if not isinstance(name, str) or not name:
        raise CheckError(f"tap needs a name (a str) and an array, got the name {name!r}")
    if name in _taps:
        raise CheckError(f"loss(p) taps two arrays named {name!r}: each tapped array needs a name of its own")
    items = np.asarray(array, dtype=object)
    out = np.empty(items.shape, dtype=object)
    for index, v in np.ndenumerate(items):
        out[index] = _tapped(v, name, index)
    _taps[name] = out
    return out if isinstance(array, np.ndarray) or out.ndim else out[()]


def _tapped(v: object, name: str, index: tuple[int, ...]) -> Value:
    """A node of its own for entry `index`, so its gradient is the gradient of this array alone.

    np.maximum, np.where and max return one of their inputs itself, so without it `relu(z1)` and
    `z1` would share their entries where z1 > 0.
    """
    if isinstance(v, Value):
        out = v + 0.0
    elif isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)):
        out = Value(float(v))
    else:
        raise CheckError(f"tap({name!r}, ...) needs an array of numbers, got one holding {type(v).__name__}: {v!r}")
    out.label = arrays.label(name, index)
    return out


def check(params: Mapping[str, Any], loss: Callable[[dict], Any], grads: Callable[[dict], Any]) -> Report:
    """Compare `grads(p)`, your backprop, with the engine's gradients of `loss(p)`, array by array.

    `params` maps each name to a float array; `loss(p)` is the forward pass in numpy, run here on arrays of
    Values; `grads(p)` returns a dict with a key per parameter and optionally per array tapped in loss(p).
    """
    floats = _parameters(params)
    p = {name: arrays.values(a, name) for name, a in floats.items()}
    root, taps = _record(loss, p)
    root.backward()
    hand = _hand(grads, floats, taps)
    again = _hand(grads, floats, taps)
    changed = tuple(n for n in hand if not diagnose.close(again[n], hand[n]))

    every = {**p, **taps}
    named = {n: a for n, a in every.items() if n in hand}
    marks = {v: (name, index) for name, a in every.items() for index, v in np.ndenumerate(a)}
    order, distance = graph.order_from_loss(root, marks)
    kinds = {name: "parameter" if name in p else "intermediate" for name in named}
    rank = {name: i for i, name in enumerate([*reversed(taps), *p])}  # ties: the later tap, then params() order
    names = sorted(named, key=lambda n: (*distance.get(n, (np.inf, np.inf)), rank[n]))

    true = {name: arrays.grad(named[name]) for name in names}
    comparisons = {name: diagnose.compare(hand[name], true[name]) for name in names}
    first = next((name for name in names if not comparisons[name].agrees), None)
    divergence = None
    if first is not None:
        divergence = _divergence(first, named[first], hand[first], true[first], order, marks, root)
        comparisons[first] = _say_more(comparisons[first], divergence, every, hand, order, marks)
    checked = tuple(
        Checked(n, kinds[n], true[n].shape, c.agrees, c.max_abs_error, c.diagnosis) for n, c in comparisons.items()
    )
    return Report(checked, not changed, changed, divergence, tuple(n for n in taps if n not in hand))


def check_file(path: str | Path) -> Report:
    """Import the file at `path`, a learner's own code, and check its params(), loss(p) and grads(p)."""
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"no such file: {path}")
    if path.suffix != ".py":
        raise CheckError(f"{path} is not a Python file (.py)")
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # as `python FILE.py` would: the file may import its neighbours
    try:
        module = _load(path)
        missing = [name for name in ("params", "loss", "grads") if not callable(getattr(module, name, None))]
        if missing:
            raise CheckError(f"{path} defines no function {', '.join(missing)}: it needs params(), loss(p), grads(p)")
        return check(module.params(), module.loss, module.grads)
    finally:
        sys.path.remove(folder)


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path.resolve())
    if spec is None or spec.loader is None:
        raise CheckError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parameters(params: object) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping) or not params:
        raise CheckError(f"params() must return a dict of name -> float array, got {_what(params)}")
    floats = {}
    for name, a in params.items():
        if not isinstance(name, str):
            raise CheckError(f"params() must name each array with a str, got {name!r}")
        try:
            floats[name] = np.array(a, dtype=float)
        except (TypeError, ValueError):
            raise CheckError(f"params()[{name!r}] is not an array of numbers: {_what(a)}") from None
    return floats


def _record(loss: Callable[[dict], Any], p: dict[str, np.ndarray]) -> tuple[Value, dict[str, np.ndarray]]:
    """Run loss(p) on Values, recording its taps; the loss it returns, labelled L, and the tapped arrays."""
    global _taps
    _taps = {}
    try:
        out = loss(p)
        taps = _taps
    finally:
        _taps = None
    clash = sorted(set(taps) & set(p))
    if clash:
        raise CheckError(f"loss(p) taps an array named {clash[0]!r}, the name of a parameter: rename the tap")
    if isinstance(out, np.ndarray) and out.shape == ():
        out = out[()]
    if isinstance(out, np.ndarray):
        raise CheckError(f"loss(p) must return one number, the loss; it returned an array of shape {out.shape}")
    if not isinstance(out, Value):
        raise CheckError(f"loss(p) must compute the loss from the arrays in p; it returned {_what(out)}")
    if not out.label:
        out.label = "L"
    return out, taps


def _hand(grads: Callable[[dict], Any], floats: dict[str, np.ndarray], taps: Mapping[str, Any]) -> dict:
    """grads(p) on fresh copies of the parameters, checked and copied (it may hand back its own buffers)."""
    out = grads({name: a.copy() for name, a in floats.items()})
    if not isinstance(out, Mapping):
        raise CheckError(f"grads(p) must return a dict of name -> array, got {_what(out)}")
    for key in out:
        if key not in floats and key not in taps:
            tapped = f"; tapped in loss(p): {', '.join(taps)}" if taps else "; loss(p) taps no array"
            raise CheckError(
                f"grads(p) has a key {key!r} that names nothing: parameters are {', '.join(floats)}{tapped}"
            )
    missing = [name for name in floats if name not in out]
    if missing:
        raise CheckError(f"grads(p) has no key {missing[0]!r}: it needs a gradient for every parameter")
    hand = {}
    for key, a in out.items():
        try:
            hand[key] = np.array(a, dtype=float)
        except (TypeError, ValueError):
            raise CheckError(f"grads(p)[{key!r}] is not an array of numbers: {_what(a)}") from None
    return hand


def _what(x: object) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _divergence(
    name: str,
    array: np.ndarray,
    yours: np.ndarray,
    true: np.ndarray,
    order: list[Value],
    marks: graph.Marks,
    root: Value,
) -> Divergence:
    """The first divergence, shown at its worst entry (at its largest true entry when the shapes differ)."""
    same = yours.shape == true.shape
    scores = np.nan_to_num(diagnose.errors(yours, true), nan=np.inf) if same else np.abs(true)
    index = tuple(int(i) for i in np.unravel_index(np.argmax(scores), true.shape))
    return Divergence(name, graph.route(order, array[index], marks, root), float(yours[index]) if same else None)


def _say_more(
    comparison: diagnose.Comparison,
    divergence: Divergence,
    every: Mapping[str, np.ndarray],
    hand: Mapping[str, np.ndarray],
    order: list[Value],
    marks: graph.Marks,
) -> diagnose.Comparison:
    """Add to the first divergence's diagnosis what the circuit around it tells."""
    d = comparison.diagnosis
    if d is None or d.kind != "other":
        return comparison
    name = divergence.name
    parts: dict[str, float] = {}
    for term in divergence.route.terms:
        use = marks[term.output][0] if term.tapped else "the untapped rest"
        parts[use] = parts.get(use, 0.0) + term.upstream * term.local
    notes = [diagnose.uses_note(name, divergence.route.entry.label, parts, divergence.yours)]
    after = graph.elementwise_next(order, dict(np.ndenumerate(every[name])), marks)
    if after is not None and every[after].shape == every[name].shape:
        x, t = arrays.data(every[name]), arrays.data(every[after])
        notes.append(diagnose.derivative_note(name, after, hand[name], arrays.grad(every[after]), x, t))
    more = " ".join(note for note in notes if note)
    if not more:
        return comparison
    return dataclasses.replace(comparison, diagnosis=dataclasses.replace(d, message=f"{d.message} {more}"))
