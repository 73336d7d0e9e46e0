"""The page of a recorded run in headless Chromium: steps, samples, neurons, and every number the engine's.

Runs Debian's /usr/bin/chromium through /usr/bin/chromedriver (tests/conftest.py's `browser`), as
the stepper's browser test does. Each test fails on any console error the page logged.
"""

import json
import math
import random
import re
import statistics
import struct
import time

import pytest
from conftest import console_errors, needs

from gategrad import nn, viz
from gategrad.cli import main
from gategrad.data import make_moons, make_spiral
from gategrad.engine import fmt, topological_order
from gategrad.explain import lang
from gategrad.nn.tags import neuron_calls
from gategrad.viz import plot, viewer

webdriver = needs("selenium.webdriver")
By = needs("selenium.webdriver.common.by").By
Keys = needs("selenium.webdriver.common.keys").Keys
WebDriverWait = needs("selenium.webdriver.support.ui").WebDriverWait
Select = needs("selenium.webdriver.support.select").Select
pytestmark = pytest.mark.needs_chromium


@pytest.fixture
def open_page(browser):
    """Open a page; after the test, fail on any console error it logged."""
    browser.get_log("browser")

    def open_(path):
        browser.get(path.as_uri())
        WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "viewer").get_attribute("data-ready"))
        return browser

    yield open_
    assert console_errors(browser) == []


def recorded(tmp_path_factory, name, model, X, y, loss_fn, steps, lr, language="en"):
    """Train `model` with a Recorder and save its page in `language`; returns the page's path and the record."""
    recorder = nn.Recorder()
    nn.fit(model, X, y, loss_fn, nn.SGD(model.parameters(), lr=lr), steps, l2=1e-4, quiet=True, record=recorder)
    path = viz.save_run(recorder, tmp_path_factory.mktemp(name) / "run.html", lang=language)
    return path, viewer.read_record(path)


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    """MLP(2, [8, 6, 1]) relu on 40 moons, hinge loss, 15 full-batch steps."""
    X, y = make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 6, 1], seed=1)
    return recorded(tmp_path_factory, "moons", model, X, [2 * c - 1 for c in y], nn.hinge_loss, 15, 0.5)


@pytest.fixture(scope="module")
def russian_run(tmp_path_factory):
    """The moons run of `moons_run`, its page in Russian."""
    X, y = make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 6, 1], seed=1)
    return recorded(tmp_path_factory, "moons-ru", model, X, [2 * c - 1 for c in y], nn.hinge_loss, 15, 0.5, "ru")


@pytest.fixture(scope="module")
def spiral_run(tmp_path_factory):
    """MLP(2, [5, 4, 3]) tanh on a 3-class spiral, softmax cross-entropy, 4 steps."""
    X, y = make_spiral(8, classes=3, seed=0)
    return recorded(tmp_path_factory, "spiral", nn.MLP(2, [5, 4, 3], "tanh", seed=2), X, y, nn.cross_entropy, 4, 0.5)


@pytest.fixture(scope="module")
def sigmoid_run(tmp_path_factory):
    """MLP(2, [4, 1]) sigmoid on 20 moons, binary cross-entropy on logits, 4 steps."""
    X, y = make_moons(20, noise=0.1, seed=1)
    return recorded(tmp_path_factory, "sigmoid", nn.MLP(2, [4, 1], "sigmoid", seed=3), X, y, nn.bce_with_logits, 4, 1.0)


LOSSES = {"hinge_loss": nn.hinge_loss, "cross_entropy": nn.cross_entropy, "bce_with_logits": nn.bce_with_logits}


def engine_sample(doc, kept, i):
    """Sample i's circuit at kept step `kept`, rebuilt by the engine: its output, its neurons, its backward walk."""
    model = nn.MLP(**doc["config"])
    for p, x in zip(model.parameters(), doc["steps"][kept]["parameters"]):
        p.data = x
    out = model(doc["X"][i])
    loss = LOSSES[doc["loss"]]([out], [doc["y"][i]])
    calls = {call.key: call for call in neuron_calls(topological_order(loss))}
    for call in calls.values():  # named as the page names them: w1[3,0] is weight 0 of neuron 3 in layer 1
        call.name_parameters()
    walk = list(loss.backward_steps())
    return out, calls, walk


def order_matters(doc, kept, i):
    """Whether a first-layer gradient of sample i would come out different summed from the first reader to the last.

    backward() reaches a neuron from its last reader to its first; the page must add in that order too.
    """
    _, calls, _ = engine_sample(doc, kept, i)
    readers = [calls[f"1:{j}"] for j in range(doc["layers"][1]["nout"])]
    for k in range(doc["layers"][0]["nout"]):
        forward = 0.0
        for reader in readers:
            forward += reader.weights[k].data * reader.pre.grad
        if forward != calls[f"0:{k}"].output.grad:
            return True
    return False


