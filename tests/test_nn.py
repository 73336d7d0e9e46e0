"""gategrad.nn: modules, losses and optimizers against PyTorch float64, training quality, model files."""

import io
import json
import os
import random
import warnings

import micrograd.engine
import micrograd.nn
import pytest
import torch
import torch.nn.functional as F

from gategrad import nn
from gategrad.data import make_moons, make_spiral, make_xor
from gategrad.engine import Value, topological_order

TORCH_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda h: h}


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
            h = TORCH_ACTIVATIONS[activation](h)
    return h


# ---- modules ----


def test_a_neuron_sums_bias_and_weighted_inputs_in_one_add_gate():
    n = nn.Neuron(3, activation="linear")
    n.w[0].data, n.w[1].data, n.w[2].data, n.b.data = 2.0, -1.0, 0.5, 0.25
    out = n([1.0, 3.0, 4.0])
    assert out.data == 2.0 - 3.0 + 2.0 + 0.25
    assert out.op == "add"
    assert out.children[0] is n.b
    assert len(out.children) == 4


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_a_neuron_applies_its_activation_as_one_gate_after_the_sum(activation):
    out = nn.Neuron(2, activation=activation, seed=random.Random(1))([0.5, -2.0])
    assert out.op == activation
    assert out.children[0].op == "add"


def test_mlp_hidden_layers_use_the_activation_and_the_last_layer_is_linear():
    model = nn.MLP(2, [16, 16, 1], activation="tanh")
    assert [layer.neurons[0].activation for layer in model.layers] == ["tanh", "tanh", "linear"]
    assert len(model.parameters()) == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1 == 337


def test_a_model_returns_a_value_for_one_output_and_a_list_for_several():
    assert isinstance(nn.MLP(2, [4, 1])([1.0, 2.0]), Value)
    outs = nn.MLP(2, [4, 3])([1.0, 2.0])
    assert isinstance(outs, list) and len(outs) == 3 and all(isinstance(o, Value) for o in outs)
    assert isinstance(nn.Layer(2, 1)([1.0, 2.0]), Value)
    assert len(nn.Layer(2, 5)([1.0, 2.0])) == 5


def test_inputs_may_be_values_and_then_get_gradients():
    model = nn.MLP(2, [3, 1], activation="linear", seed=4)
    x = [Value(1.0), Value(-2.0)]
    model(x).backward()
    # A linear net is W2 @ W1 @ x + ..., so d out / d x_k = sum_j W2[j] * W1[j][k].
    w1 = [[w.data for w in n.w] for n in model.layers[0].neurons]
    w2 = [w.data for w in model.layers[1].neurons[0].w]
    for k in range(2):
        assert x[k].grad == pytest.approx(sum(w2[j] * w1[j][k] for j in range(3)), abs=1e-15)


def test_initialisation_is_micrograds_seeded_and_leaves_the_global_random_state_alone():
    state = random.getstate()
    a, b, c = nn.MLP(2, [16, 16, 1], seed=3), nn.MLP(2, [16, 16, 1], seed=3), nn.MLP(2, [16, 16, 1], seed=4)
    assert random.getstate() == state
    assert a.state_dict() == b.state_dict() != c.state_dict()
    assert nn.MLP(2, [4, 1]).state_dict() == nn.MLP(2, [4, 1], seed=0).state_dict()
    weights = [p.data for name, p in a.named_parameters() if ".w." in name]
    biases = [p.data for name, p in a.named_parameters() if name.endswith(".b")]
    assert all(-1.0 <= w <= 1.0 for w in weights) and len(set(weights)) == len(weights)
    assert biases == [0.0] * 33


def test_forward_pass_equals_micrograds_bit_for_bit_with_the_same_weights():
    ours = nn.MLP(2, [16, 16, 1], seed=5)
    theirs = micrograd.nn.MLP(2, [16, 16, 1])
    for p, q in zip(ours.parameters(), theirs.parameters()):
        q.data = p.data
    X, y = make_moons(20, seed=5)
    y = [2 * label - 1 for label in y]
    for x in X:
        assert ours(x).data == theirs([micrograd.engine.Value(v) for v in x]).data
    # and so does the demo's loss, hinge plus 1e-4 L2, with the mean taken as torch takes it (a division).
    loss = nn.hinge_loss([ours(x) for x in X], y) + nn.l2_penalty(ours.parameters(), 1e-4)
    scores = [theirs([micrograd.engine.Value(v) for v in x]) for x in X]
    data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)).data / len(X)
    assert loss.data == data_loss + (1e-4 * sum(p * p for p in theirs.parameters())).data


