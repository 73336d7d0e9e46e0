"""The page of a recorded training run (`nn.fit(..., record=recorder)`): one self-contained HTML file.

`save_run(recorder, path, lang)` writes it; the Recorder (`gategrad.nn.Recorder`) keeps the data.
The record goes into the page as JSON, in `<script type="application/json" id="gategrad-record">`;
the script (`web/viewer.js`) draws the loss curves, the decision regions, the net neuron by
neuron and one sample's passes from it, and says a neuron's gates in the engine's sentences.
What it knows of the gates travels in the page from their rows in the gate table: the
templates, each gate's `case` and each activation's `forward` and `local`, as expression
trees (`expression_tree`) that the script evaluates on numbers, filling in the templates
with numbers written as `fmt` writes them. The script itself knows no gate. Like the
stepper's page, everything is inline, so it works from `file://` and loads nothing from the
network. Every word of its interface is in `STRINGS`, but for the heading and the thinning
note, which count things and so are ngettext messages.
The page speaks the language it is made in (`lang`): the words, the gate names and the gate
table's templates travel translated, so the script itself knows no language.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import statistics
from html import escape
from pathlib import Path
from string import Template
from typing import Any

from gategrad.engine import GATES, gates, json_number
from gategrad.explain.lang import ENGLISH, gate_name, gate_phrase, grouped, translated, translator
from gategrad.files import atomic_write
from gategrad.nn.record import MAX_NUMBERS, Recorder
from gategrad.nn.tags import neuron_labels
from gategrad.viz import page, plot

PACE_MS = 150  # time per step while playing: a 100-step run plays in 15 s
PLANE_CELLS = 60  # the decision regions are coloured on a grid of 60 × 60 cells, a forward pass each
PLANE_WORK = 20_000_000  # cells × parameters the page computes per step at most (about 0.1 s): a wider net's plane
# is not coloured, and its samples are listed to pick
DRAWN_INPUTS = 64  # up to here the net's picture draws each input and its weights; beyond, one box for them all
ACTIVATION_OPS = tuple(op for op, gate in GATES.items() if gate.activation)
NEURON_OPS = ("mul", "add", *ACTIVATION_OPS)  # the gates a neuron is made of: its products, its sum, its activation

# Every word the page shows; "{name}" marks a number or name filled in where it is shown.
STRINGS: dict[str, str] = {
    "title": "gategrad: a recorded training run",
    "play": "\u25b6 play",
    "pause": "\u275a\u275a pause",
    "step": "step {step}",
    "step_of": "{index} of {count} recorded",
    "readout": "loss {loss} · accuracy {accuracy}",
    "readout_regression": "loss {loss} · R² {r2} · MAE {mae}",
    "keys": "keys: \u2190 \u2192 Home End",
    "loss": "loss",
    "accuracy": "accuracy",
    "r2": "R²",
    "loss_chart": "Loss and accuracy",
    "loss_chart_regression": "Loss and R²",
    "step_axis": "step",
    "log_scale": "{name} (log scale)",
    "boundary": "Decision regions at this step",
    "boundary_not_2d": "The samples have a single feature, so there is no plane to colour; pick a sample:",
    "slice_note": "The samples have more than two features: the plane shows two of them, the others held at their "
    "mean ({held}).",
    "axis_across": "across",
    "axis_up": "up",
    "legend_classes": "a point's fill: its label; the shade behind the points: the class the net predicts there",
    "legend_picked_sample": "thick dark ring: the sample you picked, whose passes are shown below",
    "legend_marker": "dashed line: the step shown",
    "network": "The net, neuron by neuron",
    "color_by": "weights coloured by",
    "by_value": "value",
    "by_gradient": "gradient",
    "legend_weights": "lines: the weights, blue positive, red negative, stronger for larger",
    "legend_inputs": "squares: the inputs",
    "legend_fill": "green fill: the neuron's output on the picked sample, darker for larger (against its layer's "
    "largest)",
    "legend_stuck": "dashed ring: dead or saturated on every sample of the step's batch",
    "legend_picked_neuron": "orange ring: the neuron you picked, whose gates are walked below",
    "health": "Training health at this step",
    "layer": "layer",
    "layer_name": "layer {layer}",
    "layer_caption": "layer {layer} · {activation}",
    "activation": "activation",
    "dead_relu": "dead ReLUs",
    "saturated": "saturated",
    "update_ratio": "update / weight",
    "nonfinite_line": "first nan or inf: {where}",
    "none": "none",
    "not_applicable": "\u2013",
    "nonfinite_forward": "the {op} gate of {where} (forward pass)",
    "nonfinite_backward": "the {op} gate of {where} (backward pass)",
    "neuron_name": "neuron {key}",
    "linear": "linear",
    "the_loss": "the loss",
    "health_note": "dead: output 0 on every sample of the batch; saturated: beyond {saturated} on every sample; "
    "update / weight: |change| / |parameters| of the layer in this step's update, healthy near 1e-3.",
    "legend_band": "green band: where update / weight is healthy",
    "sample": "One sample's forward and backward pass",
    "pick_sample": "Click a point to see its forward and backward pass at this step.",
    "sample_heading": "sample {sample}: x = ({x}), label {label}, at step {step}",
    "sample_output": "output {output}, this sample's loss L = {loss}; dL/d output = {grad}",
    "neuron": "neuron",
    "grad_a": "dL/da",
    "grad_z": "dL/dz",
    "gate_view": "One neuron, gate by gate",
    "pick_neuron": "Click a neuron to walk its gates backward for the chosen sample.",
    "gate_heading": "neuron {key} ({activation}) on sample {sample} at step {step}: backward, one gate at a time",
    "gate_forward": "forward: {z} = b + \u03a3 w\u00b7x = {z_value}; {a} = {activation}({z}) = {a_value}",
    "gate_forward_linear": "forward: {a} = b + \u03a3 w\u00b7x = {a_value} (a linear neuron)",
}


def strings(lang: str = ENGLISH) -> dict[str, str]:
    """`STRINGS` in `lang`."""
    t = translator(lang)
    return {key: t.gettext(text) for key, text in STRINGS.items()}


def _sentence(template: gates.Template, counts: list[int], lang: str) -> str | dict[str, str]:
    """A gate's sentence for the page: its text, or for one counting its inputs the text for each of `counts`."""
    if isinstance(template, str):
        return translated(template, 1, lang)
    return {str(n): translated(template, n, lang) for n in counts}