def text(page, element_id):
    return page.find_element(By.ID, element_id).text


def go_to(page, kept):
    """Move the slider as a user does: focus it, then Home and the right arrow."""
    slider = page.find_element(By.ID, "step-slider")
    slider.send_keys(Keys.HOME)
    for _ in range(kept):
        slider.send_keys(Keys.ARROW_RIGHT)
    assert slider.get_attribute("value") == str(kept)


def unhidden(doc):
    """The samples whose point no later-drawn point covers (10 px circles on a 360 px square, as the page draws
    them over the first two features)."""
    xs, ys = [p[0] for p in doc["X"]], [p[1] for p in doc["X"]]
    left, right, bottom, top = min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5
    at = [(360 * (x - left) / (right - left), 360 * (y - bottom) / (top - bottom)) for x, y in zip(xs, ys)]
    return [i for i, (x, y) in enumerate(at) if all(abs(x - u) + abs(y - v) > 14 for u, v in at[i + 1 :])]


def click_sample(page, i):
    point = page.find_element(By.CSS_SELECTOR, f'#boundary [data-sample="{i}"]')
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", point)  # not under the sticky bar
    webdriver.ActionChains(page).move_to_element(point).click().perform()
    assert page.find_element(By.ID, "sample-view").get_attribute("data-sample") == str(i)


def click_neuron(page, key):
    circle = page.find_element(By.CSS_SELECTOR, f'#network [data-neuron="{key}"]')
    page.execute_script("arguments[0].scrollIntoView({block: 'center'})", circle)  # not under the sticky bar
    circle.click()
    assert page.find_element(By.ID, "gate-view").get_attribute("data-neuron") == key


def sentences(page):
    return [li.text for li in page.find_elements(By.CSS_SELECTOR, '#gate-view [data-part="sentence"]')]


@pytest.mark.slow
def test_the_slider_the_keys_and_play_move_through_the_steps(open_page, moons_run):
    path, doc = moons_run
    page = open_page(path)
    assert (text(page, "step-counter"), text(page, "step-of")) == ("step 0", "1 of 15 recorded")
    assert text(page, "readout") == f"loss {fmt(doc['steps'][0]['loss'])} · accuracy {fmt(doc['steps'][0]['accuracy'])}"

    go_to(page, 6)
    assert text(page, "step-counter") == "step 6"
    assert text(page, "readout") == f"loss {fmt(doc['steps'][6]['loss'])} · accuracy {fmt(doc['steps'][6]['accuracy'])}"
    marker = page.find_element(By.CSS_SELECTOR, "#loss-chart .gg-marker")
    chart_x = float(marker.get_attribute("x1"))

    page.find_element(By.TAG_NAME, "h1").click()  # away from the slider: the keys work page-wide
    webdriver.ActionChains(page).send_keys(Keys.ARROW_LEFT).perform()
    assert text(page, "step-counter") == "step 5"
    assert float(marker.get_attribute("x1")) < chart_x
    webdriver.ActionChains(page).send_keys(Keys.END).perform()
    assert page.find_element(By.ID, "step-slider").get_attribute("value") == "14"

    webdriver.ActionChains(page).send_keys(Keys.HOME).perform()
    play = page.find_element(By.ID, "play")
    play.click()
    assert "pause" in play.text
    WebDriverWait(page, 5, poll_frequency=0.02).until(lambda d: text(d, "step-counter") == "step 3")
    play.click()
    assert "play" in play.text
    stopped = text(page, "step-counter")
    time.sleep(0.5)
    assert text(page, "step-counter") == stopped


