"""Pictures of a circuit with Graphviz: the whole circuit, and one frame per backward step.

Each Value is a record node (label | data | grad) and each gate a small node with its
symbol, with edges in the direction data flows. Node colours tell inputs (leaves you
created, light blue), parameters (leaves you pass in `params`, amber) and intermediates
(gate outputs, white) apart; the output has a bold border. Building a picture needs only
the `graphviz` Python package; rendering it needs Graphviz's `dot` program.
"""

from __future__ import annotations

import gettext
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import graphviz

from gategrad.engine import GATES, Step, Value, fmt, topological_order
from gategrad.explain.lang import ENGLISH, sentence, translator
from gategrad.files import atomic_write
from gategrad.nn.tags import neuron_calls
from gategrad.viz import levels

MAX_NODES = 200
KIND_COLORS = {"input": "#dbeafe", "parameter": "#fde68a", "intermediate": "white"}
BOX_COLORS = {"neuron": "#dcfce7", "layer": "#e0e7ff", "quiet": "#e5e7eb"}  # level="neuron" and "layer" boxes
ACTIVE = "#f97316"  # the gate of the current step and the edges carrying its gradients
ACTIVE_CLASS = "gg-active"  # the SVG class of that gate and those edges, which the pages look for
_SIGN_COLORS = {1: "#2563eb", -1: "#dc2626", 0: "#9ca3af"}  # positive, negative, zero gradient


class GraphvizNotInstalled(RuntimeError):
    """Rendering needs Graphviz's `dot` program and it is not on PATH."""

    def __init__(self) -> None:
        super().__init__(
            "rendering needs the Graphviz program `dot`, which is not on PATH: install Graphviz "
            "(apt-get install graphviz, brew install graphviz, or https://graphviz.org/download/) and try again"
        )


