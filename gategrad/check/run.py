"""Running a learner's backprop against the engine: loss(p) on arrays of Values, backward(), grads(p) twice."""

from __future__ import annotations

import ast
import dataclasses
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gategrad import arrays
from gategrad.check import arraygraph, diagnose, graph, trace
from gategrad.check.report import Checked, Divergence, Report
from gategrad.engine import Value
from gategrad.explain.lang import ENGLISH, translator
from gategrad.text import cut, listed, quoted

LARGE = 200_000  # gates: a circuit this large gets the circuit's diagnoses at its first divergence alone
ARRAYS = LARGE  # gates: a circuit this large is checked on traced float arrays (see _arrays_report)
MAX_ENTRIES = 2_000_000  # numbers in params(): a 64x64 colour image's net with 64 units has 786,561


class CheckError(ValueError):
    """The file or its functions are not what the check needs: a missing function, a loss that is not a number."""


_taps: dict[str, Any] | None = None  # the arrays tapped by the loss(p) being checked; None outside a check
_tracing = False  # loss(p) runs on traced float arrays, not on Values
_named: set[str] = set()  # the names tap() was given (the others are the automatic taps), and the parameters'
_returned: dict[int, Any] = {}  # the arrays tap() handed back, by id (kept alive, so no id is reused)


def tap(name: str, array: Any) -> Any:
    """Name an intermediate array of loss(p), so grads(p) may return its gradient under `name`.

    Returns `array` unchanged; during a check, the same numbers as Values labelled like `z1[0,2]`.
    Inside the learner's own file every assignment taps already; tap() names an array that has no name.
    """
    if _taps is None:
        return array
    if not isinstance(name, str) or not name:
        raise CheckError(f"tap needs a name (a str) and an array, got the name {_what(name)}")
    if name in _taps:
        raise CheckError(f"loss(p) taps two arrays named {quoted(name)}: each tapped array needs a name of its own")
    _named.add(name)
    out = _tap(name, array)
    _returned[id(out)] = out
    return out


def _tap(name: str, array: Any) -> Any:
    if _tracing and not isinstance(array, trace.Traced):
        array = trace.Traced(array, made=False)  # data tapped by hand: a leaf, as Values of its numbers are
    if isinstance(array, trace.Traced):
        node = trace.Traced(array.value, (array,), lambda g: (g,), True, array.size, (1,), lambda a: a)
        assert _taps is not None
        _taps[name] = trace.elementwise(node)  # the tap's own `v + 0.0`
        return node
    items = np.asarray(array, dtype=object)
    out = np.empty(items.shape, dtype=object)
    for index, v in np.ndenumerate(items):
        out[index] = _tapped(v, name, index)
    assert _taps is not None
    _taps[name] = out.copy()  # the Values as tapped, whatever loss(p) writes into `out` afterwards
    return out if isinstance(array, np.ndarray) or out.ndim else out[()]


def _auto_tap(name: str, value: Any) -> Any:
    """The tap every assignment `name = ...` in the learner's functions makes: an array a gate made, once.

    Skipped: a name already tapped (a loop's later rounds), a parameter's name, an array tap() handed back,
    and anything that is not Values made by gates (the data, a float, a parameter itself). An array a helper
    named (`s` in `def sigmoid(z): s = ...; return s`) is tapped again under the caller's name (`A2 = sigmoid(Z2)`).
    """
    if _taps is None or name in _taps or name in _named or id(value) in _returned:
        return value
    if isinstance(value, Value):
        made = bool(value.children)
    elif isinstance(value, trace.Traced):
        made = value.made
    elif isinstance(value, np.ndarray) and value.dtype == object and value.size:
        items = value.ravel()
        if not all(isinstance(v, (Value, int, float, np.number)) for v in items):
            return value
        made = any(isinstance(v, Value) and v.children for v in items)
    else:
        return value
    return _tap(name, value) if made else value


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
        raise CheckError(
            f"tap({quoted(name)}, ...) needs an array of numbers, got one holding {type(v).__name__}: {cut(repr(v))}"
        )
    out.label = arrays.label(name, index)
    return out


