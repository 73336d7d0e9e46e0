"""gategrad.nn: modules, losses and optimizers against PyTorch float64, training quality, model files."""

import dataclasses
import io
import json
import math
import os
import random
import re
import tracemalloc
import warnings

import micrograd.engine
import micrograd.nn
import pytest

from gategrad import files, nn
from gategrad.cli import build_parser
from gategrad.cli.common import CommandError
from gategrad.data import make_moons, make_spiral, make_xor
from gategrad.engine import GATES, Value, fmt, topological_order
from gategrad.explain.lang import gate_numbers, translator

# ---- modules ----


def test_a_neuron_sums_bias_and_weighted_inputs_in_one_add_gate():
    n = nn.Neuron(3, activation="linear")
    n.w[0].data, n.w[1].data, n.w[2].data, n.b.data = 2.0, -1.0, 0.5, 0.25
    out = n([1.0, 3.0, 4.0])
    assert out.data == 2.0 - 3.0 + 2.0 + 0.25
    assert out.op == "add"
    assert out.children[0] is n.b
    assert len(out.children) == 4


def test_the_activations_are_the_gates_the_table_marks_as_one_and_linear():
    assert list(nn.ACTIVATIONS) == [op for op, gate in GATES.items() if gate.activation] + ["linear"]
    assert nn.ACTIVATIONS["relu"] is Value.relu and nn.ACTIVATIONS["linear"] is None
    choices = ", ".join(repr(a) for a in nn.ACTIVATIONS)
    with pytest.raises(CommandError, match=re.escape(f"invalid choice: 'gelu' (choose from {choices})")):
        build_parser().parse_args(["train", "--activation", "gelu"])


@pytest.mark.parametrize("activation", [a for a in nn.ACTIVATIONS if a != "linear"])
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
        (lambda: nn.Neuron(2, activation="gelu"), ValueError, f"activation must be one of {', '.join(nn.ACTIVATIONS)}"),
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


def test_accuracy_reads_replays_arrays_by_the_same_rule():
    import numpy as np

    assert nn.accuracy(np.array([0.5, -0.1, 2.0]), [1, -1, -1]) == 2 / 3
    assert nn.accuracy(np.array([[0.1, 0.9, 0.9], [3.0, -1.0, 0.0]]), [2, 0]) == 0.5


def test_accuracy_counts_outputs_and_labels_whatever_the_outputs_are():
    assert nn.accuracy((s for s in [0.5, -0.1, 2.0]), [1, -1, -1]) == 2 / 3
    with pytest.raises(ValueError, match="^accuracy: 3 outputs but 2 labels$"):
        nn.accuracy(iter([0.5, -0.1, 2.0]), [1, -1])
    with pytest.raises(ValueError, match="^accuracy: 1 outputs but 2 labels$"):
        nn.accuracy([0.5], [1, -1])
    with pytest.raises(ValueError, match="^accuracy: no samples$"):
        nn.accuracy([], [])


def test_predict_gives_the_numbers_of_each_output():
    X = [[0.5, -1.0], [2.0, 0.25]]
    one, three = nn.MLP(2, [4, 1], seed=3), nn.MLP(2, [4, 3], seed=3)
    assert nn.predict(one, X) == [one(x).data for x in X]
    assert nn.predict(three, X) == [[v.data for v in three(x)] for x in X]
    assert all(type(s) is float for s in nn.predict(one, X))


