"""The playground's network lab in Python: `gategrad train`'s numbers a step at a time, and what the page draws."""

import json
import math
import subprocess
import sys

import pytest

from gategrad import nn
from gategrad.cli import main
from gategrad.data import DATASETS
from gategrad.engine import topological_order
from gategrad.explain.lang import sentence
from gategrad.nn.tags import neuron_calls
from gategrad.playground import bridge, net
from gategrad.viz import plot
from gategrad.viz.viewer import read_record

STEPS = 6


def train_cli(tmp_path, *options):
    """The losses and accuracies `gategrad train --schedule constant --engine scalar` records, step by step."""
    page = tmp_path / "run.html"
    argv = ["train", "--schedule", "constant", "--steps", str(STEPS), "--engine", "scalar", "--quiet"]
    assert main([*argv, *options, "--record", str(page)]) == 0
    steps = read_record(page)["steps"]
    return [s["loss"] for s in steps], [s["accuracy"] for s in steps]


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


@pytest.mark.parametrize(
    "settings, options",
    [
        ({}, []),
        (
            {"dataset": "spiral", "hidden": "8", "activation": "tanh", "optimizer": "adam", "seed": 3, "batch": 32},
            ["--dataset", "spiral", "--hidden", "8", "--activation", "tanh", "--optimizer", "adam", "--seed", "3"]
            + ["--batch-size", "32"],
        ),
        (
            {"dataset": "circles", "loss": "bce", "lr": 0.3, "l2": 0.01},
            ["--dataset", "circles", "--loss", "bce", "--lr", "0.3", "--l2", "0.01"],
        ),
    ],
    ids=["defaults", "spiral-adam-batches", "circles-bce"],
)
def test_after_n_steps_the_labs_losses_are_train_s(tmp_path, settings, options):
    losses, accuracies = train_cli(tmp_path, *options)
    view = net.handle("reset", settings)
    assert view["step"] == 0 and view["loss"] is None and view["losses"] == []
    view = net.handle("step", {"n": 2})
    net.handle("walk", {"target": {"neuron": "0:1"}})  # a walk leaves the run as it was
    net.handle("walk", {"target": {"sample": 3}})
    view = net.handle("step", {"n": STEPS - 2})
    assert view["step"] == STEPS
    assert len(view["losses"]) == STEPS
    assert all(close(a, b) for a, b in zip(view["losses"], losses))
    assert close(view["loss"], losses[-1])
    assert view["accuracies"] == accuracies


def test_defaults_are_train_s():
    view = net.handle("reset", {})
    assert view["settings"] == {
        "dataset": "moons",
        "seed": 0,
        "hidden": "16,16",
        "activation": "relu",
        "loss": "hinge",
        "optimizer": "sgd",
        "lr": 1.0,
        "l2": 1e-4,
        "batch": 0,
    }
    assert net.handle("reset", {"dataset": "spiral"})["settings"]["loss"] == "cross_entropy"
    assert net.handle("reset", {"optimizer": "adam"})["settings"]["lr"] == 0.05


def test_reset_gives_the_same_start_for_the_same_seed_and_another_for_another():
    first = net.handle("reset", {"seed": 4})
    net.handle("step", {"n": 3})
    again = net.handle("reset", {"seed": 4})
    assert again == first
    other = net.handle("reset", {"seed": 5})
    assert other["net"]["layers"][0]["neurons"][0]["w"] != first["net"]["layers"][0]["neurons"][0]["w"]
    assert other["points"] != first["points"]


