"""A 2-4-3 relu net, stable softmax and cross-entropy on six points of a spiral (cs231n's case study): right."""

import numpy as np

from gategrad.check import tap

X = np.array([[0.0, 0.1], [0.3, -0.2], [-0.5, 0.4], [0.2, 0.7], [-0.6, -0.3], [0.8, -0.1]])
y = np.array([0, 0, 1, 1, 2, 2])
m = len(X)


def params():
    rng = np.random.default_rng(1)
    return {
        "W1": rng.normal(size=(2, 4)),
        "b1": rng.normal(size=4) * 0.1,
        "W2": rng.normal(size=(4, 3)),
        "b2": np.zeros(3),
    }


def forward(p):
    z1 = tap("z1", X @ p["W1"] + p["b1"])
    a1 = tap("a1", np.maximum(0, z1))
    scores = tap("scores", a1 @ p["W2"] + p["b2"])
    shifted = scores - scores.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    probs = exps / np.sum(exps, axis=1, keepdims=True)
    return z1, a1, probs


def loss(p):
    probs = forward(p)[2]
    return -np.mean(np.log(probs[np.arange(m), y]))


def grads(p):
    z1, a1, probs = forward(p)
    dscores = probs.copy()
    dscores[np.arange(m), y] -= 1
    dscores /= m
    da1 = dscores @ p["W2"].T
    dz1 = da1 * (z1 > 0)
    return {
        "scores": dscores,
        "W2": a1.T @ dscores,
        "b2": dscores.sum(axis=0),
        "a1": da1,
        "z1": dz1,
        "W1": X.T @ dz1,
        "b1": dz1.sum(axis=0),
    }
