"""The seeds' own cases: cs231n's 0.5·reg without biases (`l2_penalty`), the overfit check, the dead 12288-64-1 net."""

import math
import random

import pytest

from gategrad import nn
from gategrad.cli import main
from gategrad.data import make_moons

np = pytest.importorskip("numpy")


def tiny_net():
    """A 3-2-2 net with every parameter set by hand: w = 0.1·(k+1) with alternating signs, b = 0.5 + 0.25·k."""
    model = nn.MLP(3, [2, 2], seed=0)
    state, w, b = {}, 0, 0
    for name, _ in model.named_parameters():
        if name.endswith(".b"):
            state[name], b = 0.5 + 0.25 * b, b + 1
        else:
            state[name], w = (-1) ** w * 0.1 * (w + 1), w + 1
    model.load_state_dict(state)
    return model


def test_l2_penalty_with_half_and_without_biases_is_cs231ns_half_reg_sum_of_squared_weights():
    model = tiny_net()
    weights = [0.1 * (k + 1) for k in range(10)]  # 3·2 + 2·2 weights; their signs square away
    biases = [0.5 + 0.25 * k for k in range(4)]
    reg = 0.05
    assert nn.l2_penalty(model, reg).data == pytest.approx(reg * sum(v * v for v in weights + biases), rel=1e-15)
    assert nn.l2_penalty(model, reg, half=True).data == pytest.approx(
        0.5 * reg * sum(v * v for v in weights + biases), rel=1e-15
    )
    assert nn.l2_penalty(model, reg, biases=False).data == pytest.approx(reg * sum(v * v for v in weights), rel=1e-15)
    assert nn.l2_penalty(model.named_parameters(), reg, half=True, biases=False).data == pytest.approx(
        0.5 * reg * sum(v * v for v in weights), rel=1e-15
    )


def test_l2_penalty_without_biases_gives_the_weights_reg_times_w_and_the_biases_nothing():
    model = tiny_net()
    nn.l2_penalty(model, 0.05, half=True, biases=False).backward()
    for name, p in model.named_parameters():
        assert p.grad == (0.0 if name.endswith(".b") else pytest.approx(0.05 * p.data, rel=1e-15)), name


def test_l2_penalty_without_biases_needs_the_names():
    with pytest.raises(ValueError, match="named_parameters"):
        nn.l2_penalty(tiny_net().parameters(), 0.05, biases=False)


def cs231n_toy():
    """cs231n's assignment 1 toy problem: 5 inputs of 4 features, 10 hidden ReLUs, 3 classes, std=1e-1 weights."""
    np.random.seed(0)
    W1, W2 = 1e-1 * np.random.randn(4, 10), 1e-1 * np.random.randn(10, 3)
    np.random.seed(1)
    X = 10 * np.random.randn(5, 4)
    model = nn.MLP(4, [10, 3], seed=0)
    state = {}
    for j in range(10):
        state |= {f"layers.0.neurons.{j}.w.{i}": float(W1[i, j]) for i in range(4)}
        state[f"layers.0.neurons.{j}.b"] = 0.0
    for k in range(3):
        state |= {f"layers.1.neurons.{k}.w.{j}": float(W2[j, k]) for j in range(10)}
        state[f"layers.1.neurons.{k}.b"] = 0.0
    model.load_state_dict(state)
    return model, X.tolist(), [0, 1, 2, 2, 1], (W1, W2)


