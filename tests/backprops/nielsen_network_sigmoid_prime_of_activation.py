"""Nielsen's network.py backprop, one sample per column, with sigmoid_prime applied to the activation
instead of z: sp = sigmoid_prime(activation) where sigmoid_prime(z) is due."""

import numpy as np

x = np.array([[0.1, 0.9, 0.4], [0.8, 0.2, 0.5], [0.3, 0.6, 0.7]])  # 3 inputs × n = 3 samples
y = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
n = x.shape[1]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def params():
    rng = np.random.default_rng(8)
    return {"w1": rng.normal(size=(4, 3)), "b1": rng.normal(size=(4, 1)), "w2": rng.normal(size=(2, 4)),
            "b2": rng.normal(size=(2, 1))}  # fmt: skip


def feedforward(p):
    z1 = p["w1"] @ x + p["b1"]
    activation1 = sigmoid(z1)
    z2 = p["w2"] @ activation1 + p["b2"]
    activation2 = sigmoid(z2)
    return z1, activation1, z2, activation2


def loss(p):
    output = feedforward(p)[3]
    cost = np.sum((output - y) ** 2) / (2 * n)
    return cost


def grads(p):
    z1, activation1, z2, activation2 = feedforward(p)
    delta = (activation2 - y) * sigmoid_prime(z2) / n
    nabla_b2 = delta.sum(axis=1, keepdims=True)
    nabla_w2 = delta @ activation1.T
    sp = sigmoid_prime(activation1)  # the bug: sigmoid_prime(z1) is due
    delta = (p["w2"].T @ delta) * sp
    return {"b2": nabla_b2, "w2": nabla_w2, "b1": delta.sum(axis=1, keepdims=True), "w1": delta @ x.T}
