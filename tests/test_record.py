"""A recorded training run: what each step keeps, the numbers recomputed from it, the health figures, the page file."""

import copy
import json
import math
import re
import statistics
from html.parser import HTMLParser

import pytest

from gategrad import Value, nn, viz
from gategrad.data import make_moons, make_spiral
from gategrad.engine import GATES
from gategrad.explain import lang
from gategrad.nn import record
from gategrad.viz import plot, viewer
from gategrad.viz.page import web_file

PAGE_IDS = {"step-slider", "play", "loss-chart", "boundary", "network", "health", "sample-view", "gate-view"}


def moons(n=40):
    X, y = make_moons(n, noise=0.1, seed=0)
    return X, [2 * c - 1 for c in y]


def train(model, X, y, loss_fn, steps, **options):
    """fit with a Recorder and SGD at lr 0.5; returns the recorder and fit's history."""
    recorder = nn.Recorder(**options.pop("recorder", {}))
    optimizer = nn.SGD(model.parameters(), lr=options.pop("lr", 0.5))
    history = nn.fit(model, X, y, loss_fn, optimizer, steps, quiet=True, record=recorder, **options)
    return recorder, history


@pytest.fixture(scope="module")
def run():
    """MLP(2, [6, 5, 1]) on 40 moons, hinge loss plus L2, 12 steps of SGD in batches of 16."""
    X, y = moons()
    model = nn.MLP(2, [6, 5, 1], seed=3)
    recorder, history = train(model, X, y, nn.hinge_loss, 12, l2=1e-3, batch_size=16, seed=5)
    return recorder, history, model, X, y


def model_at(doc, kept):
    """A fresh model of the record's architecture holding kept step `kept`'s parameters."""
    model = {"MLP": nn.MLP, "Layer": nn.Layer, "Neuron": nn.Neuron}[doc["model"]](**doc["config"])
    for p, x in zip(model.parameters(), doc["steps"][kept]["parameters"]):
        p.data = x
    return model


def test_every_step_keeps_its_loss_accuracy_parameters_and_gradients(run):
    recorder, history, model, _, _ = run
    assert [s["step"] for s in recorder.steps] == list(range(12))
    assert [s["loss"] for s in recorder.steps] == history["loss"]
    assert [s["accuracy"] for s in recorder.steps] == history["accuracy"]
    assert all(len(s["parameters"]) == len(s["gradients"]) == len(model.parameters()) == 59 for s in recorder.steps)
    assert all(len(s["batch"]) == 16 for s in recorder.steps)


def test_the_recorded_losses_and_gradients_are_recomputed_from_the_recorded_parameters(run):
    recorder, _, _, X, y = run
    doc = recorder.to_json()
    for kept, step in enumerate(doc["steps"]):
        model = model_at(doc, kept)
        batch = step["batch"]
        loss = nn.hinge_loss([model(X[i]) for i in batch], [y[i] for i in batch])
        loss = loss + nn.l2_penalty(model.parameters(), doc["l2"])
        loss.backward()
        assert loss.data == step["loss"]
        assert [p.grad for p in model.parameters()] == step["gradients"]


def test_the_parameters_are_those_before_the_update_and_the_update_is_sgds(run):
    recorder, _, model, _, _ = run
    steps = recorder.steps
    lr = 0.5
    for before, after in zip(steps, steps[1:]):
        assert after["parameters"] == [p - lr * g for p, g in zip(before["parameters"], before["gradients"])]
    assert [p.data for p in model.parameters()] == [
        p - lr * g for p, g in zip(steps[-1]["parameters"], steps[-1]["gradients"])
    ]


def test_each_samples_loss_and_output_gradient_are_the_engines(run):
    recorder, _, _, X, y = run
    doc = recorder.to_json()
    for kept in (0, 11):
        model = model_at(doc, kept)
        for i in (0, 7, 39):
            out = model(X[i])
            loss = nn.hinge_loss([out], [y[i]])
            loss.backward()
            assert doc["steps"][kept]["sample_losses"][i] == loss.data
            assert doc["steps"][kept]["output_gradients"][i] == [out.grad]


