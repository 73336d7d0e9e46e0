"""A recorded training run: each step's loss, accuracy (R² and MAE for a regression), parameters and gradients,
and the net's health.

`fit(..., record=...)` calls `Recorder.record` once a step, after backward() and before the
optimizer moves anything, so a step keeps the parameters its loss was computed with and that
loss's gradients. From these every other number is recomputed afterwards with the engine:
each layer's activations, each sample's loss, and the health figures (dead ReLUs, saturated
units, update-to-weight ratios, the first gate that produced nan or inf), by the engine: a twin of
the model, whose own Neurons do the arithmetic, or, for `fit(..., engine="replay")`, the model's
Neurons traced once (nothing in the model is written) and replayed with numpy (`gategrad.replay`),
a wide layer's first Neuron only, replayed with each neuron's weights. A large net's parameters fit on a page for only a
few steps (`MAX_NUMBERS`); the other steps keep their loss and their health figures, worked out as
the step is recorded. The Recorder keeps data; `gategrad.viz.save_run(recorder, path, lang)` writes
it as one page to open in a browser.
"""

from __future__ import annotations

import math
import statistics
from array import array
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gategrad.engine import GATES, Value, gc_paused, topological_order
from gategrad.nn.losses import l2_penalty
from gategrad.nn.modules import MLP, Layer, Module, Neuron
from gategrad.nn.tags import neuron_calls

if TYPE_CHECKING:
    import numpy as np

FORMAT = "gategrad-record"  # what `to_json` writes, and the page keeps
FORMAT_VERSION = 2  # 2: a step may hold no parameters (a large net's), only its loss, metrics and health
MAX_STEPS = 500  # recorded in full up to here; a longer run is thinned evenly to this many steps
# Parameters and gradients kept over all steps: about 40 MB of page. A large net keeps them at fewer steps, or none.
MAX_NUMBERS = 2_000_000
SATURATED = 0.99  # a tanh output beyond ±0.99, a sigmoid's beyond 0.01 or 0.99: its local gradient is < 0.02
MOSTLY_DEAD = 0.5  # `warnings` speaks up when more than half a layer's ReLUs are dead...
ZERO_LOSS_CHUNK = 4096  # samples per circuit when `warnings` takes the loss of outputs of 0
STALLED = 0.5  # ...and the loss is above half that of outputs of 0 (hinge's 1, log C for C classes): little learnt
RATIO_RANGE = (10**-4.5, 10**-1.5)  # a healthy update-to-weight ratio is about 1e-3: 1.5 decades (~30x) off is far
ENGINES = ("scalar", "replay")
# On a replayed fit a layer of up to this many weights is traced whole, one Plan for all its neurons; a wider one
# (an image's 12,288 inputs × 64) by its first neuron, whose Plan runs once per neuron: tracing 786,432 products
# took seconds, and one neuron's 12,288 take milliseconds.
TRACED_WEIGHTS = 100_000
# What `warnings` says, by kind: templates with named numbers, so the command line says them in its --lang.
WARNINGS = {
    "dead": "layer {layer}: {dead} of {n} ReLUs are dead at the last step",
    "ratio": "layer {layer}: update-to-weight ratio {ratio}, far from ~1e-3",
    "nonfinite": "the last step's {where} produced nan or inf",
}

# A step's parameters or gradients: an array of doubles read from the Values, or a replayed fit's numpy vector.
Numbers = Any
# A layer's outputs on some samples, a row per sample: lists of floats (scalar engine) or a numpy table (replay).
Table = Any


