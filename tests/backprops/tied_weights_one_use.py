"""The tied autoencoder with W's gradient taken from the encoder only: the decoder's use is forgotten."""

from tied_weights import X, forward, loss, m, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    pre, h, xhat = forward(p)
    dxhat = (xhat - X) / m
    dh = dxhat @ p["W"]
    dpre = dh * (1 - h**2)
    dW = X.T @ dpre  # the bug: + dxhat.T @ h, the decoder's use, is missing
    return {"xhat": dxhat, "c": dxhat.sum(axis=0), "h": dh, "pre": dpre, "W": dW, "b": dpre.sum(axis=0)}