def document(record: dict[str, Any], lang: str = ENGLISH) -> str:
    """The whole page for `record` (as `Recorder.to_json` makes it), its words in `lang`."""
    t, words = translator(lang), strings(lang)
    steps, layers = record["steps"], record["layers"]
    unknown = sorted({layer["activation"] for layer in layers} - {"linear", *ACTIVATION_OPS})
    if unknown:
        raise ValueError(
            f"the record's layers use {', '.join(unknown)}, which no row of the gate table marks as an activation"
        )
    fan_ins = sorted({layer["nin"] + 1 for layer in layers})  # a neuron's add gate: its products and its bias
    view = {
        "gates": {
            op: {
                "sentences": {case: _sentence(text, fan_ins, lang) for case, text in GATES[op].sentences.items()},
                "case": expression_tree(GATES[op].case),
            }
            for op in NEURON_OPS
        },
        "activations": {
            op: {"forward": expression_tree(GATES[op].forward), "local": expression_tree(GATES[op].local[0])}
            for op in ACTIVATION_OPS
        },
        "gate_names": {op: gate_name(op, lang) for op in GATES},
        "gate_phrases": {op: gate_phrase(op, lang) for op in GATES},
        "list_separator": t.pgettext("list", ", "),
        "labels": [[neuron_labels(layer, i) for i in range(shape["nout"])] for layer, shape in enumerate(layers)],
        "strings": words,
        "pace": PACE_MS,
        "class_colors": list(plot.CLASS_COLORS),
        "feature_means": [statistics.fmean(column) for column in zip(*record["X"])],
        "cells": PLANE_CELLS,
    }
    view.update(_large_net(record, lang))
    note, total = "", record["total_steps"]
    if len(steps) < total:
        note = t.ngettext(
            "{total} step was run; the page keeps {kept} of them, evenly spaced.",
            "{total} steps were run; the page keeps {kept} of them, evenly spaced.",
            total,
        ).format(total=total, kept=len(steps))
    if view["not_kept"]:
        kept = sum("parameters" in step for step in steps)
        more = t.ngettext(
            "The net has {parameters} parameter: the page keeps the parameters and gradients of {kept} of its {count} "
            "steps (at most {limit} numbers); the others show the loss and the health figures.",
            "The net has {parameters} parameters: the page keeps the parameters and gradients of {kept} of its {count} "
            "steps (at most {limit} numbers); the others show the loss and the health figures.",
            _count(record),
        ).format(
            parameters=grouped(_count(record), lang),
            kept=kept,
            count=len(steps),
            limit=grouped(record.get("max_numbers", MAX_NUMBERS), lang),
        )
        note = f"{note} {more}" if note else more
    samples = len(record["X"])
    heading = t.ngettext(
        "{model} trained with {loss} on {samples} sample", "{model} trained with {loss} on {samples} samples", samples
    ).format(model=_architecture(record), loss=record["loss"], samples=samples)
    body = Template(page.web_file("viewer.html")).substitute(
        {key: escape(text) for key, text in words.items()},
        heading=escape(heading),
        note=escape(note),
        last=len(steps) - 1,
        css=page.web_file("stepper.css") + page.web_file("viewer.css"),
        record=page.script_json(_finite_or_named(record)),
        view=page.script_json(view),
        script=page.web_file("viewer.js") + 'gategradViewer(document.getElementById("viewer"));',
    )
    return Template(page.web_file("page.html")).substitute(title=escape(words["title"]), body=body, lang=escape(lang))


def _count(record: dict[str, Any]) -> int:
    """The net's parameters: each neuron's weights and bias (a record before version 2 does not say)."""
    return int(record.get("parameter_count") or sum(layer["nout"] * (layer["nin"] + 1) for layer in record["layers"]))


