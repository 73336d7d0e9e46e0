"""The net kind: a 2-2-2 or 2-3-1 network with concrete weights, as in the Chinese textbooks' worked example.

The hidden layer is sigmoid or relu, the output layer sigmoid, the loss E = ½ Σ (t − o)². The weights
are numbered as that example numbers them (w1, w2 into the first hidden neuron, ...), b1 is shared by
the hidden layer and b2 by the output layer. Built from Values, so the key and the worked solution are
the engine's numbers and walk.
"""

from __future__ import annotations

import random
from html import escape
from typing import Any

from gategrad.engine import Value, fmt
from gategrad.exercise import pages
from gategrad.exercise.slips import slips
from gategrad.exercise.variant import SIGNIFICANT, Exercise, Item
from gategrad.explain.lang import gate_name, translator
from gategrad.explain.walkthrough import walk

SHAPES = ((2, 2, 2), (2, 3, 1))
HIDDEN = ("sigmoid", "relu")
ATTEMPTS = 1000


def _sig3(x: float) -> str:
    """A number to 3 significant digits, as the sheet asks for it."""
    return f"{x + 0.0:.3g}"


def make(rng: random.Random, lang: str) -> Exercise:
    """One student's network: outputs, loss, every δ and every weight's and bias's gradient."""
    for _ in range(ATTEMPTS):
        shape, hidden = rng.choice(SHAPES), rng.choice(HIDDEN)
        built = _build(rng, shape, hidden)
        if all(v.data > 0 for v in built["out_h"]):  # no dead relu: each weight has a gradient to find
            return _exercise(built, shape, hidden, lang)
    raise RuntimeError("no network without a dead unit in 1,000 draws")


def _weight(rng: random.Random) -> float:
    return rng.choice([k / 20 for k in range(-16, 17) if k])  # -0.8 ... 0.8 in steps of 0.05, never 0


def _build(rng: random.Random, shape: tuple[int, int, int], hidden: str) -> dict[str, Any]:
    n_in, n_hidden, n_out = shape
    x = [Value(rng.randrange(1, 20) / 20, label=f"x{i + 1}") for i in range(n_in)]
    t = [rng.randrange(1, 100) / 100 for _ in range(n_out)]
    weights: list[Value] = []

    def layer(inputs: list[Value], size: int, bias: Value, tag: str, act: str) -> tuple[list[Value], list[Value]]:
        nets, outs = [], []
        for j in range(size):
            terms = []
            for v in inputs:
                w = Value(_weight(rng), label=f"w{len(weights) + 1}")
                weights.append(w)
                product = w * v
                product.label = f"{w.label}·{v.label}"
                terms.append(product)
            net = Value.sum([*terms, bias])
            net.label = f"net_{tag}{j + 1}"
            out = getattr(net, act)()
            out.label = f"out_{tag}{j + 1}"
            nets.append(net)
            outs.append(out)
        return nets, outs

    b1 = Value(_weight(rng), label="b1")
    net_h, out_h = layer(x, n_hidden, b1, "h", hidden)
    b2 = Value(_weight(rng), label="b2")
    net_o, out_o = layer(out_h, n_out, b2, "o", "sigmoid")
    terms = []
    for k, (o, target) in enumerate(zip(out_o, t)):
        error = o - target
        error.label = f"out_o{k + 1} − t{k + 1}"
        square = error**2
        square.label = f"({error.label})²"
        term = square * 0.5
        term.label = f"E{k + 1}"
        terms.append(term)
    loss = Value.sum(terms) if len(terms) > 1 else terms[0]
    loss.label = "E"
    steps = walk(loss)
    return {
        "x": x, "t": t, "w": weights, "b": [b1, b2], "net_h": net_h, "out_h": out_h,
        "net_o": net_o, "out_o": out_o, "E": loss, "steps": steps,
    }  # fmt: skip


