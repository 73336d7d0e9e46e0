"""The sigmoid net with the 1/m of the mean applied to the output layer's gradients only."""

from sigmoid_mse import X, Y, forward, loss, m, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    z1, a1, z2, a2 = forward(p)
    dz2 = (a2 - Y) * a2 * (1 - a2)
    dz1 = dz2 @ p["W2"].T * a1 * (1 - a1)
    return {
        "W2": a1.T @ dz2 / m,
        "b2": dz2.sum(axis=0) / m,
        "W1": X.T @ dz1,  # the bug: / m is missing here
        "b1": dz1.sum(axis=0),  # and here
    }