class Recorder:
    """Keeps a training run, step by step, for `health` (how the net is doing) and `to_json` (the page's data).

    Pass one to `fit(..., record=recorder)`; `gategrad.viz.save_run(recorder, path)` writes its page.
    Up to `max_steps` steps are recorded, each with its loss, metrics and health figures; a longer run keeps
    that many, evenly spaced, first and last included. Their parameters and gradients are kept too, at as many
    of those steps (evenly spaced) as `max_numbers` numbers allow (`MAX_NUMBERS` by default; see `kept_steps`):
    a large net keeps them at a few steps, or none.
    `features` names the columns of X and `classes` the classes (a CSV file's header and labels, as
    `gategrad.data.load_csv` reads them), for the page to show; without them the features are x0, x1, ...
    """

    def __init__(
        self,
        max_steps: int = MAX_STEPS,
        features: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        max_numbers: int | None = None,
    ) -> None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 2:
            raise ValueError(f"max_steps must be an int of at least 2, got {max_steps!r}")
        if max_numbers is not None and (
            isinstance(max_numbers, bool) or not isinstance(max_numbers, int) or max_numbers < 0
        ):
            raise ValueError(f"max_numbers must be an int of at least 0, got {max_numbers!r}")
        for name, names in (("features", features), ("classes", classes)):
            if names is not None and (isinstance(names, str) or not all(isinstance(n, str) for n in names)):
                raise TypeError(f"{name} must be a list of names (strings), got {names!r}")
        self.max_steps, self.max_numbers = max_steps, max_numbers
        self.features = None if features is None else list(features)
        self.classes = None if classes is None else list(classes)
        self._kept: list[dict[str, Any]] = []

    def start(
        self,
        model: Module,
        X: Sequence[Sequence[float]] | np.ndarray,
        y: Sequence[Any],
        loss_fn: Callable[[list[Any], Sequence[Any]], Value],  # outputs: a Value, or a list of them, per sample
        steps: int,
        l2: float = 0.0,
        engine: str = "scalar",
    ) -> None:
        """Begin a run of `steps` steps (fit calls this): the model, its data, its loss, and the engine that
        works out the activations (fit's: "scalar", or "replay")."""
        if not isinstance(model, (Neuron, Layer, MLP)):
            raise TypeError(f"a Recorder records a Neuron, Layer or MLP, got {type(model).__name__}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        self.model, self.loss_fn, self.l2, self.total_steps, self.engine = model, loss_fn, l2, steps, engine
        # A numpy table stays one (8 bytes a number); its rows become lists of floats only when read (`_sample`).
        self.X = X if hasattr(X, "ndim") else [[float(x) for x in row] for row in X]
        self.y = y if isinstance(y, list) else list(y)  # fit's labels as they are: a large table's are millions
        if self.features is not None and len(self.X) and len(self.features) != len(self.X[0]):
            raise ValueError(
                f"the Recorder was given {len(self.features)} feature names for samples of {len(self.X[0])} features"
            )
        self._twin: Module | None = None  # made when first needed: a replayed fit may never need it
        self._neurons = _neurons_by_layer(model)  # the model's, for their shapes and for replay to trace
        self.layers: list[dict[str, Any]] = [
            {"nin": len(n[0].w), "nout": len(n), "activation": n[0].activation} for n in self._neurons
        ]
        self._kept = []
        self._params = model.parameters()
        self._layer_spans = self._spans()
        self._recorded = _evenly(steps, self.max_steps)
        self._budget = MAX_NUMBERS if self.max_numbers is None else self.max_numbers
        order = sorted(self._recorded)
        kept = kept_steps(len(self._params), self.max_steps, self._budget)
        self._keep = {order[i] for i in _evenly(len(order), kept)}
        self._ratios: dict[int, list[float | None]] = {}
        self._waiting: tuple[int, Numbers] | None = None  # a recorded step whose update is yet to be seen
        self._derived: dict[int, dict[str, Any]] = {}
        self._plans: list[Any] | None = None  # replay's Plan of each layer's neuron, traced when first needed
        self._X_array: Any = None

    def _sample(self, i: int) -> list[float]:
        """Sample i's inputs as Python floats, as the scalar engine takes them."""
        return [float(x) for x in self.X[i]]

    def reads(self, step: int) -> bool:
        """Whether `record(step, ...)` reads the parameters: a recorded step, or the one after it (its update)."""
        return self._waiting is not None or step in self._recorded

    def record(
        self,
        step: int,
        loss: float,
        metrics: dict[str, float],
        batch: Sequence[int] | None = None,
        parameters: Numbers | None = None,
        gradients: Numbers | None = None,
    ) -> None:
        """Record step `step`: call it after backward() and before optimizer.step(); `batch` None means all of X.

        `metrics` are the batch's {"accuracy": ...}, or a regression's {"r2": ..., "mae": ...}. The parameters
        and gradients are read from the model's Values, or given as vectors (a replayed fit's, copied here).
        A step whose parameters are not kept gets its health figures now; one where any number is not
        finite keeps its parameters whatever `max_numbers` says (fit stops there), for its health to name the gate.
        """
        if not self.reads(step):
            return
        # Kept as arrays of doubles, not lists of floats: holding on to some 700 float objects a
        # step slowed the training steps that followed by about 15% (measured).
        now = array("d", [p.data for p in self._params]) if parameters is None else parameters.copy()
        self._close_update(now)
        if step not in self._recorded:
            return
        grads = array("d", [p.grad for p in self._params]) if gradients is None else gradients.copy()
        entry: dict[str, Any] = {"step": step, "loss": loss, **metrics}
        if batch is not None:
            entry["batch"] = list(batch)
        if step not in self._keep:
            tables = self._activations(now, entry.get("batch", range(len(self.X))))
            if all(map(_finite, [[loss], now, grads, *tables])):
                entry["stuck"] = self._stuck(tables)
        if "stuck" not in entry:
            entry["parameters"], entry["gradients"] = now, grads
        self._kept.append(entry)
        self._waiting = (len(self._kept) - 1, now)

    def finish(self) -> None:
        """After the last step (fit calls this): its update is the last one the record needs."""
        self._close_update(array("d", [p.data for p in self._params]))

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The recorded steps: {"step", "loss", "accuracy" (or "r2" and "mae")}, "batch" when not all of X, and
        "parameters" and "gradients" at the steps that keep them."""
        return [
            {key: value.tolist() if key in ("parameters", "gradients") else value for key, value in entry.items()}
            for entry in ({k: v for k, v in kept.items() if k != "stuck"} for kept in self._kept)
        ]

    def _close_update(self, now: Numbers) -> None:
        if self._waiting is not None:
            kept, before = self._waiting
            self._ratios[kept] = [_ratio(before[lo:hi], now[lo:hi]) for lo, hi in self._layer_spans]
            self._waiting = None

    def _spans(self) -> list[tuple[int, int]]:
        """Where each layer's parameters sit in `model.parameters()`."""
        spans, at = [], 0
        for neurons in self._neurons:
            size = len(neurons) * (len(neurons[0].w) + 1)  # each neuron: its weights, then its bias
            spans.append((at, at + size))
            at += size
        return spans

    def health(self, kept: int) -> dict[str, Any]:
        """How the net was doing at recorded step `kept` (an index into `steps`), each figure per layer.

        `dead_relu`: the fraction of a relu layer's units that gave 0 on every sample of the
        batch; `saturated`: of a tanh or sigmoid layer's units, those beyond `SATURATED` on every
        sample; `stuck`: the indices of those units; `update_ratio`: |change of the layer's
        parameters| / |its parameters| in the step's update; and `nonfinite`: the first gate
        that produced nan or inf, or None (always None at a step without its parameters: a step
        with a number that is not finite keeps them).
        """
        entry = self._kept[kept]
        if "stuck" in entry:
            replayed = {"stuck": entry["stuck"], "nonfinite": None}
        else:
            if kept not in self._derived:
                batch = entry.get("batch", range(len(self.X)))
                self._derived[kept] = self._replay(entry, self._activations(entry["parameters"], batch))
            replayed = self._derived[kept]
        ratios = self._ratios.get(kept, [None] * len(self.layers))
        layers = [{**stuck, "update_ratio": ratio} for stuck, ratio in zip(replayed["stuck"], ratios)]
        return {"layers": layers, "nonfinite": replayed["nonfinite"]}

    def warnings(self) -> list[str]:
        """What looks wrong with the run: layers mostly dead at the end of a run that stalled, update ratios far
        from 1e-3.

        On a few points (xor has 4) many ReLUs give 0 on every one of them while the net fits them all;
        they are named only when the last loss is above `STALLED` times the loss of a net that outputs 0
        for every sample, the best a layer of dead units can pass on being a constant.
        """
        return [WARNINGS[kind].format(**numbers) for kind, numbers in self.warning_numbers()]

    def warning_numbers(self) -> list[tuple[str, dict[str, str]]]:
        """`warnings` as (kind, numbers) pairs, a key of `WARNINGS` and the numbers its template names."""
        if not self._kept:
            return []
        found = []
        last = self.health(len(self._kept) - 1)
        stalled = not self._kept[-1]["loss"] < STALLED * self._zero_loss()  # a nan loss has stalled too
        for i, layer in enumerate(last["layers"]):
            if stalled and layer["dead_relu"] is not None and layer["dead_relu"] > MOSTLY_DEAD:
                n = self.layers[i]["nout"]
                found.append(("dead", {"layer": str(i), "dead": str(round(layer["dead_relu"] * n)), "n": str(n)}))
        for i in range(len(self.layers)):
            ratios = [r for r in (step[i] for step in self._ratios.values()) if r is not None and math.isfinite(r)]
            typical = statistics.median(ratios) if ratios else None
            if typical is not None and not RATIO_RANGE[0] <= typical <= RATIO_RANGE[1]:
                found.append(("ratio", {"layer": str(i), "ratio": f"{typical:.1e}"}))
        if last["nonfinite"] is not None:
            found.append(("nonfinite", {"where": _gate_name(last["nonfinite"])}))
        return found

    def _zero_loss(self) -> float:
        """The loss of outputs of 0 for every sample: hinge's 1, bce's log 2, cross_entropy's log C.

        The losses are means over the samples, so it is taken a chunk at a time: one circuit over a CSV file's
        hundreds of thousands of rows would hold gigabytes.
        """
        nout = self.layers[-1]["nout"]
        zero = [Value(0.0) for _ in range(nout)] if nout > 1 else Value(0.0)
        total = 0.0
        for start in range(0, len(self.y), ZERO_LOSS_CHUNK):
            chunk = self.y[start : start + ZERO_LOSS_CHUNK]
            total += self.loss_fn([zero] * len(chunk), chunk).data * len(chunk)
        return total / len(self.y)

    def to_json(self) -> dict[str, Any]:
        """The run as the page keeps it: X, y, the names of the features and classes, the architecture, the loss,
        and every recorded step with its health (and, where its parameters are kept, each sample's loss and
        gradient). `classes` is None when the Recorder was given no class names."""
        if not self._kept:
            raise ValueError("the Recorder holds no steps yet: pass it to fit(..., record=recorder) first")
        steps = [{**entry, **self._derive(k)} for k, entry in enumerate(self.steps)]
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": type(self.model).__name__,
            "config": self.model.config(),
            "layers": self.layers,
            "parameter_count": len(self._params),
            "max_numbers": self._budget,
            "loss": getattr(self.loss_fn, "__name__", type(self.loss_fn).__name__),
            "l2": self.l2,
            "X": [self._sample(i) for i in range(len(self.X))],
            "y": self.y,
            "features": self.features or [f"x{j}" for j in range(len(self.X[0]))],
            "classes": self.classes,
            "total_steps": self.total_steps,
            "health_limits": {"saturated": SATURATED, "mostly_dead": MOSTLY_DEAD, "ratio": list(RATIO_RANGE)},
            "steps": steps,
        }

    def _derive(self, kept: int) -> dict[str, Any]:
        """What the page shows of recorded step `kept` beyond the record: its health, and where its parameters are
        kept each sample's loss and gradients."""
        entry = self._kept[kept]
        health = self.health(kept)
        if "parameters" not in entry:
            return {"health": health}
        tables = self._activations(entry["parameters"], range(len(self.X)))
        losses, gradients = self._samples(tables[-1])
        return {"health": health, "sample_losses": losses, "output_gradients": gradients}

    def _activations(self, params: Numbers, samples: Sequence[int]) -> list[Table]:
        """Each layer's outputs for each of `samples` with the parameters `params`, computed by the twin's Neurons,
        or by replay of them for a replayed fit."""
        if self.engine == "replay":
            return self._replayed(params, samples)
        layers = _neurons_by_layer(self._load(params))
        tables: list[Table] = [[] for _ in layers]
        with gc_paused():  # thousands of gates, freed sample by sample; there are no cycles to collect
            for s in samples:
                values: Sequence[Value | float] = self._sample(s)
                for table, neurons in zip(tables, layers):
                    outputs = [n(values) for n in neurons]
                    table.append([v.data for v in outputs])
                    values = outputs
        return tables

    def _replayed(self, params: Numbers, samples: Sequence[int]) -> list[Table]:
        """`_activations` by replay: each layer's Neurons traced once (Neuron.__call__'s gates as a Plan) and run on
        the whole batch, layer after layer. A layer of more than `TRACED_WEIGHTS` weights has its first Neuron
        traced, and that Plan run with each neuron's own weights and bias."""
        import numpy as np

        if self._plans is None:
            self._plans = [_plan(neurons) for neurons in self._neurons]
            self._X_array = np.asarray(self.X, dtype=float)
        theta = np.asarray(params, dtype=float)
        whole = isinstance(samples, range) and len(samples) == len(self._X_array)
        values = self._X_array if whole else self._X_array[np.asarray(samples, dtype=int)]
        tables = []
        for plan, neurons, (start, end) in zip(self._plans, self._neurons, self._layer_spans):
            if len(plan.program.params) == end - start:  # the whole layer
                table = plan.forward(values, theta[start:end])
            else:
                size = len(neurons[0].w) + 1
                table = np.empty((len(values), len(neurons)))
                for j in range(len(neurons)):
                    table[:, j] = plan.forward(values, theta[start + j * size : start + (j + 1) * size])[:, 0]
            tables.append(table)
            values = table
        return tables

    def _load(self, params: Numbers) -> Module:
        """The twin of the model, with its own parameters: a step's, and gradients of 0 for a walk to add to.

        Its Neurons recompute the step, so a neuron's arithmetic is written once, in Neuron.__call__, and the
        model is never touched."""
        if self._twin is None:
            self._twin = type(self.model)(**self.model.config())
        for p, x in zip(self._twin.parameters(), params.tolist()):
            p.data = x
            p.grad = 0.0
        return self._twin

    def _samples(self, outputs: Table) -> tuple[list[float], list[list[float]]]:
        """Each sample's loss at a step's parameters, from the net's `outputs` (a row per sample), and its gradient
        with respect to those outputs."""
        sample_losses, output_gradients = [], []
        rows = outputs.tolist() if hasattr(outputs, "tolist") else outputs
        for row, label in zip(rows, self.y):
            out = [Value(o) for o in row]
            loss = self.loss_fn([out if len(out) > 1 else out[0]], [label])
            loss.backward()
            sample_losses.append(loss.data)
            output_gradients.append([o.grad for o in out])
        return sample_losses, output_gradients

    def _stuck(self, tables: list[Table]) -> list[dict[str, Any]]:
        """Each layer's units that were stuck on every sample of `tables` (dead, or saturated), by the gate's row."""
        stuck = []
        for shape, table in zip(self.layers, tables):
            activation = shape["activation"]
            columns = [] if activation == "linear" else _columns(table)
            units = [j for j, column in enumerate(columns) if all(_stuck(activation, a) for a in column)]
            share = len(units) / shape["nout"]
            row = GATES[activation].activation if activation != "linear" else None
            stuck.append(
                {
                    "dead_relu": share if row and row.dead_when else None,
                    "saturated": share if row and row.saturated_when else None,
                    "stuck": units,
                }
            )
        return stuck

    def _replay(self, entry: dict[str, Any], tables: list[Table]) -> dict[str, Any]:
        """A step's parameters run on its batch again: which units were stuck, and the first nan or inf."""
        numbers = [[entry["loss"]], entry["parameters"], entry["gradients"], *tables]
        nonfinite = None
        if not all(map(_finite, numbers)):
            nonfinite = self._first_nonfinite(entry["parameters"], entry.get("batch", range(len(self.X))))
        return {"stuck": self._stuck(tables), "nonfinite": nonfinite}

    def _first_nonfinite(self, params: Numbers, batch: Sequence[int]) -> dict[str, Any] | None:
        """The first gate of the step's circuit, rebuilt with the engine, whose output (or, failing that,
        whose gradient) is nan or inf, and the neuron it belongs to."""
        twin = self._load(params)
        outputs = [twin(self._sample(i)) for i in batch]
        loss = self.loss_fn(outputs, [self.y[i] for i in batch])
        if self.l2:
            loss = loss + l2_penalty(twin.parameters(), self.l2)
        order = topological_order(loss)
        owner = {v: call.key for call in neuron_calls(order) for v in call.gates}
        for v in order:
            if v.children and not math.isfinite(v.data):
                return {"op": v.op, "neuron": owner.get(v), "pass": "forward"}
        for step in loss.backward_steps():
            if not all(math.isfinite(i.contribution) for i in step.inputs):
                return {"op": step.op, "neuron": owner.get(step.output), "pass": "backward"}
        return None


