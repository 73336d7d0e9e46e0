"""A model and its loss, traced once and replayed over batches of a dataset: `nn.fit(..., engine="replay")`.

The model is traced on one sample (its parameters shared, its inputs per sample), the loss
once per distinct label on that sample's outputs. A batch's loss is the mean of its samples'
losses, as for every loss of `gategrad.nn`; a label enters the loss as constants (the -y of
micrograd's hinge loss) or as its shape (the logit cross-entropy picks), so labels whose loss
circuits differ only in constants share one program, those constants becoming per-sample inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from typing import Any, cast

import numpy as np

from gategrad.engine import Value, fmt
from gategrad.replay.kernels import KERNELS
from gategrad.replay.plan import Plan
from gategrad.replay.trace import SCALAR, Instruction, Program, ReplayError, trace


class Replay:
    """`model` and `loss_fn` on the samples `X` (samples × inputs) and labels `y`, run by replay.

    Built once: it traces the model on the first sample and again on the last, and refuses
    (`ReplayError`) when the two circuits differ, since replay runs one circuit for every
    sample. It checks on those two samples that `loss_fn` of a batch is the mean of its
    samples' losses, against the scalar engine. `backward(batch)` then gives what
    `loss.backward()` on the batch would: the loss, and every parameter's gradient in `.grad`.
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
        self.X = np.asarray(X, dtype=float)
        if self.X.ndim != 2 or not len(self.X):
            raise ValueError(f"X must be a non-empty table of samples × inputs, got shape {self.X.shape}")
        if len(y) != len(self.X):
            raise ValueError(f"X has {len(self.X)} samples but y has {len(y)} labels")
        self.labels = list(y)
        self.params: list[Value] = list(model.parameters())  # type: ignore[attr-defined]
        self.loss_fn = loss_fn
        first, last = 0, len(self.X) - 1
        self.program = trace(model, self.params, self.X[first])
        _refuse_if_different(self.program, trace(model, self.params, self.X[last]), "model", first, last)
        self.plan = Plan(self.program, fuse)

        # The loss, traced once per label on the outputs of the first sample, and checked on the last one's.
        outputs = [self.program.circuit(self.X[i]) for i in (first, last)]
        self._keys = [_key(label) for label in self.labels]
        self.loss_programs: dict[Hashable, Program] = {}
        for key, label in dict(zip(self._keys, self.labels)).items():
            traced = [self._trace_loss(label, out) for out in outputs]
            _refuse_if_different(traced[0], traced[1], f"loss for the label {label!r}", first, last)
            self.loss_programs[key] = traced[0]

        # Labels whose loss programs differ only in constants share one program and a table of those constants.
        by_shape: dict[tuple[object, ...], list[Hashable]] = {}
        for key, program in self.loss_programs.items():
            by_shape.setdefault(_shape(program), []).append(key)
        self._losses = []
        group_of, row_of = {}, {}
        for g, keys in enumerate(by_shape.values()):
            program, table = _merge([self.loss_programs[k] for k in keys])
            self._losses.append((Plan(program, fuse, input_grads=True), table))
            group_of.update(dict.fromkeys(keys, g))
            row_of.update({k: i for i, k in enumerate(keys)})
        self._group = np.array([group_of[k] for k in self._keys])
        self._row = np.array([row_of[k] for k in self._keys])
        self._check_mean(sorted({first, last}), outputs)

    def _trace_loss(self, label: object, outputs: Value | list[Value]) -> Program:
        """The loss of one sample with `label`, traced on leaves holding the model's `outputs`."""
        single = self.program.single
        values: list[Value] = [outputs] if isinstance(outputs, Value) else outputs
        program = trace(lambda ins: self.loss_fn([ins[0] if single else ins], [label]), [], [v.data for v in values])
        if not program.single:
            raise ReplayError("replay needs a loss_fn that returns one Value")
        return program

    def _check_mean(self, samples: list[int], outputs: list[Value | list[Value]]) -> None:
        """Refuse a loss_fn whose batch loss is not the mean of its samples' losses (a sum, say)."""
        saved = [p.grad for p in self.params]
        for p in self.params:
            p.grad = 0.0
        scalar = self.loss_fn([outputs[0], outputs[-1]][: len(samples)], [self.labels[i] for i in samples])
        scalar.backward()
        expected = np.array([p.grad for p in self.params])
        for p, g in zip(self.params, saved):
            p.grad = g
        loss, _, grads, _ = self._run(np.array(samples))
        scale = float(np.nanmax(np.abs(expected), initial=0.0))
        if not (
            np.isclose(loss, scalar.data, rtol=1e-9, atol=0.0, equal_nan=True)
            and np.allclose(grads, expected, rtol=1e-9, atol=1e-9 * scale, equal_nan=True)
        ):
            raise ReplayError(
                f"replay takes a batch's loss to be the mean of its samples' losses, as gategrad.nn's losses are, "
                f"but on samples {samples} loss_fn gives {fmt(scalar.data)} (or other gradients) and the mean "
                f"{fmt(loss)}. {SCALAR}"
            )

    def _run(self, batch: np.ndarray | None) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
        """The batch's loss, the model's outputs (samples × outputs), each parameter's gradient and value."""
        theta = np.fromiter((p.data for p in self.params), float, len(self.params))
        X = self.X if batch is None else self.X[batch]
        group = self._group if batch is None else self._group[batch]
        row = self._row if batch is None else self._row[batch]
        n = len(X)
        outputs = self.plan.forward(X, theta)
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
        grads, _ = self.plan.backward(grad_outputs)
        return float(np.cumsum(losses)[-1]) / n, outputs, grads, theta  # summed left to right, as Value.sum

    def backward(
        self, batch: Sequence[int] | np.ndarray | None = None, l2: float = 0.0, penalised: Sequence[bool] | None = None
    ) -> tuple[float, np.ndarray]:
        """Run the samples `batch` (indices into X; all when None) forward and backward.

        Adds to each parameter's `.grad` its gradient of the batch's loss plus `l2` times the
        L2 penalty (as `nn.fit` adds it), and returns that loss and the model's outputs (one
        score per sample, or samples × outputs). `penalised`, a flag per parameter, limits the
        penalty to the flagged ones (`l2_penalty(biases=False)` leaves the biases out).
        """
        loss, outputs, grads, theta = self._run(None if batch is None else np.asarray(batch, dtype=int))
        if l2:
            which = slice(None) if penalised is None else np.asarray(penalised, dtype=bool)
            squared = theta[which]
            with np.errstate(all="ignore"):  # an overflow is an answer here too: fit reports it
                loss += float(np.sum(np.cumsum(squared * squared)[-1:])) * l2  # the squares summed in order, times l2
                grads[which] += 2.0 * (squared * l2)  # each p * p gate gives p its p × l2 twice
        for p, g in zip(self.params, grads.tolist()):
            p.grad += g
        return loss, outputs[:, 0] if self.program.single else outputs

    def evaluate(self) -> tuple[float, np.ndarray]:
        """The loss over all of X and the model's outputs, leaving every `.grad` as it was."""
        loss, outputs, _, _ = self._run(None)
        return loss, outputs[:, 0] if self.program.single else outputs

    def forward(self, X: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """The model's outputs for the samples `X`: one score per sample, or samples × outputs."""
        outputs = self.plan.forward(X)
        return outputs[:, 0] if self.program.single else outputs

    def circuit(self, i: int) -> Value:
        """Sample i's loss rebuilt from the programs as Values: walk it gate by gate with backward_steps()."""
        outputs = self.program.circuit(self.X[i])
        loss = self.loss_programs[self._keys[i]].circuit([outputs] if isinstance(outputs, Value) else outputs)
        return loss  # type: ignore[return-value]


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
