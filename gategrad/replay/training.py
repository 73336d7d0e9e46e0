"""A model and its loss, traced once and replayed over batches of a dataset: `nn.fit(..., engine="replay")`.

The model is traced on one sample (its parameters shared, its inputs per sample), the loss
once per distinct label on that sample's outputs. A batch's loss is the mean of its samples'
losses, as for every loss of `gategrad.nn`; a label enters the loss as constants (the -y of
micrograd's hinge loss) or as its shape (the logit cross-entropy picks), so labels whose loss
circuits differ only in constants share one program, those constants becoming per-sample inputs.
"""

from __future__ import annotations

import itertools
import math
import types
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from gategrad.engine import Value, fmt, gc_paused, topological_order
from gategrad.replay.kernels import KERNELS
from gategrad.replay.plan import Plan
from gategrad.replay.trace import SCALAR, Instruction, Program, ReplayError, trace

# A plan's tables (every value and gradient of a batch) under this many bytes stay with its kept trace between fits:
# making them afresh, their memory new to the process, cost a fit on 10,000 points at width 16 about 2.5 ms
# (measured), a tenth of its 10 steps. A full batch of a large file's is let go.
KEPT_TABLES = 16 * 2**20
FEW_LABELS = 16  # up to this many distinct labels that are numbers are found by comparison, not looked up one by one