def _exercise(n: dict[str, Any], shape: tuple[int, int, int], hidden: str, lang: str) -> Exercise:
    t = translator(lang)
    loss: Value = n["E"]
    outputs = {f"o{k + 1}": v for k, v in enumerate(n["out_o"])}
    deltas = {f"delta_o{k + 1}": v for k, v in enumerate(n["net_o"])}
    deltas.update({f"delta_h{j + 1}": v for j, v in enumerate(n["net_h"])})
    grads = {f"dE/d{v.label}": v for v in [*n["w"], *n["b"]]}
    found = slips(loss, {**deltas, **grads}, SIGNIFICANT)
    labels = {item: f"<code>{escape(v.label)}</code>" for item, v in outputs.items()}
    labels["E"] = "<code>E</code>"
    labels.update({item: f"δ = ∂E/∂<code>{escape(v.label)}</code>" for item, v in deltas.items()})
    labels.update({item: f"∂E/∂<code>{escape(v.label)}</code>" for item, v in grads.items()})
    items = {item: Item(v.data, 1, labels[item]) for item, v in outputs.items()}
    items["E"] = Item(loss.data, 1, labels["E"])
    items.update({item: Item(v.grad, 1, labels[item], found[item]) for item, v in {**deltas, **grads}.items()})

    layers = "-".join(map(str, shape))
    setting = t.gettext(
        "A {layers} network. The hidden layer uses {hidden}, the output layer sigmoid, and the loss is "
        "E = ½ Σ (t − o)². Each neuron computes net = Σ w·x + b and out = activation(net); b1 is shared by "
        "the hidden layer and b2 by the output layer."
    ).format(layers=layers, hidden=gate_name(hidden, lang))
    ask = t.gettext(
        "Run the forward pass, then backpropagate by hand: give the outputs, the loss, each neuron's "
        "δ = ∂E/∂net, and the gradient of the loss with respect to every weight and bias."
    )
    rounding = t.gettext(
        "Round each answer to 3 significant digits and keep more digits in between. An answer within one unit "
        "of the third significant digit of the exact value is right."
    )
    inputs = pages.table(
        (escape(t.gettext("input")), escape(t.gettext("value"))),
        ((f"<code>{escape(v.label)}</code>", escape(fmt(v.data))) for v in n["x"]),
        ' class="inputs"',
    )
    targets = pages.table(
        (escape(t.gettext("target")), escape(t.gettext("value"))),
        ((f"<code>t{k + 1}</code>", escape(fmt(v))) for k, v in enumerate(n["t"])),
        ' class="targets"',
    )
    wiring = []
    for tag, nets, sources in (("h", n["net_h"], n["x"]), ("o", n["net_o"], n["out_h"])):
        for j, net in enumerate(nets):
            for product, source in zip(net.children, sources):
                w = product.children[0]
                wiring.append(
                    (f"<code>{escape(w.label)}</code>", escape(source.label), f"{tag}{j + 1}", escape(fmt(w.data)))
                )
    for b, tag, nets in zip(n["b"], ("h", "o"), (n["net_h"], n["net_o"])):
        to = ", ".join(f"{tag}{j + 1}" for j in range(len(nets)))
        wiring.append((f"<code>{escape(b.label)}</code>", "1", to, escape(fmt(b.data))))
    weights = pages.table(
        tuple(escape(h) for h in (t.gettext("weight"), t.gettext("from"), t.gettext("to"), t.gettext("value"))),
        wiring,
        ' class="weights"',
    )
    sheet = f"<p>{escape(setting)}</p>{inputs}{targets}{weights}<p>{escape(ask)}</p><p>{escape(rounding)}</p>"
    key = {item: _sig3(i.answer) for item, i in items.items() if isinstance(i.answer, float)}
    solution = pages.walk_html(loss, n["steps"], lang) + pages.answers_table(key, labels, lang)
    return Exercise("net", SIGNIFICANT, items, sheet, solution)
