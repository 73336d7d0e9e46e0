"""Running a program over a batch with numpy: every gate at once for all samples.

A `Plan` keeps the values in a table with a row per slot and a column per sample, and the
parameters in one vector shared by all. Unfused, each gate of the program is one numpy call,
in the program's order: replay gate by gate. Fused, each layer's neurons (an add gate over a
bias and weight × input products) become one matrix product `W @ x + b`, and the other gates
of one kind at one depth of the circuit run as one numpy call. Backward runs the same units
in reverse, each adding local gradient × upstream gradient to its inputs, as `Value.backward`.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from gategrad.engine import fmt
from gategrad.replay.kernels import KERNELS
from gategrad.replay.trace import Instruction, Program, ReplayError

Index = slice | np.ndarray


@dataclass(frozen=True)
class _Neuron:
    """An add gate found to be b + sum of w_i * x_i, with parameters b (optional) and w_i."""

    add: Instruction
    bias: int | None
    weights: tuple[int, ...]
    x: tuple[int, ...]
    products: tuple[int, ...]  # the slots of its mul gates


@dataclass(frozen=True)
class _Layer:
    """Neurons reading the same inputs: together, one matrix product."""

    neurons: tuple[_Neuron, ...]

    @property
    def outputs(self) -> list[int]:
        return [n.add.output for n in self.neurons]


Unit = Instruction | _Layer
Block = list[Instruction] | _Layer  # what one numpy call (or one matrix product) runs


def _outputs(unit: Unit) -> list[int]:
    return unit.outputs if isinstance(unit, _Layer) else [unit.output]


def _reads(unit: Unit) -> tuple[int, ...]:
    return unit.neurons[0].x if isinstance(unit, _Layer) else unit.inputs


def _index(positions: list[int]) -> Index:
    """A slice when the positions run on in equal steps (numpy then works on a view), else an index array."""
    first = positions[0]
    step = positions[1] - first if len(positions) > 1 else 1
    if step > 0 and positions == list(range(first, first + step * len(positions), step)):
        return slice(first, first + step * (len(positions) - 1) + 1, step)
    return np.array(positions)


def _strided(weights: np.ndarray, p: int) -> tuple[int, int] | None:
    """(first, stride) when weight [i, j] is parameter first + stride*i + j, all within the p parameters."""
    k, n = weights.shape
    first = int(weights[0, 0])
    stride = int(weights[1, 0]) - first if k > 1 else n
    regular = stride >= n and first + stride * k <= p
    return (
        (first, stride)
        if regular and np.array_equal(weights, first + stride * np.arange(k)[:, None] + np.arange(n))
        else None
    )


def _rows(index: Index) -> list[int]:
    """The positions an index picks."""
    if isinstance(index, slice):
        return list(range(index.start, index.stop, index.step or 1))
    return [int(i) for i in index]


def _has_repeats(index: Index) -> bool:
    return isinstance(index, np.ndarray) and len(np.unique(index)) < len(index)


@dataclass
class _Operand:
    """Where one input of a block of gates comes from: parameters (one per gate) or rows (one per gate and sample)."""

    params: bool
    index: Index
    repeats: bool  # a slot read by several gates of the block: its gradient contributions are added one by one
    grad: bool  # whether its gradient is needed
    assign: bool = False  # the first gradient its rows get in backward: written, not added to a zero

    def read(self, rows: np.ndarray, theta: np.ndarray) -> np.ndarray:
        return theta[self.index][:, None] if self.params else rows[self.index]

    def add_grad(self, grads: np.ndarray, theta_grad: np.ndarray, d: np.ndarray | float, upstream: np.ndarray) -> None:
        if self.assign:  # -0.0 + x is x: writing the first contribution is adding it to a fresh gradient
            if isinstance(self.index, slice):
                np.multiply(d, upstream, out=grads[self.index])
            else:
                grads[self.index] = d * upstream
            return
        contribution = d * upstream
        target = grads
        if self.params:
            target, contribution = theta_grad, contribution.sum(axis=1)  # a parameter's gradient sums the batch
        if self.repeats:
            np.add.at(target, self.index, contribution)  # type: ignore[arg-type]
        else:
            target[self.index] += contribution


@dataclass
class _Gates:
    """One numpy call: k gates of one op, a row each, every sample a column."""

    gates: list[Instruction]
    inputs: list[_Operand]  # one per input position
    out: Index
    constant: np.ndarray | None  # each gate's constant, as a column

    def forward(self, rows: np.ndarray, theta: np.ndarray) -> None:
        ins = [operand.read(rows, theta) for operand in self.inputs]
        if isinstance(self.out, slice):  # rows of the table itself, a view to write into
            KERNELS[self.gates[0].op].forward(ins, self.constant, rows[self.out])
        else:
            rows[self.out] = KERNELS[self.gates[0].op].forward(ins, self.constant, None)

    def backward(self, rows: np.ndarray, grads: np.ndarray, theta: np.ndarray, theta_grad: np.ndarray) -> None:
        if not any(operand.grad for operand in self.inputs):
            return
        ins = [operand.read(rows, theta) for operand in self.inputs]
        upstream = grads[self.out]
        local = KERNELS[self.gates[0].op].local_grads(ins, rows[self.out], self.constant)
        for operand, d in zip(self.inputs, local):
            if operand.grad:
                operand.add_grad(grads, theta_grad, d, upstream)


@dataclass
class _MatMul:
    """A layer: rows `out` = W @ rows `x` + b, W and b holding parameter indices (k neurons of n weights)."""

    layer: _Layer
    weights: np.ndarray  # (k, n)
    bias: np.ndarray | None  # (k,)
    x: Index
    out: Index
    x_grad: bool
    x_assign: bool = False  # as _Operand.assign
    # nn's neurons keep their weights, then their bias, one neuron after another: W is then a view of the
    # parameter vector, rows of `stride` numbers from `first` cut to n, and reading it or adding to its
    # gradient copies nothing. None: W is gathered from its indices.
    strided: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self._bias = _index(self.bias.tolist()) if self.bias is not None else None

    def _w(self, theta: np.ndarray) -> np.ndarray:
        """W from a parameter vector: a view when strided, else a gathered copy."""
        if self.strided is None:
            w: np.ndarray = theta[self.weights]
            return w
        first, stride = self.strided
        k, n = self.weights.shape
        return theta[first : first + stride * k].reshape(k, stride)[:, :n]

    def forward(self, rows: np.ndarray, theta: np.ndarray) -> None:
        out = rows[self.out]
        h = np.matmul(self._w(theta), rows[self.x], out=out if isinstance(self.out, slice) else None)
        if self._bias is not None:
            h += theta[self._bias][:, None]
        if not isinstance(self.out, slice):
            rows[self.out] = h

    def backward(self, rows: np.ndarray, grads: np.ndarray, theta: np.ndarray, theta_grad: np.ndarray) -> None:
        upstream = grads[self.out]
        if self.strided is None:
            theta_grad[self.weights] += upstream @ rows[self.x].T  # each weight's products, summed over the batch
        else:
            gradient = self._w(theta_grad)
            gradient += upstream @ rows[self.x].T  # into the strided view itself: no copy of W
        if self._bias is not None:
            theta_grad[self._bias] += upstream.sum(axis=1)
        if self.x_grad and self.x_assign and isinstance(self.x, slice):
            np.matmul(self._w(theta).T, upstream, out=grads[self.x])
        elif self.x_grad and self.x_assign:
            grads[self.x] = self._w(theta).T @ upstream
        elif self.x_grad:
            grads[self.x] += self._w(theta).T @ upstream


class Plan:
    """A Program made ready to run on a batch: `forward(X)`, then `backward(grad_outputs)`.

    `fuse=False` replays the program one gate at a time, in its order; `fuse=True` makes each
    layer a matrix product and runs the other gates of one kind at one depth together.
    `input_grads` asks backward for the inputs' gradients too.
    """

    def __init__(self, program: Program, fuse: bool = True, input_grads: bool = False) -> None:
        self.program = program
        self.input_grads = input_grads
        p, d, c = len(program.params), program.n_inputs, len(program.constants)
        if any(s < p for s in program.outputs):
            raise ReplayError("replay needs outputs computed from each sample, but an output is a parameter itself")
        self._grad = [True] * p + [input_grads] * d + [False] * c  # whether a slot's gradient is needed
        needed = self._grad.__getitem__
        for ins in program.instructions:  # a map, not a generator: a wide net has 786,000 of them
            self._grad.append(any(map(needed, ins.inputs)))

        if fuse:
            layers = self._find_layers()
            fused = {s for layer in layers for n in layer.neurons for s in (n.add.output, *n.products)}
            units: list[Unit] = [ins for ins in program.instructions if ins.output not in fused]
            blocks = self._schedule([*units, *layers])
        else:
            blocks = [[ins] for ins in program.instructions]

        # Rows of the value table: the inputs, the constants, then each block's outputs one after another.
        self._row = {s: s - p for s in range(p, p + d + c)}
        for block in blocks:
            for s in block.outputs if isinstance(block, _Layer) else [ins.output for ins in block]:
                self._row[s] = len(self._row)
        self._units = [self._compile(block) for block in blocks]
        self._outputs = _index([self._row[s] for s in program.outputs])
        self._outputs_repeat = _has_repeats(self._outputs)  # a function may return one Value twice
        self._zero = self._first_writes()
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        self._tables: list[np.ndarray | None] = [None, None]

    def _first_writes(self) -> np.ndarray:
        """Mark each gradient the backward pass writes first (rather than adds to); return the rows it reads
        or adds to before anything writes them, which it sets to -0.0 first. Not filling the whole table of
        gradients saves a pass over memory as large as the values' table."""
        written: set[int] = set() if self._outputs_repeat else set(_rows(self._outputs))
        zero: set[int] = set(_rows(self._outputs)) if self._outputs_repeat else set()

        def first(rows: list[int], repeats: bool) -> bool:
            fresh = not repeats and written.isdisjoint(rows)
            if not fresh:
                zero.update(r for r in rows if r not in written)
            written.update(rows)
            return fresh

        for unit in reversed(self._units):
            zero.update(r for r in _rows(unit.out) if r not in written)  # its upstream gradients
            if isinstance(unit, _MatMul):
                if unit.x_grad:
                    unit.x_assign = first(_rows(unit.x), False)
            else:
                for operand in unit.inputs:
                    if operand.grad and not operand.params:
                        operand.assign = first(_rows(operand.index), operand.repeats)
        if self.input_grads:
            zero.update(r for r in range(self.program.n_inputs) if r not in written)
        return np.array(sorted(zero), dtype=int)

    def _find_layers(self) -> list[_Layer]:
        """The neurons (add gates over a bias and weight × input products), grouped by the inputs they read."""
        program, p = self.program, len(self.program.params)
        # Written for speed (a wide net has 786,000 gates): gate i writes slot first_gate + i, so what made a slot
        # and how many gates read it are lists by slot, not dictionaries.
        made_by: list[Instruction | None] = [None] * program.first_gate + list(program.instructions)
        readers = [0] * len(made_by)
        for s in itertools.chain.from_iterable(ins.inputs for ins in program.instructions):
            readers[s] += 1
        for s in program.outputs:
            readers[s] += 1

        groups: dict[tuple[tuple[int, ...], bool], list[_Neuron]] = defaultdict(list)
        for add in program.instructions:
            if add.op == "add" and add.constant is None and (neuron := _neuron(add, made_by, readers, p)):
                groups[(neuron.x, neuron.bias is None)].append(neuron)
        layers = []
        for neurons in groups.values():
            used = [w for n in neurons for w in n.weights] + [n.bias for n in neurons if n.bias is not None]
            if len(set(used)) == len(used):  # a parameter used twice is no plain matrix: the gates do it
                layers.append(_Layer(tuple(neurons)))
        return layers

    def _schedule(self, units: list[Unit]) -> list[Block]:
        """The units by depth in the circuit; at each depth, the gates of one kind together, each layer apart."""
        p = len(self.program.params)
        depth = dict.fromkeys(range(self.program.first_gate), 0)
        by_depth: dict[int, dict[tuple[object, ...], list[Unit]]] = defaultdict(lambda: defaultdict(list))
        for unit in sorted(units, key=lambda u: min(_outputs(u))):  # the program's order: inputs come first
            level = 1 + max(depth[s] for s in _reads(unit))
            for s in _outputs(unit):
                depth[s] = level
            if isinstance(unit, _Layer):
                by_depth[level][("layer", unit.outputs[0])].append(unit)
            else:
                kind = (unit.op, len(unit.inputs), unit.constant is None, tuple(s < p for s in unit.inputs))
                by_depth[level][kind].append(unit)
        # A "layer" key's group is that one layer; every other group holds instructions alone.
        return [
            group[0] if key[0] == "layer" else group  # type: ignore[misc]
            for level in sorted(by_depth)
            for key, group in by_depth[level].items()
        ]

    def _compile(self, block: Block) -> _Gates | _MatMul:
        p = len(self.program.params)
        if isinstance(block, _Layer):
            first = block.neurons[0]
            weights = np.array([n.weights for n in block.neurons])
            return _MatMul(
                layer=block,
                weights=weights,
                bias=None if first.bias is None else np.array([n.bias for n in block.neurons]),
                x=_index([self._row[s] for s in first.x]),
                out=_index([self._row[s] for s in block.outputs]),
                x_grad=any(self._grad[s] for s in first.x),
                strided=_strided(weights, p),
            )
        inputs = []
        for position in range(len(block[0].inputs)):
            slots = [ins.inputs[position] for ins in block]
            params = slots[0] < p
            index = _index(slots if params else [self._row[s] for s in slots])
            inputs.append(_Operand(params, index, _has_repeats(index), any(self._grad[s] for s in slots)))
        constant = None if block[0].constant is None else np.array([[ins.constant] for ins in block])
        return _Gates(block, inputs, _index([self._row[ins.output] for ins in block]), constant)

    def forward(self, X: np.ndarray | Sequence[Sequence[float]], theta: np.ndarray | None = None) -> np.ndarray:
        """The outputs for a batch `X` (samples × inputs), as an array of samples × outputs.

        `theta` holds the parameters' values; by default they are read from the program's Values.
        """
        X = np.asarray(X, dtype=float)
        program = self.program
        if X.ndim != 2 or X.shape[1] != program.n_inputs:
            raise ValueError(f"forward needs a batch of shape (samples, {program.n_inputs}), got {X.shape}")
        if theta is None:
            theta = np.fromiter((v.data for v in program.params), float, len(program.params))
        d, c = program.n_inputs, len(program.constants)
        rows = self._table(0, len(X))
        rows[:d] = X.T
        rows[d : d + c] = np.array(program.constants).reshape(c, 1)
        with np.errstate(all="ignore"):
            for unit in self._units:
                unit.forward(rows, theta)
        self._last = rows, theta
        outputs: np.ndarray = rows[self._outputs].T.copy()  # a copy: the table is reused by the next batch
        return outputs

    def backward(
        self, grad_outputs: np.ndarray, theta_grad: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Backpropagate `grad_outputs` (samples × outputs) through the last forward.

        Returns each parameter's gradient summed over the batch (written into `theta_grad` when
        given), and the inputs' gradients (samples × inputs) when the plan was made with
        `input_grads`, else None.
        """
        if self._last is None:
            raise RuntimeError("backward needs a forward first")
        rows, theta = self._last
        grads = self._table(1, rows.shape[1])
        grads[self._zero] = -0.0  # as Value.grad starts: adding a first gradient keeps its sign, even a zero's
        upstream = np.asarray(grad_outputs, dtype=float).T
        if self._outputs_repeat:
            np.add.at(grads, self._outputs, upstream)  # type: ignore[arg-type]
        else:
            grads[self._outputs] = upstream
        if theta_grad is None:
            theta_grad = np.empty(len(theta))
        theta_grad.fill(-0.0)
        with np.errstate(all="ignore"):
            for unit in reversed(self._units):
                unit.backward(rows, grads, theta, theta_grad)
        return theta_grad, grads[: self.program.n_inputs].T.copy() if self.input_grads else None

    def _table(self, which: int, n: int) -> np.ndarray:
        """The values table (0) or the gradients table (1) for a batch of n, kept for the next batch of that size."""
        table = self._tables[which]
        if table is None or table.shape[1] != n:
            table = np.empty((len(self._row), n))
            self._tables[which] = table
        return table

    def release(self, keep: int = 0) -> None:
        """Let go of the tables kept for the next batch (a plan kept for later need not hold them), unless together
        they hold at most `keep` bytes."""
        if sum(table.nbytes for table in self._tables if table is not None) > keep:
            self._tables = [None, None]
        self._last = None

    def __str__(self) -> str:
        """One line per numpy call (or matrix product), in the order forward runs them."""
        return "\n".join(self._describe(unit) for unit in self._units)

    def _describe(self, unit: _Gates | _MatMul) -> str:
        name = self.program.slot_name
        if isinstance(unit, _MatMul):
            neurons = unit.layer.neurons
            k, n = unit.weights.shape
            bias = " + b" if unit.bias is not None else ""
            product = f"{_names(name, unit.layer.outputs)} = W @ {_names(name, neurons[0].x)}{bias}"
            return f"{product}    (W is {k}×{n}: {k * n} mul and {k} add gates)"
        if len(unit.gates) == 1:
            return self.program.line(unit.gates[0])
        args = [_names(name, [ins.inputs[i] for ins in unit.gates]) for i in range(len(unit.gates[0].inputs))]
        if unit.constant is not None:
            args.append(_names(fmt, [ins.constant for ins in unit.gates]))  # type: ignore[misc]
        op, k = unit.gates[0].op, len(unit.gates)
        return f"{_names(name, [ins.output for ins in unit.gates])} = {op}({', '.join(args)})    ({k} gates)"


def _neuron(add: Instruction, made_by: list[Instruction | None], readers: list[int], p: int) -> _Neuron | None:
    """`add` as a neuron: at most one parameter (the bias), then products of a parameter and a value, read only here."""
    bias, weights, xs, products = None, [], [], []
    for s in add.inputs:
        mul = made_by[s]
        if s < p and bias is None:
            bias = s
        elif mul is not None and mul.op == "mul" and mul.constant is None and readers[s] == 1:
            a, b = mul.inputs
            if (a < p) == (b < p):
                return None
            weights.append(a if a < p else b)
            xs.append(b if a < p else a)
            products.append(s)
        else:
            return None
    if not products or len(set(xs)) < len(xs):
        return None
    return _Neuron(add, bias, tuple(weights), tuple(xs), tuple(products))


def _names(name: Callable[[int], str], slots: Sequence[int]) -> str:
    """A list of slot names, the middle left out when it is long: [v4, v7, …, v49]."""
    shown = [name(s) for s in slots] if len(slots) <= 4 else [name(slots[0]), name(slots[1]), "…", name(slots[-1])]
    return f"[{', '.join(shown)}]"
