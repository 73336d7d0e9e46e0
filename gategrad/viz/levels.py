"""Zoom levels: a circuit seen one neuron, or one layer, at a time.

At `level="neuron"` each run of a `gategrad.nn` neuron (found by its tags, see
`gategrad.nn.tags`) becomes one box showing its weights, bias, pre-activation, output
and gradient; at `level="layer"` each run of a layer does. The plain numbers fed into the
first layer become input boxes, and whatever lies outside every neuron (a loss, gates of
your own) stays gate by gate, as at `level="gate"`. This module decides the boxes and
their edges; `gategrad.viz.dot` draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gategrad.engine import GATES, Value, fmt
from gategrad.explain.lang import ENGLISH, gate_name, translator
from gategrad.nn.tags import NeuronCall, neuron_calls

LEVELS = ("gate", "neuron", "layer")


@dataclass(frozen=True)
class Box:
    """One box of a zoomed-out picture: a neuron's run, a layer's run, or numbers fed into the net."""

    kind: str  # "neuron", "layer" or "input"
    fields: tuple[str, ...]  # the lines of its record, its title first
    output: Value | None = None  # a neuron's output, whose gradient colours the box
    quiet: bool = False  # a dead neuron (a relu giving 0) here, by its activation's row: it passes no gradient back


@dataclass
class Zoom:
    """What a zoomed-out picture draws: boxes, the Values outside them, and which node shows each Value."""

    boxes: list[Box] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)  # drawn one by one, as at gate level
    node: dict[Value, str] = field(default_factory=dict)  # "b3" for a Value inside boxes[3], "v5" for values[5]
    edges: list[tuple[str, str]] = field(default_factory=list)  # into the boxes, between node ids

    def __len__(self) -> int:
        return len(self.boxes) + len(self.values)

    def add(self, box: Box) -> str:
        self.boxes.append(box)
        return f"b{len(self.boxes) - 1}"


def zoom(order: Sequence[Value], level: str, show_grad: bool = True, lang: str = ENGLISH) -> Zoom:
    """The picture of the circuit `order` (as `topological_order` lists it) at `level`, "neuron" or "layer".

    The boxes' words are in `lang`.
    """
    words = _Words(lang)
    calls = neuron_calls(order)
    hidden = _inside(order, calls)
    picture = Zoom()
    numbers: dict[tuple[tuple[int, float], ...], str] = {}  # a box of plain numbers, by its (index, number) pairs
    feeds: list[tuple[Value | str, str]] = []
    for run in _layer_runs(calls) if level == "layer" else [[call] for call in calls]:
        box = picture.add(
            _layer_box(run, show_grad, words) if level == "layer" else _neuron_box(run[0], show_grad, words)
        )
        for call in run:
            for v in (*call.gates, *call.weights, call.bias):
                if v in hidden:
                    picture.node[v] = box
        feeds += [(source, box) for source in _sources(picture, numbers, run[0], level, words)]
    for v in order:
        if v not in picture.node:
            picture.node[v] = f"v{len(picture.values)}"
            picture.values.append(v)
    picture.edges = list(dict.fromkeys((s if isinstance(s, str) else picture.node[s], box) for s, box in feeds))
    return picture


def _inside(order: Sequence[Value], calls: list[NeuronCall]) -> set[Value]:
    """The Values the boxes stand for: each run's gates, and the weights and biases only those gates read."""
    gates = {v for call in calls for v in call.gates}
    readers: dict[Value, list[Value]] = {}
    for v in order:
        for child in v.children:
            readers.setdefault(child, []).append(v)
    leaves = {p for call in calls for p in (*call.weights, call.bias)}
    return gates | {p for p in leaves if all(r in gates for r in readers[p])}


def _layer_runs(calls: list[NeuronCall]) -> list[list[NeuronCall]]:
    """The neuron runs grouped into layer runs: neurons of one layer reading the same inputs."""
    runs: dict[tuple[int, tuple[tuple[str, float], ...]], list[NeuronCall]] = {}
    for call in calls:
        reads = tuple(("value", id(x)) if isinstance(x, Value) else ("number", x) for x in call.inputs)
        runs.setdefault((call.layer, reads), []).append(call)
    return list(runs.values())