def test_the_points_are_the_datasets_but_the_removed_ones_then_the_added_ones():
    X, y = DATASETS["moons"](0)
    view = net.handle("reset", {"removed": [0, 5], "points": [[0.25, -0.5, 1], [2, 1.5, 0]]})
    kept = [i for i in range(len(X)) if i not in (0, 5)]
    assert [p["x"] for p in view["points"]] == [X[i] for i in kept] + [[0.25, -0.5], [2.0, 1.5]]
    assert [p["label"] for p in view["points"]] == [y[i] for i in kept] + [1, 0]
    assert [p.get("dataset") for p in view["points"][:2]] == [1, 2]
    assert [p.get("added") for p in view["points"][-2:]] == [0, 1]
    # the first step is a hinge loss over exactly these points, with train's net and L2
    step = net.handle("step", {"n": 1})
    model = nn.MLP(2, [16, 16, 1], "relu", seed=0)
    points = [p["x"] for p in view["points"]]
    labels = [2 * p["label"] - 1 for p in view["points"]]
    training = nn.Training(model, points, labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=1.0), l2=1e-4)
    assert step["loss"] == training.step()[0]


def test_the_regions_are_the_models_class_on_the_grid():
    view = net.handle("reset", {"dataset": "xor", "hidden": "3", "seed": 2})
    model = nn.MLP(2, [3, 1], "relu", seed=2)
    grid = view["grid"]
    assert len(grid["cells"]) == len(grid["y"]) == net.GRID and len(grid["x"]) == net.GRID
    assert grid["bounds"] == [-0.5, 1.5, -0.5, 1.5]  # xor's corners, half a unit beyond
    for y, row in zip(grid["y"], grid["cells"]):
        for x, (label, margin) in zip(grid["x"], row):
            score = model([x, y]).data
            assert label == int(score > 0) and margin == abs(score)


def test_three_classes_color_by_the_largest_output():
    view = net.handle("reset", {"dataset": "spiral", "hidden": "4"})
    model = nn.MLP(2, [4, 3], "relu", seed=0)
    x, y = view["grid"]["x"][5], view["grid"]["y"][7]
    scores = [v.data for v in model([x, y])]
    ranked = sorted(scores, reverse=True)
    assert view["grid"]["cells"][7][5] == [scores.index(ranked[0]), ranked[0] - ranked[1]]
    assert view["class_colors"] == list(plot.CLASS_COLORS)  # the page colours class c with class_colors[c]


def test_the_net_shows_each_neurons_z_and_a_on_the_picked_sample():
    view = net.handle("reset", {"hidden": "2", "sample": 7})
    X, _ = DATASETS["moons"](0)
    model = nn.MLP(2, [2, 1], "relu", seed=0)
    calls = {c.key: c for c in neuron_calls(topological_order(model(X[7])))}
    assert view["net"]["sample"] == 7 and view["net"]["x"] == X[7]
    for k, layer in enumerate(view["net"]["layers"]):
        for i, neuron in enumerate(layer["neurons"]):
            assert neuron["z"] == calls[f"{k}:{i}"].pre.data
            assert neuron["a"] == calls[f"{k}:{i}"].output.data
            assert neuron["w"] == [w.data for w in model.layers[k].neurons[i].w]


def test_health_is_the_recorders_of_the_last_step():
    X, y = DATASETS["moons"](0)
    model = nn.MLP(2, [16, 16, 1], "relu", seed=0)
    recorder = nn.Recorder()
    labels = [2 * c - 1 for c in y]
    nn.fit(model, X, labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=1.0), 4, l2=1e-4, quiet=True, record=recorder)
    expected = recorder.health(3)
    assert net.handle("reset", {})["health"] is None
    health = net.handle("step", {"n": 4})["health"]
    for row, figures in zip(health["layers"], expected["layers"]):
        n = 16 if row["layer"] < 2 else 1
        assert row["dead_relu"] == (
            f"{round(figures['dead_relu'] * n)} / {n}" if figures["dead_relu"] is not None else "–"
        )
        assert row["stuck"] == figures["stuck"]
        assert row["update_ratio"] == f"{figures['update_ratio']:.4g}"
    assert health["nonfinite"] == "first nan or inf: none"