@pytest.mark.slow
def test_a_click_on_a_point_shows_its_passes_with_the_engines_output_at_that_step(open_page, moons_run):
    path, doc = moons_run
    page = open_page(path)
    go_to(page, 1)
    sample = next(i for i in unhidden(doc) if order_matters(doc, 1, i))
    click_sample(page, sample)
    view = page.find_element(By.ID, "sample-view")
    out, calls, _ = engine_sample(doc, 1, sample)
    assert view.get_attribute("data-step") == "1"
    assert float(view.get_attribute("data-output")) == out.data
    assert (
        f"output {fmt(out.data)}, this sample's loss L = {fmt(doc['steps'][1]['sample_losses'][sample])}" in view.text
    )

    rows = page.find_elements(By.CSS_SELECTOR, "#sample-view tbody tr")
    shown = {row.get_attribute("data-pick"): [td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows}
    assert len(shown) == 8 + 6 + 1
    exact = {
        row.get_attribute("data-pick"): [float(x) for x in json.loads(row.get_attribute("data-numbers"))]
        for row in rows
    }
    for key, call in calls.items():
        numbers = [call.pre.data, call.output.data, call.output.grad, call.pre.grad]
        assert exact[key] == numbers
        assert shown[key] == [key, *map(fmt, numbers)]

    for kept in (3, 14):  # the sample stays chosen and follows the step
        go_to(page, kept)
        assert view.get_attribute("data-step") == str(kept)
        assert float(view.get_attribute("data-output")) == engine_sample(doc, kept, sample)[0].data


@pytest.mark.parametrize("kept, nth, keys", [(0, 2, ["0:5", "1:2", "2:0"]), (12, 15, ["0:0", "1:5", "2:0"])])
def test_a_click_on_a_neuron_walks_its_gates_in_the_engines_sentences(open_page, moons_run, kept, nth, keys):
    path, doc = moons_run
    page = open_page(path)
    go_to(page, kept)
    sample = unhidden(doc)[nth]
    click_sample(page, sample)
    _, calls, walk = engine_sample(doc, kept, sample)
    for key in keys:
        click_neuron(page, key)
        gates = set(calls[key].gates)
        expected = [step.explanation for step in walk if step.output in gates]
        assert sentences(page) == expected
        assert len(expected) == doc["layers"][int(key[0])]["nin"] + (1 if key == "2:0" else 2)
        layer, index = key.split(":")
        assert f"w{layer}[{index},0] gets " in sentences(page)[-1]  # the walk names the weight, not its value


def test_a_neuron_clicked_first_walks_for_sample_0_and_follows_the_slider(open_page, moons_run):
    path, doc = moons_run
    page = open_page(path)
    click_neuron(page, "1:3")
    assert page.find_element(By.ID, "sample-view").get_attribute("data-sample") == "0"
    go_to(page, 4)
    _, calls, walk = engine_sample(doc, 4, 0)
    assert sentences(page) == [step.explanation for step in walk if step.output in set(calls["1:3"].gates)]
    assert page.find_element(By.ID, "gate-view").get_attribute("data-step") == "4"


@pytest.mark.slow
@pytest.mark.parametrize("run", ["spiral_run", "sigmoid_run"])
def test_tanh_sigmoid_and_three_outputs_are_the_engines_too(open_page, request, run):
    path, doc = request.getfixturevalue(run)
    page = open_page(path)
    last = len(doc["steps"]) - 1
    go_to(page, last)
    for sample in unhidden(doc)[1:3]:
        click_sample(page, sample)
        out, calls, walk = engine_sample(doc, last, sample)
        outputs = out if isinstance(out, list) else [out]
        shown = page.find_element(By.ID, "sample-view").get_attribute("data-output")
        assert [float(x) for x in (json.loads(shown) if shown.startswith("[") else [shown])] == [
            v.data for v in outputs
        ]
        for key in calls:
            click_neuron(page, key)
            assert sentences(page) == [step.explanation for step in walk if step.output in set(calls[key].gates)]


@pytest.mark.slow
def test_the_network_marks_each_neuron_and_colours_weights_by_value_or_gradient(open_page, moons_run):
    path, doc = moons_run
    page = open_page(path)
    go_to(page, 2)
    neurons = page.find_elements(By.CSS_SELECTOR, "#network [data-neuron]")
    assert [n.get_attribute("data-neuron") for n in neurons] == [
        f"{layer}:{i}" for layer, n in enumerate([8, 6, 1]) for i in range(n)
    ]
    lines = page.find_elements(By.CSS_SELECTOR, "#network line.gg-weight")
    assert len(lines) == 2 * 8 + 8 * 6 + 6
    values, grads = doc["steps"][2]["parameters"], doc["steps"][2]["gradients"]

    def colours():
        return [(int(line.get_attribute("data-param")), line.get_attribute("stroke")) for line in lines]

    sign = {"#2563eb": 1, "#dc2626": -1}
    assert all(sign[c] == (1 if values[p] > 0 else -1) for p, c in colours())
    page.find_element(By.CSS_SELECTOR, '[data-mode="gradient"]').click()
    assert all(sign[c] == (1 if grads[p] > 0 else -1) for p, c in colours())
    stuck = [f"{k}:{i}" for k, layer in enumerate(doc["steps"][2]["health"]["layers"]) for i in layer["stuck"]]
    assert [n.get_attribute("data-neuron") for n in neurons if "gg-stuck" in n.get_attribute("class")] == stuck


def test_the_health_panel_shows_the_recorded_figures(open_page, moons_run):
    path, doc = moons_run
    page = open_page(path)
    go_to(page, 5)
    health = doc["steps"][5]["health"]
    rows = page.find_elements(By.CSS_SELECTOR, "#health tbody tr")
    for row, layer, shape in zip(rows, health["layers"], doc["layers"]):
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")][:5]
        dead = "–" if layer["dead_relu"] is None else f"{round(layer['dead_relu'] * shape['nout'])} / {shape['nout']}"
        assert cells == [cells[0], shape["activation"], dead, "–", fmt(layer["update_ratio"])]
    assert "first nan or inf: none" in text(page, "health")


def test_the_numbers_are_written_as_python_writes_them(open_page, moons_run):
    page = open_page(moons_run[0])
    rng = random.Random(0)
    xs = [rng.uniform(-100, 100) for _ in range(2000)]
    xs += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(3000)]
    xs += [k / 64 for k in range(-3000, 3000)]  # exact binary fractions: ties that round half to even
    xs += [12345.0, 1234.5, 0.15625, 9999.5, 1e-05, 0.0001, 5e-324, 1.7976931348623157e308, -0.0, 1e16]
    xs = [x for x in xs if x == x and abs(x) != float("inf")]
    assert page.execute_script("return arguments[0].map(gategradFmt)", xs) == [fmt(x) for x in xs]
    assert page.execute_script("return [NaN, Infinity, -Infinity].map(gategradFmt)") == ["nan", "inf", "-inf"]


