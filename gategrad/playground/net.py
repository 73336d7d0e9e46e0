"""The playground's network lab: `gategrad train`'s run taken a step at a time, and what the page draws of it.

`handle(action, args)` answers the page (through `bridge.py`): `reset` starts a run from its
settings, `step` takes steps, `walk` walks a neuron's or a sample's gates. Every reply's numbers
are the engine's: the run is an `nn.Training` built by the functions `gategrad train` uses, with
its defaults and a constant learning rate, so after N steps its losses are those of `gategrad
train --schedule constant --steps N --engine scalar`. The health figures are a `Recorder`'s,
and a walk's sentences are the engine's Steps in the walkthrough's words. Pure Python: it runs in
the browser, in Pyodide, without numpy.
"""

from __future__ import annotations

import math
from typing import Any

from gategrad import nn
from gategrad.data import DATASETS
from gategrad.engine import fmt, gc_paused, json_number, topological_order
from gategrad.explain.lang import ENGLISH, gate_name, gate_numbers, gate_words, sentence, translator
from gategrad.nn.tags import neuron_calls
from gategrad.viz.plot import CLASS_COLORS
from gategrad.viz.viewer import STRINGS as RUN_PAGE

GRID = 24  # decision regions: the model's class at GRID x GRID points of the plane
MAX_LAYERS, MAX_WIDTH = 6, 64  # a net the browser still steps in well under a second
MAX_POINTS = 1_000
MAX_STEPS_PER_CALL = 100

# Every word the lab's page shows (web/net.js asks for them by their English text, `api.t`); "{name}" is filled in
# where it is shown. The run page's words are its own messages, so they are translated once.
STRINGS = [
    "Data",
    *DATASETS,
    "hidden layers",
    "e.g. 16,16",
    RUN_PAGE["activation"],
    RUN_PAGE["loss"],
    "default",
    "optimizer",
    "learning rate",
    "L2",
    "seed",
    "mini-batch",
    "0 means all points",
    "step",
    "play",
    "pause",
    "reset",
    "steps taken: {step}",
    "No step taken yet.",
    "batch loss",
    RUN_PAGE["accuracy"],
    "Training diverged: {where}",
    RUN_PAGE["boundary"],
    "add or remove points",
    "walk a sample",
    "class",
    "Click the plot to add a point of class {label}; click a point to remove it.",
    "sample {sample}",
    "added",
    "Loss per step",
    RUN_PAGE["network"],
    "Click a neuron to walk its gates for the chosen sample; click a sample in the plot to walk its backward pass.",
    RUN_PAGE["neuron_name"],
    RUN_PAGE["health"],
    RUN_PAGE["layer"],
    RUN_PAGE["dead_relu"],
    RUN_PAGE["saturated"],
    RUN_PAGE["update_ratio"],
    RUN_PAGE["gate_view"],
    RUN_PAGE["sample"],
    RUN_PAGE["the_loss"],
]

_lab: _Lab | None = None


def handle(action: str, args: dict[str, Any]) -> dict[str, Any]:
    """One request of the page: `reset` (settings), `step` (`n`, 0 to redraw), or `walk` (`target`, `lang`).

    `reset` and `step` answer with the view. `grid: false` leaves out the slow parts while the page plays:
    the regions, and the recording of the step's health figures (the view keeps the last ones recorded).
    """
    global _lab
    if action == "reset":
        _lab = _Lab(args)
        return _lab.view(args)
    if _lab is None:
        raise ValueError("reset the network lab first")
    if action == "step":
        _lab.step(_count(args.get("n", 1)), health=args.get("grid", True) is not False)
        return _lab.view(args)
    if action == "walk":
        return _lab.walk(args.get("target"), _sample(args.get("sample", _lab.sample), len(_lab.X)), _lang(args))
    raise ValueError(f"unknown action {action!r} of the network lab; known: reset, step, walk")