def test_playing_without_the_grid_keeps_the_last_health_figures_recorded():
    net.handle("reset", {})
    at_two = net.handle("step", {"n": 2})["health"]
    playing = net.handle("step", {"n": 2, "grid": False})
    assert playing["step"] == 4 and playing["grid"] is None
    assert playing["health"] == at_two
    again = net.handle("step", {"n": 1})["health"]
    net.handle("reset", {})
    assert again == net.handle("step", {"n": 5})["health"]


def test_a_neurons_walk_is_the_engines_steps_of_its_gates_in_the_chosen_language():
    net.handle("reset", {"hidden": "4,4"})
    net.handle("step", {"n": 2})
    walk = net.handle("walk", {"target": {"neuron": "1:2"}, "sample": 9, "lang": "zh"})
    model = nn.MLP(2, [4, 4, 1], "relu", seed=0)
    X, y = DATASETS["moons"](0)
    nn.fit(model, X, [2 * c - 1 for c in y], nn.hinge_loss, nn.SGD(model.parameters(), lr=1.0), 2, l2=1e-4, quiet=True)
    loss = nn.hinge_loss([model(X[9])], [2 * y[9] - 1])
    calls = neuron_calls(topological_order(loss))
    for c in calls:
        c.name_parameters()
    call = next(c for c in calls if c.key == "1:2")
    expected = [s for s in loss.backward_steps() if s.output in call.gates]
    assert expected[-1].inputs[0].value.label == "w1[2,0]" and "w1[2,0] 得到" in walk["steps"][-1]["sentence"]
    assert [s["sentence"] for s in walk["steps"]] == [sentence(s, "zh") for s in expected]
    assert [s["gate"] for s in walk["steps"]] == ["relu", "add", "mul", "mul", "mul", "mul"]
    assert walk["sample"] == 9 and walk["step"] == 2 and walk["loss"] == loss.data
    assert walk["heading"].startswith("神经元 1:2")


def test_a_samples_walk_is_its_whole_backward_pass():
    net.handle("reset", {"hidden": "3"})
    walk = net.handle("walk", {"target": {"sample": 4}, "lang": "ru"})
    X, y = DATASETS["moons"](0)
    model = nn.MLP(2, [3, 1], "relu", seed=0)
    loss = nn.hinge_loss([model(X[4])], [2 * y[4] - 1])
    for call in neuron_calls(topological_order(loss)):
        call.name_parameters()
    steps = list(loss.backward_steps())
    assert [s["sentence"] for s in walk["steps"]] == [sentence(s, "ru") for s in steps]
    assert walk["steps"][-1]["neuron"] == "0:0" and walk["steps"][0]["neuron"] is None  # the loss's gates first


@pytest.mark.parametrize(
    "action, args, message",
    [
        ("reset", {"dataset": "iris"}, "unknown dataset 'iris'; known: xor, moons, circles, spiral"),
        ("reset", {"hidden": "16,x"}, "hidden layers are sizes such as 16,16, got '16,x'"),
        ("reset", {"hidden": "500"}, "at most 6 hidden layers of 1 to 64 neurons each, got '500'"),
        (
            "reset",
            {"dataset": "spiral", "loss": "hinge"},
            "hinge needs two classes, the dataset has 3; use cross_entropy",
        ),
        ("reset", {"lr": -1}, "the learning rate must be a finite number >= 0, got -1"),
        ("reset", {"points": [[0, 0, 2]]}, "an added point is [x0, x1, label] with a label below 2, got [0, 0, 2]"),
        ("step", {"n": 1000}, "n must be a whole number of steps from 0 to 100, got 1000"),
        (
            "walk",
            {"target": {"neuron": "9:9"}},
            "the net has no neuron '9:9'; neurons are named layer:index, such as 0:3",
        ),
        ("walk", {"target": {"neuron": "0:0"}, "lang": "xx"}, "unknown language 'xx'; known: en, ru, zh"),
    ],
)
def test_a_learners_mistake_is_an_error_reply_of_one_line(action, args, message):
    net.handle("reset", {})
    reply = json.loads(bridge.handle(json.dumps({"lab": "net", "action": action, "args": args})))
    assert reply == {"ok": False, "error": message}