def test_a_single_feature_lists_its_samples_to_pick(open_page, tmp_path):
    X = [[0.1], [-0.5], [0.3]]
    model = nn.MLP(1, [2, 1], seed=0)
    recorder = nn.Recorder()
    nn.fit(model, X, [1, -1, 1], nn.hinge_loss, nn.SGD(model.parameters(), lr=0.1), 3, quiet=True, record=recorder)
    path = viz.save_run(recorder, tmp_path / "run.html")
    page = open_page(path)
    assert "The samples have a single feature, so there is no plane to colour" in text(page, "boundary")
    page.find_element(By.CSS_SELECTOR, '#boundary button[data-sample="2"]').click()
    out = nn.MLP(1, [2, 1], seed=0)
    doc = viewer.read_record(path)
    for p, x in zip(out.parameters(), doc["steps"][0]["parameters"]):
        p.data = x
    assert float(page.find_element(By.ID, "sample-view").get_attribute("data-output")) == out(X[2]).data


# ---- a CSV file's run: its names, a slice through more than two features, the palette ----

FRUIT = {"apple": (7.0, 7.0, 180.0), "cherry": (2.0, 2.0, 8.0), "pear": (6.0, 9.0, 170.0)}


@pytest.fixture(scope="module")
def fruit_run(tmp_path_factory):
    """`gategrad train` on 45 fruit from a CSV file: width, height and weight; apple, cherry or pear."""
    folder = tmp_path_factory.mktemp("fruit")
    rng = random.Random(0)
    rows = [["width", "height", "weight", "fruit"]]
    for i in range(45):
        fruit = list(FRUIT)[i % 3]
        rows.append([str(round(rng.gauss(m, 0.15 * m), 2)) for m in FRUIT[fruit]] + [fruit])
    (folder / "fruit.csv").write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    argv = ["train", "--csv", str(folder / "fruit.csv"), "--target", "fruit", "--hidden", "6", "--steps", "8"]
    assert main([*argv, "--quiet", "--record", str(folder / "run.html")]) == 0
    return folder / "run.html", viewer.read_record(folder / "run.html")


def canvas_colours(page):
    """The colour of each cell of the decision regions, row by row, as #RRGGBB."""
    data = page.execute_script(
        "const c = document.querySelector('#boundary canvas');"
        "return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);"
    )
    return ["#{:02X}{:02X}{:02X}".format(*data[i : i + 3]) for i in range(0, len(data), 4)]


def slice_classes(doc, kept, a, b):
    """The engine's class for each cell of the plane over features a and b, the others held at their mean."""
    model = nn.MLP(**doc["config"])
    for p, x in zip(model.parameters(), doc["steps"][kept]["parameters"]):
        p.data = x
    means = [statistics.fmean(column) for column in zip(*doc["X"])]
    xs, ys = [p[a] for p in doc["X"]], [p[b] for p in doc["X"]]
    left, right, bottom, top = min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5
    classes = []
    for row in range(60):
        for col in range(60):
            x = list(means)
            x[a] = left + (right - left) * (col + 0.5) / 60
            x[b] = top - (top - bottom) * (row + 0.5) / 60
            classes.append(nn.predicted_class(model(x)))
    return classes


def test_a_csv_run_keeps_its_feature_and_class_names_in_the_record_and_on_the_page(open_page, fruit_run):
    path, doc = fruit_run
    assert (doc["features"], doc["classes"]) == (["width", "height", "weight"], ["apple", "cherry", "pear"])
    page = open_page(path)
    inputs = page.find_elements(By.CSS_SELECTOR, "#network text.gg-tick title")
    assert [t.get_attribute("textContent") for t in inputs] == ["width", "height", "weight"]
    options = page.find_elements(By.CSS_SELECTOR, '#boundary select[data-axis="0"] option')
    assert [o.text for o in options] == ["width", "height", "weight"]
    legend = page.find_elements(By.CSS_SELECTOR, "#boundary-legend .gg-class")
    assert [c.text for c in legend] == ["apple", "cherry", "pear"]
    cherry = next(i for i in unhidden(doc) if doc["y"][i] == 1)
    click_sample(page, cherry)
    x = ", ".join(map(fmt, doc["X"][cherry]))
    assert text(page, "sample-view").startswith(f"sample {cherry}: x = ({x}), label cherry, at step 0")


