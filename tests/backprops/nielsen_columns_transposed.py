"""Nielsen's layout with the first layer's weight gradient transposed: x @ delta.T is (in × out)."""

from nielsen_columns import forward, loss, n, params, x, y

__all__ = ["params", "loss", "grads"]


def grads(p):
    z1, a1, z2, a2 = forward(p)
    delta2 = (a2 - y) * a2 * (1 - a2) / n
    delta1 = p["w2"].T @ delta2 * a1 * (1 - a1)
    return {
        "z2": delta2,
        "w2": delta2 @ a1.T,
        "b2": delta2.sum(axis=1, keepdims=True),
        "z1": delta1,
        "w1": x @ delta1.T,  # the bug: delta1 @ x.T is due
        "b1": delta1.sum(axis=1, keepdims=True),
    }
