"""Pictures of cs231n's max circuit, checked in the Graphviz source and in the SVG `dot` renders."""

import xml.etree.ElementTree as ET

import graphviz
import pytest

from gategrad import Value
from gategrad.explain.expr import build
from gategrad.viz import dot
from gategrad.viz.dot import (
    ACTIVE,
    KIND_COLORS,
    GraphvizNotInstalled,
    draw_dot,
    render_walkthrough,
    walkthrough_frames,
)

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def circuit(max_circuit):
    return max_circuit


def svg_groups(svg: str, cls: str) -> list[ET.Element]:
    """The <g> elements of an SVG whose class list includes `cls`."""
    return [g for g in ET.fromstring(svg).iter(f"{SVG}g") if cls in g.get("class", "").split()]


def texts(element: ET.Element) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text")]


def test_draw_dot_is_a_graphviz_digraph(circuit):
    assert isinstance(draw_dot(circuit.output), graphviz.Digraph)


def test_each_value_is_a_record_of_label_data_and_grad(circuit):
    circuit.output.backward()
    source = draw_dot(circuit.output).source
    assert "{ x | data 3 | grad -8 }" in source
    assert "{ y | data -4 | grad 6 }" in source
    assert "{ max(z,w) | data 2 | grad 2 }" in source
    assert "{ 2*(x*y+max(z,w)) | data -20 | grad 1 }" in source


def test_without_grads_the_record_is_label_and_data():
    source = draw_dot(Value(3.0, "x") * 2, show_grad=False).source
    assert "{ x | data 3 }" in source
    assert "grad" not in source


def test_gates_show_their_symbol_and_a_folded_constant_factor(circuit):
    source = draw_dot(circuit.output).source
    assert 'label="×"' in source
    assert 'label="+"' in source
    assert "label=max" in source
    assert 'label="× 2"' in source


def test_inputs_parameters_and_intermediates_are_told_apart():
    x, w = Value(2.0, "x"), Value(-3.0, "w")
    source = draw_dot(x * w, params=[w]).source
    assert (
        f'label="{{ x | data 2 | grad 0 }}" class="value input" color=black fillcolor="{KIND_COLORS["input"]}"'
        in source
    )
    assert f'class="value parameter" color=black fillcolor="{KIND_COLORS["parameter"]}"' in source
    assert 'class="value intermediate output"' in source


def test_record_characters_in_a_label_are_escaped():
    source = draw_dot(Value(1.0, "a|b{c}") + 1.0).source
    assert r"a\|b\{c\}" in source


def test_too_big_a_circuit_is_refused_with_what_to_do():
    total = Value.sum(Value(float(i)) for i in range(300))
    with pytest.raises(ValueError, match="the circuit has 301 values, more than max_nodes=200") as refused:
        draw_dot(total)
    assert "one sample's forward pass" in str(refused.value)
    assert "smaller network" in str(refused.value)


def test_a_larger_max_nodes_draws_it():
    total = Value.sum(Value(float(i)) for i in range(300))
    assert draw_dot(total, max_nodes=400).source.count("shape=record") == 301


def test_colouring_by_gradient_marks_negative_red_and_positive_blue(circuit):
    circuit.output.backward()
    source = draw_dot(circuit.output, color_grads=True).source
    assert '{ x | data 3 | grad -8 }" class="value input" color="#dc2626" fillcolor="#dbeafe" penwidth=4.00' in source
    assert '{ y | data -4 | grad 6 }" class="value input" color="#2563eb" fillcolor="#dbeafe" penwidth=3.25' in source


@pytest.mark.needs_dot
def test_the_rendered_svg_shows_the_numbers(circuit):
    circuit.output.backward()
    svg = draw_dot(circuit.output).pipe(encoding="utf-8")
    inputs = [texts(g) for g in svg_groups(svg, "input")]
    assert ["x", "data 3", "grad -8"] in inputs
    assert ["w", "data -1", "grad 0"] in inputs


@pytest.mark.needs_dot
def test_jupyter_gets_inline_svg(circuit):
    assert draw_dot(circuit.output)._repr_image_svg_xml().startswith("<?xml")


