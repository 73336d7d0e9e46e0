"""What the report reads from the circuit of loss(p) (graph.py), read from its traced numpy calls instead.

Gradients, a use's part of a gradient and the array after an array come from vector-Jacobian products of
whole arrays. A walk of one entry (graph.route) needs the gates themselves: the calls between the entry's
array and the marked arrays after it are replayed on Values, but only at the entries that take part, so a
walk through X @ W1 builds one column of gates, not all 64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from gategrad import arrays
from gategrad.check import graph, trace
from gategrad.engine import Value, topological_order


class Circuit:
    """loss(p)'s traced calls, from the parameters and the tapped arrays (`every`, by name) to the loss `root`."""

    def __init__(self, root: trace.Traced, p: dict[str, trace.Traced], taps: dict[str, trace.Traced]) -> None:
        self.root = root
        self.every = {**p, **taps}
        self.marks = {id(a): name for name, a in self.every.items()}
        self.order = trace.order(root)
        grads = trace.backward(root)
        self.true = {name: grads.get(id(a), np.zeros(a.shape)) for name, a in self.every.items()}
        self.data = {name: a.value for name, a in self.every.items()}
        self.distance = trace.distances(root, self.marks)
        self.size = trace.circuit_size(root)

    def _uses(self, a: trace.Traced) -> tuple[list[trace.Traced], dict[str, trace.Traced]]:
        """The unmarked arrays made from `a`, in forward order, and each marked array (or the loss) made from them."""
        inside = {id(a)}
        between: list[trace.Traced] = []
        uses: dict[str, trace.Traced] = {}
        for x in self.order:
            if x is a or not any(id(q) in inside for q in x.parents):
                continue
            if id(x) in self.marks:
                uses.setdefault(self.marks[id(x)], x)
            elif x is self.root:
                uses.setdefault(graph.LOSS, x)
            else:
                inside.add(id(x))
                between.append(x)
        return between, uses

    def _seed(self, use: str, node: trace.Traced) -> np.ndarray:
        return np.ones(()) if use == graph.LOSS else self.true[use]

    def _pull(self, a: trace.Traced, between: list[trace.Traced], start: trace.Traced, seed: np.ndarray) -> np.ndarray:
        """One backward pass from `start` (its gradient `seed`) down to `a`, through `between` alone."""
        inside = {id(x) for x in between}
        pending = {id(start): np.asarray(seed, dtype=float)}
        part = np.zeros(a.shape)
        for x in reversed([*between, start]):
            g = pending.pop(id(x), None)
            if g is None or x.vjp is None:
                continue
            for parent, pg in zip(x.parents, x.vjp(g)):
                if parent is a:
                    part = part + pg
                elif id(parent) in inside:
                    pending[id(parent)] = pending[id(parent)] + pg if id(parent) in pending else pg
        return part

    def parts(self, name: str) -> dict[str, np.ndarray]:
        """graph.parts: the gradient of `name` through each marked array that uses it directly (or the loss)."""
        a = self.every[name]
        between, uses = self._uses(a)
        return {use: self._pull(a, between, node, self._seed(use, node)) for use, node in uses.items()}

    def pulls(self, name: str, use: str, guesses: Sequence[np.ndarray]) -> list[np.ndarray]:
        """graph.pulls: what `name` would get through `use` if each guess were the use's gradient."""
        a = self.every[name]
        between, uses = self._uses(a)
        return [self._pull(a, between, uses[use], guess) for guess in guesses]

    def elementwise_next(self, name: str) -> str | None:
        """graph.elementwise_next: the marked array made from `name` entry by entry, with constants alone."""
        a = self.every[name]
        alone: dict[str, bool] = {}
        one = {id(a): True}  # array -> whether its entry [i] comes from a's entry [i] alone
        for x in self.order:
            if x is a or not any(id(q) in one for q in x.parents):
                continue
            same = (
                x.elementwise
                and x.shape == a.shape
                and all(id(q) in one and one[id(q)] and q.shape == a.shape for q in x.parents)
            )
            if id(x) in self.marks:
                mark = self.marks[id(x)]
                alone[mark] = alone.get(mark, True) and same
            else:
                one[id(x)] = same
        found = [mark for mark, every in alone.items() if every]
        if not found:
            return None
        # the same numbers under a later name are the caller's name for a helper's result: A2 = sigmoid(Z2), not s
        return [mark for mark in found if np.array_equal(self.data[mark], self.data[found[0]])][-1]

    def bias_line(self, name: str) -> str | None:
        """graph.bias_line of the parameter `name`."""
        return graph.bias_line(self.every[name].shape, lambda index: self.route(name, index))

    def route(self, name: str, index: tuple[int, ...]) -> graph.Route:
        """graph.route of entry `index` of `name`, on Values at the entries the walk passes and the entries those
        are made from; every other entry stays a float, so a walk through X @ W1 builds one column of gates."""
        a = self.every[name]
        _, uses = self._uses(a)
        calls = self._replayed(a)
        needed = _needed(a, index, calls, {id(x) for x in uses.values()})
        values: dict[int, np.ndarray] = {}

        def replayed(q: trace.Traced) -> np.ndarray:
            if id(q) not in values:  # a marked array, or data: its Values labelled, where needed
                where = needed.get(id(q), np.zeros(q.shape, dtype=bool))
                values[id(q)] = _values(q.value, where, self.marks.get(id(q), ""))
            return values[id(q)]

        replayed(a)
        marks: dict[Value, tuple[str, tuple[int, ...]]] = {}
        given: dict[Value, float] = {values[id(a)][index]: float(self.true[name][index])}
        for x in calls:
            assert x.forward is not None
            inputs = [replayed(q) for q in x.parents]
            with np.errstate(all="ignore"):
                if x.ufunc in _METHODS:  # np.exp on an object array calls .exp(), which a float has not
                    out = x.forward(*inputs, via=np.frompyfunc(_on_floats(x.ufunc), x.ufunc.nin, 1))
                else:
                    out = x.forward(*inputs)
            out = np.asarray(out, dtype=object)
            mark = self.marks.get(id(x))
            if mark is not None:
                out = _tapped(out, mark, marks, self.true[mark], given)
            values[id(x)] = out
        entry, root = values[id(a)][index], values[id(self.root)][()]
        if not isinstance(root, Value):  # the loss is made from no Value: relus passed constant zeros on
            return graph.Route(entry, (), ())
        if not root.label:
            root.label = "L"
        given.setdefault(root, 1.0)
        order = topological_order(root)
        _pull_back(order, given)
        return graph.route(order, entry, marks, root)

    def _replayed(self, a: trace.Traced) -> list[trace.Traced]:
        """The calls a walk from `a` replays, in forward order: every call made from `a`, down to the loss, and
        the unmarked calls their inputs come from (an unmarked X @ W1 beside b1 is drawn as its gates)."""
        made = {id(a)}
        for x in self.order:
            if any(id(q) in made for q in x.parents):
                made.add(id(x))
        made.discard(id(a))
        stack = [x for x in self.order if id(x) in made]
        while stack:
            for q in stack.pop().parents:
                if id(q) not in made and id(q) not in self.marks and q.parents:
                    made.add(id(q))
                    stack.append(q)
        return [x for x in self.order if id(x) in made]


