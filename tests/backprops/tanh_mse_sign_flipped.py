"""The tanh net with the error taken the wrong way round, y - ŷ: every gradient has its sign flipped."""

from tanh_mse import X, Y, forward, loss, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    z1, h, out = forward(p)
    dout = 2 * (Y - out) / out.size  # the bug: out - Y is due
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