def test_names_of_parameters_follow_the_module_tree():
    names = [name for name, _ in nn.MLP(2, [2, 1]).named_parameters()]
    assert names[:4] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    assert names[-1] == "layers.1.neurons.0.b"
    assert [name for name, _ in nn.Neuron(2).named_parameters()] == ["w.0", "w.1", "b"]


def test_zero_grad_clears_every_parameter_gradient():
    model = nn.MLP(2, [3, 1], seed=1)
    model([1.0, -1.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert [p.grad for p in model.parameters()] == [0.0] * 13


def test_load_state_dict_sets_every_parameter_and_refuses_a_mismatch():
    model = nn.MLP(2, [2, 1], seed=1)
    state = {name: float(i) for i, (name, _) in enumerate(model.named_parameters())}
    model.load_state_dict(state)
    assert [p.data for p in model.parameters()] == [float(i) for i in range(9)]
    with pytest.raises(ValueError, match="missing.*layers.1.neurons.0.b"):
        model.load_state_dict({k: v for k, v in state.items() if k != "layers.1.neurons.0.b"})
    with pytest.raises(ValueError, match="unexpected.*extra"):
        model.load_state_dict({**state, "extra": 1.0})
    with pytest.raises(TypeError, match="layers.0.neurons.0.w.0 must be a number"):
        model.load_state_dict({**state, "layers.0.neurons.0.w.0": "1.0"})


@pytest.mark.parametrize(
    "build, error, words",
    [
        (lambda: nn.Neuron(0), ValueError, "nin must be at least 1"),
        (lambda: nn.Neuron(2.0), TypeError, "nin must be an int"),
        (lambda: nn.Neuron(True), TypeError, "nin must be an int"),
        (lambda: nn.Neuron(2, activation="gelu"), ValueError, "activation must be one of relu, tanh, sigmoid, linear"),
        (lambda: nn.Neuron(2, seed="42"), TypeError, "seed must be an int, a random.Random or None"),
        (lambda: nn.Layer(2, 0), ValueError, "nout must be at least 1"),
        (lambda: nn.MLP(2, []), TypeError, "nouts must be a non-empty list"),
        (lambda: nn.MLP(2, 16), TypeError, "nouts must be a non-empty list"),
        (lambda: nn.MLP(2, [16, 0]), ValueError, "each layer size in nouts must be at least 1"),
        (lambda: nn.MLP(2, [1], seed="a"), TypeError, "seed must be an int"),
        (lambda: nn.SGD([], lr=0.1), TypeError, "non-empty list of Values"),
        (lambda: nn.SGD([1.0], lr=0.1), TypeError, "non-empty list of Values"),
        (lambda: nn.SGD([Value(1.0)], lr=-0.1), ValueError, "lr must be >= 0"),
        (lambda: nn.SGD([Value(1.0)], lr="0.1"), TypeError, "lr must be a number"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=-0.9), ValueError, "momentum must be >= 0"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, r"betas\[1\] must be >= 0 and < 1"),
        (lambda: nn.Adam([Value(1.0)], betas=0.9), TypeError, "betas must be a pair"),
        (lambda: nn.AdamW([Value(1.0)], weight_decay=-1), ValueError, "weight_decay must be >= 0"),
    ],
)
def test_constructors_refuse_bad_arguments_naming_them(build, error, words):
    with pytest.raises(error, match=words):
        build()


def test_a_model_refuses_an_input_of_the_wrong_length():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        nn.MLP(2, [3, 1])([1.0, 2.0, 3.0])


# ---- losses against torch ----


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
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


def test_l2_penalty_is_alpha_times_the_sum_of_squares():
    params = [Value(3.0), Value(-4.0)]
    penalty = nn.l2_penalty(params, 1e-4)
    penalty.backward()
    assert penalty.data == pytest.approx(25e-4, abs=1e-18)
    assert [p.grad for p in params] == [pytest.approx(6e-4, abs=1e-18), pytest.approx(-8e-4, abs=1e-18)]


@pytest.mark.parametrize(
    "loss, labels, words",
    [
        (nn.hinge_loss, [0, 1], "labels -1 and \\+1"),
        (nn.bce_with_logits, [-1, 1], "labels 0 and 1"),
        (nn.hinge_loss, [1], "2 outputs but 1 labels"),
    ],
)
def test_losses_refuse_labels_they_cannot_read(loss, labels, words):
    with pytest.raises(ValueError, match=words):
        loss([Value(0.5), Value(-0.5)], labels)


def test_cross_entropy_refuses_a_label_outside_the_classes():
    with pytest.raises(ValueError, match="label 3 is not a class index below 3"):
        nn.cross_entropy([[Value(0.0), Value(1.0), Value(2.0)]], [3])


def test_cross_entropy_builds_the_same_circuit_whatever_the_logits():
    """The shift by the largest logit is made of max gates, not read from the data."""

    def gates(logits):
        loss = nn.cross_entropy([[Value(z) for z in logits]], [1])
        return [(v.op, v.constant) for v in topological_order(loss)]

    assert gates([2.0, -1.0, 0.5]) == gates([-3.0, 7.0, 1000.0])
    assert [op for op, _ in gates([2.0, -1.0, 0.5])].count("max") == 2


def test_accuracy_reads_one_score_by_its_sign_and_several_by_the_largest():
    assert nn.accuracy([Value(0.5), Value(-0.1), Value(2.0)], [1, -1, -1]) == 2 / 3
    assert nn.accuracy([Value(0.5), Value(-0.1)], [1, 0]) == 1.0
    assert nn.accuracy([[Value(0.1), Value(0.9)], [Value(3.0), Value(-1.0)]], [1, 1]) == 0.5


# ---- optimizers against torch.optim ----

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


def test_optimizer_zero_grad_clears_its_parameters():
    params = [Value(1.0), Value(2.0)]
    params[0].grad, params[1].grad = 3.0, -1.0
    nn.Adam(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


# ---- fit ----


def test_fit_records_loss_and_accuracy_per_step_and_follows_the_schedule():
    X, y = make_moons(20, seed=1)
    y = [2 * label - 1 for label in y]
    model = nn.MLP(2, [8, 1], seed=1)
    opt = nn.SGD(model.parameters(), lr=0.5)
    history = nn.fit(model, X, y, nn.hinge_loss, opt, steps=30, lr_schedule=lambda k: 0.5 - 0.01 * k, quiet=True)
    assert len(history["loss"]) == len(history["accuracy"]) == 30
    assert history["loss"][-1] < 0.8 * history["loss"][0]  # measured: 0.380 -> 0.298
    assert all(a * 20 == round(a * 20) for a in history["accuracy"])
    assert opt.lr == 0.5 - 0.01 * 29


def test_fit_with_mini_batches_is_reproducible_by_seed():
    X, y = make_moons(30, seed=2)

    def train(seed):
        model = nn.MLP(2, [4, 1], seed=0)
        return nn.fit(
            model, X, y, nn.bce_with_logits, nn.Adam(model.parameters(), lr=0.1), 5, batch_size=8, seed=seed, quiet=True
        )

    first, second, other = train(1), train(1), train(2)
    assert first == second
    assert first["loss"] != other["loss"]
    assert all(a * 8 == round(a * 8) for a in first["accuracy"])
    with pytest.raises(ValueError, match="batch_size must be between 1 and 30"):
        nn.fit(nn.MLP(2, [1]), X, y, nn.bce_with_logits, nn.SGD([Value(0.0)], lr=0.1), 1, batch_size=31)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_bar_shows_loss_and_accuracy_on_a_terminal_and_hides_otherwise(monkeypatch, capsys):
    X, y = make_xor()
    model = nn.MLP(2, [2, 1], seed=0)
    nn.fit(model, X, y, nn.bce_with_logits, nn.SGD(model.parameters(), lr=0.1), 3)
    assert capsys.readouterr().err == ""  # pytest's stderr is not a terminal
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    nn.fit(model, X, y, nn.bce_with_logits, nn.SGD(model.parameters(), lr=0.1), 3)
    shown = terminal.getvalue()
    assert "3/3" in shown and "loss=" in shown and "accuracy=" in shown
    terminal.truncate(0)
    nn.fit(model, X, y, nn.bce_with_logits, nn.SGD(model.parameters(), lr=0.1), 3, quiet=True)
    assert terminal.getvalue() == ""


# ---- quality bars ----


def micrograd_demo(seed):
    """micrograd's demo.ipynb on our API; returns the training accuracy after 100 steps."""
    X, y = make_moons(100, noise=0.1, seed=seed)
    y = [2 * label - 1 for label in y]
    model = nn.MLP(2, [16, 16, 1], seed=seed)
    opt = nn.SGD(model.parameters(), lr=1.0)
    nn.fit(model, X, y, nn.hinge_loss, opt, 100, l2=1e-4, lr_schedule=lambda k: 1.0 - 0.9 * k / 100, quiet=True)
    return nn.accuracy([model(x) for x in X], y)


def test_micrograds_moons_demo_reaches_97_percent_for_most_seeds():
    # Measured: seed 0 gives 0.99, seeds 1-9 and 1337 give 1.0 (each run takes ~7 s, so we test three).
    accuracies = [micrograd_demo(seed) for seed in (0, 1, 2)]
    assert sum(a >= 0.97 for a in accuracies) >= 2, accuracies


def test_a_tanh_mlp_learns_xor_for_every_seed():
    X, y = make_xor()
    for seed in range(10):
        model = nn.MLP(2, [4, 1], activation="tanh", seed=seed)
        nn.fit(model, X, y, nn.bce_with_logits, nn.Adam(model.parameters(), lr=0.1), 100, quiet=True)
        assert nn.accuracy([model(x) for x in X], y) == 1.0, seed


def test_cross_entropy_and_adam_classify_a_three_arm_spiral():
    X, y = make_spiral(50, classes=3, seed=0)
    model = nn.MLP(2, [16, 3], seed=0)
    nn.fit(model, X, y, nn.cross_entropy, nn.Adam(model.parameters(), lr=0.05), 80, quiet=True)
    assert nn.accuracy([model(x) for x in X], y) >= 0.90  # measured: 0.96


# ---- model files ----


def test_a_saved_model_loads_back_bit_for_bit(tmp_path):
    model = nn.MLP(2, [3, 2], activation="sigmoid", seed=9)
    model.layers[0].neurons[0].b.data = 0.1 + 0.2  # a float whose shortest repr has 17 digits
    path = tmp_path / "model.json"
    model.save(path)

    doc = json.loads(path.read_text())
    assert doc["format"] == "gategrad-model" and doc["version"] == 1 and doc["model"] == "MLP"
    assert doc["config"] == {"nin": 2, "nouts": [3, 2], "activation": "sigmoid"}
    assert doc["parameters"]["layers.0.neurons.0.b"] == 0.30000000000000004

    loaded = nn.load(path)
    assert isinstance(loaded, nn.MLP) and loaded.config() == model.config()
    assert [p.data.hex() for p in loaded.parameters()] == [p.data.hex() for p in model.parameters()]
    assert [v.data for v in loaded([0.3, -0.7])] == [v.data for v in model([0.3, -0.7])]


def test_a_neuron_and_a_layer_save_and_load_too(tmp_path):
    for module in (nn.Neuron(3, "tanh", random.Random(1)), nn.Layer(3, 2, "linear", random.Random(2))):
        module.save(tmp_path / "m.json")
        loaded = nn.load(tmp_path / "m.json")
        assert type(loaded) is type(module) and loaded.state_dict() == module.state_dict()


def test_save_replaces_an_existing_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [1], seed=1).save(path)
    nn.MLP(2, [1], seed=2).save(path)
    assert nn.load(path).state_dict() == nn.MLP(2, [1], seed=2).state_dict()
    assert os.listdir(tmp_path) == ["model.json"]


def test_an_interrupted_save_leaves_the_old_model_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    nn.MLP(2, [4, 1], seed=1).save(path)
    before = path.read_bytes()

    def half_then_interrupt(obj, f, **kwargs):
        f.write(json.dumps(obj)[:50])
        raise KeyboardInterrupt

    monkeypatch.setattr(nn.files.json, "dump", half_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        nn.MLP(2, [4, 1], seed=2).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_a_save_failing_midway_through_serialisation_leaves_the_old_model_intact(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [4, 1], seed=1).save(path)
    before = path.read_bytes()
    model = nn.MLP(2, [4, 1], seed=2)
    model.layers[-1].neurons[0].b.data = object()  # json cannot write this, the last parameter
    with pytest.raises(TypeError):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def _good_file(tmp_path):
    path = tmp_path / "good.json"
    nn.MLP(2, [2, 1], seed=1).save(path)
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "content, words",
    [
        (lambda good: json.dumps(good)[:100].encode(), "invalid or truncated JSON"),
        (lambda good: b"", "invalid or truncated JSON"),
        (lambda good: random.Random(0).randbytes(300), "not UTF-8 text"),
        (lambda good: b'{"hello": "world"}', 'no "format": "gategrad-model" field'),
        (lambda good: b"[1, 2, 3]", 'no "format": "gategrad-model" field'),
        (lambda good: json.dumps({**good, "version": 2}).encode(), "version 2; this gategrad reads version 1"),
        (lambda good: json.dumps({**good, "model": "CNN"}).encode(), "unknown model 'CNN'"),
        (lambda good: json.dumps({**good, "config": [2]}).encode(), '"config" and "parameters" must be JSON objects'),
        (lambda good: json.dumps({**good, "config": {"nin": -2, "nouts": [1]}}).encode(), "nin must be at least 1"),
        (lambda good: json.dumps({**good, "config": {"nin": 2, "layers": [1]}}).encode(), "unexpected keyword"),
        (lambda good: json.dumps({**good, "parameters": {}}).encode(), "missing"),
        (lambda good: json.dumps({**good, "model": ["MLP"]}).encode(), "unknown model"),
        (
            lambda good: json.dumps({**good, "config": {"nin": 2, "nouts": [1], "activation": []}}).encode(),
            "activation",
        ),
        (
            lambda good: b'{"format": "gategrad-model", "version": 1, "x": 1' + b"9" * 5000 + b"}",
            "invalid or truncated",
        ),
        (lambda good: json.dumps(good).replace("0.0", "1" + "0" * 400).encode(), "too large for a float"),
    ],
    ids=[
        *("truncated", "empty", "random-bytes", "foreign", "list", "version", "model", "config", "nin", "key"),
        *("params", "model-list", "activation-list", "long-number", "huge-int"),
    ],
)
def test_a_broken_model_file_is_a_value_error_naming_the_file(tmp_path, content, words):
    path = tmp_path / "broken.json"
    path.write_bytes(content(_good_file(tmp_path)))
    with pytest.raises(ValueError, match=words) as error:
        nn.load(path)
    assert str(error.value).startswith(f"{path}: not a gategrad model file (")


def test_a_missing_model_file_is_file_not_found_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        nn.load(tmp_path / "nowhere.json")


def test_the_old_spellings_still_work_with_a_deprecation_warning():
    X, y = make_moons(20, seed=0)
    labels = [2 * c - 1 for c in y]
    histories = []
    for kwargs in ({"l2": 1e-2}, {"alpha": 1e-2}):
        model = nn.MLP(2, [4, 1], seed=0)
        opt = nn.SGD(model.parameters(), lr=0.5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            histories.append(nn.fit(model, X, labels, nn.hinge_loss, opt, 3, quiet=True, **kwargs))
        assert [w.category for w in caught] == ([DeprecationWarning] if "alpha" in kwargs else [])
    assert histories[0] == histories[1]
    with pytest.warns(DeprecationWarning, match="seed"):
        old = nn.Neuron(3, rng=random.Random(7))
    assert [w.data for w in old.w] == [w.data for w in nn.Neuron(3, seed=random.Random(7)).w]
    assert [w.data for w in nn.Neuron(3, seed=7).w] == [w.data for w in old.w]
