"""A linear model with an L1 (mean absolute) error and an L2 norm penalty √(Σ w²), per output: right.

It uses np.abs, np.sqrt, np.mean and np.sum with axis and keepdims on Values.
"""

import numpy as np

from gategrad.check import tap

rng = np.random.default_rng(6)
X = rng.normal(size=(6, 3))
Y = rng.normal(size=(6, 2))
lam = 0.1


def params():
    return {"W": np.random.default_rng(7).normal(size=(3, 2)), "b": np.array([0.3, -0.2])}


def loss(p):
    r = tap("r", X @ p["W"] + p["b"] - Y)
    norms = np.sqrt(np.sum(p["W"] ** 2, axis=0, keepdims=True))
    return np.mean(np.mean(np.abs(r), axis=1)) + lam * np.sum(norms)


def grads(p):
    r = X @ p["W"] + p["b"] - Y
    dr = np.sign(r) / r.size
    norms = np.sqrt(np.sum(p["W"] ** 2, axis=0, keepdims=True))
    return {"r": dr, "W": X.T @ dr + lam * p["W"] / norms, "b": dr.sum(axis=0)}
