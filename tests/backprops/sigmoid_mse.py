"""A 2-3-1 sigmoid net on XOR with squared error, averaged over the batch: the backprop is right."""

import numpy as np

from gategrad.check import tap

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])
m = len(X)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def params():
    rng = np.random.default_rng(0)
    return {"W1": rng.normal(size=(2, 3)), "b1": rng.normal(size=3), "W2": rng.normal(size=(3, 1)), "b2": np.zeros(1)}


def forward(p):
    z1 = tap("z1", X @ p["W1"] + p["b1"])
    a1 = tap("a1", sigmoid(z1))
    z2 = tap("z2", a1 @ p["W2"] + p["b2"])
    a2 = tap("a2", sigmoid(z2))
    return z1, a1, z2, a2


def loss(p):
    a2 = forward(p)[3]
    return np.sum((a2 - Y) ** 2) / (2 * m)


def grads(p):
    z1, a1, z2, a2 = forward(p)
    da2 = (a2 - Y) / m
    dz2 = da2 * a2 * (1 - a2)
    da1 = dz2 @ p["W2"].T
    dz1 = da1 * a1 * (1 - a1)
    return {
        "a2": da2,
        "z2": dz2,
        "W2": a1.T @ dz2,
        "b2": dz2.sum(axis=0),
        "a1": da1,
        "z1": dz1,
        "W1": X.T @ dz1,
        "b1": dz1.sum(axis=0),
    }
