"""Small seeded toy datasets, in pure Python: each returns `(X, y)` as lists.

`X` is a list of points `[x0, x1]` and `y` a list of integer class labels. The same seed
always gives the same data; the global random state is never touched.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

Dataset = tuple[list[list[float]], list[int]]


def make_xor() -> Dataset:
    """The four corners of the unit square, labelled 1 where exactly one coordinate is 1."""
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return X, [0, 1, 1, 0]


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles (as scikit-learn's make_moons): the upper is 0, the lower 1."""
    _check(n, noise, minimum=2)
    n_upper = n // 2
    upper = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_upper, endpoint=True)]
    lower = [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, n - n_upper, endpoint=True)]
    return _noisy_shuffle(upper + lower, [0] * n_upper + [1] * (n - n_upper), noise, seed)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[list[list[float]], list[int]]:
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1)."""
    _check(n, noise, minimum=2)
    if not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be between 0 and 1, got {factor!r}")
    n_outer = n // 2
    outer = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_outer, endpoint=False)]
    inner = [
        [factor * math.cos(t), factor * math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n - n_outer, endpoint=False)
    ]
    return _noisy_shuffle(outer + inner, [0] * n_outer + [1] * (n - n_outer), noise, seed)


def make_spiral(
    n_per_class: int = 50, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[list[list[float]], list[int]]:
    """cs231n's spiral: `classes` arms winding out from the origin, one class per arm."""
    _check(n_per_class, noise, minimum=1)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}")
    rng = _rng(seed)
    X, y = [], []
    for c in range(classes):
        radii = _linspace(0.0, 1.0, n_per_class, endpoint=True)
        angles = _linspace(4.0 * c, 4.0 * (c + 1), n_per_class, endpoint=True)
        for r, t in zip(radii, angles):
            t += rng.gauss(0.0, noise)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(c)
    return X, y


def _check(n: int, noise: float, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"the number of points must be an integer >= {minimum}, got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < math.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _rng(seed: int) -> random.Random:
    """A generator of its own, so the same seed gives the same data (None would not)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {seed!r}")
    return random.Random(seed)


def _linspace(start: float, stop: float, n: int, endpoint: bool) -> list[float]:
    if n == 1:
        return [start]
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _noisy_shuffle(X: list[list[float]], y: list[int], noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    rng = _rng(seed)
    X = [[x0 + rng.gauss(0.0, noise), x1 + rng.gauss(0.0, noise)] for x0, x1 in X]
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


# `gategrad train`'s datasets by name, each drawn from a seed with train's number of points and noise.
DATASETS: dict[str, Callable[[int], Dataset]] = {
    "xor": lambda seed: make_xor(),
    "moons": lambda seed: make_moons(100, noise=0.1, seed=seed),
    "circles": lambda seed: make_circles(100, noise=0.05, factor=0.5, seed=seed),
    "spiral": lambda seed: make_spiral(50, classes=3, noise=0.2, seed=seed),
}