def check(
    params: Mapping[str, Any],
    loss: Callable[[dict[str, np.ndarray]], Any],
    grads: Callable[[dict[str, np.ndarray]], Any],
    lang: str = ENGLISH,
) -> Report:
    """Compare `grads(p)`, your backprop, with the engine's gradients of `loss(p)`, array by array.

    `params` maps each name to a float array; `loss(p)` is the forward pass in numpy, run here on arrays of
    Values (or, for a circuit of more than ARRAYS gates, on traced float arrays, see _arrays_report: loss(p)
    runs once on those first, to learn the circuit's size);
    `grads(p)` returns a dict with a key per parameter and optionally per array tapped in loss(p).
    The diagnoses and the report speak `lang` (en, zh, ru).
    """
    translator(lang)  # an unknown language fails before the learner's code runs
    floats = _parameters(params)
    traced = _trace(loss, floats)
    if traced is not None and traced.gates > ARRAYS:
        hand, changed = _hands(grads, floats, traced.taps)
        report = _arrays_report(traced, hand, changed, floats, lang)
        if report is not None:
            return report
        p = {name: arrays.values(a, name) for name, a in floats.items()}
        root, taps, named = _record(loss, p)
    else:
        p = {name: arrays.values(a, name) for name, a in floats.items()}
        root, taps, named = _record(loss, p)
        hand, changed = _hands(grads, floats, taps)
    return _report(_Values(root, {**p, **taps}), p, taps, named, hand, changed, floats, lang)


def _arrays_report(
    traced: _Traced, hand: dict[str, np.ndarray], changed: tuple[str, ...], floats: dict[str, np.ndarray], lang: str
) -> Report | None:
    """The report from one vectorised backward pass over loss(p)'s numpy calls; the walks the report shows
    are built of Values for the few entries they pass. None when a walk meets a call the tracer cannot replay."""
    circuit = arraygraph.Circuit(traced.root, traced.p, traced.taps)
    try:
        return _report(circuit, traced.p, traced.taps, traced.named, hand, changed, floats, lang)
    except trace.Untraced:
        return None


def _walking_back(
    distance: Mapping[str, tuple[float, float]], named: Iterable[str], taps: Mapping[str, Any], p: Mapping[str, Any]
) -> list[str]:
    """The names in `named` nearest the loss first; ties: the later tap, then params() order."""
    rank = {name: i for i, name in enumerate([*list(taps)[::-1], *p])}
    return sorted(named, key=lambda n: (*distance.get(n, (np.inf, np.inf)), rank[n]))


def _hands(
    grads: Callable[[dict[str, np.ndarray]], Any], floats: dict[str, np.ndarray], taps: Mapping[str, Any]
) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """grads(p), and the names of the arrays it returns differently when called again."""
    hand = _hand(grads, floats, taps)
    again = _hand(grads, floats, taps)
    return hand, tuple(n for n in hand if not diagnose.close(again[n], hand[n]))


class _Circuit(Protocol):
    """What the report reads from the circuit of loss(p): _Values on Values, arraygraph.Circuit on traced arrays."""

    true: dict[str, np.ndarray]  # each marked array's true gradient, by name
    data: dict[str, np.ndarray]  # its numbers
    distance: dict[str, tuple[float, float]]  # graph.order_from_loss's
    size: int

    def bias_line(self, name: str) -> str | None: ...
    def elementwise_next(self, name: str) -> str | None: ...
    def parts(self, name: str) -> dict[str, np.ndarray]: ...
    def pulls(self, name: str, use: str, guesses: list[np.ndarray]) -> list[np.ndarray]: ...
    def route(self, name: str, index: tuple[int, ...]) -> graph.Route: ...


class _Values:
    """The circuit of Values loss(p) made, after backward(): what the report reads from it (see graph.py)."""

    def __init__(self, root: Value, every: dict[str, np.ndarray]) -> None:
        root.backward()
        self.root, self.every = root, every
        self.marks = {
            v: (name, index) for name, a in every.items() for index, v in np.ndenumerate(a) if isinstance(v, Value)
        }
        self.order, self.distance = graph.order_from_loss(root, self.marks)
        self.size = len(self.order)
        self.true = {name: arrays.grad(a) for name, a in every.items()}
        self.data = {name: arrays.data(a) for name, a in every.items()}

    def bias_line(self, name: str) -> str | None:
        return graph.bias_line(self.every[name].shape, lambda index: self.route(name, index))

    def elementwise_next(self, name: str) -> str | None:
        return graph.elementwise_next(self.order, dict(np.ndenumerate(self.every[name])), self.marks)

    def parts(self, name: str) -> dict[str, np.ndarray]:
        return graph.parts(self.order, self.every[name], self.marks, self.root)

    def pulls(self, name: str, use: str, guesses: list[np.ndarray]) -> list[np.ndarray]:
        return graph.pulls(self.order, self.every[name], self.marks, self.root, use, guesses)

    def route(self, name: str, index: tuple[int, ...]) -> graph.Route:
        return graph.route(self.order, self.every[name][index], self.marks, self.root)