@pytest.mark.slow  # the engine's class at 3 x 3600 points
def test_three_features_show_a_slice_the_engine_colours_with_the_others_at_their_mean(open_page, fruit_run):
    path, doc = fruit_run
    page = open_page(path)
    assert page.find_elements(By.CSS_SELECTOR, "#boundary button") == []  # no list of numbered buttons
    weight = fmt(statistics.fmean(p[2] for p in doc["X"]))
    assert text(page, "slice-note") == (
        "The samples have more than two features: the plane shows two of them, the others held at their mean "
        f"(weight {weight})."
    )
    go_to(page, 7)
    colours = [plot.class_color(c) for c in slice_classes(doc, 7, 0, 1)]
    assert canvas_colours(page) == colours
    assert len(set(colours)) > 1

    Select(page.find_element(By.CSS_SELECTOR, '[data-axis="1"]')).select_by_visible_text("weight")
    height = fmt(statistics.fmean(p[1] for p in doc["X"]))
    assert text(page, "slice-note").endswith(f"the others held at their mean (height {height}).")
    assert canvas_colours(page) == [plot.class_color(c) for c in slice_classes(doc, 7, 0, 2)]
    points = page.find_elements(By.CSS_SELECTOR, "#boundary circle[data-sample]")
    xs, zs = [p[0] for p in doc["X"]], [p[2] for p in doc["X"]]
    for point, x, z in zip(points, xs, zs):  # each sample placed by its width and its weight
        assert float(point.get_attribute("cx")) == pytest.approx(
            360 * (x - min(xs) + 0.5) / (max(xs) - min(xs) + 1), abs=0.06
        )
        assert float(point.get_attribute("cy")) == pytest.approx(
            360 * (max(zs) + 0.5 - z) / (max(zs) - min(zs) + 1), abs=0.06
        )

    # The same feature both ways swaps the axes.
    Select(page.find_element(By.CSS_SELECTOR, '[data-axis="0"]')).select_by_visible_text("weight")
    axes = [s.get_attribute("value") for s in page.find_elements(By.CSS_SELECTOR, "[data-axis]")]
    assert axes == ["2", "0"]
    assert canvas_colours(page) == [plot.class_color(c) for c in slice_classes(doc, 7, 2, 0)]


def test_the_points_and_regions_take_the_class_colours_of_the_palette(open_page, spiral_run):
    path, doc = spiral_run
    page = open_page(path)
    assert json.loads(page.find_element(By.ID, "gategrad-view").get_attribute("textContent"))["class_colors"] == list(
        plot.CLASS_COLORS
    )
    points = page.find_elements(By.CSS_SELECTOR, "#boundary circle[data-sample]")
    assert [p.get_attribute("fill") for p in points] == [plot.class_color(c) for c in doc["y"]]
    assert canvas_colours(page) == [plot.class_color(c) for c in slice_classes(doc, 0, 0, 1)]
    swatches = page.find_elements(By.CSS_SELECTOR, '#boundary-legend [data-mark="classes"] circle')
    assert [s.get_attribute("fill") for s in swatches] == list(plot.CLASS_COLORS[:3])


# ---- where things are: the legend, the panel a click fills, the columns at narrower widths ----

# Every kind of mark the page draws, by the element that draws it, and the legend entry that explains it.
MARKS = {
    "#boundary circle.gg-point[data-sample]": "classes",
    "#boundary circle.gg-point.gg-selected[data-sample]": "picked-sample",
    "#loss-chart .gg-marker": "marker",
    "#network line.gg-weight": "weights",
    "#network rect.gg-input": "inputs",
    '#network circle.gg-neuron:not([fill="#ffffff"])': "fill",
    "#network circle.gg-neuron.gg-stuck": "stuck",
    "#network circle.gg-neuron.gg-picked": "picked-neuron",
    "#health .gg-band": "band",
}
LEGEND = {
    "classes": "legend_classes",
    "picked-sample": "legend_picked_sample",
    "marker": "legend_marker",
    "weights": "legend_weights",
    "inputs": "legend_inputs",
    "fill": "legend_fill",
    "stuck": "legend_stuck",
    "picked-neuron": "legend_picked_neuron",
    "band": "legend_band",
}


