"""The skip connection's layer with dh taken from the next layer alone: h's use by the skip is forgotten."""

from skip_connection import backward, loss, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    return backward(p, skip=False)  # the bug: dh += dout @ S.T, the skip connection's part, is left out