def test_a_diverged_run_says_where_and_takes_no_more_steps():
    net.handle("reset", {"lr": 1e300, "hidden": "2"})
    view = net.handle("step", {"n": 5})
    # the first update makes the weights about 1e298; the second step's products overflow
    assert view["step"] == 1 and len(view["losses"]) == 1
    assert view["diverged"]["step"] == 2
    assert view["diverged"]["where"].startswith("the mul gate gave inf from the finite inputs")
    assert view["health"]["nonfinite"] == "first nan or inf: the mul gate of neuron 1:0 (forward pass)"
    with pytest.raises(ValueError, match="the run diverged at step 2: reset it to train again"):
        net.handle("step", {"n": 1})


def test_the_lab_runs_without_numpy():
    script = (
        "import sys; sys.modules['numpy'] = None\n"
        "from gategrad.playground import net\n"
        "net.handle('reset', {}); print(net.handle('step', {'n': 2})['loss'])\n"
        "print(len(net.handle('walk', {'target': {'neuron': '0:0'}, 'lang': 'zh'})['steps']))\n"
        "print('tqdm' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    X, y = DATASETS["moons"](0)
    model = nn.MLP(2, [16, 16, 1], "relu", seed=0)
    history = nn.fit(model, X, [2 * c - 1 for c in y], nn.hinge_loss, nn.SGD(model.parameters(), lr=1.0), 2, l2=1e-4)
    assert run.stdout.split() == [repr(history["loss"][1]), "4", "False"]  # nor the progress bar's tqdm


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("zh", "最先出现 nan 或 inf 的位置：乘法门（神经元 1:0，前向传播）"),
        ("ru", "первое появление nan или inf: вентиль умножения (нейрон 1:0, прямой проход)"),
    ],
)
def test_a_diverged_run_says_where_as_the_language_names_the_gate(code, says):
    net.handle("reset", {"lr": 1e300, "hidden": "2"})
    view = net.handle("step", {"n": 5, "lang": code})
    assert view["health"]["nonfinite"] == says


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ("en", "the mul gate gave inf from the finite inputs {a} (local gradient {b}), {b} (local gradient {a})"),
        ("zh", "乘法门由有限的输入得出了 inf：{a}（局部梯度 {b}）、{b}（局部梯度 {a}）"),
        (
            "ru",
            "вентиль умножения выдал inf при конечных входах {a} (локальный градиент {b}), "
            "{b} (локальный градиент {a})",
        ),
    ],
)
def test_a_diverged_run_says_why_in_the_pages_language(code, says):
    # the lab's run: moons, a 2-2-1 relu net, hinge, SGD at lr 1e300, L2 1e-4, seed 0, all points a step
    X, y = DATASETS["moons"](0)
    model = nn.MLP(2, [2, 1], "relu", seed=0)
    labels = [2 * c - 1 for c in y]
    training = nn.Training(model, X, labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=1e300), l2=1e-4)
    training.step()
    with pytest.raises(nn.TrainingDiverged) as diverged:
        training.step()
    [a, b], [b_again, a_again] = diverged.value.numbers["inputs"]  # a product: each input's local gradient is the other
    assert (a, b) == (a_again, b_again) and float(a) * float(b) == math.inf
    net.handle("reset", {"lr": 1e300, "hidden": "2"})
    view = net.handle("step", {"n": 5, "lang": code})
    assert view["diverged"] == {"step": 2, "where": says.format(a=a, b=b)}
    redrawn = net.handle("step", {"n": 0, "lang": "en"})  # the page switched to English: no step, the same run
    assert (redrawn["step"], redrawn["diverged"]["where"]) == (1, diverged.value.where)