class CircuitGraph(graphviz.Digraph):  # type: ignore[misc]  # graphviz has no type hints: Digraph is Any
    """A graphviz.Digraph whose rendering says how to install Graphviz when `dot` is missing.

    Jupyter displays it inline through `pipe`, so that path explains itself too.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotInstalled() from None

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:
            raise GraphvizNotInstalled() from None


@dataclass
class Frame:
    """One picture of the walkthrough and the sentence that goes with it.

    The first frame is the forward pass (`step` is None); each later one is a backward
    step, with its gate and the edges carrying its gradients drawn in `ACTIVE`. `grads` is
    the gradient each Value's record shows: "?", "2 so far" or the final "2". The caption
    and "so far" are in the language `lang`. `graph` is laid out on its own wherever it is
    drawn; `svg` and `render` draw it where the walkthrough's shared `Layout` puts each
    node, so nothing moves from frame to frame.
    """

    graph: CircuitGraph
    caption: str
    step: Step | None
    grads: Mapping[Value, str]
    lang: str = ENGLISH
    pinned: Callable[[], CircuitGraph] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def svg(self) -> str:
        """The picture as SVG text: `dot` runs once per frame, however often it is asked for."""
        return str(self.render("svg", encoding="utf-8"))

    def render(self, format: str, **kwargs: Any) -> Any:
        """The picture in `format` ("svg", "png", ...), its nodes where the shared layout puts them."""
        graph = self.graph if self.pinned is None else self.pinned()
        return graph.pipe(format=format, **kwargs)


class Layout:
    """Where every node and edge of a walkthrough sits, found once by `dot` and shared by its frames.

    `dot` lays out `envelope`, a picture holding everything any frame shows: each Value with
    the longest text it ever has and every edge with the gradient it ever carries. Each frame
    is then drawn with Graphviz's `nop2` engine at those places, so no node moves or swaps
    rows from one frame to the next, and every frame has the same size.
    """

    def __init__(self, envelope: CircuitGraph) -> None:
        self.envelope = envelope

    @cached_property
    def _placed(self) -> dict[str, Any]:
        return dict(json.loads(self.envelope.pipe(format="json", encoding="utf-8")))

    def graph(self, format: str, rankdir: str) -> CircuitGraph:
        """An empty picture drawn by `nop2`, with an invisible point at two corners so every frame keeps the size."""
        graph = _graph(format, rankdir)
        graph.attr(layout="nop2")
        x0, y0, x1, y1 = self._placed["bb"].split(",")
        for corner, (x, y) in enumerate(((x0, y0), (x1, y1))):
            graph.node(
                f"corner{corner}",
                "",
                shape="point",
                width="0",
                style="invis",
                pos=f"{x},{y}!",
                **{"class": "gg-corner"},
            )
        return graph

    @cached_property
    def _nodes(self) -> dict[str, dict[str, str]]:
        return {o["name"]: o for o in self._placed["objects"]}

    @cached_property
    def _edges(self) -> dict[tuple[str, str], list[dict[str, str]]]:
        names = [o["name"] for o in self._placed["objects"]]
        edges: dict[tuple[str, str], list[dict[str, str]]] = {}
        for e in self._placed["edges"]:
            edges.setdefault((names[e["tail"]], names[e["head"]]), []).append(e)
        return edges

    def node(self, name: str) -> dict[str, str]:
        """The node's place and its size in the envelope (a frame's shorter text leaves its box as wide)."""
        found = self._nodes[name]
        return {"pos": found["pos"] + "!", "width": found["width"], "height": found["height"]}

    def edge(self, tail: str, head: str, n: int, back: bool) -> dict[str, str]:
        """The curve of the `n`-th edge from `tail` to `head`, its arrowhead at the head, or at the tail when it
        is drawn `back`.

        The envelope draws every edge with both arrowheads (dir=both), so its curve stops short
        of both nodes; the end without an arrowhead is stretched back to its node.
        """
        found = self._edges[tail, head][n]
        parts = found["pos"].split()
        start = next(p[2:] for p in parts if p.startswith("s,"))
        end = next(p[2:] for p in parts if p.startswith("e,"))
        points = [p for p in parts if not p.startswith(("s,", "e,"))]
        if back:
            curve = [f"s,{start}", *points[:-1], end]
        else:
            curve = [f"e,{end}", start, *points[1:]]
        placed = {"pos": " ".join(curve)}
        if "lp" in found:
            placed["lp"] = found["lp"]
        return placed


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int = MAX_NODES,
    params: Collection[Value] = (),
    color_grads: bool = False,
    level: str = "gate",
    lang: str = ENGLISH,
) -> CircuitGraph:
    """The circuit that computes `root`, as a Graphviz graph (it displays inline in Jupyter).

    Leaves in `params` (e.g. a model's parameters) are drawn as parameters, other leaves as
    inputs. With `color_grads`, each Value's border shows its gradient: blue positive, red
    negative, thicker for a larger size. `level="neuron"` draws each run of a `gategrad.nn`
    neuron as one box, `level="layer"` each run of a layer (see `gategrad.viz.levels`).
    Refuses a picture of more than `max_nodes` Values (or boxes). A record's words ("data",
    "grad") are in `lang`.
    """
    if level not in levels.LEVELS:
        raise ValueError(f"level must be one of {', '.join(map(repr, levels.LEVELS))}, got {level!r}")
    if level != "gate":
        return _draw_zoomed(root, level, format, rankdir, show_grad, max_nodes, params, color_grads, lang)
    t = translator(lang)
    nodes = _nodes(root, max_nodes, zoom_hint=True)
    grads = {v: _grad_field(fmt(v.grad), False, t) for v in nodes} if show_grad else {}
    return _draw(nodes, grads, params, format, rankdir, t, color_grads=color_grads)


def walkthrough_frames(
    root: Value,
    steps: Sequence[Step] | None = None,
    format: str = "svg",
    rankdir: str = "LR",
    max_nodes: int = MAX_NODES,
    params: Collection[Value] = (),
    lang: str = ENGLISH,
) -> list[Frame]:
    """The forward pass, then one frame per Step of the walk (`root.backward_steps()`).

    Pass the `steps` you already have; without them the walk is taken here and every
    Value's `grad` is put back as it was, so drawing does not count as a backward pass.
    Each frame shows the running sum of what the steps so far sent each Value: final once
    every gate that uses it has run, "so far" before, and "?" before anything reached it.
    Captions are in `lang`.
    """
    t = translator(lang)
    nodes = _nodes(root, max_nodes)
    if steps is None:
        saved = [(v, v.grad) for v in nodes]
        steps = list(root.backward_steps())
        for v, g in saved:
            v.grad = g
    unknown = {v: "?" for v in nodes}
    shown = [unknown]  # the stepper's table of gradients, frame by frame
    fields = [{v: _grad_field("?", False, t) for v in nodes}]  # the pictures' gradient fields
    users = Counter(child for v in nodes for child in set(v.children))  # gates still to pass a gradient back
    so_far = {root: 1.0}  # backward() seeds the output with d root / d root = 1
    for step in steps:
        for given in step.inputs:
            so_far[given.value] = so_far.get(given.value, -0.0) + given.contribution
        for child in set(step.output.children):
            users[child] -= 1
        shown.append({v: _grad_so_far(so_far.get(v), users[v], t) for v in nodes})
        fields.append({v: _grad_field(_grad_text(so_far.get(v)), bool(users[v]) and v in so_far, t) for v in nodes})
    longest = {v: max((texts[v] for texts in fields), key=len) for v in nodes}
    sent = {step.output: [fmt(given.contribution) for given in step.inputs] for step in steps}
    layout = Layout(_draw(nodes, longest, params, format, rankdir, t, sent=sent))
    captions = [t.gettext("The forward pass: each value is computed from its inputs; no gradient is known yet.")]
    captions += [
        t.gettext("Step {k}: {explanation}").format(k=k, explanation=sentence(step, lang))
        for k, step in enumerate(steps, start=1)
    ]
    frames = []
    for active, grads, texts, caption in zip([None, *steps], shown, fields, captions):
        draw = partial(_draw, nodes, texts, params, format, rankdir, t, active)
        frames.append(Frame(draw(), caption, active, grads, lang, partial(draw, place=layout)))
    return frames


def render_walkthrough(
    root: Value,
    directory: str | Path,
    format: str = "svg",
    rankdir: str = "LR",
    max_nodes: int = MAX_NODES,
    params: Collection[Value] = (),
    frames: Sequence[Frame] | None = None,
    lang: str = ENGLISH,
) -> list[Path]:
    """Write the walkthrough's frames into `directory` as frame-000.svg, frame-001.svg, ...

    Frame 0 is the forward pass and frame k the k-th backward step; returns the paths.
    Pass the `frames` you already have (from `walkthrough_frames`) to render each just once;
    without them they are made here, with the words of `lang`.
    """
    if frames is None:
        frames = walkthrough_frames(root, None, format, rankdir, max_nodes, params, lang)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, frame in enumerate(frames):
        path = out / f"frame-{k:03d}.{format}"
        atomic_write(path, frame.svg if format == "svg" else frame.render(format))
        paths.append(path)
    return paths


def _nodes(root: Value, max_nodes: int, zoom_hint: bool = False) -> list[Value]:
    """The circuit's Values, or a ValueError saying what to draw instead when there are too many.

    With `zoom_hint`, a circuit holding a net's neurons is pointed to `level="neuron"`.
    """
    nodes = topological_order(root)
    if len(nodes) > max_nodes:
        zoom = ', draw each neuron as one box with level="neuron"' if zoom_hint and neuron_calls(nodes) else ""
        raise ValueError(
            f"the circuit has {len(nodes)} values, more than max_nodes={max_nodes}, too many to read in one "
            "picture: draw less (one sample's forward pass instead of a whole batch's loss, or a smaller "
            f"network){zoom}, or pass a larger max_nodes"
        )
    return nodes


def _grad_so_far(grad: float | None, users_left: int, t: gettext.NullTranslations) -> str:
    """A gradient in the stepper's table: "?", "2 so far" or "2"."""
    if grad is None:
        return "?"
    if users_left:
        return t.gettext("{grad} so far").format(grad=fmt(grad))
    return fmt(grad)


