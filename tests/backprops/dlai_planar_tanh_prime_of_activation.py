"""deeplearning.ai's planar classifier with tanh' taken at the activation: 1 - tanh(A1)² for 1 - A1²."""

import numpy as np

X = np.array([[0.5, -1.2, 0.3, 0.9, -0.4, 1.1], [1.0, 0.2, -0.7, -0.5, 0.8, 0.1]])  # (n_x, m) = (2, 6)
Y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.0]])
m = X.shape[1]


def sigmoid(z):
    s = 1 / (1 + np.exp(-z))
    return s


def params():
    rng = np.random.default_rng(7)
    return {
        "W1": rng.normal(size=(4, 2)),
        "b1": np.zeros((4, 1)),
        "W2": rng.normal(size=(1, 4)),
        "b2": np.zeros((1, 1)),
    }


def forward_propagation(p):
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = sigmoid(Z2)
    return Z1, A1, Z2, A2


def loss(p):
    A2 = forward_propagation(p)[3]
    logprobs = Y * np.log(A2) + (1 - Y) * np.log(1 - A2)
    cost = -np.sum(logprobs) / m
    return cost


def grads(p):
    Z1, A1, Z2, A2 = forward_propagation(p)
    dZ2 = A2 - Y
    dW2 = dZ2 @ A1.T / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = p["W2"].T @ dZ2 * (1 - np.tanh(A1) ** 2)  # the bug: tanh' at A1, its output
    dW1 = dZ1 @ X.T / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
