"""The Recorder on a replayed fit, and on a net too large to keep every step's parameters.

On `fit(..., engine="replay")` the Recorder works out each layer's activations by replay (each layer's
first Neuron traced, run with every neuron's weights); its health figures, sample losses and output
gradients must be the scalar engine's. A step whose parameters do not fit the page's budget keeps its
loss and health figures, the same as when they are kept.
"""

import math

import pytest

from gategrad import nn, viz
from gategrad.data import make_moons, make_spiral
from gategrad.nn import record
from gategrad.viz import viewer


def moons(n=30):
    X, y = make_moons(n, noise=0.1, seed=0)
    return X, [2 * c - 1 for c in y]


def fitted(engine, build, X, y, loss_fn, steps=6, lr=0.5, recorder=None, **options):
    """A fresh model from `build`, fitted with a Recorder on `engine`."""
    model = build()
    recorder = recorder or nn.Recorder()
    optimizer = nn.SGD(model.parameters(), lr=lr)
    nn.fit(model, X, y, loss_fn, optimizer, steps, quiet=True, record=recorder, engine=engine, **options)
    return recorder


def derived(engine, build, X, y, loss_fn, steps=6, batch_size=None, **options):
    """A Recorder working out its figures on `engine`, of a run on the scalar engine: the same parameters at every
    step whatever the Recorder's engine, so only how it derives its figures differs."""
    model, recorder = build(), nn.Recorder(**options)
    recorder.start(model, X, y, loss_fn, steps, engine=engine)
    training = nn.Training(
        model, X, y, loss_fn, nn.SGD(model.parameters(), lr=0.5), batch_size=batch_size, seed=3, recorder=recorder
    )
    for _ in range(steps):
        training.step()
    recorder.finish()
    return recorder


def close(a, b, rel=1e-12):
    """Equal to `rel`, relative (absolute near 0); None and None alike."""
    if a is None or b is None:
        return a is b
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


def assert_same_steps(replayed, scalar, rel=1e-12):
    """Two records' steps alike: health figures exactly (the units stuck, their shares, nonfinite), ratios,
    sample losses and output gradients to `rel`."""
    assert len(replayed["steps"]) == len(scalar["steps"])
    for mine, theirs in zip(replayed["steps"], scalar["steps"]):
        assert set(mine) == set(theirs)
        assert (mine["step"], mine["loss"]) == (theirs["step"], theirs["loss"]) or rel > 1e-12
        for a, b in zip(mine["health"]["layers"], theirs["health"]["layers"]):
            assert (a["stuck"], a["dead_relu"], a["saturated"]) == (b["stuck"], b["dead_relu"], b["saturated"])
            assert close(a["update_ratio"], b["update_ratio"], rel)
        assert mine["health"]["nonfinite"] == theirs["health"]["nonfinite"]
        if "sample_losses" in theirs:
            assert all(close(a, b, rel) for a, b in zip(mine["sample_losses"], theirs["sample_losses"]))
            for g, h in zip(mine["output_gradients"], theirs["output_gradients"]):
                assert all(close(a, b, rel) for a, b in zip(g, h))


def saturating(build, bias=10.0):
    """`build`, its first layer's neuron 0 given a bias of `bias`: a tanh or sigmoid there saturates."""

    def made():
        model = build()
        first = model if isinstance(model, nn.Neuron) else (model.layers[0] if isinstance(model, nn.MLP) else model)
        (first if isinstance(first, nn.Neuron) else first.neurons[0]).b.data = bias
        return model

    return made


def spiral():
    return make_spiral(8, classes=3, seed=0)


def moons01():
    X, y = moons()
    return X, [max(c, 0) for c in y]


NETS = {
    "relu MLP": (lambda: nn.MLP(2, [5, 4, 1], "relu", seed=1), moons, nn.hinge_loss),
    "tanh MLP": (saturating(lambda: nn.MLP(2, [5, 4, 1], "tanh", seed=2)), moons, nn.hinge_loss),
    "sigmoid MLP": (saturating(lambda: nn.MLP(2, [5, 4, 1], "sigmoid", seed=3)), moons, nn.hinge_loss),
    "tanh Layer, 3 classes": (saturating(lambda: nn.Layer(2, 3, "tanh", seed=4)), spiral, nn.cross_entropy),
    "sigmoid Neuron": (saturating(lambda: nn.Neuron(2, "sigmoid", seed=5)), moons01, nn.bce_with_logits),
}


@pytest.fixture(params=["whole layers", "first neurons"])
def traced(request, monkeypatch):
    """Replay traces each layer whole, or (as a layer wider than TRACED_WEIGHTS) its first neuron only."""
    if request.param == "first neurons":
        monkeypatch.setattr(record, "TRACED_WEIGHTS", 0)
    return request.param