@pytest.mark.parametrize("activation", list(nn.ACTIVATIONS))
def test_a_kept_step_recomputed_is_the_models_forward_pass_bit_for_bit(activation):
    X, y = moons(30)
    model = nn.MLP(2, [7, 5, 1], activation, seed=11)
    for p in model.parameters():
        p.data *= 3.0  # big enough to saturate tanh and sigmoid
    recorder, _ = train(model, X, y, nn.hinge_loss, 2, lr=0.01)
    doc = recorder.to_json()
    again = model_at(doc, 1)
    for i, x in enumerate(X):
        out = again(x)
        assert doc["steps"][1]["sample_losses"][i] == nn.hinge_loss([Value(out.data)], [y[i]]).data
        hidden = [[n(x).data for n in again.layers[0].neurons]]
        tables = recorder._activations(recorder._kept[1]["parameters"], [i])
        assert [table[0] for table in tables][:1] == hidden
        assert tables[-1][0] == [out.data]


def test_the_update_ratio_is_the_layers_parameter_change_over_its_size(run):
    recorder, _, _, _, _ = run
    spans = [(0, 18), (18, 53), (53, 59)]  # 6 neurons of 2+1, 5 of 6+1, 1 of 5+1
    for kept in (0, 5, 10):
        before, after = recorder.steps[kept]["parameters"], recorder.steps[kept + 1]["parameters"]
        expected = [
            math.sqrt(sum((a - b) ** 2 for a, b in zip(after[lo:hi], before[lo:hi])))
            / math.sqrt(sum(b * b for b in before[lo:hi]))
            for lo, hi in spans
        ]
        assert [layer["update_ratio"] for layer in recorder.health(kept)["layers"]] == expected


def test_a_relu_that_gives_0_on_every_sample_of_the_batch_is_dead():
    X, y = moons(20)
    model = nn.MLP(2, [4, 1], seed=0)
    hidden = model.layers[0].neurons
    hidden[1].b.data = -50.0  # never above 0 on these points
    hidden[3].b.data = -50.0
    recorder, _ = train(model, X, y, nn.hinge_loss, 3, lr=0.01)
    health = recorder.health(0)
    assert health["layers"][0]["dead_relu"] == 0.5
    assert health["layers"][0]["stuck"] == [1, 3]
    assert health["layers"][1]["dead_relu"] is None  # the output layer is linear
    assert health["nonfinite"] is None


def test_a_tanh_beyond_099_on_every_sample_is_saturated():
    X, y = moons(20)
    model = nn.MLP(2, [3, 1], "tanh", seed=0)
    model.layers[0].neurons[2].b.data = 10.0
    recorder, _ = train(model, X, y, nn.hinge_loss, 2, lr=0.01)
    layer = recorder.health(0)["layers"][0]
    assert (layer["saturated"], layer["stuck"], layer["dead_relu"]) == (1 / 3, [2], None)


def test_the_first_gate_that_produced_inf_is_named_with_its_neuron():
    X, y = moons(10)
    model = nn.MLP(2, [3, 1], seed=0)
    model.layers[1].neurons[0].w[2].data = 1e308  # its product with a0:2 overflows where a0:2 > 1
    model.layers[0].neurons[2].b.data = 5.0
    recorder = nn.Recorder()
    with pytest.raises(nn.TrainingDiverged, match="the mul gate gave inf"):  # fit stops, and the record keeps the step
        nn.fit(model, X, y, nn.hinge_loss, nn.SGD(model.parameters(), lr=0.5), 1, quiet=True, record=recorder)
    assert recorder.health(0)["nonfinite"] == {"op": "mul", "neuron": "1:0", "pass": "forward"}
    assert "the last step's mul gate in neuron 1:0 (forward pass) produced nan or inf" in recorder.warnings()


