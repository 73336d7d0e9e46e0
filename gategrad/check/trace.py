"""The learner's loss(p) on float arrays that record each numpy call, and one vectorised backward pass over them.

At a learner's real size (12,288 inputs × 64 units × 10 samples is eight million products) a circuit of
scalar Values does not fit in memory; the same numpy calls on float64 arrays do. Each call the tracer knows
records its vector-Jacobian product; a call it does not know raises Untraced, and the check then runs on
Values, which know every gate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Vjp = Callable[[np.ndarray], Sequence[np.ndarray]]


class Untraced(Exception):
    """loss(p) made a numpy call the tracer has no backward pass for: the check runs on Values instead."""


class Traced(np.lib.mixins.NDArrayOperatorsMixin):
    """A float array made by loss(p): its numbers, the traced arrays it was made from, and its backward pass.

    `made` is False for a parameter and for arrays that only select, move or copy a parameter's entries
    (W.T, W[0]): on Values their entries are the parameter's own, not the output of a gate.
    `gates` is how many scalar gates the same call makes on Values, to tell a large circuit from a small one;
    `steps`, for each parent, the fewest gates between an entry of this array and an entry of the parent on
    Values (0 where numpy hands the parent's entry itself on, as np.maximum or W.T do).
    """

    __array_priority__ = 1000

    def __init__(
        self,
        value: Any,
        parents: tuple[Traced, ...] = (),
        vjp: Vjp | None = None,
        made: bool = True,
        gates: int = 0,
        steps: tuple[int, ...] | None = None,
        forward: Callable[..., Any] | None = None,
    ) -> None:
        self.value = np.asarray(value, dtype=float)
        self.parents = parents
        self.vjp = vjp
        self.made = made
        self.gates = gates
        self.steps = (0,) * len(parents) if steps is None else steps
        self.forward = forward  # the same call on the parents' arrays, of floats or of Values
        self.elementwise = False  # entry [i] is made from the parents' entries [i] alone (and constants)
        self.ufunc: np.ufunc | None = None  # the ufunc that made it, if one did

    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    dtype = property(lambda self: self.value.dtype)
    T = property(lambda self: self.transpose())

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"Traced({self.value!r})"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise Untraced("an array of loss(p) was turned into a plain numpy array")

    def __bool__(self) -> bool:
        raise Untraced("loss(p) branches on the value of an array")

    def __float__(self) -> float:
        raise Untraced("loss(p) turns an array into a float")

    def __setitem__(self, key: Any, value: Any) -> None:
        raise Untraced("loss(p) writes into an array in place")

    def __getitem__(self, key: Any) -> Traced:
        if isinstance(key, Traced) or (isinstance(key, tuple) and any(isinstance(k, Traced) for k in key)):
            raise Untraced("loss(p) indexes with a computed array")
        shape = self.shape

        def vjp(g: np.ndarray) -> tuple[np.ndarray]:
            out = np.zeros(shape)
            np.add.at(out, key, g)
            return (out,)

        return Traced(self.value[key], (self,), vjp, self.made, forward=lambda a: a[key])

    def transpose(self, *axes: Any) -> Traced:
        order = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None)
        inverse = None if order is None else np.argsort(order)
        return Traced(
            np.transpose(self.value, order),
            (self,),
            lambda g: (np.transpose(g, inverse),),
            self.made,
            forward=lambda a: np.transpose(a, order),
        )

    def reshape(self, *shape: Any) -> Traced:
        before = self.shape
        return Traced(
            self.value.reshape(*shape),
            (self,),
            lambda g: (g.reshape(before),),
            self.made,
            forward=lambda a: a.reshape(*shape),
        )

    def copy(self) -> Traced:
        return elementwise(Traced(self.value.copy(), (self,), lambda g: (g,), self.made, forward=lambda a: a.copy()))

    def astype(self, dtype: Any) -> Traced:
        if np.dtype(dtype) != np.float64:
            raise Untraced(f"loss(p) turns an array into {dtype}")
        return self.copy()

    def sum(self, axis: Any = None, keepdims: bool = False) -> Traced:
        return _sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Traced:
        total = _sum(self, axis, keepdims)
        out: Traced = total / (self.size // max(total.size, 1))
        return out

    def max(self, axis: Any = None, keepdims: bool = False) -> Traced:
        return _max(self, axis, keepdims)

    def dot(self, other: Any) -> Traced:
        return _dot(self, other)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            raise Untraced(f"np.{ufunc.__name__}.{method} with {sorted(kwargs)}")
        values = [x.value if isinstance(x, Traced) else np.asarray(x) for x in inputs]
        if ufunc in _COMPARISONS:
            return ufunc(*values)  # a mask: a number of the forward pass, with no gradient
        rule = _UFUNCS.get(ufunc)
        if rule is None:
            raise Untraced(f"np.{ufunc.__name__}")
        if any(v.dtype.kind not in "biuf" for v in values):
            raise Untraced(f"np.{ufunc.__name__} on an array of {values[0].dtype}")
        with np.errstate(all="ignore"):
            out = ufunc(*values)
            grads = rule(*values, out)
        parents = tuple(x for x in inputs if isinstance(x, Traced))
        keep = [i for i, x in enumerate(inputs) if isinstance(x, Traced)]
        shapes = [values[i].shape for i in keep]

        def vjp(g: np.ndarray) -> list[np.ndarray]:
            with np.errstate(all="ignore"):
                return [_unbroadcast(grads(g)[i], shape) for i, shape in zip(keep, shapes)]

        selects = ufunc in (np.maximum, np.minimum)
        made = any(p.made for p in parents) if selects else True
        inner = values[0].shape[-1] if ufunc is np.matmul else 1  # a matmul's entry is a sum of products
        steps = _steps(ufunc, [isinstance(x, Traced) for x in inputs], inner)

        def forward(*arrays: Any, via: Callable[..., Any] = ufunc) -> Any:
            given = iter(arrays)
            return via(*[next(given) if isinstance(x, Traced) else x for x in inputs])

        traced = Traced(out, parents, vjp, made, 2 * np.size(out) * inner, tuple(steps[i] for i in keep), forward)
        traced.elementwise = ufunc is not np.matmul
        traced.ufunc = ufunc
        return traced

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rule = _FUNCTIONS.get(func)
        if rule is None:
            raise Untraced(f"np.{func.__name__}")
        return rule(*args, **kwargs)


def elementwise(x: Traced) -> Traced:
    """`x`, marked as made entry by entry from its parents."""
    x.elementwise = True
    return x


def _unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A broadcast input's gradient: the output's, summed over the axes the input was stretched along."""
    g = np.asarray(g, dtype=float)
    if g.shape == shape:
        return g
    g = np.broadcast_to(g, np.broadcast_shapes(g.shape, shape))
    g = g.sum(axis=tuple(range(g.ndim - len(shape))))
    out: np.ndarray = g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)
    return out