def _sources(
    picture: Zoom, numbers: dict[tuple[tuple[int, float], ...], str], call: NeuronCall, level: str, words: _Words
) -> list[Value | str]:
    """What feeds a run: Values, and boxes of plain numbers (one per number for a neuron, one for a layer)."""
    sources: list[Value | str] = [x for x in call.inputs if isinstance(x, Value)]
    plain = tuple((j, x) for j, x in enumerate(call.inputs) if not isinstance(x, Value))
    groups = [plain] if level == "layer" and plain else [(number,) for number in plain]
    for group in groups:
        if group not in numbers:
            fields = (
                (words.t.gettext("input"), *(f"x{j} {fmt(x)}" for j, x in group))
                if level == "layer"
                else (f"x{group[0][0]}", fmt(group[0][1]))
            )
            numbers[group] = picture.add(Box("input", fields))
        sources.append(numbers[group])
    return sources


def _activation(call: NeuronCall) -> str:
    return "linear" if call.output is call.pre else call.output.op


class _Words:
    """The words of the boxes in one language; the math's own names (w, b, z, x0) stay as they are."""

    def __init__(self, lang: str) -> None:
        self.lang, self.t = lang, translator(lang)

    def activation(self, op: str) -> str:
        return self.t.pgettext("picture", "linear") if op == "linear" else gate_name(op, self.lang)

    def outputs(self, xs: list[float]) -> str:
        """The outputs of a run's neurons: "out 0.5", or "out from -1 to 2" for several."""
        if len(xs) == 1:
            return self.t.pgettext("picture", "out {out}").format(out=fmt(xs[0]))
        return self.t.pgettext("picture", "out from {low} to {high}").format(low=fmt(min(xs)), high=fmt(max(xs)))

    def grads(self, xs: list[float]) -> str:
        """The gradients of a run's outputs: "grad 0.5", or "grad from -1 to 2" for several."""
        if len(xs) == 1:
            return self.t.pgettext("picture", "grad {grad}").format(grad=fmt(xs[0]))
        return self.t.pgettext("picture", "grad from {low} to {high}").format(low=fmt(min(xs)), high=fmt(max(xs)))


def _neuron_box(call: NeuronCall, show_grad: bool, words: _Words) -> Box:
    t = words.t
    weights = [w.data for w in call.weights]
    if len(weights) <= 3:
        summary = "w " + ", ".join(fmt(w) for w in weights)
    else:
        summary = t.npgettext("picture", "{n} w from {low} to {high}", "{n} w from {low} to {high}", len(weights))
        summary = summary.format(n=len(weights), low=fmt(min(weights)), high=fmt(max(weights)))
    a = call.output
    fields = [
        t.pgettext("picture", "neuron {key} · {activation}").format(
            key=call.key, activation=words.activation(_activation(call))
        ),
        f"{summary} · b {fmt(call.bias.data)}",
        t.pgettext("picture", "z {z} → out {out}").format(z=fmt(call.pre.data), out=fmt(a.data)),
    ]
    if show_grad:
        fields.append(words.grads([a.grad]))
    return Box("neuron", tuple(fields), a, quiet=a.op in GATES and GATES[a.op].is_dead(a.data))


def _layer_box(calls: list[NeuronCall], show_grad: bool, words: _Words) -> Box:
    t = words.t
    n, activation = len(calls), _activation(calls[0])
    title = t.npgettext(
        "picture", "layer {layer} · {n} {activation} neuron", "layer {layer} · {n} {activation} neurons", n
    )
    fields = [title.format(layer=calls[0].layer, n=n, activation=words.activation(activation))]
    fields.append(words.outputs([call.output.data for call in calls]))
    row = GATES[activation].activation if activation != "linear" else None
    if row and row.dead_when:
        dead = sum(GATES[activation].is_dead(call.output.data) for call in calls)
        fields.append(
            t.npgettext("picture", "{dead} of {n} gives 0", "{dead} of {n} give 0", dead).format(dead=dead, n=n)
        )
    if show_grad:
        fields.append(words.grads([call.output.grad for call in calls]))
    return Box("layer", tuple(fields), calls[0].output if n == 1 else None)