def _plan(neurons: list[Neuron]) -> Any:
    """A layer's Neurons traced on one sample as a replay Plan; a wide layer's first Neuron alone (`TRACED_WEIGHTS`),
    all of whose neurons compute the same gates on their own weights."""
    from gategrad.replay import Plan, trace

    nin = len(neurons[0].w)
    traced = neurons if len(neurons) * nin <= TRACED_WEIGHTS else neurons[:1]
    params = [p for n in traced for p in n.parameters()]
    return Plan(trace(lambda x: [n(x) for n in traced], params, [0.0] * nin))


def _neurons_by_layer(model: Module) -> list[list[Neuron]]:
    """Each layer's neurons (a lone Layer or Neuron is one layer)."""
    if isinstance(model, MLP):
        return [layer.neurons for layer in model.layers]
    if isinstance(model, Layer):
        return [model.neurons]
    return [[model]]  # type: ignore[list-item]


def _stuck(activation: str, a: float) -> bool:
    """Whether a unit's output `a` passes (almost) no gradient back, by its gate's row (a dead ReLU's 0, a saturated
    tanh's ±0.99 and beyond)."""
    if activation == "linear":
        return False
    return GATES[activation].is_dead(a) or GATES[activation].is_saturated(a, SATURATED)


def _columns(table: Table) -> list[Sequence[float]]:
    """A table's columns, a unit's outputs each; a numpy table's as their distinct values (a dead unit's
    thousands of zeros are one 0, for the row's rule to read once)."""
    if not hasattr(table, "T"):
        return list(zip(*table))
    import numpy as np

    return [np.unique(column).tolist() for column in table.T]