class _Lab:
    """One run: its settings, its points, its `nn.Training`, and the sample the page has picked."""

    def __init__(self, args: dict[str, Any]) -> None:
        dataset = args.get("dataset") or "moons"
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
        seed = args.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"the seed must be a whole number, got {seed!r}")
        base_X, base_y = DATASETS[dataset](seed)
        self.classes = len(set(base_y))
        self.settings = s = {"dataset": dataset, "seed": seed, **_settings(args, self.classes)}
        self.points = _points(base_X, base_y, args.get("removed", []), args.get("points", []), self.classes)
        self.X = [p["x"] for p in self.points]
        self.y = [p["label"] for p in self.points]
        self.task = nn.objective(s["loss"], self.classes)
        self.labels = [self.task.label(c) for c in self.y]
        self.model = nn.MLP(2, [*s["hidden"], self.task.outputs], s["activation"], seed=s["seed"])
        optimizer = nn.OPTIMIZERS[s["optimizer"]](self.model.parameters(), lr=s["lr"])
        batch = s["batch"] if s["batch"] and s["batch"] < len(self.X) else None
        self.training = nn.Training(
            self.model, self.X, self.labels, self.task.loss, optimizer, batch_size=batch, l2=s["l2"], seed=s["seed"]
        )
        self.health: dict[str, Any] | None = None
        self.diverged: nn.TrainingDiverged | None = None
        self.sample = 0

    def step(self, n: int, health: bool = True) -> None:
        """Take `n` steps; with `health`, each is recorded for its health figures (the last one's are kept).
        A diverged run takes no more (0 redraws it, as in another language); its last recorded step is the one that
        diverged."""
        if self.diverged is not None and n:
            raise ValueError(f"the run diverged at step {self.diverged.step}: reset it to train again")
        recorder = None
        for _ in range(n):
            recorder = self.training.recorder = self._recorder() if health else None
            try:
                self.training.step()
            except nn.TrainingDiverged as e:
                self.diverged = e.with_traceback(None)  # its frames would keep the step's circuit alive
            finally:
                self.training.recorder = None
                if recorder is not None:
                    recorder.finish()
            if self.diverged is not None:
                break
        if recorder is not None:
            self.health = recorder.health(0)

    def _recorder(self) -> nn.Recorder:
        """A Recorder of the coming step only: told the run has k + 1 steps and to keep at most 2 of them, it
        keeps the first and the last, and only the last, step k, is still to come."""
        recorder = nn.Recorder(max_steps=2)
        k = self.training.steps
        recorder.start(self.model, self.X, self.labels, self.task.loss, k + 1, self.settings["l2"])
        return recorder

    def view(self, args: dict[str, Any]) -> dict[str, Any]:
        """Everything the page draws: the run's numbers, the points, the regions, the net on a sample, the health."""
        if "sample" in args:
            self.sample = _sample(args["sample"], len(self.X))
        lang = _lang(args)
        history = self.training.history
        return {
            "settings": {**self.settings, "hidden": ",".join(map(str, self.settings["hidden"]))},
            "classes": self.classes,
            "class_colors": list(CLASS_COLORS),
            "step": self.training.steps,
            "loss": json_number(history["loss"][-1]) if history["loss"] else None,
            "accuracy": history["accuracy"][-1] if history["accuracy"] else None,
            "losses": [json_number(x) for x in history["loss"]],
            "accuracies": list(history["accuracy"]),
            "loss_text": fmt(history["loss"][-1]) if history["loss"] else "",
            "accuracy_text": f"{history['accuracy'][-1]:.2f}" if history["accuracy"] else "",
            "points": self.points,
            "grid": self._grid() if args.get("grid", True) else None,  # playing, the page asks for it now and then
            "net": self._net(),
            "health": self._health(lang),
            "diverged": self._diverged(lang),
        }

    def _diverged(self, lang: str) -> dict[str, Any] | None:
        """The step the run diverged at, and why in `lang`, with the engine's numbers."""
        e = self.diverged
        if e is None:
            return None
        return {"step": e.step, "where": e.where_in(translator(lang), **gate_numbers(e.numbers, lang))}

    def _grid(self) -> dict[str, Any]:
        """The class the model gives each of GRID x GRID points over the data (half a unit beyond it), and how surely:
        the margin of its largest output over the next (one output: its distance from 0)."""
        xs, ys = [p[0] for p in self.X], [p[1] for p in self.X]
        left, right, bottom, top = min(xs) - 0.5, max(xs) + 0.5, min(ys) - 0.5, max(ys) + 0.5
        gx = [left + (right - left) * i / (GRID - 1) for i in range(GRID)]
        gy = [bottom + (top - bottom) * i / (GRID - 1) for i in range(GRID)]
        cells = []
        with gc_paused():  # hundreds of small circuits, each freed when read: no cycles for the collector to find
            outputs = [nn.predict(self.model, [[x, y] for x in gx]) for y in gy]
        for row_outputs in outputs:
            row = []
            for out in row_outputs:
                if isinstance(out, list):
                    ranked = sorted(out, reverse=True)
                    row.append([out.index(ranked[0]), json_number(ranked[0] - ranked[1])])
                else:
                    row.append([int(out > 0), json_number(abs(out))])
            cells.append(row)
        return {"x": gx, "y": gy, "cells": cells, "bounds": [left, right, bottom, top]}

    def _net(self) -> dict[str, Any]:
        """Each layer's neurons (weights, bias) and, for the picked sample, each neuron's z and a."""
        out = self.model(self.X[self.sample])
        values: dict[str, tuple[float, float]] = {}
        for root in out if isinstance(out, list) else [out]:
            for call in neuron_calls(topological_order(root)):
                values[call.key] = (call.pre.data, call.output.data)
        layers = []
        for index, layer in enumerate(self.model.layers):
            neurons = []
            for i, neuron in enumerate(layer.neurons):
                z, a = values[f"{index}:{i}"]
                neurons.append(
                    {
                        "w": [json_number(w.data) for w in neuron.w],
                        "b": json_number(neuron.b.data),
                        "z": json_number(z),
                        "a": json_number(a),
                        "text": f"z = {fmt(z)}, a = {fmt(a)}",
                    }
                )
            layers.append({"activation": layer.neurons[0].activation, "neurons": neurons})
        return {"inputs": 2, "sample": self.sample, "x": self.X[self.sample], "layers": layers}

    def _health(self, lang: str) -> dict[str, Any] | None:
        """The last step's health figures as the run page shows them: per layer, and the first nan or inf."""
        if self.health is None:
            return None
        t = translator(lang)
        rows = []
        low, high = nn.record.RATIO_RANGE
        for index, (layer, figures) in enumerate(zip(self.model.layers, self.health["layers"])):
            n = len(layer.neurons)

            def share(value: float | None, n: int = n) -> str:
                return t.gettext(RUN_PAGE["not_applicable"]) if value is None else f"{round(value * n)} / {n}"

            ratio = figures["update_ratio"]
            rows.append(
                {
                    "layer": index,
                    "activation": gate_name(layer.neurons[0].activation, lang)
                    if layer.neurons[0].activation != "linear"
                    else t.gettext(RUN_PAGE["linear"]),
                    "dead_relu": share(figures["dead_relu"]),
                    "saturated": share(figures["saturated"]),
                    "update_ratio": t.gettext(RUN_PAGE["not_applicable"]) if ratio is None else fmt(ratio),
                    "warn_dead": figures["dead_relu"] is not None and figures["dead_relu"] > nn.record.MOSTLY_DEAD,
                    "warn_ratio": ratio is not None
                    and not nn.record.RATIO_RANGE[0] <= ratio <= nn.record.RATIO_RANGE[1],
                    "stuck": figures["stuck"],
                }
            )
        found = self.health["nonfinite"]
        if found is None:
            where = t.gettext(RUN_PAGE["none"])
        else:
            owner = (
                t.gettext(RUN_PAGE["the_loss"])
                if found["neuron"] is None
                else t.gettext(RUN_PAGE["neuron_name"]).format(key=found["neuron"])
            )
            template = RUN_PAGE["nonfinite_forward" if found["pass"] == "forward" else "nonfinite_backward"]
            where = t.gettext(template).format(**gate_words(found["op"], lang, "op"), where=owner)
        return {
            "layers": rows,
            "nonfinite": t.gettext(RUN_PAGE["nonfinite_line"]).format(where=where),
            "note": t.gettext(RUN_PAGE["health_note"]).format(saturated=nn.record.SATURATED),
        }

    def walk(self, target: Any, sample: int, lang: str) -> dict[str, Any]:
        """The gates of one sample's loss, backward, at the current parameters, in the engine's sentences in `lang`:
        all of them for `{"sample": i}`, those of one neuron for `{"neuron": "layer:index"}` (on `sample`)."""
        if not isinstance(target, dict) or len(target) != 1 or not {"neuron", "sample"} >= target.keys():
            raise ValueError('a walk\'s target is {"neuron": "layer:index"} or {"sample": index}')
        if "sample" in target:
            sample = _sample(target["sample"], len(self.X))
        twin = nn.MLP(**self.model.config())
        twin.load_state_dict(self.model.state_dict())  # a copy: walking leaves the run's gradients alone
        out = twin(self.X[sample])
        loss = self.task.loss([out], [self.labels[sample]])
        calls = neuron_calls(topological_order(loss))
        for call in calls:  # the twin's own Values: the walk names weights, as the run page does
            call.name_parameters()
        owner = {v: call.key for call in calls for v in call.gates}
        neuron = target.get("neuron")
        if neuron is not None and neuron not in set(owner.values()):
            raise ValueError(f"the net has no neuron {neuron!r}; neurons are named layer:index, such as 0:3")
        t = translator(lang)
        steps = []
        for step in loss.backward_steps():
            key = owner.get(step.output)
            if neuron is None or key == neuron:
                steps.append(
                    {
                        "gate": step.op,
                        "gate_name": gate_name(step.op, lang),
                        "neuron": key,
                        "output": step.output.label,
                        "data": json_number(step.output.data),
                        "upstream": json_number(step.upstream),
                        "sentence": sentence(step, lang),
                    }
                )
        outputs = out if isinstance(out, list) else [out]
        if neuron is None:
            heading = t.gettext(RUN_PAGE["sample_heading"]).format(
                sample=sample,
                x=", ".join(map(fmt, self.X[sample])),
                label=self.labels[sample],
                step=self.training.steps,
            )
            detail = t.gettext(RUN_PAGE["sample_output"]).format(
                output=", ".join(fmt(o.data) for o in outputs),
                loss=fmt(loss.data),
                grad=", ".join(fmt(o.grad) for o in outputs),
            )
        else:
            layer_index, i = map(int, neuron.split(":"))
            act = self.model.layers[layer_index].neurons[i].activation
            call = next(c for c in neuron_calls(topological_order(loss)) if c.key == neuron)
            heading = t.gettext(RUN_PAGE["gate_heading"]).format(
                key=neuron,
                activation=gate_name(act, lang) if act != "linear" else t.gettext(RUN_PAGE["linear"]),
                sample=sample,
                step=self.training.steps,
            )
            if act == "linear":
                detail = t.gettext(RUN_PAGE["gate_forward_linear"]).format(
                    a=call.output.label, a_value=fmt(call.output.data)
                )
            else:
                detail = t.gettext(RUN_PAGE["gate_forward"]).format(
                    z=call.pre.label,
                    a=call.output.label,
                    z_value=fmt(call.pre.data),
                    a_value=fmt(call.output.data),
                    activation=gate_name(act, lang),
                )
        return {
            "target": target,
            "sample": sample,
            "step": self.training.steps,
            "loss": json_number(loss.data),
            "heading": heading,
            "detail": detail,
            "steps": steps,
        }