def _grad_text(grad: float | None) -> str:
    return "?" if grad is None else fmt(grad)


def _grad_field(grad: str, partial: bool, t: gettext.NullTranslations) -> str:
    """A record's gradient field, its word and "so far" said as one phrase ("grad 2 so far", 目前梯度 2)."""
    if partial:
        return t.pgettext("picture", "grad {grad} so far").format(grad=grad)
    return t.pgettext("picture", "grad {grad}").format(grad=grad)


def _draw(
    nodes: Sequence[Value],
    grads: Mapping[Value, str],
    params: Collection[Value],
    format: str,
    rankdir: str,
    t: gettext.NullTranslations,
    active: Step | None = None,
    color_grads: bool = False,
    sent: Mapping[Value, Sequence[str]] | None = None,
    place: Layout | None = None,
) -> CircuitGraph:
    """The picture: a record per Value with its gradient field from `grads`, and a node per gate; words by `t`.

    `sent` labels each gate's input edges with what its step sends them (a walkthrough's
    layout envelope); `place` pins every node and edge where a `Layout` put them.
    """
    graph = _graph(format, rankdir) if place is None else place.graph(format, rankdir)
    drawn: Counter[tuple[str, str]] = Counter()  # x*x has two edges from x to its gate

    def edge(tail: str, head: str, back: bool = False, **attrs: str) -> None:
        pinned = {} if place is None else place.edge(tail, head, drawn[tail, head], back)
        drawn[tail, head] += 1
        if sent is not None:
            attrs["dir"] = "both"
        elif back:
            attrs["dir"] = "back"  # the arrow points the way the gradient flows
        graph.edge(tail, head, **attrs, **pinned)

    pinned = place.node if place is not None else (lambda name: {})
    param_ids = {id(p) for p in params}
    largest = max(abs(v.grad) for v in nodes) or 1.0
    index = {v: i for i, v in enumerate(nodes)}
    for i, v in enumerate(nodes):
        is_active = active is not None and v is active.output
        is_root = i == len(nodes) - 1
        border = _border(v, is_root, color_grads, largest)
        if is_active:
            border = {"color": ACTIVE, "penwidth": "2.5"}
        data = t.pgettext("picture", "data {data}").format(data=fmt(v.data))
        _value_node(graph, f"v{i}", v, data, grads.get(v), param_ids, border, is_root, pinned(f"v{i}"))
        if not v.children:
            continue
        _gate_node(graph, f"g{i}", v, is_active, pinned(f"g{i}"))
        if active is not None and is_active:
            edge(f"g{i}", f"v{i}", back=True, color=ACTIVE, penwidth="2.5", **{"class": ACTIVE_CLASS})
            for child, given in zip(v.children, active.inputs):
                edge(
                    f"v{index[child]}",
                    f"g{i}",
                    back=True,
                    label=fmt(given.contribution),
                    color=ACTIVE,
                    fontcolor=ACTIVE,
                    penwidth="2.5",
                    **{"class": ACTIVE_CLASS},
                )
        else:
            edge(f"g{i}", f"v{i}")
            labels = sent.get(v, []) if sent is not None else []
            for j, child in enumerate(v.children):
                if j < len(labels):
                    edge(f"v{index[child]}", f"g{i}", label=labels[j])
                else:
                    edge(f"v{index[child]}", f"g{i}")
    return graph