@pytest.mark.parametrize("net", NETS)
def test_the_figures_replay_works_out_are_the_scalar_engines(net, traced):
    build, data, loss_fn = NETS[net]
    X, y = data()
    replayed = derived("replay", build, X, y, loss_fn).to_json()
    scalar = derived("scalar", build, X, y, loss_fn).to_json()
    assert_same_steps(replayed, scalar)
    assert all(any(layer["stuck"] for layer in step["health"]["layers"]) for step in scalar["steps"])
    recorder = derived("replay", build, X, y, loss_fn, steps=1)
    recorder.health(0)
    plans = [len(plan.program.params) for plan in recorder._plans]
    weights = [layer["nin"] * layer["nout"] for layer in recorder.layers]
    whole = [w + layer["nout"] for w, layer in zip(weights, recorder.layers)]
    assert plans == (whole if traced == "whole layers" else [layer["nin"] + 1 for layer in recorder.layers])


@pytest.mark.parametrize("net", NETS)
def test_a_replayed_fits_record_is_the_scalar_fits_to_1e_9(net):
    """Replay's fit itself differs from the scalar one in the last bits, which a few steps grow."""
    build, data, loss_fn = NETS[net]
    X, y = data()
    replayed = fitted("replay", build, X, y, loss_fn)
    assert replayed.engine == "replay"
    assert_same_steps(replayed.to_json(), fitted("scalar", build, X, y, loss_fn).to_json(), rel=1e-9)


def test_a_replayed_record_in_batches_with_light_steps_is_the_scalar_engines(traced):
    X, y = moons(40)
    build = NETS["relu MLP"][0]
    light = {"max_numbers": 2 * 2 * 44, "batch_size": 8, "steps": 10}  # two steps' numbers: eight steps keep none
    replayed = derived("replay", build, X, y, nn.hinge_loss, **light).to_json()
    scalar = derived("scalar", build, X, y, nn.hinge_loss, **light).to_json()
    assert [("parameters" in s) for s in replayed["steps"]] == [True] + [False] * 8 + [True]
    assert all(len(s["batch"]) == 8 for s in replayed["steps"])
    assert_same_steps(replayed, scalar)
    assert sum(len(layer["stuck"]) for s in scalar["steps"] for layer in s["health"]["layers"]) > 0


def test_the_replay_path_of_a_dead_relu_layer_reads_each_column_once():
    X, y = moons(20)
    model = nn.MLP(2, [4, 1], seed=0)
    for n in model.layers[0].neurons[1:3]:
        n.b.data = -50.0
    recorder = nn.Recorder()
    optimizer = nn.SGD(model.parameters(), lr=0.01)
    nn.fit(model, X, y, nn.hinge_loss, optimizer, 2, quiet=True, record=recorder, engine="replay")
    assert recorder.health(0)["layers"][0]["stuck"] == [1, 2]
    assert recorder.health(0)["layers"][0]["dead_relu"] == 0.5


@pytest.mark.parametrize("engine", ["scalar", "replay"])
def test_steps_past_the_budget_keep_their_loss_and_the_same_health(engine):
    """A budget of 3 steps' parameters: 12 steps are all recorded, every one's health as with the full budget."""
    X, y = moons(30)
    build = NETS["sigmoid MLP"][0]
    parameters = nn.parameter_count([2, 5, 4, 1])
    budget = 3 * 2 * parameters + 1
    small = fitted(engine, build, X, y, nn.hinge_loss, 12, recorder=nn.Recorder(max_numbers=budget))
    full = fitted(engine, build, X, y, nn.hinge_loss, 12)
    assert record.kept_steps(parameters, max_numbers=budget) == 3
    assert [s["step"] for s in small.steps] == list(range(12))
    assert [s["step"] for s in small.steps if "parameters" in s] == [0, 6, 11]
    assert [s["loss"] for s in small.steps] == [s["loss"] for s in full.steps]
    assert [small.health(k) for k in range(12)] == [full.health(k) for k in range(12)]
    doc = small.to_json()
    assert doc["version"] == 2 and doc["parameter_count"] == parameters == 44
    light = doc["steps"][1]
    assert set(light) == {"step", "loss", "accuracy", "health"}
    assert doc["steps"][6]["sample_losses"] == full.to_json()["steps"][6]["sample_losses"]


def test_a_net_over_the_budget_keeps_no_parameters_and_still_warns():
    X, y = moons(20)
    model = nn.MLP(2, [4, 1], seed=0)
    for n in model.layers[0].neurons[:3]:
        n.b.data = -50.0
    recorder = nn.Recorder(max_numbers=0)
    nn.fit(model, X, y, nn.hinge_loss, nn.SGD(model.parameters(), lr=1e-7), 3, quiet=True, record=recorder)
    assert all("parameters" not in s for s in recorder.steps)
    assert recorder.warnings()[0] == "layer 0: 3 of 4 ReLUs are dead at the last step"
    ratio = recorder.health(1)["layers"][0]["update_ratio"]
    assert recorder.warnings()[1] == f"layer 0: update-to-weight ratio {ratio:.1e}, far from ~1e-3"


