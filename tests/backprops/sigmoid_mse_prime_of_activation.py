"""The sigmoid net with `sigmoid_prime(z) = σ(z)(1 - σ(z))` called on the activation a1, not on z1."""

from sigmoid_mse import X, Y, forward, loss, m, params, sigmoid

__all__ = ["params", "loss", "grads"]


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def grads(p):
    z1, a1, z2, a2 = forward(p)
    da2 = (a2 - Y) / m
    dz2 = da2 * a2 * (1 - a2)
    da1 = dz2 @ p["W2"].T
    dz1 = da1 * sigmoid_prime(a1)  # the bug: sigmoid_prime(z1) is due, or a1 * (1 - a1)
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