def _finite(numbers: Any) -> bool:
    """Whether every number is finite: in a numpy vector or table, an array of doubles, or rows of floats."""
    if hasattr(numbers, "dtype"):
        import numpy as np

        return bool(np.isfinite(numbers).all())
    return all(_finite(x) if isinstance(x, list) else math.isfinite(x) for x in numbers)


def _ratio(before: Numbers, after: Numbers) -> float | None:
    """|after - before| / |before|, or None when the parameters were all 0 (in floats: inf, never an error)."""
    if hasattr(before, "dtype"):  # a replayed fit's vectors: the same norms, summed by numpy
        import numpy as np

        with np.errstate(all="ignore"):  # an overflow is an answer here too: inf
            size = float(np.linalg.norm(before))
            return None if size == 0.0 else float(np.linalg.norm(after - before)) / size
    norm = math.sqrt(sum(b * b for b in before))
    if norm == 0.0:
        return None
    return math.sqrt(sum((a - b) * (a - b) for a, b in zip(after, before))) / norm


def kept_steps(parameters: int, max_steps: int = MAX_STEPS, max_numbers: int | None = None) -> int:
    """At how many steps a run of a net with `parameters` keeps them and their gradients: `max_steps`, fewer if
    they would pass `max_numbers` (MAX_NUMBERS by default), none if even one step would."""
    budget = MAX_NUMBERS if max_numbers is None else max_numbers
    return min(max_steps, budget // (2 * max(parameters, 1)))


def _evenly(total: int, most: int) -> set[int]:
    """`most` step numbers spread evenly over 0..total-1, first and last included (all of them if fewer; the first
    alone for one)."""
    if total <= most:
        return set(range(total))
    if most < 2:
        return set(range(most))
    return {round(i * (total - 1) / (most - 1)) for i in range(most)}


def _gate_name(found: dict[str, Any]) -> str:
    where = f" in neuron {found['neuron']}" if found["neuron"] else " of the loss"
    return f"{found['op']} gate{where} ({found['pass']} pass)"