def test_the_legend_names_every_mark_the_page_draws(open_page, moons_run):
    path, doc = moons_run
    page = open_page(path)
    click_sample(page, unhidden(doc)[0])
    click_neuron(page, "1:2")
    assert doc["steps"][0]["health"]["layers"][1]["stuck"] == [1]  # a dead ReLU, drawn with its dashed ring
    for selector, mark in MARKS.items():
        assert page.find_elements(By.CSS_SELECTOR, selector), selector
        (entry,) = page.find_elements(By.CSS_SELECTOR, f'.gg-legend [data-mark="{mark}"]')
        assert entry.text.endswith(viewer.STRINGS[LEGEND[mark]]), mark
    classes = page.find_elements(By.CSS_SELECTOR, '[data-mark="classes"] .gg-class')
    assert [c.text for c in classes] == ["0", "1"]  # no class names given: the class indices
    # No other kind of mark: each shape drawn in a picture has one of these classes.
    drawn = page.execute_script(
        "return Array.from(document.querySelectorAll('#viewer svg:not(.gg-swatch) :is(circle, line, rect, polyline)'),"
        " (shape) => shape.getAttribute('class'));"
    )
    named = {"gg-point", "gg-selected", "gg-marker", "gg-weight", "gg-input", "gg-neuron", "gg-stuck", "gg-picked"}
    drawn_by_the_chart = {"gg-frame", "gg-loss", "gg-acc", "gg-loss-dot", "gg-acc-dot", "gg-spark-line", "gg-band"}
    assert {c for classes in drawn for c in (classes or "").split()} <= named | drawn_by_the_chart


@pytest.mark.parametrize("width", [1300, 800])
def test_a_click_shows_what_it_picked_in_the_window(open_page, moons_run, width):
    path, doc = moons_run
    page = open_page(path)
    page.set_window_size(width, 900)
    try:
        for pick, panel in ((lambda: click_sample(page, unhidden(doc)[5]), "sample-view"),
                            (lambda: click_neuron(page, "0:3"), "gate-view")):  # fmt: skip
            page.execute_script("window.scrollTo(0, 0)")
            pick()
            top, bottom, bar, height = page.execute_script(
                f"const box = document.getElementById('{panel}').closest('.gg-panel').getBoundingClientRect();"
                "return [box.top, box.bottom, document.querySelector('.gg-bar').getBoundingClientRect().bottom,"
                " window.innerHeight];"
            )
            assert bar <= top and bottom <= height, (panel, top, bottom, bar, height)
    finally:
        page.set_window_size(1300, 1000)


@pytest.mark.parametrize("width", [1280, 1024, 800])
@pytest.mark.parametrize("run", ["moons_run", "fruit_run"])
def test_the_columns_fit_the_window_without_overlapping(open_page, request, run, width):
    page = open_page(request.getfixturevalue(run)[0])
    page.set_window_size(width, 900)
    try:
        row, panels, page_width = page.execute_script(
            "const row = document.getElementById('main-row');"
            "return [[row.scrollWidth, row.clientWidth],"
            " Array.from(row.children, (p) => { const b = p.getBoundingClientRect();"
            "   return [b.left, b.top, b.right, b.bottom, p.scrollWidth, p.clientWidth]; }),"
            " [document.documentElement.scrollWidth, document.documentElement.clientWidth]];"
        )
        assert row[0] <= row[1] and page_width[0] <= page_width[1]
        for left, _, right, _, scroll, client in panels:
            assert scroll <= client  # nothing in a panel sticks out of it
            assert 0 <= left and right <= page_width[1]
        for i, a in enumerate(panels):
            for b in panels[i + 1 :]:
                apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
                assert apart, (a, b)
        if width >= 1024:  # three columns side by side
            assert len({round(top) for _, top, *_ in panels}) == 1
    finally:
        page.set_window_size(1300, 1000)


# ---- the page in Russian and Chinese ----


