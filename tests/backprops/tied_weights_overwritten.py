"""The tied autoencoder with W's second use written with = where += is due: the decoder's part overwrites the
encoder's."""

from tied_weights import X, forward, loss, m, params

__all__ = ["params", "loss", "grads"]


def grads(p):
    pre, h, xhat = forward(p)
    dxhat = (xhat - X) / m
    dh = dxhat @ p["W"]
    dpre = dh * (1 - h**2)
    dW = X.T @ dpre
    dW = dxhat.T @ h  # the bug: dW += dxhat.T @ h, the decoder's use added to the encoder's
    return {"xhat": dxhat, "c": dxhat.sum(axis=0), "h": dh, "pre": dpre, "W": dW, "b": dpre.sum(axis=0)}
