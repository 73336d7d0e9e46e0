"""The sigmoid net whose output bias gradient is set up as zeros and never computed."""

import numpy as np
from sigmoid_mse import X, Y, forward, loss, m, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    z1, a1, z2, a2 = forward(p)
    dz2 = (a2 - Y) / m * a2 * (1 - a2)
    dz1 = dz2 @ p["W2"].T * a1 * (1 - a1)
    db2 = np.zeros_like(p["b2"])  # the bug: dz2.sum(axis=0) is never added
    return {"W2": a1.T @ dz2, "b2": db2, "W1": X.T @ dz1, "b1": dz1.sum(axis=0)}
