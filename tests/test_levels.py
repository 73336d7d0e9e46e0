"""Zoom levels: a net's neurons found by their tags, and drawn one box per neuron or per layer."""

import re

import pytest

from gategrad import Value, draw_dot, nn
from gategrad.data import make_moons
from gategrad.engine import fmt, topological_order
from gategrad.nn.tags import neuron_calls, neuron_labels
from gategrad.viz import levels

X, _ = make_moons(10, noise=0.1, seed=0)


@pytest.fixture
def sample():
    """micrograd's demo net, MLP(2, [16, 16, 1]), on one point, after backward()."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model(X[0])
    out.backward()
    return model, out


def records(source):
    """Each box's or value's record label in a Graphviz source, by node name."""
    return dict(re.findall(r'^\t(\w+) \[label="([^"]*)"', source, re.M))


def test_a_neuron_labels_its_sum_z_and_its_output_a():
    model = nn.MLP(2, [3, 2], "tanh", seed=0)
    hidden, output = model(X[0])[0], model.layers[0].neurons[2](X[0])
    assert neuron_labels(1, 0) == ("z1:0", "a1:0")
    assert (hidden.label, hidden.op) == ("a1:0", "add")  # the output layer is linear: its z is its a
    assert (output.label, output.op, output.children[0].label) == ("a0:2", "tanh", "z0:2")
    assert nn.Neuron(2)(X[0]).label == "a0:0"
    assert nn.Layer(2, 4)(X[0])[3].label == "a0:3"


def test_the_engine_finds_each_neuron_run_and_its_gates(sample):
    model, out = sample
    calls = neuron_calls(topological_order(out))
    assert len(calls) == 33
    assert [c.key for c in calls if c.layer == 2] == ["2:0"]
    call = next(c for c in calls if c.key == "1:7")
    neuron = model.layers[1].neurons[7]
    assert call.weights == tuple(neuron.w) and call.bias is neuron.b
    assert [x.label for x in call.inputs] == [f"a0:{j}" for j in range(16)]
    assert [g.op for g in call.gates] == ["mul"] * 16 + ["add", "relu"]
    first = next(c for c in calls if c.key == "0:0")
    assert first.inputs == tuple(X[0])  # plain numbers, folded into the mul gates


def test_a_value_that_only_looks_like_a_neuron_is_not_taken_for_one():
    x = Value(2.0, "x")
    fake = x * 3.0
    fake.label = "a0:1"
    assert neuron_calls(topological_order(fake)) == []


def test_micrograds_net_on_one_sample_is_35_boxes_at_neuron_level(sample):
    _, out = sample
    picture = levels.zoom(topological_order(out), "neuron")
    assert (len(picture), len(picture.values)) == (35, 0)
    assert [b.kind for b in picture.boxes].count("neuron") == 33
    assert [b.fields for b in picture.boxes if b.kind == "input"] == [("x0", fmt(X[0][0])), ("x1", fmt(X[0][1]))]
    assert len(picture.edges) == 2 * 16 + 16 * 16 + 16


def test_a_neuron_box_shows_its_weights_bias_sum_output_and_gradient(sample):
    model, out = sample
    source = draw_dot(out, level="neuron").source
    neuron = model.layers[0].neurons[3]
    call = next(c for c in neuron_calls(topological_order(out)) if c.key == "0:3")
    w0, w1 = (fmt(w.data) for w in neuron.w)
    expected = (
        f"neuron 0:3 · relu | w {w0}, {w1} · b 0 | z {fmt(call.pre.data)} → out {fmt(call.output.data)} | "
        f"grad {fmt(call.output.grad)}"
    )
    assert expected in records(source).values()
    wide = model.layers[1].neurons[0]
    low, high = min(w.data for w in wide.w), max(w.data for w in wide.w)
    assert any(
        label.startswith(f"neuron 1:0 · relu | 16 w from {fmt(low)} to {fmt(high)} · b 0 | ")
        for label in records(source).values()
    )
    assert source.count("class=neuron") + source.count('class="neuron') == 33


def test_a_loss_above_the_net_stays_gate_by_gate(sample):
    model, out = sample
    loss = nn.hinge_loss([out], [1])
    source = draw_dot(loss, level="neuron").source
    order = topological_order(loss)
    assert len(levels.zoom(order, "neuron").values) == len(order) - len(topological_order(out))
    assert re.search(r"\tb\d+ -> g\d+$", source, re.M)  # the output neuron's box feeds the loss's first gate


def test_the_layer_level_is_one_box_per_layer(sample):
    _, out = sample
    picture = levels.zoom(topological_order(out), "layer")
    assert [b.fields[0] for b in picture.boxes] == [
        "layer 0 · 16 relu neurons",
        "input",
        "layer 1 · 16 relu neurons",
        "layer 2 · 1 linear neuron",
    ]
    assert picture.boxes[1].fields == ("input", f"x0 {fmt(X[0][0])}", f"x1 {fmt(X[0][1])}")
    assert sorted(picture.edges) == [("b0", "b2"), ("b1", "b0"), ("b2", "b3")]
    calls = neuron_calls(topological_order(out))
    hidden = [c.output.data for c in calls if c.layer == 1]
    assert picture.boxes[2].fields[1:3] == (
        f"out from {fmt(min(hidden))} to {fmt(max(hidden))}",
        f"{sum(a == 0.0 for a in hidden)} of 16 give 0",
    )


def test_each_samples_run_of_a_layer_is_a_box_of_its_own():
    model = nn.MLP(2, [4, 1], seed=0)
    loss = nn.hinge_loss([model(x) for x in X[:3]], [1, -1, 1])
    picture = levels.zoom(topological_order(loss), "layer")
    assert [b.fields[0] for b in picture.boxes].count("layer 0 · 4 relu neurons") == 3
    assert [b.kind for b in picture.boxes].count("input") == 3


def test_weights_read_outside_the_net_are_drawn_as_values():
    model = nn.Neuron(2, "linear", seed=0)
    loss = model(X[0]) + nn.l2_penalty(model.parameters(), 0.1)
    picture = levels.zoom(topological_order(loss), "neuron")
    drawn = set(picture.values)
    assert set(model.parameters()) <= drawn  # the L2 penalty reads them
    assert len(picture.boxes) == 3  # the neuron and its two inputs


def test_the_gate_level_points_a_big_net_to_the_neuron_level(sample):
    _, out = sample
    with pytest.raises(ValueError, match="the circuit has 706 values") as refused:
        draw_dot(out)
    assert 'draw each neuron as one box with level="neuron"' in str(refused.value)
    with pytest.raises(ValueError) as plain:
        draw_dot(Value.sum(Value(float(i)) for i in range(300)))
    assert "level=" not in str(plain.value)


def test_the_neuron_level_points_a_batch_to_the_layer_level():
    model = nn.MLP(2, [16, 16, 1], seed=0)
    loss = nn.hinge_loss([model(x) for x in X[:8]], [1] * 8)
    with pytest.raises(ValueError, match=r"at level='neuron' the circuit is \d+ boxes and values") as refused:
        draw_dot(loss, level="neuron")
    assert 'draw each layer as one box with level="layer"' in str(refused.value)
    assert draw_dot(loss, level="layer").source.count("class=layer") == 24


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="level must be one of 'gate', 'neuron', 'layer', got 'neurons'"):
        draw_dot(Value(1.0) * 2, level="neurons")


def test_the_rendered_neuron_picture_has_a_group_per_neuron(sample):
    _, out = sample
    svg = draw_dot(out, level="neuron", color_grads=True).pipe(encoding="utf-8")
    assert svg.count('<g id="node') == 35
    assert svg.count('class="node neuron') == 33
