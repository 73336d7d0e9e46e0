"""The sigmoid net with σ' written as a(1 - a) but applied to the pre-activation z2 instead of a2."""

from sigmoid_mse import X, Y, forward, loss, m, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    z1, a1, z2, a2 = forward(p)
    da2 = (a2 - Y) / m
    dz2 = da2 * z2 * (1 - z2)  # the bug: a(1 - a) is σ'(z) only for a = σ(z); a2 * (1 - a2) is due
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
