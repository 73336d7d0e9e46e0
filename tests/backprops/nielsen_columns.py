"""Nielsen's layout: one sample per column, W as (out × in), z = W @ x + b, quadratic cost over n: right."""

import numpy as np

from gategrad.check import tap

x = np.array([[0.1, 0.9, 0.4, 0.7], [0.8, 0.2, 0.5, 0.3]])  # 2 inputs × n = 4 samples
y = np.array([[1.0, 0.0, 1.0, 0.0]])
n = x.shape[1]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def params():
    rng = np.random.default_rng(4)
    return {
        "w1": rng.normal(size=(3, 2)),
        "b1": rng.normal(size=(3, 1)),
        "w2": rng.normal(size=(1, 3)),
        "b2": rng.normal(size=(1, 1)),
    }


def forward(p):
    z1 = tap("z1", p["w1"] @ x + p["b1"])
    a1 = sigmoid(z1)
    z2 = tap("z2", p["w2"] @ a1 + p["b2"])
    return z1, a1, z2, sigmoid(z2)


def loss(p):
    a2 = forward(p)[3]
    return np.sum((a2 - y) ** 2) / (2 * n)


def grads(p):
    z1, a1, z2, a2 = forward(p)
    delta2 = (a2 - y) * a2 * (1 - a2) / n
    delta1 = p["w2"].T @ delta2 * a1 * (1 - a1)
    return {
        "z2": delta2,
        "w2": delta2 @ a1.T,
        "b2": delta2.sum(axis=1, keepdims=True),
        "z1": delta1,
        "w1": delta1 @ x.T,
        "b1": delta1.sum(axis=1, keepdims=True),
    }
