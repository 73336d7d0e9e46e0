"""cs231n's TwoLayerNet keeping its gradients in a dict between calls and adding to them: each call returns
a larger gradient, and the second one's is twice the first's; the first call also forgets the 1/N."""

import numpy as np
from cs231n_two_layer_net import X, loss, params, reg, y

__all__ = ["params", "loss", "grads"]

saved = {}


def grads(p):
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    N = X.shape[0]
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dhidden = dscores.dot(W2.T)  # the first bug: dscores /= N is missing
    dhidden[hidden <= 0] = 0
    fresh = {
        "W1": X.T.dot(dhidden) + 2 * reg * W1,
        "b1": np.sum(dhidden, axis=0),
        "W2": hidden.T.dot(dscores) + 2 * reg * W2,
        "b2": np.sum(dscores, axis=0),
    }
    for name, g in fresh.items():
        saved[name] = saved.get(name, 0) + g  # the second bug: saved is never reset to zeros
    return saved