def _report(
    circuit: _Circuit,
    p: Mapping[str, Any],
    taps: Mapping[str, Any],
    named: set[str],
    hand: dict[str, np.ndarray],
    changed: tuple[str, ...],
    floats: dict[str, np.ndarray],
    lang: str,
) -> Report:
    """Compare, diagnose and walk, reading the circuit (_Values or arraygraph.Circuit) only where needed."""
    names = _walking_back(circuit.distance, [n for n in [*p, *taps] if n in hand], taps, p)
    kinds = {name: "parameter" if name in p else "intermediate" for name in names}
    true = circuit.true
    comparisons = {}
    for name in names:
        c = diagnose.compare(hand[name], true[name], lang, name, floats.get(name))
        if name in p and c.diagnosis is not None and c.diagnosis.kind == "other":
            bias = circuit.bias_line(name)  # a walk of the circuit: only when needed
            if bias is not None:
                c = diagnose.compare(hand[name], true[name], lang, name, floats[name], bias)
        comparisons[name] = c
    shown: set[str] = set()  # the arrays walked so far whose own diagnosis names their mistake
    first = next((name for name in names if not comparisons[name].agrees), None)
    for name, c in comparisons.items():
        # each look at the circuit walks it whole: on a large one, only the first divergence gets it
        if c.diagnosis is not None and c.diagnosis.kind == "other" and (name == first or circuit.size <= LARGE):
            found = _in_context(name, hand[name], circuit, lang, shown)
            if found is not None:
                comparisons[name] = dataclasses.replace(c, diagnosis=found)
        if not comparisons[name].agrees:
            shown.add(name)
    divergence = None
    if first is not None:
        divergence = _divergence(first, hand[first], true[first], circuit)
    checked = tuple(
        Checked(n, kinds[n], true[n].shape, c.agrees, c.max_abs_error, c.diagnosis) for n, c in comparisons.items()
    )
    unchecked = tuple(n for n in taps if n in named and n not in hand)
    return Report(checked, not changed, changed, divergence, unchecked, lang)


def check_file(path: str | Path, lang: str = ENGLISH) -> Report:
    """Import the file at `path`, a learner's own code, and check its params(), loss(p) and grads(p).

    Every assignment `name = ...` inside the file's functions taps the array it assigns under `name`.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckError(f"no such file: {path}")
    if path.suffix != ".py":
        raise CheckError(f"{path} is not a Python file (.py)")
    translator(lang)
    folder = path.resolve().parent
    sys.path.insert(0, str(folder))  # as `python FILE.py` would: the file may import its neighbours
    finder = _Neighbours(folder)
    sys.meta_path.insert(0, finder)
    imported = {name: m for name, m in sys.modules.items() if finder.holds(m)}
    for name in imported:
        del sys.modules[name]  # imported before without taps: import them again, tapped
    numpy_before = dict(vars(np))
    try:
        module = _load(path)
        missing = [name for name in ("params", "loss", "grads") if not callable(getattr(module, name, None))]
        if missing:
            raise CheckError(f"{path} defines no function {', '.join(missing)}: it needs params(), loss(p), grads(p)")
        return check(module.params(), module.loss, module.grads, lang)
    except SystemExit as e:  # the learner's sys.exit(): a check that cannot finish, never a pass
        raise CheckError(exited(path, e)) from None
    except Exception:
        changed = next((n for n, f in numpy_before.items() if getattr(np, n, None) is not f), None)
        if changed is not None:  # what failed is then our code, on the learner's numpy
            raise CheckError(
                f"{path} replaced numpy's np.{changed}, which the check uses too: leave numpy's own names as they are"
            ) from None
        raise
    finally:
        vars(np).update(numpy_before)
        sys.meta_path.remove(finder)
        sys.path.remove(str(folder))
        for name in [name for name, m in sys.modules.items() if finder.holds(m)]:
            del sys.modules[name]
        sys.modules.update(imported)


def exited(path: Path, e: SystemExit) -> str:
    """What to say when the learner's file calls sys.exit() while being checked."""
    code = "" if e.code is None else quoted(e.code) if isinstance(e.code, str) else repr(e.code)
    return (
        f"{path} called sys.exit({code}) while being checked, so nothing was checked: "
        'put the lines that run the file as a script under if __name__ == "__main__":'
    )