@pytest.mark.slow
def test_the_russian_page_says_everything_in_russian_with_the_same_numbers(open_page, russian_run, moons_run):
    path, doc = russian_run
    assert doc == moons_run[1]  # the same run, recorded the same
    page = open_page(path)
    assert page.execute_script("return document.documentElement.lang") == "ru"
    assert page.title == "gategrad: запись обучения"
    assert (text(page, "step-counter"), text(page, "step-of")) == ("шаг 0", "запись 1 из 15")
    go_to(page, 5)
    step = doc["steps"][5]
    assert text(page, "readout") == f"потери {fmt(step['loss'])} · доля верных ответов {fmt(step['accuracy'])}"
    heads = [th.text for th in page.find_elements(By.CSS_SELECTOR, "#health th")]
    assert heads[:5] == ["слой", "активация", "мёртвые ReLU", "насыщенные", "обновление / вес"]
    rows = page.find_elements(By.CSS_SELECTOR, "#health tbody tr")
    for row, layer, shape in zip(rows, step["health"]["layers"], doc["layers"]):
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")][:5]
        dead = "–" if layer["dead_relu"] is None else f"{round(layer['dead_relu'] * shape['nout'])} / {shape['nout']}"
        activation = {"relu": "ReLU", "linear": "линейная"}[shape["activation"]]
        assert cells == [cells[0], activation, dead, "–", fmt(layer["update_ratio"])]
    assert "первое появление nan или inf: нет" in text(page, "health")

    sample = unhidden(doc)[3]
    click_sample(page, sample)
    out, calls, walk = engine_sample(doc, 5, sample)
    loss = fmt(step["sample_losses"][sample])
    assert f"выход {fmt(out.data)}, потери на этом примере L = {loss}; dL/d(выход) = " in text(page, "sample-view")
    for key in ("0:3", "1:2", "2:0"):
        click_neuron(page, key)
        gates = set(calls[key].gates)
        assert sentences(page) == [lang.sentence(s, "ru") for s in walk if s.output in gates]
    assert text(page, "gate-view").startswith(f"нейрон 2:0 (линейная), пример {sample}, шаг 5: обратный проход")

    # Besides the heading's Python (the model and the loss function), no English word is left.
    heading = text(page, "heading")
    assert heading.startswith("MLP(2, [8, 6, 1], activation='relu'): обучение с функцией потерь hinge_loss на 40")
    rest = page.find_element(By.TAG_NAME, "body").text.replace(heading, "")
    math = {"x", "z", "a", "b", "w", "L", "d", "dL", "da", "dz", "e", "nan", "inf"}
    assert set(re.findall(r"[A-Za-z]+", rest)) <= math | {"ReLU", "Home", "End"}


def test_the_russian_page_names_the_gate_that_made_inf(open_page, tmp_path):
    model = nn.Neuron(1, "linear")
    model.w[0].data = 1e308
    recorder = nn.Recorder()
    with pytest.raises(nn.TrainingDiverged):
        nn.fit(model, [[10.0]], [1], nn.mse_loss, nn.SGD(model.parameters(), lr=0.1), 2, quiet=True, record=recorder)
    page = open_page(viz.save_run(recorder, tmp_path / "run.html", lang="ru"))
    assert "первое появление nan или inf: вентиль умножения (нейрон 0:0, прямой проход)" in text(page, "health")


@pytest.mark.slow
def test_the_chinese_page_walks_a_neuron_in_the_chinese_sentences(open_page, moons_run, tmp_path):
    _, doc = moons_run
    recorder = nn.Recorder()
    X, y = make_moons(40, noise=0.1, seed=0)
    model = nn.MLP(2, [8, 6, 1], seed=1)
    nn.fit(model, X, [2 * c - 1 for c in y], nn.hinge_loss, nn.SGD(model.parameters(), lr=0.5), 15, l2=1e-4,
           quiet=True, record=recorder)  # fmt: skip
    page = open_page(viz.save_run(recorder, tmp_path / "run.html", lang="zh"))
    assert page.execute_script("return document.documentElement.lang") == "zh"
    assert (text(page, "step-counter"), text(page, "step-of")) == ("第 0 步", "第 1 条记录（共 15 条）")
    sample = unhidden(doc)[2]
    click_sample(page, sample)
    _, calls, walk = engine_sample(doc, 0, sample)
    click_neuron(page, "1:4")
    assert sentences(page) == [lang.sentence(s, "zh") for s in walk if s.output in set(calls["1:4"].gates)]
    assert text(page, "gate-view").startswith(f"神经元 1:4（ReLU），样本 {sample}，第 0 步：反向传播")


# ---- a net too large to keep every step's parameters ----


def wide_data(n=12, width=100, seed=0):
    """`n` synthetic samples of `width` inputs in [0, 1], half of them brighter in the first ten: labels 1 and 0."""
    rng = random.Random(seed)
    X = [[rng.random() + (0.5 if i % 2 and j < 10 else 0.0) for j in range(width)] for i in range(n)]
    return X, [i % 2 for i in range(n)]


@pytest.fixture(scope="module")
def wide_run(tmp_path_factory):
    """MLP(100, [60, 1]) relu, 6,121 parameters, 8 replayed steps of SGD, its parameters kept at 2 of them (the
    Recorder given a budget of 2 steps' numbers); and the same run on the scalar engine, every step kept."""
    X, y = wide_data()
    runs = {}
    for engine, budget in (("replay", 2 * 2 * 6121), ("scalar", None)):
        model = nn.MLP(100, [60, 1], seed=4)
        recorder = nn.Recorder(max_numbers=budget)
        optimizer = nn.SGD(model.parameters(), lr=0.3)
        nn.fit(model, X, y, nn.bce_with_logits, optimizer, 8, quiet=True, record=recorder, engine=engine)
        runs[engine] = recorder
    path = viz.save_run(runs["replay"], tmp_path_factory.mktemp("wide") / "run.html")
    return path, viewer.read_record(path), runs["scalar"].to_json()


