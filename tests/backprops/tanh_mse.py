"""A 3-5-2 tanh net with a linear output and np.mean of the squared errors over every entry: right.

The mean runs over m samples × 2 outputs, so the output gradient is 2 (ŷ - y) / (m · 2).
"""

import numpy as np

from gategrad.check import tap

rng = np.random.default_rng(2)
X = rng.normal(size=(5, 3))
Y = rng.normal(size=(5, 2))


def params():
    rng = np.random.default_rng(3)
    return {
        "W1": rng.normal(size=(3, 5)) * 0.5,
        "b1": np.zeros(5),
        "W2": rng.normal(size=(5, 2)) * 0.5,
        "b2": np.full(2, 0.1),
    }


def forward(p):
    z1 = tap("z1", X @ p["W1"] + p["b1"])
    h = tap("h", np.tanh(z1))
    out = tap("out", h @ p["W2"] + p["b2"])
    return z1, h, out


def loss(p):
    return np.mean((forward(p)[2] - Y) ** 2)


def grads(p):
    z1, h, out = forward(p)
    dout = 2 * (out - Y) / out.size
    dh = dout @ p["W2"].T
    dz1 = dh * (1 - h**2)
    return {
        "out": dout,
        "W2": h.T @ dout,
        "b2": dout.sum(axis=0),
        "h": dh,
        "z1": dz1,
        "W1": X.T @ dz1,
        "b1": dz1.sum(axis=0),
    }