def test_a_gradient_that_becomes_inf_only_backward_is_found_too():
    def root_of_zero(outputs, labels):
        """sqrt(out - out): 0 going forward, but sqrt's local gradient at 0 is inf."""
        return Value.sum([(o - o).sqrt() for o in outputs])

    model = nn.Neuron(1, "linear")
    recorder = nn.Recorder()
    with pytest.raises(nn.TrainingDiverged, match="the sqrt gate"):
        nn.fit(model, [[1.0]], [1], root_of_zero, nn.SGD(model.parameters(), lr=0.1), 1, quiet=True, record=recorder)
    assert math.isnan(recorder.steps[0]["gradients"][0])
    assert recorder.health(0)["nonfinite"] == {"op": "sqrt", "neuron": None, "pass": "backward"}


def test_a_long_run_is_thinned_evenly_first_and_last_kept():
    X, y = [[1.0], [-1.0]], [1, -1]
    model = nn.Neuron(1, "linear")
    recorder, history = train(model, X, y, nn.hinge_loss, 1203, lr=0.001)
    kept = [s["step"] for s in recorder.steps]
    assert len(kept) == record.MAX_STEPS == 500
    assert kept[0] == 0 and kept[-1] == 1202
    assert kept == sorted(set(kept))
    assert max(b - a for a, b in zip(kept, kept[1:])) - min(b - a for a, b in zip(kept, kept[1:])) <= 1
    assert [s["loss"] for s in recorder.steps] == [history["loss"][k] for k in kept]


def test_a_thinned_run_keeps_the_update_of_each_kept_step_and_says_so_on_the_page(tmp_path):
    X, y = [[1.0], [-1.0]], [1, -1]
    model = nn.Neuron(1, "linear")
    model.w[0].data = 0.5
    recorder, _ = train(model, X, y, nn.hinge_loss, 13, lr=0.1, recorder={"max_steps": 5})
    assert [s["step"] for s in recorder.steps] == [0, 3, 6, 9, 12]
    w, b = recorder.steps[1]["parameters"]
    gw, gb = recorder.steps[1]["gradients"]
    expected = math.hypot(0.1 * gw, 0.1 * gb) / math.hypot(w, b)
    assert recorder.health(1)["layers"][0]["update_ratio"] == pytest.approx(expected, rel=1e-15)
    html = viz.save_run(recorder, tmp_path / "run.html").read_text(encoding="utf-8")
    assert "13 steps were run; the page keeps 5 of them, evenly spaced." in html


def test_warnings_name_a_mostly_dead_layer_and_a_ratio_far_from_1e_3():
    X, y = moons(20)
    model = nn.MLP(2, [4, 1], seed=0)
    for n in model.layers[0].neurons[:3]:
        n.b.data = -50.0
    recorder, _ = train(model, X, y, nn.hinge_loss, 3, lr=1e-7)
    assert recorder.warnings() == [
        "layer 0: 3 of 4 ReLUs are dead at the last step",
        f"layer 0: update-to-weight ratio {recorder.health(1)['layers'][0]['update_ratio']:.1e}, far from ~1e-3",
        f"layer 1: update-to-weight ratio {recorder.health(1)['layers'][1]['update_ratio']:.1e}, far from ~1e-3",
    ]