class _TapAssignments(ast.NodeTransformer):
    """`name = expr` inside a function becomes `name = __gategrad_tap__("name", expr)`.

    Rewriting the file's syntax tree, rather than tracing its frames, gives the tap the array before any
    later line uses it, so the Values downstream are the tapped ones; line numbers stay the file's.
    An unnamed argument of np.maximum or np.where, as in np.maximum(0, X @ W1 + b1), is tapped under its
    own text: where relu passes a constant 0 on, the array it was taken from is otherwise lost.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.depth = 0

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        self.generic_visit(node)
        if self.depth and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            node.value = _tap_call(node.targets[0].id, node.value)
        return node

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        func = node.func
        if self.depth and isinstance(func, ast.Attribute) and func.attr == "dot" and len(node.args) == 1:
            # X.dot(W) makes a plain array of W before any hook of W's is asked: np.dot(X, W) asks W
            return ast.copy_location(ast.Call(ast.Name(_DOT, ast.Load()), [func.value, *node.args], []), node)
        if self.depth and isinstance(func, ast.Attribute) and func.attr in ("maximum", "where"):
            for i, arg in enumerate(node.args):
                text = ast.get_source_segment(self.source, arg)
                if text and not isinstance(arg, (ast.Name, ast.Constant, ast.Compare)):
                    node.args[i] = _tap_call(f"({' '.join(text.split())})", arg)
        return node


def _tap_call(name: str, value: ast.expr) -> ast.expr:
    call = ast.Call(ast.Name(_TAP, ast.Load()), [ast.Constant(name), value], [])
    return ast.copy_location(call, value)


_TAP = "__gategrad_tap__"
_DOT = "__gategrad_dot__"


def _dot(a: Any, b: Any) -> Any:
    """`a.dot(b)`, as np.dot(a, b) when b is a traced array and a a plain one."""
    return np.dot(a, b) if isinstance(b, trace.Traced) and not isinstance(a, trace.Traced) else a.dot(b)


class _TappingLoader(importlib.abc.Loader):
    """Runs a learner's module with its assignments tapped (see _TapAssignments)."""

    def exec_module(self, module: types.ModuleType) -> None:
        path = Path(str(module.__file__))
        source = path.read_text(encoding="utf-8")
        tree = _TapAssignments(source).visit(ast.parse(source, filename=str(path)))
        module.__dict__[_TAP] = _auto_tap
        module.__dict__[_DOT] = _dot
        exec(compile(ast.fix_missing_locations(tree), str(path), "exec"), module.__dict__)


class _Neighbours(importlib.abc.MetaPathFinder):
    """Imports the modules beside the learner's file tapped too, so `from model import loss` is checked whole."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def holds(self, module: types.ModuleType) -> bool:
        where = getattr(module, "__file__", None)
        return where is not None and Path(where).parent == self.folder

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        source = self.folder / f"{name}.py"
        if path is not None or not source.is_file():
            return None
        return importlib.util.spec_from_file_location(name, source, loader=_TappingLoader())


def _load(path: Path) -> Any:
    """Import the learner's file as a module, its assignments tapped."""
    spec = importlib.util.spec_from_file_location(path.stem, path.resolve(), loader=_TappingLoader())
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
            raise CheckError(f"params() must name each array with a str, got {_what(name)}")
        try:
            floats[name] = np.array(a, dtype=float)
        except (TypeError, ValueError):
            raise CheckError(f"params()[{quoted(name)}] is not an array of numbers: {_what(a)}") from None
        entries = sum(a.size for a in floats.values())
        if entries > MAX_ENTRIES:  # checked array by array, before loss(p) builds anything of that size
            raise CheckError(
                f"params() holds {entries:,} numbers, more than the check's limit of {MAX_ENTRIES:,}: check the "
                "same code on a smaller net (fewer inputs or units); a wrong gradient shows at any size"
            )
    return floats


def _record(
    loss: Callable[[dict[str, np.ndarray]], Any], p: dict[str, np.ndarray]
) -> tuple[Value, dict[str, np.ndarray], set[str]]:
    """Run loss(p) on Values, recording its taps; the loss it returns, labelled L, the tapped arrays, and the
    names tap() was called with."""
    global _taps, _named
    _taps, _named = {}, set(p)
    _returned.clear()
    try:
        out = loss(p)
        taps, named = _taps, _named - set(p)
    finally:
        _taps, _named = None, set()
        _returned.clear()
    clash = sorted(set(taps) & set(p))
    if clash:
        raise CheckError(f"loss(p) taps an array named {quoted(clash[0])}, the name of a parameter: rename the tap")
    if isinstance(out, np.ndarray) and out.shape == ():
        out = out[()]
    if isinstance(out, np.ndarray):
        raise CheckError(f"loss(p) must return one number, the loss; it returned an array of shape {out.shape}")
    if not isinstance(out, Value):
        raise CheckError(f"loss(p) must compute the loss from the arrays in p; it returned {_what(out)}")
    if not out.label:
        out.label = "L"
    return out, taps, named


