"""The stepper page of cs231n's max circuit: its steps, its table, and nothing it would load from the network."""

import json
import re
from html.parser import HTMLParser

import pytest
from conftest import MAX_CIRCUIT, chinese_gate, row_steps

from gategrad import Value
from gategrad.engine import GATES
from gategrad.explain.expr import build
from gategrad.viz import Stepper
from gategrad.viz.page import UI_STRINGS, ui_strings

pytestmark = pytest.mark.needs_dot


@pytest.fixture
def circuit(max_circuit):
    return max_circuit


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    """The saved stepper page of the max circuit (built once: each frame is a run of `dot`)."""
    path = Stepper(build(*MAX_CIRCUIT).output).save(tmp_path_factory.mktemp("page") / "s.html")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def slides(html):
    return Page(html).slides()


@pytest.fixture
def sentences():
    """The engine's sentence for each backward step, in order."""
    return [s.explanation for s in build(*MAX_CIRCUIT).output.backward_steps()]


class Page(HTMLParser):
    """Every element's attributes, the text of <style>, and the JSON of the slides."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self.data = ""
        self._in = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.attrs.append((tag, found))
        self._in = "data" if found.get("data-part") == "data" else tag

    def handle_data(self, data):
        if self._in == "style":
            self.style += data
        elif self._in == "data":
            self.data += data

    def handle_endtag(self, tag):
        self._in = ""

    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.attrs if a.get("id")}

    def slides(self) -> list[dict]:
        return json.loads(self.data)


def resource_refs(html: str) -> list[str]:
    """Whatever in `html` a browser could fetch: src/href attributes, CSS url() and @import."""
    page = Page(html)
    refs = [f"{name}={value}" for _, a in page.attrs for name, value in a.items() if name in ("src", "href")]
    return refs + re.findall(r"url\(|@import", page.style)


def saved(stepper: Stepper, tmp_path) -> str:
    return stepper.save(tmp_path / "stepper.html").read_text(encoding="utf-8")


def test_the_saved_page_has_the_controls_under_their_plain_ids(html):
    ids = Page(html).ids()
    assert {"prev", "next", "play", "step", "explanation", "predict", "score", "check", "feedback"} <= ids


def test_before_any_script_runs_the_page_shows_step_1_the_forward_pass(html):
    assert '<span id="step" data-part="step">1 / 5</span>' in html
    assert (
        'id="explanation" data-part="explanation">The forward pass: each value is computed from its inputs; '
        "no gradient is known yet.</p>" in html
    )
    assert '<tr><td>x</td><td data-part="grad">?</td></tr>' in html


def test_step_1_is_the_forward_pass_and_then_one_step_per_gate_in_the_engines_words(slides, sentences):
    assert [s["heading"] for s in slides] == [
        "Forward pass",
        "Backward pass, gate 1 of 4: mul",
        "Backward pass, gate 2 of 4: add",
        "Backward pass, gate 3 of 4: max",
        "Backward pass, gate 4 of 4: mul",
    ]
    assert [s["explanation"] for s in slides[1:]] == sentences


def test_the_table_shows_each_inputs_gradient_as_far_as_it_is_known(slides):
    assert [s["grads"] for s in slides] == [
        ["?", "?", "?", "?"],
        ["?", "?", "?", "?"],
        ["?", "?", "?", "?"],
        ["?", "?", "2", "0"],
        ["-8", "6", "2", "0"],
    ]


def test_an_input_used_by_two_gates_is_so_far_until_both_have_run(tmp_path):
    circuit = build("x*y + x", {"x": 2.0, "y": 5.0})
    slides = Page(saved(Stepper(circuit.output), tmp_path)).slides()
    assert [s["grads"] for s in slides] == [["?", "?"], ["1 so far", "?"], ["6", "2"]]


def test_each_backward_step_carries_what_predict_mode_asks_and_expects(slides, circuit):
    steps = list(circuit.output.backward_steps())
    assert slides[0]["inputs"] == []
    for slide, step in zip(slides[1:], steps, strict=True):
        assert (slide["gate"], slide["output"], slide["upstream"]) == (
            step.op,
            step.output.label,
            f"{step.upstream:.4g}",
        )
        assert [float(i["exactly"]) for i in slide["inputs"]] == [i.contribution for i in step.inputs]
        assert [(i["local"], i["gets"]) for i in slide["inputs"]] == [
            (f"{i.local_grad:.4g}", f"{i.contribution:.4g}") for i in step.inputs
        ]
    assert [[i["exactly"] for i in s["inputs"]] for s in slides[1:]] == [
        ["2.0"],
        ["2.0", "2.0"],
        ["2.0", "0.0"],
        ["-8.0", "6.0"],
    ]
    assert [i["name"] for i in slides[4]["inputs"]] == ["x", "y"]


def test_an_infinite_gradient_reaches_the_page_as_valid_json(tmp_path):
    circuit = build("log(x) * y", {"x": 0.0, "y": 2.0})  # y gets log(0) = -inf
    html = saved(Stepper(circuit.output), tmp_path)
    (mul,) = [s for s in Page(html).slides() if s["gate"] == "mul"]
    assert [i["exactly"] for i in mul["inputs"]] == ["2.0", "-inf"]
    assert [i["gets"] for i in mul["inputs"]] == ["2", "-inf"]


def test_predict_modes_words_are_the_pages_ui_strings(html):
    assert "Type what each input gets (Tab between fields), then Enter. Within 1% counts as right." in html
    assert '<input type="checkbox" id="predict" data-part="predict"> predict</label>' in html
    ui = json.loads(re.search(r'<script type="application/json" data-part="ui">(.*?)</script>', html)[1])
    assert {key: ui[key] for key in UI_STRINGS if key.startswith("predict")} == {
        key: text for key, text in UI_STRINGS.items() if key.startswith("predict")
    }


def test_the_last_step_shows_the_gradients_backward_computes(slides, circuit):
    circuit.output.backward()
    assert slides[-1]["grads"] == [f"{v.grad:.4g}" for v in circuit.inputs.values()]
    assert "grad &#45;8" in slides[-1]["svg"]  # Graphviz writes a minus sign as &#45;


def test_building_the_stepper_leaves_the_grads_alone(circuit):
    Stepper(circuit.output)
    assert [v.grad for v in circuit.inputs.values()] == [0.0, 0.0, 0.0, 0.0]


def test_the_page_loads_nothing_from_anywhere(html, slides):
    assert resource_refs(html) == []
    for slide in slides:
        assert resource_refs(slide["svg"]) == []
    assert "http:" not in html
    assert "https:" not in html
    assert "//" not in html


def test_the_frames_are_inline_svg_without_prolog_comments_ids_or_namespaces(slides):
    svg = slides[2]["svg"]
    assert svg.startswith('<svg width="') and svg.endswith("</svg>")
    assert re.match(r'<svg width="\d+px" height="\d+px"', svg)
    for leftover in ("<?xml", "<!DOCTYPE", "<!--", "<title>", " id=", "xmlns"):
        assert leftover not in svg
    assert '<g class="node gate gg&#45;active">' in svg  # Graphviz writes a hyphen as &#45;, which HTML reads as -


def test_a_label_is_shown_as_text_never_as_markup(tmp_path):
    label = '</script><img src="//evil.example/x.png"><script>alert(1)</script>'
    html = saved(Stepper(Value(2.0, label) * 3), tmp_path)
    page = Page(html)
    assert [tag for tag, _ in page.attrs].count("script") == 3  # the slides, the words, the code
    assert "img" not in [tag for tag, _ in page.attrs]
    assert resource_refs(html) == []
    assert "<tr><td>&lt;/script&gt;&lt;img src=&quot;//evil.example/x.png&quot;&gt;" in html
    assert page.slides()[0]["svg"].count("&lt;img src=&quot;//evil.example/x.png&quot;&gt;") == 1


def test_in_a_notebook_each_stepper_gets_ids_of_its_own(circuit):
    stepper = Stepper(circuit.output)
    first, second = Page(stepper._repr_html_()).ids(), Page(stepper._repr_html_()).ids()
    assert not first & second
    assert not {"prev", "next", "play", "step", "explanation", "predict", "score"} & first
    (prefix,) = {i.removesuffix("stepper") for i in first if i.endswith("stepper")}
    parts = ("prev", "next", "play", "step", "explanation", "predict", "score")
    assert {f"{prefix}{part}" for part in parts} <= first


def test_saving_replaces_the_file_and_leaves_no_temporary_file(circuit, tmp_path):
    path = tmp_path / "stepper.html"
    path.write_text("old")
    assert Stepper(circuit.output).save(path) == path
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["stepper.html"]


@pytest.mark.parametrize("op", list(GATES))
def test_the_chinese_stepper_names_each_gate_with_men_correctly_spaced(op):
    step = row_steps(GATES[op])[0]
    slide = Page(Stepper(step.output, lang="zh")._repr_html_()).slides()[1]
    assert slide["heading"] == f"反向传播，第 1 个门（共 1 个）：{chinese_gate(op)}"
    assert slide["gate_phrase"] == chinese_gate(op)
    numbers = {"gate": slide["gate"], "gate_phrase": slide["gate_phrase"], "out": slide["output"], "g": "1"}
    question = ui_strings("zh")["predict_question"].format(k=1, n=1, **numbers)  # as stepper.js fills it
    assert question.startswith(f"第 1 个门（共 1 个）：{chinese_gate(op)} {slide['output']} 收到上游梯度 1。")