Grads = Callable[[np.ndarray], tuple[np.ndarray, ...]]  # the output's gradient -> each input's


def _pow_grads(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> Grads:
    return lambda g: (g * b * a ** (b - 1), g * out * np.log(a))


def _max_grads(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> Grads:
    first = a >= b  # numpy's object maximum keeps its first argument on a tie, as `a >= b` picks it
    return lambda g: (g * first, g * ~first)


def _min_grads(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> Grads:
    first = a <= b
    return lambda g: (g * first, g * ~first)


# each ufunc: its inputs and output -> the function from the output's gradient to each input's
_UFUNCS: dict[np.ufunc, Callable[..., Grads]] = {
    np.add: lambda a, b, out: lambda g: (g, g),
    np.subtract: lambda a, b, out: lambda g: (g, -g),
    np.multiply: lambda a, b, out: lambda g: (g * b, g * a),
    np.true_divide: lambda a, b, out: lambda g: (g / b, -g * out / b),
    np.negative: lambda a, out: lambda g: (-g,),
    np.exp: lambda a, out: lambda g: (g * out,),
    np.log: lambda a, out: lambda g: (g / a,),
    np.tanh: lambda a, out: lambda g: (g * (1 - out * out),),
    np.sqrt: lambda a, out: lambda g: (g * (0.5 / out),),
    np.absolute: lambda a, out: lambda g: (g * np.sign(a),),
    np.square: lambda a, out: lambda g: (g * 2 * a,),
    np.power: _pow_grads,
    np.maximum: _max_grads,
    np.minimum: _min_grads,
    np.matmul: lambda a, b, out: lambda g: _matmul_grads(a, b, g),
}


def _steps(ufunc: np.ufunc, traced: list[bool], inner: int) -> list[int]:
    """The fewest gates from an output entry to each input's entry, as Value's operators build them."""
    if ufunc in (np.maximum, np.minimum):
        return [0, 0]  # numpy compares and hands the larger (smaller) Value itself on
    if ufunc is np.matmul:
        return [2, 2] if inner > 1 else [1, 1]  # the last product, then the add that takes it in
    if ufunc is np.subtract:
        return [1, 2]  # a - b is a + (b × -1)
    if ufunc is np.true_divide:
        return [1, 1 if traced[0] else 2]  # c / x is x**-1 × c
    return [1] * len(traced)


_COMPARISONS = (np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal)


def _matmul_grads(a: np.ndarray, b: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.ndim > 2 or b.ndim > 2:
        raise Untraced("a matmul of arrays of more than two axes")
    a2 = a if a.ndim == 2 else a[None, :]
    b2 = b if b.ndim == 2 else b[:, None]
    g2 = g.reshape(a2.shape[0], b2.shape[1])
    return (g2 @ b2.T).reshape(a.shape), (a2.T @ g2).reshape(b.shape)


def _sum(x: Any, axis: Any = None, keepdims: bool = False, **rest: Any) -> Traced:
    if rest or not isinstance(x, Traced):
        raise Untraced("np.sum with " + ", ".join(rest))
    shape = x.shape
    out = x.value.sum(axis=axis, keepdims=keepdims)

    def vjp(g: np.ndarray) -> tuple[np.ndarray]:
        if axis is not None and not keepdims:
            g = np.expand_dims(g, axis)
        return (np.broadcast_to(g, shape).copy(),)

    reduced = x.size // max(np.size(out), 1)
    steps = (1 if reduced > 1 else 0,)  # numpy adds the entries in a chain
    return Traced(out, (x,), vjp, True, x.size, steps, lambda a: np.sum(a, axis=axis, keepdims=keepdims))


def _mean(x: Any, axis: Any = None, keepdims: bool = False, **rest: Any) -> Traced:
    if not isinstance(x, Traced):
        raise Untraced("np.mean of an untraced array")
    if rest:
        raise Untraced("np.mean with " + ", ".join(rest))
    return x.mean(axis, keepdims)


def _max(x: Any, axis: Any = None, keepdims: bool = False, **rest: Any) -> Traced:
    """np.max: on Values it returns the largest entry itself (the first of equal ones), so its gradient goes there."""
    if rest or not isinstance(x, Traced) or not (axis is None or isinstance(axis, int)):
        raise Untraced("np.max with " + ", ".join(rest))
    shape = x.shape
    out = x.value.max(axis=axis, keepdims=keepdims)
    where = np.argmax(x.value, axis=axis)

    def vjp(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros(shape)
        if axis is None:
            grad.flat[where] = g
        else:
            picked = np.expand_dims(where, axis)
            np.put_along_axis(grad, picked, np.reshape(g, picked.shape), axis)
        return (grad,)

    return Traced(out, (x,), vjp, x.made, x.size, forward=lambda a: np.max(a, axis=axis, keepdims=keepdims))


def _dot(a: Any, b: Any) -> Traced:
    out: Traced = np.multiply(a, b) if np.ndim(a) == 0 or np.ndim(b) == 0 else np.matmul(a, b)
    return out


def _where(condition: Any, a: Any, b: Any) -> Traced:
    if isinstance(condition, Traced):
        raise Untraced("np.where on a computed condition")
    c = np.asarray(condition, dtype=bool)
    parents = tuple(x for x in (a, b) if isinstance(x, Traced))
    shapes = [np.shape(x) for x in (a, b)]
    av = a.value if isinstance(a, Traced) else a
    bv = b.value if isinstance(b, Traced) else b
    traced = [isinstance(x, Traced) for x in (a, b)]

    def vjp(g: np.ndarray) -> list[np.ndarray]:
        grads = (_unbroadcast(g * c, shapes[0]), _unbroadcast(g * ~c, shapes[1]))
        return [grad for grad, t in zip(grads, traced) if t]

    def forward(*arrays: Any) -> Any:
        given = iter(arrays)
        return np.where(c, *[next(given) if t else x for x, t in zip((a, b), traced)])

    return elementwise(Traced(np.where(c, av, bv), parents, vjp, any(p.made for p in parents), c.size, forward=forward))


def _concatenate(arrays: Sequence[Any], axis: int = 0) -> Traced:
    values = [x.value if isinstance(x, Traced) else np.asarray(x, dtype=float) for x in arrays]
    ends = np.cumsum([v.shape[axis] for v in values])[:-1]
    traced = [isinstance(x, Traced) for x in arrays]
    parents = tuple(x for x in arrays if isinstance(x, Traced))

    def vjp(g: np.ndarray) -> list[np.ndarray]:
        return [part for part, t in zip(np.split(g, ends, axis=axis), traced) if t]

    def forward(*given: Any) -> Any:
        it = iter(given)
        return np.concatenate([next(it) if t else v for v, t in zip(values, traced)], axis=axis)

    return Traced(np.concatenate(values, axis=axis), parents, vjp, any(p.made for p in parents), forward=forward)


def _hstack(arrays: Sequence[Any]) -> Traced:
    return _concatenate(arrays, axis=0 if all(np.ndim(x) == 1 for x in arrays) else 1)


def _vstack(arrays: Sequence[Any]) -> Traced:
    return _concatenate([x if np.ndim(x) == 2 else x.reshape(1, -1) for x in arrays], axis=0)


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape)


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.dot: _dot,
    np.matmul: np.matmul,
    np.where: _where,
    np.transpose: lambda x, axes=None: x.transpose(axes),
    np.reshape: lambda x, shape: x.reshape(shape),
    np.copy: lambda x: x.copy(),
    np.concatenate: _concatenate,
    np.hstack: _hstack,
    np.vstack: _vstack,
    np.shape: _shape,
    np.ndim: lambda x: x.ndim,
    np.size: lambda x: x.size,
}


def order(root: Traced) -> list[Traced]:
    """The traced arrays `root` was made from, each after its parents."""
    found: list[Traced] = []
    seen: set[int] = set()
    stack: list[tuple[Traced, bool]] = [(root, False)]
    while stack:
        x, done = stack.pop()
        if done:
            found.append(x)
            continue
        if id(x) in seen:
            continue
        seen.add(id(x))
        stack.append((x, True))
        stack += [(p, False) for p in x.parents if id(p) not in seen]
    return found


def backward(root: Traced) -> dict[int, np.ndarray]:
    """∂root/∂array for every traced array root was made from, by id: one reverse pass over the recorded calls."""
    grads: dict[int, np.ndarray] = {id(root): np.ones(root.shape)}
    for x in reversed(order(root)):
        g = grads.get(id(x))
        if g is None or x.vjp is None:
            continue
        for parent, pg in zip(x.parents, x.vjp(g)):
            if pg is not None:
                grads[id(parent)] = grads[id(parent)] + pg if id(parent) in grads else np.asarray(pg, dtype=float)
    return grads


def distances(root: Traced, marks: dict[int, str]) -> dict[str, tuple[float, float]]:
    """graph.order_from_loss's distance of each marked array from the loss, read from the traced calls.

    (how many marked arrays lie between it and the loss, at most; how many scalar gates, at least).
    """
    passed: dict[int, int] = {id(root): 0}
    gates: dict[int, float] = {id(root): 0}
    distance: dict[str, tuple[float, float]] = {}
    for x in reversed(order(root)):  # each array after every call that uses it
        h, g = passed.pop(id(x)), gates.pop(id(x))
        name = marks.get(id(x))
        if name is not None:
            far, near = distance.get(name, (-1, math.inf))
            distance[name] = (max(far, h), min(near, g))
            h += 1
        for parent, steps in zip(x.parents, x.steps):
            passed[id(parent)] = max(passed.get(id(parent), -1), h)
            gates[id(parent)] = min(gates.get(id(parent), math.inf), g + steps)
    return distance


def circuit_size(root: Traced) -> int:
    """How many scalar gates loss(p) makes on Values, roughly: the size of the circuit the tracer stands in for."""
    return sum(x.gates for x in order(root))