def _settings(args: dict[str, Any], classes: int) -> dict[str, Any]:
    """The net's and the optimizer's settings from the page's, each checked; a missing one is `gategrad train`'s."""
    hidden = _hidden(args.get("hidden", "16,16"))
    activation = args.get("activation") or "relu"
    if activation not in nn.ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(nn.ACTIVATIONS)}; got {activation!r}")
    loss = args.get("loss") or ("cross_entropy" if classes > 2 else "hinge")  # train's default for a toy dataset
    optimizer = args.get("optimizer") or "sgd"
    if optimizer not in nn.OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(nn.OPTIMIZERS)}; got {optimizer!r}")
    lr = args.get("lr")
    lr = nn.DEFAULT_LR[optimizer] if lr is None or lr == "" else _number("the learning rate", lr)
    l2 = args.get("l2")
    l2 = 1e-4 if l2 is None or l2 == "" else _number("L2", l2)
    batch = args.get("batch") or 0
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 0:
        raise ValueError(f"the mini-batch must be a whole number of points (0: all of them), got {batch!r}")
    return {
        "hidden": hidden,
        "activation": activation,
        "loss": loss,
        "optimizer": optimizer,
        "lr": lr,
        "l2": l2,
        "batch": batch,
    }


def _hidden(text: Any) -> list[int]:
    if not isinstance(text, str):
        raise ValueError(f"hidden layers are sizes such as 16,16, got {text!r}")
    try:
        sizes = [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        raise ValueError(f"hidden layers are sizes such as 16,16, got {text!r}") from None
    if len(sizes) > MAX_LAYERS or any(not 1 <= n <= MAX_WIDTH for n in sizes):
        raise ValueError(f"at most {MAX_LAYERS} hidden layers of 1 to {MAX_WIDTH} neurons each, got {text!r}")
    return sizes


def _number(what: str, x: Any) -> float:
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {x!r}") from None
    if isinstance(x, bool) or not 0.0 <= value < math.inf:
        raise ValueError(f"{what} must be a finite number >= 0, got {x!r}")
    return value


def _points(X: list[list[float]], y: list[int], removed: Any, added: Any, classes: int) -> list[dict[str, Any]]:
    """The dataset's points but the `removed` ones (by index), then the `added` ones ([x0, x1, label] each)."""
    if not isinstance(removed, list) or not all(isinstance(i, int) and 0 <= i < len(X) for i in removed):
        raise ValueError(f"removed points are indices of the dataset's {len(X)} points")
    if not isinstance(added, list) or len(added) > MAX_POINTS:
        raise ValueError(f"added points are a list of at most {MAX_POINTS} [x0, x1, label]")
    gone = set(removed)
    points = [{"x": x, "label": c, "dataset": i} for i, (x, c) in enumerate(zip(X, y)) if i not in gone]
    for j, p in enumerate(added):
        if not (isinstance(p, list) and len(p) == 3 and isinstance(p[2], int) and 0 <= p[2] < classes):
            raise ValueError(f"an added point is [x0, x1, label] with a label below {classes}, got {p!r}")
        x0, x1 = (_coordinate(v) for v in p[:2])
        points.append({"x": [x0, x1], "label": p[2], "added": j})
    if not points:
        raise ValueError("there are no points left to train on")
    return points


def _coordinate(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"a point's coordinates are finite numbers, got {v!r}")
    return float(v)


def _count(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_STEPS_PER_CALL:
        raise ValueError(f"n must be a whole number of steps from 0 to {MAX_STEPS_PER_CALL}, got {n!r}")
    return n


def _sample(i: Any, count: int) -> int:
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < count:
        raise ValueError(f"a sample is an index below {count}, got {i!r}")
    return i


def _lang(args: dict[str, Any]) -> str:
    lang = args.get("lang", ENGLISH)
    translator(lang)  # an unknown language is a ValueError naming the known ones
    return str(lang)
