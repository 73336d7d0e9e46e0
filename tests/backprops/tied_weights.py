"""A tied autoencoder: W encodes (X @ W) and its transpose decodes (h @ W.T), so W is used twice: right.

A parameter used twice gets the sum of the gradients through both uses.
"""

import numpy as np

from gategrad.check import tap

X = np.array([[0.2, -0.4, 0.6], [0.5, 0.1, -0.3], [-0.7, 0.8, 0.2], [0.3, 0.3, -0.9]])
m = len(X)


def params():
    rng = np.random.default_rng(5)
    return {"W": rng.normal(size=(3, 2)) * 0.7, "b": np.zeros(2), "c": np.full(3, 0.05)}


def forward(p):
    pre = tap("pre", X @ p["W"] + p["b"])
    h = tap("h", np.tanh(pre))
    xhat = tap("xhat", h @ p["W"].T + p["c"])
    return pre, h, xhat


def loss(p):
    xhat = forward(p)[2]
    return 0.5 * np.sum((xhat - X) ** 2) / m


def grads(p):
    pre, h, xhat = forward(p)
    dxhat = (xhat - X) / m
    dh = dxhat @ p["W"]
    dpre = dh * (1 - h**2)
    dW = X.T @ dpre + dxhat.T @ h  # the encoder's use, then the decoder's
    return {"xhat": dxhat, "c": dxhat.sum(axis=0), "h": dh, "pre": dpre, "W": dW, "b": dpre.sum(axis=0)}