@pytest.mark.parametrize(("reg", "half"), [(0.1, True), (0.05, False)])  # the 2016 assignment's, the 2017 one's
def test_cs231n_toy_loss_is_1_30378789133(reg, half):
    model, X, y, (W1, W2) = cs231n_toy()
    loss = nn.cross_entropy([model(x) for x in X], y) + nn.l2_penalty(model, reg, half=half, biases=False)
    assert loss.data == pytest.approx(1.30378789133, abs=1e-10)
    # The same by numpy, as the assignment writes it.
    scores = np.maximum(0, np.array(X) @ W1) @ W2
    probs = np.exp(scores - scores.max(1, keepdims=True))
    probs /= probs.sum(1, keepdims=True)
    factor = 0.5 * reg if half else reg
    expected = -np.log(probs[range(5), y]).mean() + factor * ((W1 * W1).sum() + (W2 * W2).sum())
    assert loss.data == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_fit_passes_l2_half_and_l2_biases_to_the_scalar_engine_and_to_replay_alike(batch_size):
    X, y = make_moons(12, noise=0.1, seed=1)
    labels = [2 * c - 1 for c in y]
    runs = {}
    for engine in ("scalar", "replay"):
        model = nn.MLP(2, [4, 1], seed=2)
        history = nn.fit(
            model, X, labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=0.5), 3,
            batch_size=batch_size, l2=0.3, l2_half=True, l2_biases=False, quiet=True, engine=engine,
        )  # fmt: skip
        runs[engine] = (history["loss"], [p.data for p in model.parameters()])
    assert runs["replay"][0] == pytest.approx(runs["scalar"][0], rel=1e-12)
    assert runs["replay"][1] == pytest.approx(runs["scalar"][1], rel=1e-12, abs=1e-15)

    # Step 0's loss by hand: the hinge loss plus 0.5·0.3 times the squared weights, no bias.
    model = nn.MLP(2, [4, 1], seed=2)
    batch = range(12) if batch_size is None else random.Random(0).sample(range(12), batch_size)
    hinge = nn.hinge_loss([model(X[i]) for i in batch], [labels[i] for i in batch]).data
    weights = [p.data for name, p in model.named_parameters() if not name.endswith(".b")]
    assert runs["scalar"][0][0] == pytest.approx(hinge + 0.15 * sum(w * w for w in weights), rel=1e-14)


def test_fit_without_l2_biases_leaves_a_bias_to_its_data_gradient_alone():
    X, y = [[1.0, 2.0], [-1.0, 0.5]], [1, -1]
    for engine in ("scalar", "replay"):
        model = nn.MLP(2, [1], seed=3)
        model.layers[0].neurons[0].b.data = 2.0
        training = nn.Training(
            model, X, y, nn.mse_loss, nn.SGD(model.parameters(), lr=0.0), l2=10.0, l2_biases=False, engine=engine
        )
        training.step()
        neuron = model.layers[0].neurons[0]
        z = [neuron.b.data + sum(w.data * x for w, x in zip(neuron.w, row)) for row in X]
        assert neuron.b.grad == pytest.approx(sum(2 * (zi - t) for zi, t in zip(z, y)) / 2, rel=1e-14), engine
        assert neuron.w[0].grad == pytest.approx(
            sum(2 * (zi - t) * row[0] for zi, t, row in zip(z, y, X)) / 2 + 20.0 * neuron.w[0].data, rel=1e-14
        ), engine


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_overfit_on_five_moons_drives_their_loss_near_0_and_exits_0(capsys):
    code, out, _ = run(capsys, "train", "--overfit", "5", "--loss", "cross_entropy", "--quiet")
    lines = out.splitlines()
    loss = float(lines[0].removeprefix("loss: "))
    assert code == 0
    assert loss < 0.05
    assert lines[-1] == f"overfit: yes, the loss on the 5 points fell to {loss:.3g}, below 0.05: the net fits them"


def test_overfit_with_a_tiny_lr_cannot_fit_five_moons_and_exits_1(capsys):
    code, out, _ = run(capsys, "train", "--overfit", "5", "--lr", "1e-5", "--quiet")
    loss = float(out.splitlines()[0].removeprefix("loss: "))
    assert code == 1
    assert loss > 0.9  # hinge from an untrained net: near its start
    assert out.splitlines()[-1].startswith(
        f"overfit: no, the loss on the 5 points is {loss:.3g} after 100 steps, not below 0.05: the net cannot fit"
    )