def engine_health(doc, kept):
    """Dead ReLUs of layer 0 at kept step `kept` of a record that keeps every step, counted with the engine, and
    each layer's update ratio from the parameters before and after the step."""
    model = nn.MLP(**doc["config"])
    before, after = doc["steps"][kept]["parameters"], doc["steps"][kept + 1]["parameters"]
    for p, x in zip(model.parameters(), before):
        p.data = x
    outputs = [[n(x).data for n in model.layers[0].neurons] for x in doc["X"]]
    dead = sum(all(row[j] == 0.0 for row in outputs) for j in range(60))
    spans = [(0, 6060), (6060, 6121)]
    ratios = [
        math.sqrt(sum((a - b) ** 2 for a, b in zip(after[lo:hi], before[lo:hi])))
        / math.sqrt(sum(b * b for b in before[lo:hi]))
        for lo, hi in spans
    ]
    return dead, ratios


def test_a_large_nets_page_shows_every_steps_health_and_says_which_panels_need_parameters(open_page, wide_run):
    path, doc, everything = wide_run
    page = open_page(path)
    assert [("parameters" in s) for s in doc["steps"]] == [True] + [False] * 6 + [True]
    assert page.find_element(By.ID, "step-slider").get_attribute("max") == "7"
    assert (
        "The net has 6,121 parameters: the page keeps the parameters and gradients of 2 of its 8 steps "
        "(at most 24,484 numbers); the others show the loss and the health figures." in text(page, "note")
    )
    not_kept = (
        "This step's parameters were not kept: the net has 6,121 parameters, too many for the page to keep at every "
        "step."
    )
    assert text(page, "plane-note") == (
        "The net has 6,121 parameters: colouring the plane would run it on 3,600 points at every step, too slow for "
        "a page; pick a sample:"
    )
    assert page.find_elements(By.CSS_SELECTOR, "#boundary canvas") == []
    assert (
        page.find_element(By.ID, "inputs-box").find_element(By.TAG_NAME, "title").get_attribute("textContent")
        == "100 inputs"
    )
    assert len(page.find_elements(By.CSS_SELECTOR, "#network rect.gg-input")) == 1
    assert len(page.find_elements(By.CSS_SELECTOR, "#network line.gg-weight")) == 60

    page.find_element(By.CSS_SELECTOR, '#boundary button[data-sample="3"]').click()
    out, _, _ = engine_sample(doc, 0, 3)
    assert float(page.find_element(By.ID, "sample-view").get_attribute("data-output")) == out.data
    assert "x = (" in text(page, "sample-view") and "\u2026" in text(page, "sample-view")
    click_neuron(page, "1:0")
    assert len(sentences(page)) == 60 + 1  # its add gate and 60 products

    for kept in range(7):
        go_to(page, kept)
        dead, ratios = engine_health(everything, kept)
        rows = page.find_elements(By.CSS_SELECTOR, "#health tbody tr")
        cells = [[td.text for td in row.find_elements(By.TAG_NAME, "td")][:5] for row in rows]
        assert cells[0][:3] == ["0", "relu", f"{dead} / 60"]
        shown = [float(c[4]) for c in cells]
        assert shown == [float(fmt(r)) for r in ratios]
        light = "parameters" not in doc["steps"][kept]
        assert text(page, "network-note") == (not_kept if light else "")
        if light:
            assert text(page, "sample-view") == not_kept and text(page, "gate-view") == not_kept
            assert page.find_element(By.ID, "sample-view").get_attribute("data-step") == str(kept)
        else:
            assert float(page.find_element(By.ID, "sample-view").get_attribute("data-output")) == out.data
    spark = page.find_elements(By.CSS_SELECTOR, "#health tbody tr")[1].find_element(By.CSS_SELECTOR, "polyline")
    assert len(spark.get_attribute("points").split()) == 8


def test_the_loss_charts_two_long_names_in_russian_do_not_run_into_each_other(tmp_path_factory, open_page):
    rng = random.Random(3)
    X = [[rng.random() for _ in range(30)] for _ in range(8)]
    model = nn.MLP(30, [16, 1], "relu", seed=0)
    path, record = recorded(tmp_path_factory, "long-names", model, X, [0, 1] * 4, nn.bce_with_logits, 12, 4.0, "ru")
    losses = [step["loss"] for step in record["steps"]]
    assert max(losses) / min(losses) > 20  # the chart takes a log scale, and says so in the loss's name
    page = open_page(path)
    loss, score = page.find_elements(By.CSS_SELECTOR, "#loss-chart text.gg-legend")
    assert loss.text == "потери (логарифмическая шкала)" and score.text == "доля верных ответов"
    a, b = loss.rect, score.rect
    assert a["x"] + a["width"] <= b["x"] or a["y"] + a["height"] <= b["y"]