@pytest.mark.parametrize("engine", ["scalar", "replay"])
def test_a_step_that_is_not_finite_keeps_its_parameters_whatever_the_budget(engine):
    X, y = moons(10)
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1].neurons[0].w[2].data = 1e308  # its product with a0:2 overflows where a0:2 > 1
    model.layers[0].neurons[2].b.data = 5.0
    recorder = nn.Recorder(max_numbers=0)
    optimizer = nn.SGD(model.parameters(), lr=0.5)
    with pytest.raises(nn.TrainingDiverged):
        nn.fit(model, X, y, nn.hinge_loss, optimizer, 3, quiet=True, record=recorder, engine=engine)
    assert "parameters" in recorder.steps[-1]
    assert recorder.health(len(recorder.steps) - 1)["nonfinite"] == {"op": "mul", "neuron": "1:0", "pass": "forward"}


def test_the_update_ratio_of_a_replayed_step_is_the_change_of_its_layer():
    X, y = moons(20)
    recorder = fitted("replay", NETS["relu MLP"][0], X, y, nn.hinge_loss, 4, lr=0.1)
    steps = recorder.steps
    spans = [(0, 15), (15, 39), (39, 44)]  # 5 neurons of 2+1, 4 of 5+1, 1 of 4+1
    for k in range(3):
        before, after = steps[k]["parameters"], steps[k + 1]["parameters"]
        for (lo, hi), layer in zip(spans, recorder.health(k)["layers"]):
            change = math.sqrt(sum((a - b) ** 2 for a, b in zip(after[lo:hi], before[lo:hi])))
            assert close(layer["update_ratio"], change / math.sqrt(sum(b * b for b in before[lo:hi])))


def test_a_page_of_light_steps_reads_back_as_saved(tmp_path):
    X, y = moons(20)
    recorder = fitted("replay", NETS["relu MLP"][0], X, y, nn.hinge_loss, 5, recorder=nn.Recorder(max_numbers=0))
    path = viz.save_run(recorder, tmp_path / "run.html")
    assert viewer.read_record(path) == recorder.to_json()
    assert [set(s) for s in viewer.read_record(path)["steps"]] == [{"step", "loss", "accuracy", "health"}] * 5


def test_a_large_nets_sentences_speak_the_pages_language_in_its_plurals():
    """Seed 003's net as the page describes it: 786,561 parameters (Russian: 561, one's form), 12,288 inputs
    (288, many's), a step of 20 whose parameters were not kept."""
    layers = [{"nin": 12288, "nout": 64, "activation": "relu"}, {"nin": 64, "nout": 1, "activation": "linear"}]
    record = {"layers": layers, "parameter_count": 786_561, "steps": [{"parameters": []}, {}]}
    said = {code: viewer._large_net(record, code) for code in ("en", "ru", "zh")}
    assert said["en"] == {
        "not_kept": "This step's parameters were not kept: the net has 786,561 parameters, too many for the page to "
        "keep at every step.",
        "plane": False,
        "plane_note": "The net has 786,561 parameters: colouring the plane would run it on 3,600 points at every "
        "step, too slow for a page; pick a sample:",
        "inputs_box": "12,288 inputs",
    }
    assert said["ru"]["not_kept"].startswith("Параметры этого шага не сохранены: у сети 786\u00a0561 параметр — ")
    assert said["ru"]["plane_note"].startswith("У сети 786\u00a0561 параметр: чтобы раскрасить плоскость")
    assert said["ru"]["inputs_box"] == "12\u00a0288 входов"  # grouped with a no-break space
    assert said["zh"]["not_kept"] == "这一步的参数没有保存：网络有 786,561 个参数，太多了，页面无法每一步都保存。"
    assert said["zh"]["inputs_box"] == "12,288 个输入"
    small = {"layers": [{"nin": 2, "nout": 5, "activation": "relu"}], "parameter_count": 15, "steps": [{}]}
    assert viewer._large_net(small, "ru")["not_kept"].startswith(
        "Параметры этого шага не сохранены: у сети 15 параметров — "
    )
    assert viewer._large_net(small, "en")["plane"] is True


def test_a_light_pages_note_says_how_many_steps_kept_their_parameters_in_russian(tmp_path):
    X, y = moons(20)
    recorder = fitted("scalar", NETS["relu MLP"][0], X, y, nn.hinge_loss, 6, recorder=nn.Recorder(max_numbers=200))
    html = viewer.document(recorder.to_json(), "ru")
    assert (
        "У сети 44 параметра: страница хранит параметры и градиенты лишь части шагов (сохранено шагов: 2 из 6, "
        "не более 200 чисел)" in html
    )


@pytest.mark.parametrize("traced", ["whole layers", "first neurons"], indirect=True)
def test_recording_a_replayed_fit_leaves_its_model_as_the_unrecorded_fit_does(traced):
    """Replay traces the model's own Neurons for the Recorder: nothing in the model is written."""
    X, y = moons(20)
    models = [NETS["sigmoid MLP"][0]() for _ in range(2)]
    for model, recorder in zip(models, [nn.Recorder(max_numbers=0), None]):
        optimizer = nn.SGD(model.parameters(), lr=0.5)
        nn.fit(model, X, y, nn.hinge_loss, optimizer, 5, quiet=True, record=recorder, engine="replay")
    recorded, plain = (m.parameters() for m in models)
    assert [(p.data, p.grad, p.label) for p in recorded] == [(p.data, p.grad, p.label) for p in plain]
