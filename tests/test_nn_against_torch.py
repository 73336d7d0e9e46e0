"""gategrad.nn against torch in float64: gradients through nets, losses and optimizer updates."""

import random

import pytest
from conftest import needs

from gategrad import nn
from gategrad.engine import GATES, Value

torch = needs("torch")
F = torch.nn.functional


def activate(activation, h):
    """The activation on a tensor, as its gate's row writes it for torch."""
    return h if activation == "linear" else eval(GATES[activation].torch, {"torch": torch}, {"a": h})


def torch_copy(model):
    """The model's layers as float64 (weight, bias) tensors that require grad."""
    return [
        (
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64, requires_grad=True),
            torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64, requires_grad=True),
        )
        for layer in model.layers
    ]


def torch_forward(layers, X, activation):
    h = torch.tensor(X, dtype=torch.float64)
    for i, (W, b) in enumerate(layers):
        h = h @ W.T + b
        if i < len(layers) - 1:
            h = activate(activation, h)
    return h


@pytest.mark.parametrize("activation", list(nn.ACTIVATIONS))
def test_mlp_gradients_under_cross_entropy_equal_torch(activation):
    model = nn.MLP(3, [5, 4, 3], activation=activation, seed=11)
    rng = random.Random(2)
    X = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    labels = [0, 1, 2, 2, 1, 0]
    loss = nn.cross_entropy([model(x) for x in X], labels)
    loss.backward()

    layers = torch_copy(model)
    expected = F.cross_entropy(torch_forward(layers, X, activation), torch.tensor(labels))
    expected.backward()

    assert loss.data == pytest.approx(expected.item(), abs=1e-12)
    for layer, (W, b) in zip(model.layers, layers):
        for j, n in enumerate(layer.neurons):
            assert n.b.grad == pytest.approx(b.grad[j].item(), abs=1e-9)
            for k, w in enumerate(n.w):
                assert w.grad == pytest.approx(W.grad[j, k].item(), abs=1e-9)


def check_loss_against_torch(our_loss, torch_loss, logits, labels):
    ours = [Value(z) for z in logits]
    loss = our_loss(ours, labels)
    loss.backward()
    theirs = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    expected = torch_loss(theirs, labels)
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), abs=1e-9)
    assert [v.grad for v in ours] == pytest.approx(theirs.grad.tolist(), abs=1e-9)


def test_cross_entropy_is_stable_for_huge_logits_and_equals_torch():
    logits = [[1000.0, -1000.0, 0.0], [0.5, 0.5, 0.5], [-3.0, 2.0, 1.0], [-1000.0, -999.0, 1000.0]]
    labels = [1, 0, 2, 1]
    ours = [[Value(z) for z in row] for row in logits]
    loss = nn.cross_entropy(ours, labels)
    loss.backward()
    theirs = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    expected = F.cross_entropy(theirs, torch.tensor(labels))
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), abs=1e-9)  # 3 * 2000 / 4 plus small terms
    assert [[v.grad for v in row] for row in ours] == [pytest.approx(row, abs=1e-9) for row in theirs.grad.tolist()]


def test_bce_with_logits_is_stable_for_logits_of_1000_and_equals_torch():
    logits = [-1000.0, -1000.0, -3.0, 0.0, 0.0, 0.5, 40.0, 1000.0, 1000.0]
    labels = [0, 1, 1, 0, 1, 0, 1, 0, 1]
    check_loss_against_torch(
        nn.bce_with_logits,
        lambda z, y: F.binary_cross_entropy_with_logits(z, torch.tensor(y, dtype=torch.float64)),
        logits,
        labels,
    )
    assert nn.bce_with_logits([Value(1000.0)], [0]).data == 1000.0


def test_hinge_loss_is_micrograds_max_margin_loss():
    scores, labels = [2.0, 0.3, -0.5, -2.0, 0.9], [1, 1, 1, -1, -1]
    check_loss_against_torch(
        nn.hinge_loss,
        lambda s, y: torch.relu(1 - torch.tensor(y, dtype=torch.float64) * s).mean(),
        scores,
        labels,
    )
    # relu(1 - 2), relu(1 - 0.3), relu(1 + 0.5), relu(1 - 2), relu(1 + 0.9), averaged:
    assert nn.hinge_loss([Value(s) for s in scores], labels).data == pytest.approx((0.7 + 1.5 + 1.9) / 5, abs=1e-15)


def test_mse_loss_averages_over_every_element_as_torch():
    check_loss_against_torch(
        nn.mse_loss, lambda p, t: F.mse_loss(p, torch.tensor(t, dtype=torch.float64)), [0.5, -1.0, 3.0], [1.0, 1.0, 0.0]
    )
    preds = [[Value(0.5), Value(2.0)], [Value(-1.0), Value(0.0)]]
    loss = nn.mse_loss(preds, [[1.0, 0.0], [0.0, 0.0]])
    assert loss.data == (0.25 + 4.0 + 1.0 + 0.0) / 4
    loss.backward()
    assert [v.grad for row in preds for v in row] == [2 * -0.5 / 4, 2 * 2.0 / 4, 2 * -1.0 / 4, 0.0]


OPTIMIZERS = [
    (lambda p: nn.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda p: nn.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (
        lambda p: nn.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.01),
    ),
    (lambda p: nn.Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (
        lambda p: nn.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    ),
    (lambda p: nn.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    (
        lambda p: nn.AdamW(p, lr=0.05, weight_decay=0.3),
        lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.3),
    ),
]


@pytest.mark.parametrize("ours, theirs", OPTIMIZERS)
def test_optimizer_steps_equal_torch_optim_with_a_changing_lr(ours, theirs):
    rng = random.Random(0)
    start = [rng.uniform(-1, 1) for _ in range(5)]
    params = [Value(x) for x in start]
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    opt, topt = ours(params), theirs(tensors)
    for _ in range(6):
        lr = opt.lr * 0.7  # a schedule: change lr between steps
        opt.lr = lr
        for group in topt.param_groups:
            group["lr"] = lr
        for p, t in zip(params, tensors):
            p.grad = rng.gauss(0, 1)
            t.grad = torch.tensor(p.grad, dtype=torch.float64)
        opt.step()
        topt.step()
        assert [p.data for p in params] == pytest.approx([t.item() for t in tensors], abs=1e-12)


@pytest.mark.parametrize(("half", "biases"), [(False, True), (True, True), (False, False), (True, False)])
def test_l2_penalty_half_and_biases_against_torch_weight_decay_on_the_weights_only(half, biases):
    """torch writes cs231n's 0.5·reg·Σ W² over the weights alone by hand; its gradient is reg·W, a bias's 0."""
    model = nn.MLP(3, [4, 2], seed=5)
    reg = 0.07
    ours = nn.l2_penalty(model, reg, half=half, biases=biases)
    ours.backward()
    layers = torch_copy(model)
    tensors = [t for W, b in layers for t in ((W, b) if biases else (W,))]
    theirs = (0.5 * reg if half else reg) * sum((t * t).sum() for t in tensors)
    theirs.backward()
    assert ours.data == pytest.approx(theirs.item(), rel=1e-14)
    for layer, (W, b) in zip(model.layers, layers):
        for j, neuron in enumerate(layer.neurons):
            assert [w.grad for w in neuron.w] == pytest.approx(W.grad[j].tolist(), rel=1e-14)
            assert neuron.b.grad == (pytest.approx(b.grad[j].item(), rel=1e-14) if biases else 0.0)