def _peak_bytes(run):
    """The most memory (tracemalloc) that `run()` held at once beyond what was held before it."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_predict_and_accuracy_on_a_generator_hold_one_samples_circuit_at_a_time():
    model = nn.MLP(2, [64, 64, 1], seed=0)
    X, y = make_moons(100, noise=0.1, seed=0)
    one_circuit = _peak_bytes(lambda: model(X[0]))  # measured: 0.64 MB
    keeping_all = _peak_bytes(lambda: nn.accuracy([model(x) for x in X], y))  # measured: 65 MB, 100 circuits
    assert keeping_all > 50 * one_circuit
    assert _peak_bytes(lambda: nn.predict(model, X)) < 1.5 * one_circuit  # measured: 1.01x
    assert _peak_bytes(lambda: nn.accuracy((model(x) for x in X), y)) < 2.5 * one_circuit  # measured: 2.01x


# ---- optimizers against torch.optim ----


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


def test_a_training_stepped_by_hand_takes_fits_steps_with_the_same_numbers():
    X, y = make_moons(30, seed=2)

    def parts():
        model = nn.MLP(2, [4, 1], seed=0)
        return model, (model, X, y, nn.bce_with_logits, nn.Adam(model.parameters(), lr=0.1))

    fitted, args = parts()
    history = nn.fit(*args, 6, batch_size=8, l2=1e-3, lr_schedule=lambda k: 0.1 / (k + 1), seed=3, quiet=True)
    stepped, args = parts()
    training = nn.Training(*args, batch_size=8, l2=1e-3, lr_schedule=lambda k: 0.1 / (k + 1), seed=3)
    taken = [training.step() for _ in range(6)]
    assert taken == list(zip(history["loss"], history["accuracy"]))
    assert training.history == history and training.steps == 6
    assert training.optimizer.lr == 0.1 / 6
    assert len(training.batch) == 8
    assert stepped.state_dict() == fitted.state_dict()


def test_a_training_that_diverges_says_at_which_step_as_fit_does():
    neuron = nn.Neuron(1, activation="linear")
    neuron.w[0].data = 0.5
    training = nn.Training(neuron, [[10.0]], [-10], nn.mse_loss, nn.SGD(neuron.parameters(), lr=1e-3))
    assert training.step() == (225.0, 0.0)  # (10 w + b + 10)^2 at w = 0.5, b = 0; score 15 > 0, label -10
    training.optimizer.lr = 1e307
    with pytest.raises(nn.TrainingDiverged) as diverged:
        training.step()
    assert diverged.value.step == 2 and training.steps == 2
    assert diverged.value.history == training.history and len(training.history["loss"]) == 2


def test_fit_stops_at_the_first_step_whose_loss_overflows_and_names_the_gate():
    X, y = make_moons(100, noise=0.1, seed=0)
    labels = [2 * c - 1 for c in y]
    model = nn.MLP(2, [16, 16, 1], seed=0)
    squares = nn.l2_penalty(model.parameters(), 1.0).data  # sum of p*p, as fit's L2 gate sees it
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(model, X, labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=1.0), 100, l2=1e308, quiet=True)
    assert diverged.value.step == 1 and diverged.value.history == {"loss": [], "accuracy": []}
    assert (
        diverged.value.where == f"the mul gate gave inf from the finite inputs {fmt(squares)} (local gradient 1e+308)"
    )
    assert str(diverged.value) == f"training diverged at step 1: {diverged.value.where}"


def test_fit_stops_when_an_update_makes_a_parameter_infinite_and_names_it():
    neuron = nn.Neuron(1, activation="linear")
    neuron.w[0].data = 0.5
    # loss (10 w + b + 10)^2 = 225 at w = 0.5, b = 0: gradient 2 * 15 * 10 = 300 for w
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(neuron, [[10.0]], [-10], nn.mse_loss, nn.SGD(neuron.parameters(), lr=1e307), 5, quiet=True)
    assert diverged.value.step == 1 and diverged.value.history["loss"] == [225.0]
    assert diverged.value.where == "the SGD update (lr 1e+307, gradient 300) made parameter w.0 -inf"


def test_fit_stops_at_a_finite_loss_whose_gradient_is_not_finite_before_the_update():
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()

    def log_of_tiny(outputs, labels):  # log(5e-324) is finite; its local gradient 1/5e-324 is inf
        return (outputs[0] * 0.0 + 5e-324).log()

    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(model, [[1.0, 2.0]], [1], log_of_tiny, nn.SGD(model.parameters(), lr=0.1), 5, quiet=True)
    assert diverged.value.step == 1
    assert (
        diverged.value.where
        == f"the log gate = {fmt(math.log(5e-324))} sent back a gradient of inf: its gradient 1 × local gradient inf"
    )
    assert model.state_dict() == before


def _said(diverged, code):
    """Why training stopped, in the language `code`, with the gates named in it."""
    return diverged.where_in(translator(code), **gate_numbers(diverged.numbers, code))


def test_a_loss_grown_over_1000_times_stops_training_and_is_said_in_each_language():
    neuron = nn.Neuron(1, activation="linear")
    neuron.w[0].data = 0.5
    # loss (w + b)^2 = 0.25 at w = 0.5, b = 0; both gradients 2 * 0.5 = 1, so lr 10 moves w to -9.5 and b to -10
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(neuron, [[1.0]], [0.0], nn.mse_loss, nn.SGD(neuron.parameters(), lr=10.0), 5, quiet=True)
    first, grown = 0.5**2, (-9.5 - 10.0) ** 2
    assert grown > 1000 * first
    e = diverged.value
    assert (e.step, e.kind, e.history["loss"]) == (2, "grown", [first, grown])
    assert e.numbers == {"first": fmt(first), "loss": fmt(grown), "n": "1000", "optimizer": "SGD", "lr": "10"}
    assert str(e) == (
        f"training diverged at step 2: the loss grew from 0.25 at step 1 to {fmt(grown)}, over 1000 times: "
        "the SGD steps overshoot (lr 10 at this step); try Adam or a smaller lr"
    )
    assert _said(e, "zh") == (
        f"损失从第 1 步的 0.25 增长到 {fmt(grown)}，超过了 1000 倍：SGD 的更新步长过大，越过了极小值"
        "（本步学习率为 10）；请改用 Adam 或更小的学习率"
    )
    assert _said(e, "ru") == (
        f"потери выросли с 0.25 на шаге 1 до {fmt(grown)}, более чем в 1000 раз: шаги SGD слишком велики и "
        "проскакивают минимум (скорость обучения на этом шаге 10); попробуйте Adam или меньшую скорость обучения"
    )
    assert _said(e, "en") == e.where


def _update_made_w_infinite():
    neuron = nn.Neuron(1, activation="linear")
    neuron.w[0].data = 0.5  # loss (10 w + b + 10)^2: w's gradient 2 * 15 * 10 = 300, and 0.5 - 1e307 * 300 = -inf
    return neuron, [[10.0]], [-10], nn.mse_loss, 1e307


def _w_not_a_number():
    neuron = nn.Neuron(1, activation="linear")
    neuron.w[0].data = math.nan
    return neuron, [[10.0]], [-10], nn.mse_loss, 0.1


def _w_gradient_adds_up_to_inf():
    neuron = nn.Neuron(1, activation="linear")
    neuron.w[0].data = 0.25  # the outputs are 0.25 and the loss 5e307: finite

    def twice(outputs, labels):  # each sample's output brings w a gradient of 1e308 * x = 1e308: together inf
        return outputs[0] * 1e308 + outputs[1] * 1e308

    return neuron, [[1.0], [1.0]], [0, 0], twice, 0.1


@pytest.mark.parametrize(
    ("case", "en", "zh", "ru"),
    [
        (
            _update_made_w_infinite,
            "the SGD update (lr 1e+307, gradient 300) made parameter w.0 -inf",
            "SGD 更新（学习率 1e+307，梯度 300）使参数 w.0 变成了 -inf",
            "обновление SGD (скорость обучения 1e+307, градиент 300) сделало параметр w.0 равным -inf",
        ),
        (_w_not_a_number, "parameter w.0 is nan", "参数 w.0 为 nan", "параметр w.0 равен nan"),
        (
            _w_gradient_adds_up_to_inf,
            "the gradient of parameter w.0 added up to inf",  # b's is inf too: w.0 comes first in backward order
            "参数 w.0 的梯度累加为 inf",
            "сумма вкладов в градиент параметра w.0 равна inf",
        ),
    ],
    ids=["update", "parameter", "parameter-gradient"],
)
def test_a_parameter_that_stops_training_is_named_in_each_language(case, en, zh, ru):
    model, X, y, loss_fn, lr = case()
    with pytest.raises(nn.TrainingDiverged) as diverged:
        nn.fit(model, X, y, loss_fn, nn.SGD(model.parameters(), lr=lr), 5, quiet=True)
    e = diverged.value
    w = dict(model.named_parameters())[e.numbers["name"]]
    assert not (math.isfinite(w.data) and math.isfinite(w.grad))
    assert (e.step, e.where) == (1, en)
    assert _said(e, "zh") == zh
    assert _said(e, "ru") == ru


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


@pytest.mark.slow
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


@pytest.mark.slow
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
    assert doc["format"] == "gategrad-model" and doc["version"] == 2 and doc["model"] == "MLP"
    assert "data" not in doc and nn.load(path).data_info is None
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

    def interrupt(fd):
        raise KeyboardInterrupt  # the new file is written, not yet renamed over the old one

    monkeypatch.setattr(files.os, "fsync", interrupt)
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
        (lambda good: json.dumps({**good, "version": 3}).encode(), "version 3; this gategrad reads version 1, 2"),
        (lambda good: json.dumps({**good, "version": True}).encode(), "version True; this gategrad reads version 1, 2"),
        (lambda good: json.dumps({**good, "model": "CNN"}).encode(), "unknown model 'CNN'"),
        (lambda good: json.dumps({**good, "config": [2]}).encode(), '"config" and "parameters" must be JSON objects'),
        (lambda good: json.dumps({**good, "config": {"nin": -2, "nouts": [1]}}).encode(), "nin must be at least 1"),
        (lambda good: json.dumps({**good, "config": {"nin": 2, "layers": [1]}}).encode(), "unknown key 'layers' in"),
        (lambda good: json.dumps({**good, "parameters": {}}).encode(), "nin is 2, more than the 0 parameters"),
        (lambda good: json.dumps({**good, "model": ["MLP"]}).encode(), "unknown model"),
        (
            lambda good: json.dumps({**good, "config": {"nin": 2, "nouts": [2, 1], "activation": []}}).encode(),
            "activation",
        ),
        (
            lambda good: b'{"format": "gategrad-model", "version": 1, "x": 1' + b"9" * 5000 + b"}",
            "invalid or truncated",
        ),
        (lambda good: json.dumps(good).replace("0.0", "1" + "0" * 400).encode(), "too large for a float"),
    ],
    ids=[
        *("truncated", "empty", "random-bytes", "foreign", "list", "version", "version-bool", "model", "config", "nin"),
        "key",
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


def test_a_version_1_file_still_loads_without_data_info(tmp_path):
    model = nn.MLP(2, [3, 1], seed=4)
    doc = {"format": "gategrad-model", "version": 1, "model": "MLP", "config": model.config()}
    (tmp_path / "v1.json").write_text(json.dumps({**doc, "parameters": model.state_dict()}))
    loaded = nn.load(tmp_path / "v1.json")
    assert loaded.state_dict() == model.state_dict() and loaded.data_info is None


IRIS_INFO = nn.DataInfo(
    features=["sepal_length", "sepal_width", "petal_length", "petal_width"],
    target="species",
    mean=[5.843333333333334, 3.0573333333333337, 3.7580000000000005, 1.1993333333333331],
    scale=[0.8253012917851409, 0.4344109677354946, 1.759404065775303, 0.7596926279021594],
    classes=["setosa", "versicolor", "virginica"],
    loss="cross_entropy",
)


def test_data_info_is_saved_in_a_data_section_and_loads_back_exactly(tmp_path):
    model = nn.MLP(4, [5, 3], seed=2)
    model.data_info = IRIS_INFO
    model.save(tmp_path / "iris.json")
    doc = json.loads((tmp_path / "iris.json").read_text())
    assert doc["version"] == 2
    assert doc["data"] == {
        "features": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
        "target": "species",
        "mean": [5.843333333333334, 3.0573333333333337, 3.7580000000000005, 1.1993333333333331],
        "scale": [0.8253012917851409, 0.4344109677354946, 1.759404065775303, 0.7596926279021594],
        "classes": ["setosa", "versicolor", "virginica"],
        "loss": "cross_entropy",
    }
    loaded = nn.load(tmp_path / "iris.json")
    assert loaded.data_info == IRIS_INFO
    assert loaded.data_info.mean == (5.843333333333334, 3.0573333333333337, 3.7580000000000005, 1.1993333333333331)
    assert loaded.data_info.outputs == 3


def test_a_regression_has_no_classes_and_one_output(tmp_path):
    info = nn.DataInfo(["x"], "y", [0.5], [2.0], None, "mse")
    assert info.outputs == 1 and info.classes is None
    model = nn.MLP(1, [4, 1], seed=0)
    model.data_info = info
    model.save(tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["data"]["classes"] is None
    assert nn.load(tmp_path / "r.json").data_info == info


@pytest.mark.parametrize(
    "change, error, words",
    [
        ({"features": "abcd"}, TypeError, "features must be a list of names"),
        ({"features": []}, ValueError, "features must be at least 1 non-empty names"),
        ({"features": ["a", "a", "b", "c"]}, ValueError, "features names one twice"),
        ({"target": ""}, TypeError, "target must be a column name"),
        ({"target": "sepal_width"}, ValueError, "target 'sepal_width' is also a feature"),
        ({"mean": [0.0, 0.0, 0.0]}, ValueError, "mean has 3 numbers for 4 features"),
        ({"mean": [0.0, 0.0, 0.0, "1"]}, TypeError, "mean must hold numbers, got str"),
        ({"mean": [0.0, 0.0, 0.0, math.nan]}, ValueError, "mean must hold finite numbers"),
        ({"scale": [1.0, 1.0, 0.0, 1.0]}, ValueError, "every scale must be positive"),
        ({"scale": [1.0, 1.0, -2.0, 1.0]}, ValueError, "every scale must be positive"),
        ({"scale": [1.0, 1.0, 10**400, 1.0]}, ValueError, "scale holds a number too large for a float"),
        ({"classes": ["setosa"]}, ValueError, "classes must be at least 2 non-empty names"),
        ({"classes": None}, ValueError, "loss cross_entropy does not fit classes None"),
        ({"loss": "mse"}, ValueError, "loss mse does not fit classes"),
        ({"loss": "hinge"}, ValueError, "loss hinge needs two classes, got 3"),
        ({"loss": "l1"}, ValueError, "loss must be one of hinge, bce, cross_entropy, mse"),
    ],
)
def test_data_info_refuses_what_a_model_file_could_not_hold(change, error, words):
    with pytest.raises(error, match=words):
        nn.DataInfo(**{**dataclasses.asdict(IRIS_INFO), **change})


def test_save_refuses_data_info_that_does_not_fit_the_model_and_writes_nothing(tmp_path):
    model = nn.MLP(3, [5, 3], seed=2)
    model.data_info = IRIS_INFO
    with pytest.raises(ValueError, match="data_info names 4 features, the model takes 3 inputs"):
        model.save(tmp_path / "m.json")
    model = nn.MLP(4, [5, 1], seed=2)
    model.data_info = IRIS_INFO
    with pytest.raises(
        ValueError, match=r"data_info \(3 classes and loss cross_entropy\) needs 3 outputs, the model has 1"
    ):
        model.save(tmp_path / "m.json")
    model.data_info = {"features": ["a"]}
    with pytest.raises(TypeError, match="data_info must be a DataInfo or None, got dict"):
        model.save(tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


def _data_file(tmp_path):
    model = nn.MLP(4, [5, 3], seed=2)
    model.data_info = IRIS_INFO
    model.save(tmp_path / "good.json")
    return json.loads((tmp_path / "good.json").read_text())


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda doc: {**doc, "version": 1}, 'a "data" section in a version 1 file; it came with version 2'),
        (lambda doc: {**doc, "data": [1]}, 'the "data" section must be a JSON object, got list'),
        (lambda doc: {**doc, "data": None}, 'the "data" section must be a JSON object, got NoneType'),
        (lambda doc: {**doc, "data": {**doc["data"], "seed": 1}}, "found 'classes', 'features', 'loss', 'mean'"),
        (lambda doc: {**doc, "data": {k: v for k, v in doc["data"].items() if k != "loss"}}, "must have the keys"),
        (lambda doc: {**doc, "data": {**doc["data"], "mean": [0, 0, 0]}}, '"data": mean has 3 numbers for 4 features'),
        (lambda doc: {**doc, "data": {**doc["data"], "scale": [1, 1, 1, 0]}}, '"data": every scale must be positive'),
        (lambda doc: {**doc, "data": {**doc["data"], "classes": ["a", "b"]}}, '"data": data_info (2 classes and loss'),
        (lambda doc: {**doc, "data": {**doc["data"], "features": ["a", "b"]}}, '"data": mean has 4 numbers for 2'),
    ],
    ids=["v1", "not-object", "null", "extra-key", "missing-key", "mean-length", "zero-scale", "outputs", "features"],
)
def test_a_broken_data_section_is_a_value_error_naming_the_file(tmp_path, change, words):
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(change(_data_file(tmp_path))))
    with pytest.raises(ValueError) as error:
        nn.load(path)
    assert str(error.value).startswith(f"{path}: not a gategrad model file (") and words in str(error.value)


def test_a_non_finite_number_in_the_data_section_is_refused(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(json.dumps(_data_file(tmp_path)).replace("5.843333333333334", "NaN"))
    with pytest.raises(ValueError, match='"data": mean must hold finite numbers, got nan'):
        nn.load(path)


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


# ---- model files are read bounded and strictly ----


def _claiming(tmp_path, config, parameters=9, pad_to=16 * 1024):
    """A 16 KB MLP file whose config claims `config` while it holds `parameters` weights."""
    doc = {
        "format": "gategrad-model",
        "version": 1,
        "model": "MLP",
        "config": {**config, "activation": "relu"},
        "parameters": {f"p{i}": 0.5 for i in range(parameters)},
    }
    text = json.dumps(doc)
    path = tmp_path / "claims.json"
    path.write_text(text + " " * (pad_to - len(text)))
    return path


@pytest.mark.parametrize(
    "config, field",
    [
        ({"nin": 1_000_000_000, "nouts": [1]}, "config nin is 1,000,000,000, more than the 9 parameters the file"),
        ({"nin": 2, "nouts": [100_000, 100_000, 1]}, "config nouts[0] is 100,000, more than the 9 parameters the"),
        ({"nin": 2, "nouts": [10**12, 1]}, "config nouts[0] is 1,000,000,000,000, more than the 9 parameters"),
        ({"nin": 2, "nouts": [2, 4]}, '"config" describes 18 parameters, "parameters" holds 9)'),
    ],
    ids=["huge-nin", "huge-layers", "10**12", "sum"],
)
def test_a_file_claiming_more_than_it_holds_is_refused_before_anything_is_built(tmp_path, monkeypatch, config, field):
    built = []
    monkeypatch.setitem(nn.serialization._MODULES, "MLP", lambda **kwargs: built.append(kwargs))
    path = _claiming(tmp_path, config)
    assert path.stat().st_size == 16 * 1024
    with pytest.raises(ValueError) as error:
        nn.load(path)
    assert str(error.value).startswith(f"{path}: not a gategrad model file ({field}")
    assert built == []


def test_a_file_with_more_parameters_than_the_documented_cap_is_refused(tmp_path, monkeypatch):
    nn.MLP(2, [2, 1], seed=1).save(tmp_path / "m.json")  # 9 parameters
    monkeypatch.setattr(nn.serialization, "MAX_PARAMETERS", 8)
    with pytest.raises(ValueError, match=r'\("parameters" holds 9, more than the limit of 8\)$'):
        nn.load(tmp_path / "m.json")


def test_a_file_over_the_byte_cap_is_refused_unread(tmp_path, monkeypatch):
    nn.MLP(2, [2, 1], seed=1).save(tmp_path / "m.json")
    size = (tmp_path / "m.json").stat().st_size
    monkeypatch.setattr(nn.serialization, "MAX_BYTES", size - 1)
    with pytest.raises(ValueError, match=f"m.json: {size:,} bytes, more than the limit of {size - 1:,}$"):
        nn.load(tmp_path / "m.json")


def test_the_documented_caps_fit_the_largest_model_the_issue_names():
    held = 1000 * (2 + 1) + 1000 * (1000 + 1) + 1 * (1000 + 1)  # MLP(2, [1000, 1000, 1])
    assert held == 1_005_001 <= nn.serialization.MAX_PARAMETERS
    name = "layers.1.neurons.999.w.999"  # its longest name, with a 17-digit weight and indent=1
    assert nn.serialization.MAX_PARAMETERS * len(f' "{name}": -0.12345678901234567,\n') <= nn.serialization.MAX_BYTES


@pytest.mark.parametrize("version", ['"2"', "2.0", "true", "3", "null"])
def test_the_version_must_be_an_integer_the_loader_knows(tmp_path, version):
    path = tmp_path / "m.json"
    nn.MLP(2, [1], seed=1).save(path)
    path.write_text(path.read_text().replace('"version": 2', f'"version": {version}'))
    with pytest.raises(ValueError, match=r"\(version .*; this gategrad reads version 1, 2\)$"):
        nn.load(path)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: t.replace('"version": 2,', '"version": 2, "version": 2,'), "the key 'version' appears twice"),
        (
            lambda t: t.replace('"layers.0.neurons.0.b":', '"layers.0.neurons.0.b": 7.0, "layers.0.neurons.0.b":'),
            "the key 'layers.0.neurons.0.b' appears twice",
        ),
        (lambda t: t.replace('"version": 2,', '"version": 2, "comment": "hi",'), "unknown key 'comment'"),
        (lambda t: t.replace('"nin": 2,', '"nin": 2, "seed": 3,'), "unknown key 'seed' in \"config\""),
    ],
    ids=["duplicate-top", "duplicate-parameter", "unknown-top", "unknown-config"],
)
def test_duplicate_and_unknown_keys_are_refused(tmp_path, edit, message):
    path = tmp_path / "m.json"
    nn.MLP(2, [1], seed=1).save(path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.load(path)


@pytest.mark.parametrize("token, shown", [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("1e999", "inf")])
def test_a_non_finite_weight_is_refused_naming_the_first(tmp_path, token, shown):
    path = tmp_path / "m.json"
    model = nn.MLP(2, [2, 1], seed=1)
    model.save(path)
    text = path.read_text()
    for name in ("layers.0.neurons.1.w.0", "layers.1.neurons.0.b"):  # the first, then a later one
        old = f'"{name}": {model.state_dict()[name]!r}'
        assert old in text
        text = text.replace(old, f'"{name}": {token}')
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"(parameter layers.0.neurons.1.w.0 is {shown}; every weight")):
        nn.load(path)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_save_refuses_a_non_finite_weight_and_keeps_the_old_file(tmp_path, bad):
    path = tmp_path / "m.json"
    nn.MLP(2, [2, 1], seed=1).save(path)
    before = path.read_bytes()
    model = nn.MLP(2, [2, 1], seed=2)
    model.layers[1].neurons[0].w[1].data = bad
    with pytest.raises(ValueError, match=f"cannot save {path}: parameter layers.1.neurons.0.w.1 is {bad}"):
        model.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.json"]


@pytest.mark.parametrize("kind", ["directory", "dev-zero", "symlink-to-urandom"])
def test_load_refuses_what_is_not_a_regular_file(tmp_path, kind):
    path = {"directory": tmp_path, "dev-zero": "/dev/zero", "symlink-to-urandom": tmp_path / "m.json"}[kind]
    if kind == "symlink-to-urandom":
        path.symlink_to("/dev/urandom")
    with pytest.raises(ValueError, match=f"^{path}: not a regular file"):
        nn.load(path)