@dataclasses.dataclass(frozen=True)
class _Traced:
    """loss(p) run on traced float arrays: the parameters, the loss, the tapped arrays, the names tap() was given."""

    p: dict[str, trace.Traced]
    root: trace.Traced
    taps: dict[str, trace.Traced]
    named: set[str]
    gates: int


def _trace(loss: Callable[[dict[str, Any]], Any], floats: dict[str, np.ndarray]) -> _Traced | None:
    """Run loss(p) on traced float arrays; None when it makes a call the tracer does not know, or fails
    (the run on Values then says why in its own words)."""
    global _taps, _named, _tracing
    p = {name: trace.Traced(a, made=False) for name, a in floats.items()}
    _taps, _named, _tracing = {}, set(p), True
    _returned.clear()
    try:
        out = loss(p)
        taps, named = _taps, _named - set(p)
    except Exception:
        return None
    finally:
        _taps, _named, _tracing = None, set(), False
        _returned.clear()
    if not isinstance(out, trace.Traced) or out.shape != () or set(taps) & set(p):
        return None
    return _Traced(p, out, taps, named, trace.circuit_size(out))


def _hand(
    grads: Callable[[dict[str, np.ndarray]], Any], floats: dict[str, np.ndarray], taps: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """grads(p) on fresh copies of the parameters, checked and copied (it may hand back its own buffers)."""
    out = grads({name: a.copy() for name, a in floats.items()})
    if not isinstance(out, Mapping):
        raise CheckError(f"grads(p) must return a dict of name -> array, got {_what(out)}")
    for key in out:
        if key not in floats and key not in taps:
            tapped = f"; tapped in loss(p): {listed(taps)}" if taps else "; loss(p) taps no array"
            raise CheckError(
                f"grads(p) has a key {_what(key) if not isinstance(key, str) else quoted(key)} that names nothing: "
                f"parameters are {listed(floats)}{tapped}"
            )
    missing = [name for name in floats if name not in out]
    if missing:
        raise CheckError(f"grads(p) has no key {quoted(missing[0])}: it needs a gradient for every parameter")
    hand = {}
    for key, a in out.items():
        try:
            hand[key] = np.array(a, dtype=float)
        except (TypeError, ValueError):
            raise CheckError(f"grads(p)[{quoted(key)}] is not an array of numbers: {_what(a)}") from None
    return hand


def _what(x: object) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _divergence(name: str, yours: np.ndarray, true: np.ndarray, circuit: _Circuit) -> Divergence:
    """The first divergence, shown at its worst entry (at its largest true entry when the shapes differ).

    Entries worse by less than the tolerance of agreement are equally bad: the first of them is shown, so
    a true gradient summed in another order (BLAS's, not the circuit's) shows the same entry.
    """
    same = yours.shape == true.shape
    scores = np.nan_to_num(diagnose.errors(yours, true), nan=np.inf) if same else np.abs(true)
    top = scores.max()
    worst = scores >= (top - diagnose.tolerance(true) if np.isfinite(top) else top)
    index = tuple(int(i) for i in np.unravel_index(np.argmax(worst), true.shape))
    return Divergence(name, circuit.route(name, index), float(yours[index]) if same else None)


def _in_context(
    name: str, yours: np.ndarray, circuit: _Circuit, lang: str, shown: set[str]
) -> diagnose.Diagnosis | None:
    """Name what is wrong with `name` from the circuit around it: the array after it, its uses, and, when
    yours is right for a wrong gradient of one of its uses, that use's mistake."""
    true = circuit.true

    def context(of: str, parts: Mapping[str, np.ndarray]) -> diagnose.Context:
        return diagnose.Context(of, circuit.elementwise_next(of), parts, circuit.data, true)

    parts = circuit.parts(name)
    found = diagnose.in_context(yours, true[name], context(name, parts), lang)
    if found is not None:
        return found
    for use, part in parts.items():
        if use not in true:
            continue
        k = diagnose.use_factor(yours - (true[name] - part), part)
        if k is not None:
            return diagnose.inherited_scale(name, use, k, lang, use in shown)
        guesses = diagnose.guesses(context(use, {}), lang)
        pulled = circuit.pulls(name, use, [guess for _, guess, _ in guesses])
        for (kind, _, why), through in zip(guesses, pulled):
            if diagnose.close(yours, true[name] - part + through):
                return diagnose.inherited(name, use, kind, why, lang, use in shown)
    return None
