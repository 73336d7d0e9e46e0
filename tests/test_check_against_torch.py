"""The numbers a check report shows are the engine's: recomputed here with torch, for the catalogue's sigmoid net."""

from pathlib import Path

import numpy as np
import pytest
from conftest import needs

from gategrad.check import check_file

torch = needs("torch")

BACKPROPS = Path(__file__).parent / "backprops"


@pytest.fixture
def sigmoid_net(monkeypatch):
    """sigmoid_mse's net in torch: its parameters and intermediates, each holding its gradient."""
    monkeypatch.syspath_prepend(str(BACKPROPS))
    import sigmoid_mse

    p = {name: torch.tensor(a, requires_grad=True) for name, a in sigmoid_mse.params().items()}
    X, Y = torch.tensor(sigmoid_mse.X), torch.tensor(sigmoid_mse.Y)
    z1 = X @ p["W1"] + p["b1"]
    a1 = torch.sigmoid(z1)
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = torch.sigmoid(z2)
    for t in (z1, a1, z2, a2):
        t.retain_grad()
    (((a2 - Y) ** 2).sum() / (2 * len(X))).backward()
    return {**p, "z1": z1, "a1": a1, "z2": z2, "a2": a2}


def index_of(label):
    return tuple(int(k) for k in label[label.index("[") + 1 : -1].split(","))


def test_the_first_divergence_is_shown_at_the_worst_entry_through_its_gates(sigmoid_net):
    d = check_file(BACKPROPS / "sigmoid_mse_prime_of_activation.py").first_divergence
    (term,) = d.route.terms
    i, j = index_of(d.route.entry.label)
    a1 = sigmoid_net["a1"].detach().numpy()
    upstream = sigmoid_net["a1"].grad.numpy()
    true = sigmoid_net["z1"].grad.numpy()
    s = 1 / (1 + np.exp(-a1))
    yours = upstream * s * (1 - s)  # the bug: σ' at a1
    assert (i, j) == np.unravel_index(np.argmax(np.abs(yours - true)), true.shape)
    assert term.output.label == f"a1[{i},{j}]"
    assert term.upstream == pytest.approx(upstream[i, j], rel=1e-12)
    assert term.local == pytest.approx(a1[i, j] * (1 - a1[i, j]), rel=1e-12)  # σ'(z1) = a1 (1 - a1)
    assert d.route.entry.grad == pytest.approx(true[i, j], rel=1e-12)
    assert d.yours == pytest.approx(yours[i, j], rel=1e-12)


def test_a_bias_gradient_is_a_sum_over_the_samples(sigmoid_net):
    d = check_file(BACKPROPS / "sigmoid_mse_mean_in_one_layer.py").first_divergence
    (j,) = index_of(d.route.entry.label)
    assert d.name == "b1"
    assert [t.output.label for t in d.route.terms] == [f"z1[{i},{j}]" for i in range(4)]
    assert [t.local for t in d.route.terms] == [1.0] * 4  # ∂z1[i,j]/∂b1[j] = 1
    assert [t.upstream for t in d.route.terms] == pytest.approx(sigmoid_net["z1"].grad[:, j].tolist(), rel=1e-12)
    assert d.route.entry.grad == pytest.approx(sigmoid_net["b1"].grad[j].item(), rel=1e-12)
    assert d.yours == pytest.approx(4 * sigmoid_net["b1"].grad[j].item(), rel=1e-12)  # no 1/m, m = 4