def _draw_zoomed(
    root: Value,
    level: str,
    format: str,
    rankdir: str,
    show_grad: bool,
    max_nodes: int,
    params: Collection[Value],
    color_grads: bool,
    lang: str,
) -> CircuitGraph:
    """The picture at `level` "neuron" or "layer": boxes for the net, Values and gates for the rest, words in `lang`."""
    order = topological_order(root)
    picture = levels.zoom(order, level, show_grad, lang)
    if len(picture) > max_nodes:
        zoom = ', draw each layer as one box with level="layer"' if level == "neuron" else ""
        raise ValueError(
            f"at level={level!r} the circuit is {len(picture)} boxes and values, more than max_nodes={max_nodes}, "
            "too many to read in one picture: draw one sample's forward pass instead of a whole batch's loss"
            f"{zoom}, or pass a larger max_nodes"
        )
    graph = _graph(format, rankdir)
    graph.attr(ordering="out")  # each layer's neurons in index order, as their inputs' edges leave
    largest = max(abs(v.grad) for v in order) or 1.0
    root_node = picture.node[root]
    stack = rankdir in ("LR", "RL")  # a record's fields run across the rank direction, so lines stack
    for i, box in enumerate(picture.boxes):
        name = f"b{i}"
        border = {"color": "black", "penwidth": "2" if name == root_node else "1"}
        if color_grads and box.output is not None:
            border = _border(box.output, name == root_node, color_grads, largest)
        fill = KIND_COLORS["input"] if box.kind == "input" else BOX_COLORS["quiet" if box.quiet else box.kind]
        label = " | ".join(_escape(field) for field in box.fields)
        label = label if stack else "{ " + label + " }"
        classes = box.kind + (" quiet" if box.quiet else "") + (" output" if name == root_node else "")
        graph.node(name, label, shape="record", style="filled", fillcolor=fill, **border, **{"class": classes})
    param_ids, t = {id(p) for p in params}, translator(lang)
    for i, v in enumerate(picture.values):
        name = f"v{i}"
        border = _border(v, name == root_node, color_grads, largest)
        data = t.pgettext("picture", "data {data}").format(data=fmt(v.data))
        grad = _grad_field(fmt(v.grad), False, t) if show_grad else None
        _value_node(graph, name, v, data, grad, param_ids, border, name == root_node)
        if v.children:
            _gate_node(graph, f"g{i}", v, False)
            graph.edge(f"g{i}", name)
            for child in v.children:
                graph.edge(picture.node[child], f"g{i}")
    for source, box_name in picture.edges:
        graph.edge(source, box_name)
    return graph


