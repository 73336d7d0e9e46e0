"""cs231n's TwoLayerNet with the -1 of p - onehot left out: dscores is probs / N."""

import numpy as np

X = np.array([[0.4, -0.2, 0.9, 0.1], [-0.5, 0.3, 0.2, -0.8], [0.7, 0.6, -0.4, 0.3], [-0.1, -0.9, 0.5, 0.6],
              [0.2, 0.8, -0.7, -0.3]])  # fmt: skip
y = np.array([0, 2, 1, 2, 0])
reg = 0.05


def params():
    rng = np.random.default_rng(21)
    return {
        "W1": rng.normal(size=(4, 6)) * 0.5,
        "b1": rng.normal(size=6) * 0.1,
        "W2": rng.normal(size=(6, 3)) * 0.5,
        "b2": np.zeros(3),
    }


def loss(p):
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    N = X.shape[0]
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    exp_scores = np.exp(shifted)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    correct_logprobs = -np.log(probs[np.arange(N), y])
    data_loss = np.sum(correct_logprobs) / N
    reg_loss = reg * np.sum(W1 * W1) + reg * np.sum(W2 * W2)
    return data_loss + reg_loss


def grads(p):
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    N = X.shape[0]
    hidden = np.maximum(0, X.dot(W1) + b1)
    scores = hidden.dot(W2) + b2
    exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    dscores = probs.copy()
    # the bug: dscores[np.arange(N), y] -= 1 is missing
    dscores /= N
    dW2 = hidden.T.dot(dscores) + 2 * reg * W2
    db2 = np.sum(dscores, axis=0)
    dhidden = dscores.dot(W2.T)
    dhidden[hidden <= 0] = 0
    dW1 = X.T.dot(dhidden) + 2 * reg * W1
    db1 = np.sum(dhidden, axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