_METHODS = (np.exp, np.log, np.tanh, np.sqrt)


def _on_floats(ufunc: np.ufunc) -> Callable[..., Any]:
    def one(*xs: Any) -> Any:
        out = ufunc(*xs)
        return out if isinstance(out, Value) else float(out)

    return one


def _needed(
    a: trace.Traced, index: tuple[int, ...], calls: list[trace.Traced], uses: set[int]
) -> dict[int, np.ndarray]:
    """The entries of each array the walk of a[index] to `uses` needs as Values: every entry the uses' entries
    made from a[index] are made from. Found with nan, which arithmetic (and its backward pass) passes on, even × 0."""
    forward = {id(a): a.value.copy()}
    forward[id(a)][index] = np.nan
    with np.errstate(all="ignore"):
        for x in calls:
            assert x.forward is not None
            forward[id(x)] = np.asarray(x.forward(*[forward.get(id(q), q.value) for q in x.parents]), dtype=float)
    pending = {i: np.where(np.isnan(forward[i]), np.nan, 0.0) for i in uses}
    needed: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for x in reversed(calls):
            g = pending.pop(id(x), None)
            if g is None:
                continue
            needed[id(x)] = np.isnan(g)
            for parent, pg in zip(x.parents, x.vjp(g) if x.vjp else ()):
                pg = np.where(np.isnan(pg), np.nan, 0.0)
                pending[id(parent)] = pending[id(parent)] + pg if id(parent) in pending else pg
    for i, g in pending.items():
        needed[i] = np.isnan(g)
    needed[id(a)] = needed.get(id(a), np.zeros(a.shape, dtype=bool)) | _at(a.shape, index)
    return needed


def _at(shape: tuple[int, ...], index: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(shape, dtype=bool)
    out[index] = True
    return out


def _values(numbers: np.ndarray, where: np.ndarray, name: str) -> np.ndarray:
    """`numbers` as an object array: Values where `where` (labelled like `W1[0,2]` when `name` is given), floats
    elsewhere."""
    out = numbers.astype(object)  # Python floats
    for index in np.argwhere(where):
        at = tuple(int(i) for i in index)
        out[at] = Value(float(numbers[at]), label=arrays.label(name, at) if name else "")
    return out


def _tapped(
    out: np.ndarray,
    name: str,
    marks: dict[Value, tuple[str, tuple[int, ...]]],
    true: np.ndarray,
    given: dict[Value, float],
) -> np.ndarray:
    """The tap's own nodes (run._tapped: `v + 0.0`, labelled), each given the array's true gradient."""
    tapped = np.empty(out.shape, dtype=object)
    for index, v in np.ndenumerate(out):
        if isinstance(v, Value):
            v = v + 0.0
            v.label = arrays.label(name, index)
            marks[v] = (name, index)
            given[v] = float(true[index])
        tapped[index] = v
    return tapped


def _pull_back(order: list[Value], given: dict[Value, float]) -> None:
    """Each replayed gate's gradient: the true one where given, the rest pulled back from them, as backward() would."""
    for v in order:
        v.grad = 0.0
    for v in reversed(order):  # each node after every gate that uses it
        if v in given:
            v.grad = given[v]
        for child, local in zip(v.children, v.local_grads):
            child.grad += local * v.grad
