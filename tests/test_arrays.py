"""numpy on Values: a learner's float code runs unchanged on object arrays and gets torch's gradients."""

import numpy as np
import pytest
from conftest import needs

from gategrad import arrays
from gategrad.engine import Value

torch = needs("torch")


def test_values_are_labelled_by_name_and_index():
    W = arrays.values(np.arange(6.0).reshape(2, 3), "W1")
    assert W.shape == (2, 3) and W.dtype == object
    assert (W[0, 2].label, W[0, 2].data) == ("W1[0,2]", 2.0)
    assert arrays.values([1.5, 2.5], "b1")[1].label == "b1[1]"
    assert arrays.values(3.0, "s")[()].label == "s"


def test_data_and_grad_read_back_float_arrays():
    W = arrays.values([[1.0, -2.0], [3.0, 0.5]], "W")
    (W * W).sum().backward()
    assert arrays.data(W).tolist() == [[1.0, -2.0], [3.0, 0.5]]
    assert arrays.grad(W).tolist() == [[2.0, -4.0], [6.0, 1.0]]  # d(w²)/dw = 2w
    assert arrays.grad(W).dtype == float


def test_a_plain_number_in_an_array_is_a_constant():
    z = arrays.values([-1.0, 2.0], "z")
    a = np.maximum(0, z)  # numpy keeps the 0 it chose, a plain int
    np.sum(a * 3).backward()
    assert arrays.data(a).tolist() == [0.0, 2.0]
    assert arrays.grad(a).tolist() == [0.0, 3.0]
    assert arrays.grad(z).tolist() == [0.0, 3.0]  # relu's gradient


def test_numpy_calls_the_gates_of_each_value():
    z = arrays.values([[4.0, -1.0]], "z")
    assert np.sqrt(z)[0, 0].op == "sqrt"
    assert np.abs(z)[0, 1].op == "abs"
    assert (z / 2)[0, 0].op == "div"
    assert np.exp(z)[0, 0].op == "exp"
    assert np.tanh(z)[0, 0].op == "tanh"
    assert np.log(z)[0, 0].op == "log"
    assert isinstance(np.sum(z), Value) and isinstance(z.mean(), Value)
    assert (z > 0).tolist() == [[True, False]]  # compared by data


# Each case: the same function written for numpy and for torch, of A (3, 4), B (4, 2) and b (2,).
CASES = {
    "matmul, transpose, broadcast + - * / **": (
        lambda A, B, b: np.sum((A @ B + b) ** 2 - A.T[:2].T @ (B[:2] / (b + 3)) * 0.5),
        lambda A, B, b: ((A @ B + b) ** 2 - A.T[:2].T @ (B[:2] / (b + 3)) * 0.5).sum(),
    ),
    "exp, log, tanh, sqrt, abs": (
        lambda A, B, b: np.sum(np.log(np.exp(A @ B) + 1) + np.tanh(B).T.sum() * np.sqrt(np.abs(b) + 1)),
        lambda A, B, b: (torch.log(torch.exp(A @ B) + 1) + torch.tanh(B).T.sum() * torch.sqrt(torch.abs(b) + 1)).sum(),
    ),
    "sum, mean and max with axis and keepdims": (
        lambda A, B, b: (
            np.sum(np.sum(A, axis=0) * np.mean(B, axis=1))
            + np.mean(np.max(A, axis=1, keepdims=True) * A)
            + np.max(B, axis=0) @ b
        ),
        lambda A, B, b: (
            (A.sum(dim=0) * B.mean(dim=1)).sum() + (A.amax(dim=1, keepdim=True) * A).mean() + B.amax(dim=0) @ b
        ),
    ),
    "relu as np.maximum(0, z) and as np.where(z > 0, z, 0)": (
        lambda A, B, b: np.sum(np.maximum(0, A @ B + b) * 2) + np.sum(np.where(A > 0, A, 0) ** 2),
        lambda A, B, b: (torch.relu(A @ B + b) * 2).sum() + (torch.relu(A) ** 2).sum(),
    ),
    "stable softmax cross-entropy with fancy indexing": (
        lambda A, B, b: _softmax_ce_numpy(A @ B + b, np.array([0, 1, 1])),
        lambda A, B, b: torch.nn.functional.cross_entropy(A @ B + b, torch.tensor([0, 1, 1])),
    ),
}


def _softmax_ce_numpy(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    return -np.mean(np.log(probs[np.arange(len(y)), y]))


@pytest.mark.parametrize("case", CASES)
def test_a_numpy_function_on_values_has_torchs_value_and_gradients(case):
    numpy_f, torch_f = CASES[case]
    rng = np.random.default_rng(0)
    floats = {"A": rng.normal(size=(3, 4)), "B": rng.normal(size=(4, 2)), "b": rng.normal(size=2)}
    values = {name: arrays.values(a, name) for name, a in floats.items()}
    tensors = {name: torch.tensor(a, requires_grad=True) for name, a in floats.items()}
    out = numpy_f(**values)
    out.backward()
    expected = torch_f(**tensors)
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12)
    for name in floats:
        np.testing.assert_allclose(arrays.grad(values[name]), tensors[name].grad.numpy(), rtol=1e-12, atol=1e-14)
    assert numpy_f(**floats) == pytest.approx(out.data, rel=1e-12)  # the same code on floats