def _large_net(record: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the page leaves out for a large net, and the sentences that say so in `lang`: the parameters of steps
    that did not keep them, the colouring of the plane, the inputs one by one."""
    t = translator(lang)
    parameters, nin = _count(record), record["layers"][0]["nin"]
    count = grouped(parameters, lang)
    not_kept = ""
    if any("parameters" not in step for step in record["steps"]):
        not_kept = t.ngettext(
            "This step's parameters were not kept: the net has {parameters} parameter, too many for the page to keep "
            "at every step.",
            "This step's parameters were not kept: the net has {parameters} parameters, too many for the page to keep "
            "at every step.",
            parameters,
        ).format(parameters=count)
    plane = PLANE_CELLS * PLANE_CELLS * parameters <= PLANE_WORK
    plane_note = ""
    if not plane:
        plane_note = t.ngettext(
            "The net has {parameters} parameter: colouring the plane would run it on {cells} points at every step, "
            "too slow for a page; pick a sample:",
            "The net has {parameters} parameters: colouring the plane would run it on {cells} points at every step, "
            "too slow for a page; pick a sample:",
            parameters,
        ).format(parameters=count, cells=grouped(PLANE_CELLS * PLANE_CELLS, lang))
    inputs = t.ngettext("{n} input", "{n} inputs", nin).format(n=grouped(nin, lang)) if nin > DRAWN_INPUTS else ""
    return {"not_kept": not_kept, "plane": plane, "plane_note": plane_note, "inputs_box": inputs}


def save(record: dict[str, Any], path: str | os.PathLike[str], lang: str = ENGLISH) -> Path:
    """Write the page, in `lang`, to `path` atomically (a reader never sees half a file) and return the path."""
    atomic_write(path, document(record, lang))
    return Path(path)


def save_run(recorder: Recorder, path: str | os.PathLike[str], lang: str = ENGLISH) -> Path:
    """Write the run `recorder` kept as one self-contained page, its words in `lang`; returns its path."""
    if not isinstance(recorder, Recorder):
        raise TypeError(f"save_run saves a gategrad.nn.Recorder, got {type(recorder).__name__}: {recorder!r}")
    return save(recorder.to_json(), path, lang)


_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def expression_tree(text: str) -> list[Any]:
    """A gate row's expression as JSON for the page: ["num", 1.0], ["name", "a"], ["op", "*", x, y],
    ["cmp", "<", x, y], ["neg", x], ["not", x], ["and", ...], ["or", ...], ["if", test, then, else],
    ["call", "exp", x...]; ValueError for anything else."""
    return _tree(ast.parse(text, mode="eval").body, text)


def _tree(node: ast.expr, text: str) -> list[Any]:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float, str))
        and not isinstance(node.value, bool)
    ):
        return ["str" if isinstance(node.value, str) else "num", node.value]
    if isinstance(node, ast.Name):
        return ["name", node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return ["op", _BINARY[type(node.op)], _tree(node.left, text), _tree(node.right, text)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        return ["neg" if isinstance(node.op, ast.USub) else "not", _tree(node.operand, text)]
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        sides = [node.left, *node.comparators]  # a <= b <= c is a <= b and b <= c
        pairs = [
            ["cmp", _COMPARE[type(op)], _tree(x, text), _tree(y, text)] for op, x, y in zip(node.ops, sides, sides[1:])
        ]
        return pairs[0] if len(pairs) == 1 else ["and", *pairs]
    if isinstance(node, ast.BoolOp):
        return ["and" if isinstance(node.op, ast.And) else "or", *(_tree(v, text) for v in node.values)]
    if isinstance(node, ast.IfExp):
        return ["if", _tree(node.test, text), _tree(node.body, text), _tree(node.orelse, text)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return ["call", node.func.id, *(_tree(a, text) for a in node.args)]
    raise ValueError(f"the training page cannot evaluate {ast.unparse(node)!r} in the gate table's {text!r}")


_RECORD = re.compile(r'<script type="application/json" id="gategrad-record">(.*?)</script>', re.S)
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def read_record(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The record inside a page `save` wrote, its nan and inf numbers floats again."""
    found = _RECORD.search(Path(path).read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{os.fspath(path)}: not a page of a recorded training run (no gategrad-record script)")
    record: dict[str, Any] = _numbers_again(json.loads(found[1]))  # the JSON object `save` wrote
    return record


def _architecture(record: dict[str, Any]) -> str:
    config = record["config"]
    args = ", ".join(repr(v) for k, v in config.items() if k != "activation")
    return f"{record['model']}({args}, activation={config['activation']!r})"


def _finite_or_named(x: Any) -> Any:
    """`x` with nan and inf written as the strings NaN, Infinity and -Infinity, which JSON can hold.

    Both JavaScript's Number() and Python's float() read those strings back as the numbers.
    """
    if isinstance(x, float):
        return json_number(x)
    if isinstance(x, dict):
        return {k: _finite_or_named(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite_or_named(v) for v in x]
    return x


def _numbers_again(x: Any) -> Any:
    if isinstance(x, str):
        return _NONFINITE.get(x, x)
    if isinstance(x, dict):
        return {k: _numbers_again(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_numbers_again(v) for v in x]
    return x
