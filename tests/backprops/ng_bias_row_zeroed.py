"""Andrew Ng's layout with the column of ones zeroed in a2 itself (a2[:, 0] = 0) before dW2 = a2.T @ d3:
the bias row of W2 gets no gradient."""

import numpy as np

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.2]])
y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
m = X.shape[0]
reg = 0.3


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def params():
    rng = np.random.default_rng(12)
    return {"W1": rng.normal(size=(3, 4)), "W2": rng.normal(size=(5, 1))}


def forward(p):
    a1 = np.hstack([np.ones((m, 1)), X])
    z2 = a1 @ p["W1"]
    a2 = np.hstack([np.ones((m, 1)), sigmoid(z2)])
    z3 = a2 @ p["W2"]
    a3 = sigmoid(z3)
    return a1, a2, a3


def loss(p):
    a3 = forward(p)[2]
    J = -np.sum(y * np.log(a3) + (1 - y) * np.log(1 - a3)) / m
    penalty = reg / (2 * m) * (np.sum(p["W1"][1:] ** 2) + np.sum(p["W2"][1:] ** 2))
    return J + penalty


def grads(p):
    a1, a2, a3 = forward(p)
    d3 = a3 - y
    da2 = d3 @ p["W2"].T
    da2[:, 0] = 0  # the bias unit is a constant 1: no gradient goes back through it
    d2 = (da2 * a2 * (1 - a2))[:, 1:]
    dW1 = a1.T @ d2 / m
    a2[:, 0] = 0  # the bug: the bias unit's column is zeroed in a2 itself, not in its gradient
    dW2 = a2.T @ d3 / m
    dW1[1:] += reg / m * p["W1"][1:]
    dW2[1:] += reg / m * p["W2"][1:]
    return {"W1": dW1, "W2": dW2}