def _graph(format: str, rankdir: str) -> CircuitGraph:
    return CircuitGraph(
        format=format,
        graph_attr={"rankdir": rankdir},
        node_attr={"fontname": "Helvetica"},
        edge_attr={"fontname": "Helvetica"},
    )


def _border(v: Value, is_root: bool, color_grads: bool, largest: float) -> dict[str, str]:
    """A record's border: bold for the output; with `color_grads`, the colour and width of its gradient."""
    if color_grads:
        sign = (v.grad > 0) - (v.grad < 0)
        return {"color": _SIGN_COLORS[sign], "penwidth": f"{1 + 3 * abs(v.grad) / largest:.2f}"}
    return {"color": "black", "penwidth": "2" if is_root else "1"}


def _value_node(
    graph: CircuitGraph,
    name: str,
    v: Value,
    data: str,
    grad: str | None,
    param_ids: Collection[int],
    border: dict[str, str],
    is_root: bool,
    pinned: Mapping[str, str] | None = None,
) -> None:
    """A Value as a record: its label, its `data` field and, unless `grad` is None, its gradient field."""
    kind = "intermediate" if v.children else "parameter" if id(v) in param_ids else "input"
    fields = [_escape(v.label)] if v.label else []
    fields.append(_escape(data))
    if grad is not None:
        fields.append(_escape(grad))
    graph.node(
        name,
        "{ " + " | ".join(fields) + " }",
        shape="record",
        style="filled",
        fillcolor=KIND_COLORS[kind],
        tooltip=kind,
        **border,
        **(pinned or {}),
        **{"class": f"value {kind}" + (" output" if is_root else "")},
    )


def _gate_node(
    graph: CircuitGraph, name: str, v: Value, is_active: bool, pinned: Mapping[str, str] | None = None
) -> None:
    text = _gate_text(v)
    graph.node(
        name,
        text,
        shape="circle" if len(text) <= 2 else "ellipse",
        style="filled",
        fillcolor=ACTIVE if is_active else "#f3f4f6",
        fontsize="12",
        **(pinned or {}),
        **{"class": f"gate {ACTIVE_CLASS}" if is_active else "gate"},
    )


def _gate_text(v: Value) -> str:
    """The gate's symbol, with the constant folded into it where there is one (× 2, ** 2, 2 **)."""
    symbol, c = GATES[v.op].symbol, v.constant
    if c is None:
        return symbol
    return f"{fmt(c)} {symbol}" if GATES[v.op].constant_place == 0 else f"{symbol} {fmt(c)}"


def _escape(text: str) -> str:
    """Backslash the characters that mean something inside a Graphviz record label."""
    for ch in '\\{}|<>"':
        text = text.replace(ch, "\\" + ch)
    return text