def test_a_healthy_run_has_no_warnings(run):
    recorder = nn.Recorder()
    X, y = moons(40)
    model = nn.MLP(2, [8, 8, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    nn.fit(model, X, y, nn.hinge_loss, optimizer, 20, quiet=True, record=recorder)
    assert recorder.warnings() == []


class Page(HTMLParser):
    """Every element's tag and attributes, and the text of each <script> and <style>."""

    def __init__(self, html):
        super().__init__()
        self.elements, self.scripts, self.style, self._in = [], {}, "", None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._in = (tag, dict(attrs).get("id"))

    def handle_data(self, data):
        if self._in and self._in[0] == "script":
            self.scripts[self._in[1]] = self.scripts.get(self._in[1], "") + data
        elif self._in and self._in[0] == "style":
            self.style += data

    def handle_endtag(self, tag):
        self._in = None


@pytest.fixture(scope="module")
def page(run, tmp_path_factory):
    recorder = run[0]
    path = viz.save_run(recorder, tmp_path_factory.mktemp("page") / "run.html")
    return path, path.read_text(encoding="utf-8")


def test_the_page_holds_the_record_under_its_id_with_the_documented_keys(run, page):
    recorder, _, model, X, y = run
    path, html = page
    doc = json.loads(Page(html).scripts["gategrad-record"])
    assert {"X", "y", "model", "config", "loss", "steps"} <= set(doc)
    assert (doc["X"], doc["y"], doc["loss"]) == (X, y, "hinge_loss")
    assert (doc["model"], doc["config"]) == ("MLP", model.config())
    assert {"step", "loss", "accuracy", "parameters", "gradients"} <= set(doc["steps"][0])
    assert doc["steps"] == recorder.to_json()["steps"]
    assert viewer.read_record(path) == recorder.to_json()


def test_the_page_has_its_parts_under_their_ids_and_loads_nothing(page):
    _, html = page
    parsed = Page(html)
    assert PAGE_IDS <= {a.get("id") for _, a in parsed.elements}
    assert (
        "input",
        {
            "type": "range",
            "id": "step-slider",
            "min": "0",
            "max": "11",
            "value": "0",
            "step": "1",
            "aria-label": "step",
        },
    ) in parsed.elements
    assert [name for _, a in parsed.elements for name in a if name in ("src", "href")] == []
    assert re.findall(r"url\(|@import", parsed.style) == []
    # The one address on the page is SVG's namespace name, which the script passes to createElementNS.
    assert re.findall(r"https?:[^\"']*", html) == ["http://www.w3.org/2000/svg"]


def test_the_page_carries_the_gate_tables_sentences_and_its_words(page):
    _, html = page
    view = json.loads(Page(html).scripts["gategrad-view"])
    activations = [op for op, gate in GATES.items() if gate.activation]
    fan_ins = {layer["nin"] + 1 for layer in json.loads(Page(html).scripts["gategrad-record"])["layers"]}

    def sentences(op):  # a sentence counting its inputs comes once per fan-in of the net's neurons
        return {
            case: text if isinstance(text, str) else {str(n): text[n != 1] for n in sorted(fan_ins)}
            for case, text in GATES[op].sentences.items()
        }

    assert view["gates"] == {
        op: {"sentences": sentences(op), "case": viewer.expression_tree(GATES[op].case)}
        for op in ("mul", "add", *activations)
    }
    assert view["gates"]["add"]["sentences"]["many"]["3"] == (
        "The add gate distributes: each of its {n} inputs ({names}) gets the upstream gradient {g} unchanged."
    )
    assert view["activations"] == {
        op: {"forward": viewer.expression_tree(GATES[op].forward), "local": viewer.expression_tree(GATES[op].local[0])}
        for op in activations
    }
    assert view["gates"]["mul"]["case"] == [
        "if",
        ["cmp", "==", ["name", "n"], ["num", 2]],
        ["str", "two"],
        ["str", "constant"],
    ]
    assert view["labels"][1][4] == ["z1:4", "a1:4"]
    assert view["strings"] == viewer.strings() and set(view["strings"]) == set(viewer.STRINGS)


def test_a_page_refuses_an_activation_the_table_does_not_know(run):
    record = copy.deepcopy(run[0].to_json())  # the record shares its lists with the recorder
    record["layers"][0]["activation"] = "gelu"
    with pytest.raises(ValueError, match="use gelu, which no row of the gate table marks as an activation"):
        viewer.document(record)


def test_the_pages_expression_trees_are_the_rows_expressions():
    assert viewer.expression_tree(GATES["sigmoid"].forward) == [
        "op", "/", ["num", 1.0], ["op", "+", ["num", 1.0], ["call", "exp", ["neg", ["name", "a"]]]],
    ]  # fmt: skip
    assert viewer.expression_tree("not 1.0 - limit <= out <= limit") == [
        "not",
        ["and", ["cmp", "<=", ["op", "-", ["num", 1.0], ["name", "limit"]], ["name", "out"]],
         ["cmp", "<=", ["name", "out"], ["name", "limit"]]],
    ]  # fmt: skip
    with pytest.raises(ValueError, match="cannot evaluate 'a\\[0\\]'"):
        viewer.expression_tree("a[0] + 1")


def test_nan_and_inf_travel_as_named_strings_and_read_back_as_floats(tmp_path):
    model = nn.Neuron(1, "linear")
    model.w[0].data = 1e308
    recorder = nn.Recorder()
    with pytest.raises(nn.TrainingDiverged, match="the mul gate gave inf"):
        nn.fit(model, [[10.0]], [1], nn.mse_loss, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, record=recorder)
    path = viz.save_run(recorder, tmp_path / "run.html")
    html = path.read_text(encoding="utf-8")
    doc = json.loads(Page(html).scripts["gategrad-record"])
    assert doc["steps"][0]["loss"] == "Infinity"
    assert math.isinf(viewer.read_record(path)["steps"][0]["loss"])
    assert recorder.health(0)["nonfinite"] == {"op": "mul", "neuron": "0:0", "pass": "forward"}


def test_save_run_writes_the_page_atomically(tmp_path):
    X, y = moons(10)
    path = tmp_path / "run.html"
    path.write_text("old")
    recorder, _ = train(nn.MLP(2, [3, 1], seed=0), X, y, nn.hinge_loss, 3, lr=0.1)
    assert viz.save_run(recorder, path) == path
    assert viewer.read_record(path)["total_steps"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["run.html"]


def test_fit_given_a_path_says_how_to_save_a_page_and_trains_nothing(tmp_path):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    message = (
        r"^record must be a gategrad.nn.Recorder, got \w+Path: .*; to save the run as a page, "
        r"pass recorder = nn.Recorder\(\) and then call gategrad.viz.save_run\(recorder, path\)$"
    )
    with pytest.raises(TypeError, match=message):
        nn.fit(model, *moons(10), nn.hinge_loss, nn.SGD(model.parameters(), lr=0.1), 3, record=tmp_path / "run.html")
    assert model.state_dict() == before
    assert list(tmp_path.iterdir()) == []


def test_a_page_that_cannot_be_written_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    recorder, _ = train(nn.MLP(2, [3, 1], seed=0), *moons(10), nn.hinge_loss, 2)
    path = tmp_path / "run.html"
    path.write_text("old")

    def broken(record, lang="en"):
        raise OSError("disk full")

    monkeypatch.setattr(viewer, "document", broken)
    with pytest.raises(OSError, match="disk full"):
        viz.save_run(recorder, path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run.html"]


def test_a_three_class_run_keeps_every_outputs_gradient():
    X, y = make_spiral(6, classes=3, seed=0)
    model = nn.MLP(2, [5, 3], seed=0)
    recorder, _ = train(model, X, y, nn.cross_entropy, 2)
    doc = recorder.to_json()
    out = model_at(doc, 1)(X[4])
    loss = nn.cross_entropy([out], [y[4]])
    loss.backward()
    assert doc["steps"][1]["output_gradients"][4] == [v.grad for v in out]
    assert doc["steps"][1]["sample_losses"][4] == loss.data


def test_bad_arguments_say_what_is_wrong():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(TypeError, match="record must be a gategrad.nn.Recorder, got int: 3; "):
        nn.fit(model, [[0.0, 0.0]], [1], nn.hinge_loss, nn.SGD(model.parameters(), lr=0.1), 1, record=3)
    with pytest.raises(ValueError, match="max_steps must be an int of at least 2, got 1"):
        nn.Recorder(max_steps=1)
    with pytest.raises(TypeError, match="a Recorder records a Neuron, Layer or MLP, got Module"):
        nn.Recorder().start(nn.Module(), [[0.0]], [1], nn.hinge_loss, 1)
    with pytest.raises(ValueError, match=r"the Recorder holds no steps yet: pass it to fit\(..., record=recorder\)"):
        viz.save_run(nn.Recorder(), "never.html")
    with pytest.raises(TypeError, match=r"save_run saves a gategrad.nn.Recorder, got dict: \{\}"):
        viz.save_run({}, "never.html")
    assert nn.Recorder().warnings() == []


def test_the_record_names_the_features_and_the_classes_it_is_given():
    X, y = make_spiral(4, classes=3, seed=0)
    model = nn.MLP(2, [3, 3], seed=0)
    named, _ = train(
        model, X, y, nn.cross_entropy, 2, recorder={"features": ["width", "height"], "classes": list("abc")}
    )
    assert (named.to_json()["features"], named.to_json()["classes"]) == (["width", "height"], ["a", "b", "c"])
    plain, _ = train(nn.MLP(2, [3, 3], seed=0), X, y, nn.cross_entropy, 2)
    assert (plain.to_json()["features"], plain.to_json()["classes"]) == (["x0", "x1"], None)
    with pytest.raises(TypeError, match="features must be a list of names \\(strings\\), got 'xy'"):
        nn.Recorder(features="xy")
    with pytest.raises(TypeError, match="classes must be a list of names \\(strings\\), got \\[0, 1\\]"):
        nn.Recorder(classes=[0, 1])
    with pytest.raises(ValueError, match="the Recorder was given 3 feature names for samples of 2 features"):
        train(nn.MLP(2, [3, 3], seed=0), X, y, nn.cross_entropy, 2, recorder={"features": ["a", "b", "c"]})


def test_the_page_gets_the_class_palette_and_each_features_mean_from_python(page):
    _, html = page
    view = json.loads(Page(html).scripts["gategrad-view"])
    doc = json.loads(Page(html).scripts["gategrad-record"])
    assert view["class_colors"] == list(plot.CLASS_COLORS)
    assert view["feature_means"] == [statistics.fmean(p[j] for p in doc["X"]) for j in range(2)]
    script = (web_file("viewer.js") + web_file("viewer.css")).lower()
    assert [c for c in plot.CLASS_COLORS if c.lower() in script] == []  # no second list of them in the page's files


def test_a_layer_and_a_neuron_are_recorded_as_one_layer():
    X, y = moons(10)
    for model in (nn.Layer(2, 1, "tanh", seed=0), nn.Neuron(2, "sigmoid", seed=0)):
        labels = [max(c, 0) for c in y]
        recorder, _ = train(model, X, labels, nn.bce_with_logits, 2)
        doc = recorder.to_json()
        assert doc["layers"] == [{"nin": 2, "nout": 1, "activation": model.config()["activation"]}]
        loss = nn.bce_with_logits([model_at(doc, 1)(X[3])], [labels[3]])
        assert doc["steps"][1]["sample_losses"][3] == loss.data


def test_every_word_of_the_page_comes_from_its_strings_and_every_string_is_used():
    script, markup = web_file("viewer.js"), web_file("viewer.html")
    asked = set(re.findall(r"\bS\.(\w+)", script)) | set(re.findall(r'say\("(\w+)"', script))
    filled = set(re.findall(r"\$(\w+)", markup)) - {"css", "heading", "note", "last", "record", "view", "script"}
    assert asked | filled | {"title"} == set(viewer.strings())


# ---- the page in other languages ----


def test_a_russian_page_carries_its_words_gate_names_and_translated_templates(run, page, tmp_path):
    recorder = run[0]
    path = viz.save_run(recorder, tmp_path / "run-ru.html", lang="ru")
    html = path.read_text(encoding="utf-8")
    view = json.loads(Page(html).scripts["gategrad-view"])
    ru = lang.translator("ru")
    assert '<html lang="ru">' in html and "<title>gategrad: запись обучения</title>" in html
    assert view["strings"] == viewer.strings("ru") and view["strings"]["step_of"] == "запись {index} из {count}"
    fan_ins = sorted({layer["nin"] + 1 for layer in json.loads(Page(html).scripts["gategrad-record"])["layers"]})
    assert {op: gate["sentences"] for op, gate in view["gates"].items()} == {
        op: {
            case: ru.gettext(text) if isinstance(text, str) else {str(n): ru.ngettext(*text, n) for n in fan_ins}
            for case, text in GATES[op].sentences.items()
        }
        for op in viewer.NEURON_OPS
    }
    assert view["gates"]["relu"]["sentences"]["pass"].startswith("Вентиль ReLU (максимум с нулём) направляет градиент")
    assert (view["gate_names"]["mul"], view["gate_names"]["relu"]) == ("умножение", "ReLU")
    assert set(view["gate_names"]) == set(GATES)
    assert viewer.read_record(path) == viewer.read_record(page[0])  # the same numbers as the English page
    assert '<h1 id="heading">MLP(2, [6, 5, 1], activation=&#x27;relu&#x27;): обучение с функцией потерь ' in html


def test_the_english_page_is_english_and_says_so():
    recorder, _ = train(nn.MLP(2, [3, 1], seed=0), *moons(10), nn.hinge_loss, 2)
    html = viewer.document(recorder.to_json())
    view = json.loads(Page(html).scripts["gategrad-view"])
    assert '<html lang="en">' in html
    assert view["strings"] == viewer.strings()
    assert view["gate_names"]["mul"] == "mul"
    assert ">MLP(2, [3, 1], activation=&#x27;relu&#x27;) trained with hinge_loss on 10 samples</h1>" in html


@pytest.mark.parametrize(
    ("n", "english", "russian", "chinese"),
    [
        (1, "on 1 sample", "на 1 примере", "在 1 个样本上用 hinge_loss 训练"),
        (21, "on 21 samples", "на 21 примере", "在 21 个样本上用 hinge_loss 训练"),
        (22, "on 22 samples", "на 22 примерах", "在 22 个样本上用 hinge_loss 训练"),
    ],
)
def test_the_heading_counts_the_samples_in_each_languages_plural(n, english, russian, chinese):
    X, y = moons(max(n, 2))
    recorder, _ = train(nn.MLP(2, [2, 1], seed=0), X[:n], y[:n], nn.hinge_loss, 2)
    doc = recorder.to_json()
    for code, said in (("en", english), ("ru", russian), ("zh", chinese)):
        heading = re.search(r'<h1 id="heading">(.*?)</h1>', viewer.document(doc, code))[1]
        assert heading.endswith(said), (code, heading)


@pytest.mark.parametrize(
    ("steps", "english", "russian"),
    [
        (21, "21 steps were run; the page keeps 3 of them", "Выполнен 21 шаг; страница показывает 3 из них"),
        (23, "23 steps were run; the page keeps 3 of them", "Выполнено 23 шага; страница показывает 3 из них"),
        (25, "25 steps were run; the page keeps 3 of them", "Выполнено 25 шагов; страница показывает 3 из них"),
    ],
)
def test_a_thinned_run_says_how_many_steps_ran_in_each_languages_plural(steps, english, russian):
    recorder, _ = train(nn.MLP(2, [2, 1], seed=0), *moons(6), nn.hinge_loss, steps, recorder={"max_steps": 3})
    doc = recorder.to_json()
    notes = {code: re.search(r'id="note">(.*?)</p>', viewer.document(doc, code))[1] for code in ("en", "ru", "zh")}
    assert notes["en"].startswith(english) and notes["ru"].startswith(russian)
    assert notes["zh"] == f"共运行了 {steps} 步；页面只保留其中等间隔选取的 3 步。"


def test_an_unknown_language_is_refused_listing_the_known_ones_and_nothing_is_written(run, tmp_path):
    with pytest.raises(ValueError, match=r"^unknown language 'fr'; known: en, ru, zh$"):
        viz.save_run(run[0], tmp_path / "run.html", lang="fr")
    assert list(tmp_path.iterdir()) == []