def test_overfit_trains_on_the_n_points_drawn_with_the_seed_without_l2(capsys):
    code, out, _ = run(capsys, "train", "--overfit", "4", "--hidden", "4", "--steps", "10", "--quiet", "--seed", "1")
    X, y = make_moons(100, noise=0.1, seed=1)
    chosen = sorted(random.Random(1).sample(range(100), 4))
    model = nn.MLP(2, [4, 1], seed=1)
    labels = [2 * y[i] - 1 for i in chosen]
    nn.fit(
        model, [X[i] for i in chosen], labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=1.0), 10,
        lr_schedule=lambda k: 1.0 - 0.9 * k / 10, quiet=True,
    )  # fmt: skip
    expected = nn.hinge_loss([model(X[i]) for i in chosen], labels).data
    assert float(out.splitlines()[0].removeprefix("loss: ")) == pytest.approx(expected, rel=1e-5)
    assert code == (0 if expected < 0.05 else 1)


def test_overfit_more_points_than_the_dataset_has_is_a_one_line_error(capsys):
    code, out, err = run(capsys, "train", "--overfit", "101", "--quiet")
    assert code == 2 and out == ""
    assert err == "error: train: --overfit 101 is more than the 100 points of moons\n"


class Seed003:
    """Seed 003's 12288-64-1 relu/sigmoid net on 8 synthetic images /255, trained with the check's traced arrays."""

    m = 8

    def __init__(self):
        from gategrad.check import trace

        self.trace = trace
        rng = np.random.default_rng(3)
        self.Y = np.array([0, 1] * (self.m // 2), dtype=float).reshape(self.m, 1)
        images = rng.integers(0, 256, size=(self.m, 64, 64, 3)).astype(float)
        cats = self.Y[:, 0] == 1
        images[cats, 16:48, 16:48, 0] = np.minimum(255, images[cats, 16:48, 16:48, 0] + 80)
        self.X = images.reshape(self.m, -1) / 255

    @staticmethod
    def init():
        r = np.random.default_rng(0)
        return {
            "W1": r.standard_normal((12288, 64)) * 0.01,
            "b1": np.zeros(64),
            "W2": r.standard_normal((64, 1)) * 0.01,
            "b2": np.zeros(1),
        }

    def loss(self, p):
        a1 = np.maximum(0, self.X @ p["W1"] + p["b1"])
        z2 = a1 @ p["W2"] + p["b2"]
        return np.mean(np.maximum(z2, 0) - z2 * self.Y + np.log(1 + np.exp(-np.maximum(z2, -z2))))

    def grads(self, p):
        traced = {name: self.trace.Traced(a, made=False) for name, a in p.items()}
        root = self.loss(traced)
        grads = self.trace.backward(root)
        return float(root.value), {name: grads[id(t)] for name, t in traced.items()}

    def train(self, lr, steps):
        """Each step's (loss, dead ReLUs: units giving 0 on every image), from before its update."""
        p, history = self.init(), []
        for _ in range(steps):
            value, g = self.grads(p)
            history.append((value, int((np.maximum(0, self.X @ p["W1"] + p["b1"]) == 0).all(axis=0).sum())))
            p = {name: p[name] - lr * g[name] for name in p}
        return history


def test_seed_003s_backprop_without_the_mean_is_m_times_the_engines_gradient():
    net = Seed003()
    p = net.init()
    _, true = net.grads(p)
    a1 = np.maximum(0, net.X @ p["W1"] + p["b1"])
    a2 = 1 / (1 + np.exp(-(a1 @ p["W2"] + p["b2"])))
    dz2 = a2 - net.Y  # the learner's: no / m
    dz1 = (dz2 @ p["W2"].T) * (a1 > 0)
    yours = {"W1": net.X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}
    for name in true:
        assert np.allclose(yours[name], net.m * true[name], rtol=1e-9, atol=1e-12), name


@pytest.mark.slow
def test_seed_003s_net_explodes_then_every_relu_is_dead_by_step_4_and_the_loss_sits_at_ln_2():
    history = Seed003().train(0.15 * Seed003.m, 20)  # the learner's lr 0.15 on a sum: 0.15·m on the mean
    assert history[0][0] == pytest.approx(0.6893, abs=1e-4)
    assert max(loss for loss, _ in history) > 50  # 1625.9 on these images
    assert [dead for _, dead in history[4:]] == [64] * 16
    assert history[-1][0] == pytest.approx(math.log(2), abs=1e-4)


@pytest.mark.slow
def test_seed_003s_net_with_the_mean_fixed_still_dies_and_at_lr_0_01_it_learns():
    fixed = Seed003().train(0.15, 20)
    assert fixed[-1][1] == 64
    assert fixed[-1][0] == pytest.approx(math.log(2), abs=1e-3)
    slow = Seed003().train(0.01, 40)
    assert slow[-1][0] < 0.3
    assert slow[-1][1] == 16  # the 15 units dead from the start, and one more


@pytest.mark.slow
def test_seed_003s_run_recorded_by_replay_has_the_array_paths_losses_and_dead_relus(monkeypatch):
    """The Recorder's health figures for the learner's run, worked out by replay, against the check's arrays."""
    net = Seed003()
    p = net.init()
    model = nn.MLP(12288, [64, 1])
    layers = [np.hstack([p["W1"].T, p["b1"][:, None]]), np.hstack([p["W2"].T, p["b2"][:, None]])]
    for parameter, x in zip(model.parameters(), np.concatenate([layer.ravel() for layer in layers]).tolist()):
        parameter.data = x
    monkeypatch.setattr(nn.train, "GROWTH", math.inf)  # the learner's loop did not stop at 1,626
    recorder = nn.Recorder()
    optimizer = nn.SGD(model.parameters(), lr=0.15 * net.m)
    nn.fit(model, net.X, net.Y[:, 0].tolist(), nn.bce_with_logits, optimizer, 20, quiet=True, engine="replay",
           record=recorder)  # fmt: skip
    history = net.train(0.15 * net.m, 20)
    assert [("parameters" in step) for step in recorder.steps] == [True] + [False] * 19  # 786,561 parameters
    dead = [round(recorder.health(k)["layers"][0]["dead_relu"] * 64) for k in range(20)]
    assert dead == [d for _, d in history] and dead[4:] == [64] * 16
    for step, (loss, _) in zip(recorder.steps, history):
        assert step["loss"] == pytest.approx(loss, rel=1e-9)
    ratios = [recorder.health(k)["layers"][0]["update_ratio"] for k in range(20)]
    assert ratios[4:] == [0.0] * 16 and ratios[2] > 10


def test_seed_002s_slips_each_differ_from_the_engines_softmax_gradient_p_minus_y():
    """cross_entropy's gradient at the logits is p - y; dropping (2.3)'s Σₖ zeroes the wrong classes' entries and a
    stray -Σₖ takes 1 from each of them."""
    from gategrad.engine import Value

    logits = [Value(2.0), Value(1.0), Value(0.1)]
    nn.cross_entropy([logits], [0]).backward()
    exps = [math.exp(z.data) for z in logits]
    p = [e / sum(exps) for e in exps]
    y = [1.0, 0.0, 0.0]
    assert [z.grad for z in logits] == pytest.approx([pi - yi for pi, yi in zip(p, y)], rel=1e-14)
    dropped = [-yi * (1 - pi) for pi, yi in zip(p, y)]
    stray = [pi - sum(y) for pi in p]
    assert dropped[0] == stray[0] == pytest.approx(logits[0].grad, rel=1e-14)  # both right at the label
    assert dropped[1:] == [0.0, 0.0] != pytest.approx([z.grad for z in logits[1:]])
    assert [s - z.grad for s, z in zip(stray[1:], logits[1:])] == pytest.approx([-1.0, -1.0], rel=1e-14)