class Replay:
    """`model` and `loss_fn` on the samples `X` (samples × inputs) and labels `y`, run by replay.

    The first time it meets a model, it traces it on the first sample and again on the last,
    and refuses (`ReplayError`) when the two circuits differ, since replay runs one circuit for
    every sample. It checks on those two samples that `loss_fn` of a batch is the mean of its
    samples' losses, against the scalar engine. `backward(batch)` then gives what
    `loss.backward()` on the batch would: the loss, and every parameter's gradient in `.grad`.

    What it traces is kept for the model (by its structure: its modules, their settings and
    their parameters) and for the loss and labels, so a later Replay of the same model, as the
    next `fit` makes, reuses it; a model whose structure changed is traced again.
    """

    def __init__(
        self,
        model: Callable[[list[Value]], Value | list[Value]],
        loss_fn: Callable[[list[Any], list[Any]], Value],  # outputs, and labels, of a batch
        X: np.ndarray | Sequence[Sequence[float]],
        y: Sequence[object],
        *,
        fuse: bool = True,
    ) -> None:
        self.X = _table(X)
        if self.X.ndim != 2 or not len(self.X):
            raise ValueError(f"X must be a non-empty table of samples × inputs, got shape {self.X.shape}")
        if len(y) != len(self.X):
            raise ValueError(f"X has {len(self.X)} samples but y has {len(y)} labels")
        self.labels = list(y)
        self.params: list[Value] = list(model.parameters())  # type: ignore[attr-defined]
        self.loss_fn = loss_fn
        first, last = 0, len(self.X) - 1

        structure = _structure(model, self.X.shape[1], fuse)
        cached = _TRACED.get(model) if structure is not None else None
        if cached is not None and cached.structure == structure:
            traced = cached
        else:
            # A wide net's trace makes hundreds of thousands of objects that live on: pausing the cyclic collector
            # spares it rescanning them again and again, about 40% of the tracing time (measured).
            with gc_paused():
                program = trace(model, self.params, self.X[first])
                _refuse_if_different(program, trace(model, self.params, self.X[last]), "model", first, last)
                traced = _Traced(structure, program, Plan(program, fuse))
            if structure is not None:
                _TRACED[model] = traced
        self.program, self.plan = traced.program, traced.plan

        # A number is its own key: 10,000 labels are then read once, not one by one through _key.
        numbers = set(map(type, self.labels)) <= {int, float}
        self._keys: list[Hashable] = self.labels if numbers else [_key(label) for label in self.labels]
        self.label_array = np.array(self.labels, dtype=float) if numbers else None  # for accuracy, counted by numpy
        loss_key = (loss_fn, tuple(dict.fromkeys(self._keys)))
        losses = traced.losses.get(loss_key) or self._trace_losses(first, last, fuse)
        if structure is not None:
            traced.losses = {loss_key: losses}
        self._use(losses)

    def _trace_losses(self, first: int, last: int, fuse: bool) -> _Losses:
        """The loss, traced once per label on the outputs of the first sample, and checked on the last one's."""
        outputs = self.plan.forward(self.X[[first, last]], self._theta())
        programs: dict[Hashable, Program] = {}
        for key, label in dict(zip(self._keys, self.labels)).items():
            traced = [self._trace_loss(label, row) for row in outputs.tolist()]
            _refuse_if_different(traced[0], traced[1], f"loss for the label {label!r}", first, last)
            programs[key] = traced[0]

        # Labels whose loss programs differ only in constants share one program and a table of those constants.
        by_shape: dict[tuple[object, ...], list[Hashable]] = {}
        for key, program in programs.items():
            by_shape.setdefault(_shape(program), []).append(key)
        losses = _Losses(programs, [], {}, {})
        for g, keys in enumerate(by_shape.values()):
            program, table = _merge([programs[k] for k in keys])
            losses.plans.append((Plan(program, fuse, input_grads=True), table))
            losses.group_of.update(dict.fromkeys(keys, g))
            losses.row_of.update({k: i for i, k in enumerate(keys)})
        self._use(losses)
        self._check_mean(sorted({first, last}), outputs)
        return losses

    def _use(self, losses: _Losses) -> None:
        """Take `losses` for this Replay's labels: each sample's plan and its row in that plan's table.

        A few distinct labels that are numbers are found with one comparison each, written for speed: 10,000 lookups
        one by one cost a fit about 1 ms (measured). Not a nan (no key of itself), nor an integer a float cannot
        hold (2**53 + 1 would meet 2**53)."""
        self.loss_programs, self._losses = losses.programs, losses.plans
        distinct = cast("list[float]", list(losses.group_of))  # numbers, when there is a label_array
        exact = self.label_array is not None and all(k == k and float(k) == k for k in distinct)
        if exact and len(distinct) <= FEW_LABELS:
            n = len(self._keys)
            self._group, self._row = np.empty(n, dtype=int), np.empty(n, dtype=int)
            for k in distinct:
                alike = self.label_array == k
                self._group[alike], self._row[alike] = losses.group_of[k], losses.row_of[k]
        else:
            self._group = np.fromiter(map(losses.group_of.__getitem__, self._keys), int, len(self._keys))
            self._row = np.fromiter(map(losses.row_of.__getitem__, self._keys), int, len(self._keys))

    def _trace_loss(self, label: object, outputs: list[float]) -> Program:
        """The loss of one sample with `label`, traced on leaves holding the model's `outputs`."""
        single = self.program.single
        program = trace(lambda ins: self.loss_fn([ins[0] if single else ins], [label]), [], outputs)
        if not program.single:
            raise ReplayError("replay needs a loss_fn that returns one Value")
        return program

    def _check_mean(self, samples: list[int], outputs: np.ndarray) -> None:
        """Refuse a loss_fn whose batch loss is not the mean of its samples' losses (a sum, say), or that
        reads the model's parameters itself: replay takes each sample's loss from its outputs alone."""
        rows = outputs.tolist()[: len(samples)]
        leaves = [[Value(o) for o in row] for row in rows]
        scalar = self.loss_fn(
            [row[0] if self.program.single else row for row in leaves], [self.labels[i] for i in samples]
        )
        reached = {id(v) for v in topological_order(scalar)}
        if any(id(p) in reached for p in self.params):
            raise ReplayError(
                "replay takes each sample's loss from the model's outputs, but loss_fn reads the model's parameters "
                f"too (a penalty inside it, say); pass the penalty to fit as l2= instead. {SCALAR}"
            )
        scalar.backward()
        expected = np.array([[o.grad for o in row] for row in leaves])
        loss, grad_outputs = self._loss(outputs[: len(samples)], np.array(samples))
        scale = float(np.nanmax(np.abs(expected), initial=0.0))
        close = np.isclose(grad_outputs, expected, rtol=1e-9, atol=1e-9 * scale, equal_nan=True)
        # A nan gradient on either side is left for fit to report as divergence, as the scalar engine does.
        close |= np.isnan(grad_outputs) | np.isnan(expected)
        if not (np.isclose(loss, scalar.data, rtol=1e-9, atol=0.0, equal_nan=True) and close.all()):
            raise ReplayError(
                f"replay takes a batch's loss to be the mean of its samples' losses, as gategrad.nn's losses are, "
                f"but on samples {samples} loss_fn gives {fmt(scalar.data)} (or other gradients) and the mean "
                f"{fmt(loss)}. {SCALAR}"
            )

    def _theta(self) -> np.ndarray:
        """The parameters' values, read from the Values."""
        return np.fromiter((p.data for p in self.params), float, len(self.params))

    def _loss(self, outputs: np.ndarray, batch: np.ndarray | None) -> tuple[float, np.ndarray]:
        """The mean loss of samples `batch` (all when None) whose model outputs are `outputs`, and its gradient."""
        group = self._group if batch is None else self._group[batch]
        row = self._row if batch is None else self._row[batch]
        n = len(outputs)
        losses, grad_outputs = np.empty(n), np.empty_like(outputs)
        seed = np.full((n, 1), 1.0 / n)  # d mean / d each sample's loss, as the scalar div gate's local gradient
        for g, (plan, table) in enumerate(self._losses):
            rows = slice(None) if len(self._losses) == 1 else np.flatnonzero(group == g)
            ins = outputs[rows]
            if not len(ins):
                continue
            if table.shape[1]:
                ins = np.hstack([ins, table[row[rows]]])
            losses[rows] = plan.forward(ins)[:, 0]
            _, grad_ins = plan.backward(seed[rows])
            grad_outputs[rows] = grad_ins[:, : outputs.shape[1]]  # type: ignore[index]
        return float(np.add.accumulate(losses)[-1]) / n, grad_outputs  # summed left to right, as Value.sum

    def gradient(
        self, theta: np.ndarray, grad: np.ndarray, batch: Sequence[int] | np.ndarray | None = None
    ) -> tuple[float, np.ndarray]:
        """The loss of the samples `batch` (indices into X; all when None) with the parameters `theta`, and
        the model's outputs; each parameter's gradient of that loss is written into `grad`.

        `theta` and `grad` are vectors of a number per parameter: how a replayed fit holds them.
        """
        rows = None if batch is None else np.asarray(batch, dtype=int)
        outputs = self.plan.forward(self.X if rows is None else self.X[rows], theta)
        loss, grad_outputs = self._loss(outputs, rows)
        self.plan.backward(grad_outputs, grad)
        return loss, outputs[:, 0] if self.program.single else outputs

    def backward(
        self, batch: Sequence[int] | np.ndarray | None = None, l2: float = 0.0, penalised: Sequence[bool] | None = None
    ) -> tuple[float, np.ndarray]:
        """Run the samples `batch` (indices into X; all when None) forward and backward.

        Adds to each parameter's `.grad` its gradient of the batch's loss plus `l2` times the
        L2 penalty (as `nn.fit` adds it), and returns that loss and the model's outputs (one
        score per sample, or samples × outputs). `penalised`, a flag per parameter, limits the
        penalty to the flagged ones (`l2_penalty(biases=False)` leaves the biases out).
        """
        theta = self._theta()
        grads = np.empty_like(theta)
        loss, outputs = self.gradient(theta, grads, batch)
        if l2:
            which = slice(None) if penalised is None else np.asarray(penalised, dtype=bool)
            squared = theta[which]
            with np.errstate(all="ignore"):  # an overflow is an answer here too: fit reports it
                loss += float(np.sum(np.cumsum(squared * squared)[-1:])) * l2  # the squares summed in order, times l2
                grads[which] += 2.0 * (squared * l2)  # each p * p gate gives p its p × l2 twice
        for p, g in zip(self.params, grads.tolist()):
            p.grad += g
        return loss, outputs

    def evaluate(self) -> tuple[float, np.ndarray]:
        """The loss over all of X and the model's outputs, leaving every `.grad` as it was."""
        outputs = self.plan.forward(self.X, self._theta())
        loss, _ = self._loss(outputs, None)
        return loss, outputs[:, 0] if self.program.single else outputs

    def forward(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """The model's outputs for the samples `X`: one score per sample, or samples × outputs."""
        outputs = self.plan.forward(X)
        return outputs[:, 0] if self.program.single else outputs

    def release(self) -> None:
        """Let go of the tables the plans keep between batches, once training is done: those over `KEPT_TABLES`
        bytes, so a model's kept trace holds little while the next fit of a small batch finds its tables made."""
        for plan in [self.plan, *(plan for plan, _ in self._losses)]:
            plan.release(KEPT_TABLES)

    def circuit(self, i: int) -> Value:
        """Sample i's loss rebuilt from the programs as Values: walk it gate by gate with backward_steps()."""
        outputs = self.program.circuit(self.X[i])
        loss = self.loss_programs[self._keys[i]].circuit([outputs] if isinstance(outputs, Value) else outputs)
        return loss  # type: ignore[return-value]


@dataclass
class _Losses:
    """A loss traced for a model's labels: a program per label, and the plans of the programs merged."""

    programs: dict[Hashable, Program]
    plans: list[tuple[Plan, np.ndarray]]  # each with its table of the constants its labels differ in
    group_of: dict[Hashable, int]  # each label's plan
    row_of: dict[Hashable, int]  # and its row in that plan's table


@dataclass(eq=False)
class _Traced:
    """What tracing a model gave, kept for it: its structure, its program and plan, and its losses traced so far."""

    structure: tuple[object, ...] | None
    program: Program
    plan: Plan
    losses: dict[tuple[object, ...], _Losses] = field(default_factory=dict)


# Each model's last traced program, while the model lives.
_TRACED: weakref.WeakKeyDictionary[object, _Traced] = weakref.WeakKeyDictionary()


def _table(X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """X as a float array. Written for speed: a list of equal lists, as gategrad.data gives, is read with np.fromiter,
    about 3x faster than np.asarray, which a fit on 10,000 samples would pay each time (measured)."""
    if isinstance(X, list) and set(map(type, X)) == {list} and len(set(map(len, X))) == 1:
        try:
            return np.fromiter(itertools.chain.from_iterable(X), float, len(X) * len(X[0])).reshape(len(X), -1)
        except (TypeError, ValueError):
            pass  # not all numbers: np.asarray says which
    return np.asarray(X, dtype=float)


class _Unknown(Exception):
    """A model holds something whose effect on its circuit replay cannot tell."""


def _structure(model: object, n_inputs: int, fuse: bool) -> tuple[object, ...] | None:
    """What a model's circuit is built from, as a key: its objects' types and settings (numbers, strings,
    functions), its parameters by identity, walked through its attributes. None when it holds anything else,
    or is not a module of objects: such a model is traced at every Replay."""
    if not hasattr(model, "__dict__") or isinstance(model, types.FunctionType):
        return None
    try:
        weakref.ref(model)
        hash(model)
        return (n_inputs, fuse, _walk(model, set()))
    except (_Unknown, TypeError):  # TypeError: a model that cannot be a key of the weak dictionary
        return None


def _walk(obj: object, seen: set[int]) -> object:
    if id(obj) in seen:  # an object met before (a module holding its parent, say): its place in the walk is enough
        return ("seen", id(obj))
    if isinstance(obj, Value):
        return id(obj)  # the cached program holds this Value, so no other can take its id meanwhile
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        if all(type(v) is Value for v in obj):
            return (type(obj), *map(id, obj))
        seen.add(id(obj))
        return (type(obj), *(_walk(v, seen) for v in obj))
    if isinstance(obj, dict):
        seen.add(id(obj))
        return (dict, *((k, _walk(v, seen)) for k, v in obj.items()))
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return obj  # compared by identity
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        seen.add(id(obj))
        return (type(obj), _walk(vars(obj), seen))
    raise _Unknown(type(obj).__name__)


def _refuse_if_different(a: Program, b: Program, what: str, first: int, last: int) -> None:
    difference = a.same_as(b)
    if difference is not None:
        raise ReplayError(
            f"the {what} builds a different circuit for sample {first} than for sample {last} ({difference}): "
            f"its structure depends on the data (an `if` on a Value's data, or a number read from one), "
            f"and replay runs one circuit for every sample. {SCALAR}"
        )


def _key(label: object) -> Hashable:
    """A label as a dict key: a list of targets as a tuple."""
    key = tuple(label) if isinstance(label, (list, tuple)) else label
    try:
        hash(key)
    except TypeError:
        raise ReplayError(f"replay needs labels that are numbers or lists of numbers, got {label!r}") from None
    return key


def _shape(program: Program) -> tuple[object, ...]:
    """A program without its constants' values: labels with the same shape share one program."""
    gates = tuple((ins.op, ins.inputs, ins.constant is None) for ins in program.instructions)
    return program.n_inputs, len(program.constants), gates, program.outputs


def _same(values: Sequence[float | None]) -> bool:
    return all(v == values[0] or (v is not None and math.isnan(v) and math.isnan(values[0])) for v in values)  # type: ignore[arg-type]


def _merge(programs: list[Program]) -> tuple[Program, np.ndarray]:
    """One program for programs of one shape; the constants that differ become inputs after theirs.

    Returns it and the table of those constants, a row per program: the inputs to append.
    """
    first = programs[0]
    d = first.n_inputs
    leaves = [j for j in range(len(first.constants)) if not _same([p.constants[j] for p in programs])]
    gates = [
        i
        for i, ins in enumerate(first.instructions)
        if ins.constant is not None and not _same([p.instructions[i].constant for p in programs])
    ]
    kept = [j for j in range(len(first.constants)) if j not in leaves]
    added = len(leaves) + len(gates)
    slot = {s: s for s in range(d)}
    slot.update({d + j: d + n for n, j in enumerate(leaves)})
    slot.update({d + j: d + added + n for n, j in enumerate(kept)})
    slot.update({ins.output: d + added + len(kept) + i for i, ins in enumerate(first.instructions)})
    instructions = []
    for i, ins in enumerate(first.instructions):
        inputs = tuple(slot[s] for s in ins.inputs)
        if i in gates:
            op, place = KERNELS[ins.op].constant_as_input  # type: ignore[misc]
            column = d + len(leaves) + gates.index(i)
            instructions.append(
                Instruction(op, (*inputs[:place], column, *inputs[place:]), slot[ins.output], label=ins.label)
            )
        else:
            instructions.append(Instruction(ins.op, inputs, slot[ins.output], ins.constant, ins.label))
    rows = [
        [p.constants[j] for j in leaves] + [cast(float, p.instructions[i].constant) for i in gates] for p in programs
    ]
    table = np.array(rows, dtype=float).reshape(len(programs), added)
    merged = Program(
        params=first.params,
        n_inputs=d + added,
        constants=tuple(first.constants[j] for j in kept),
        instructions=tuple(instructions),
        outputs=tuple(slot[s] for s in first.outputs),
        single=first.single,
    )
    return merged, table