def test_without_dot_the_graph_builds_but_rendering_says_how_to_install(circuit, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    graph = draw_dot(circuit.output)
    assert "{ x | data 3 | grad 0 }" in graph.source
    with pytest.raises(GraphvizNotInstalled) as missing:
        graph.pipe()
    assert isinstance(missing.value, RuntimeError)
    assert "apt-get install graphviz" in str(missing.value)
    assert "brew install graphviz" in str(missing.value)


def test_without_dot_render_and_the_walkthrough_say_how_to_install(circuit, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(GraphvizNotInstalled, match="apt-get install graphviz"):
        draw_dot(circuit.output).render(tmp_path / "circuit")
    with pytest.raises(GraphvizNotInstalled, match="brew install graphviz"):
        render_walkthrough(circuit.output, tmp_path / "frames")


def test_frames_are_the_forward_pass_then_one_per_gate(circuit):
    frames = walkthrough_frames(circuit.output)
    assert len(frames) == 5
    assert frames[0].step is None
    assert frames[0].caption.startswith("The forward pass")
    assert [f.step.op for f in frames[1:]] == ["mul", "add", "max", "mul"]
    assert frames[3].caption.startswith("Step 3: The max gate routes")


def test_drawing_the_frames_leaves_the_grads_as_they_were(circuit):
    walkthrough_frames(circuit.output)
    assert circuit.inputs["x"].grad == 0.0
    assert circuit.output.grad == 0.0


def test_the_forward_frame_knows_no_gradient(circuit):
    source = walkthrough_frames(circuit.output)[0].graph.source
    assert source.count("grad ?") == 8
    assert ACTIVE not in source


def test_the_first_step_knows_only_the_output_and_its_input(circuit):
    source = walkthrough_frames(circuit.output)[1].graph.source
    assert "{ 2*(x*y+max(z,w)) | data -20 | grad 1 }" in source
    assert "{ x*y+max(z,w) | data -10 | grad 2 }" in source
    assert source.count("grad ?") == 6


def test_a_gradient_still_being_summed_is_marked_so_far():
    c = build("x*y + x", {"x": 3.0, "y": -4.0})
    frames = walkthrough_frames(c.output)
    assert "{ x | data 3 | grad 1 so far }" in frames[1].graph.source
    assert "{ x | data 3 | grad -3 }" in frames[2].graph.source


@pytest.mark.needs_dot
def test_render_walkthrough_writes_one_svg_per_frame(circuit, tmp_path):
    paths = render_walkthrough(circuit.output, tmp_path / "frames")
    assert [p.name for p in paths] == [f"frame-00{k}.svg" for k in range(5)]
    assert paths[0].read_text().startswith("<?xml")


@pytest.mark.needs_dot
def test_render_walkthrough_writes_each_frame_atomically(circuit, tmp_path, monkeypatch):
    written = []
    monkeypatch.setattr(dot, "atomic_write", lambda path, data: written.append((path, data)))
    frames = walkthrough_frames(circuit.output)
    paths = render_walkthrough(circuit.output, tmp_path, frames=frames)
    assert written == [(path, frame.svg) for path, frame in zip(paths, frames)]


@pytest.mark.needs_dot
def test_the_max_frame_highlights_the_gate_and_the_gradients_it_routes(circuit, tmp_path):
    svg = render_walkthrough(circuit.output, tmp_path)[3].read_text()
    (gate,) = [g for g in svg_groups(svg, "gg-active") if "gate" in g.get("class", "")]
    active_edges = [g for g in svg_groups(svg, "gg-active") if "edge" in g.get("class", "")]
    assert texts(gate) == ["max"]
    assert gate.find(f"{SVG}ellipse").get("fill") == ACTIVE
    assert sorted(t for e in active_edges for t in texts(e)) == ["0", "2"]
    assert all(e.find(f"{SVG}path").get("stroke") == ACTIVE for e in active_edges)


@pytest.mark.needs_dot
def test_the_last_frame_shows_every_finished_gradient(circuit, tmp_path):
    svg = render_walkthrough(circuit.output, tmp_path)[-1].read_text()
    inputs = sorted(texts(g)[-1] for g in svg_groups(svg, "input"))
    assert inputs == ["grad -8", "grad 0", "grad 2", "grad 6"]
    assert "grad ?" not in svg
