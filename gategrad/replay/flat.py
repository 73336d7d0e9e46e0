"""A replayed fit's parameters as flat float64 vectors, and the optimizers' updates on them.

While `nn.fit(..., engine="replay")` runs, the parameters, their gradients and the optimizer's
running state live in numpy vectors, one number per parameter, and each step updates them
with a few whole-vector operations: no step touches a Value or makes a Python float per
parameter. `write_back` puts the numbers into the Values (and the optimizer's lists) again,
when fit returns and whenever someone reads them (a Recorder, a Training stepped by hand).

Each update is the one in `gategrad.nn.optim` (itself torch.optim's), written on vectors in
the same order of operations, so the numbers are the scalar engine's bit for bit.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from gategrad.engine import Value

# The optimizers updated here, by their name in gategrad.nn.OPTIMIZERS. Any other optimizer (or one whose
# `step` was replaced) gets the Values written back and its own `step()` called, every step.
UPDATES = ("sgd", "adam", "adamw")


class FlatParameters:
    """The Values `params` as vectors: `data`, `grad`, and `optimizer`'s state, for the length of a replayed fit.

    `kind` names the optimizer's update ("sgd", "adam" or "adamw"), or is None for an optimizer
    stepped through its Values. `penalised`, a flag per parameter, limits the L2 penalty to the
    flagged ones (None: all). `load()` reads the Values, `write_back()` writes them.
    """

    def __init__(
        self, params: Sequence[Value], optimizer: Any, kind: str | None, penalised: Sequence[bool] | None = None
    ) -> None:
        self.params = list(params)
        self.penalised = None if penalised is None else np.array(penalised, dtype=bool)
        self.optimizer = optimizer
        n = len(self.params)
        self.data, self.grad = np.empty(n), np.empty(n)
        self._work, self._spare, self._finite = np.empty(n), np.empty(n), np.empty(n, dtype=bool)
        # The optimizer's parameters within the vectors: all of them in order (the usual case), or a selection.
        self._selection: slice | np.ndarray = slice(None)
        known = True
        if len(optimizer.params) != n or not all(map(operator.is_, optimizer.params, self.params)):
            place = {id(p): i for i, p in enumerate(self.params)}
            known = all(id(p) in place for p in optimizer.params)
            self._selection = np.array([place[id(p)] for p in optimizer.params] if known else [], dtype=int)
        self.kind = kind if kind in UPDATES and known and "step" not in vars(optimizer) else None
        self._state: dict[str, np.ndarray | None] = {}

    def load(self) -> None:
        """Read every parameter's value and gradient, and the optimizer's state, from the Values and the optimizer."""
        self.data[:] = [p.data for p in self.params]
        self.grad[:] = [p.grad for p in self.params]
        opt = self.optimizer
        if self.kind == "sgd":
            self._state = {"buffers": None if opt.buffers is None else np.array(opt.buffers, dtype=float)}
        elif self.kind in ("adam", "adamw"):
            self._state = {"m": np.array(opt.m, dtype=float), "v": np.array(opt.v, dtype=float)}

    def write_back(self) -> None:
        """Put the numbers back where a reader looks: each Value's `data` and `grad`, the optimizer's lists."""
        for p, x, g in zip(self.params, self.data.tolist(), self.grad.tolist()):
            p.data, p.grad = x, g
        opt, state = self.optimizer, self._state
        if self.kind == "sgd":
            buffers = state["buffers"]
            opt.buffers = None if buffers is None else buffers.tolist()
        elif self.kind in ("adam", "adamw"):
            opt.m, opt.v = state["m"].tolist(), state["v"].tolist()  # type: ignore[union-attr]

    def add_l2(self, loss: float, l2: float) -> float:
        """Add `l2` times the squares of the (penalised) parameters to the loss, and its gradient to `grad`,
        as `nn.l2_penalty`'s gates would."""
        if not l2:
            return loss
        data, work, penalised = self.data, self._work, self.penalised
        with np.errstate(all="ignore"):  # an overflow is an answer here too: fit reports it
            if penalised is None:
                # The squares summed by BLAS, not left to right as Value.sum does: equal to about 1e-16, relative.
                loss += float(np.dot(data, data)) * l2
                np.multiply(data, 2.0 * l2, out=work)  # each p * p gate gives p its p × l2 twice: exactly 2·l2·p
            else:
                work.fill(0.0)  # a parameter left out adds a square of 0 to the sum, and 0 to its gradient
                np.multiply(data, data, out=work, where=penalised)
                np.add.accumulate(work, out=work)  # the squares summed left to right, as Value.sum does
                loss += float(work[-1]) * l2
                work.fill(0.0)
                np.multiply(data, 2.0 * l2, out=work, where=penalised)
            self.grad += work
        return loss

    def finite(self, loss: float) -> bool:
        """Whether the loss and every gradient are finite numbers."""
        return math.isfinite(loss) and bool(np.isfinite(self.grad, out=self._finite).all())

    def first_nonfinite(self) -> int | None:
        """The first parameter whose value is not finite, by its place; None when all are."""
        if np.isfinite(self.data, out=self._finite).all():
            return None
        return int(np.argmin(self._finite))

    def clip_grad_norm(self, max_norm: float) -> None:
        """Scale the gradients down to a total (2-)norm of `max_norm`, as `nn.clip_grad_norm` and torch's."""
        total = math.sqrt(float(np.dot(self.grad, self.grad)))
        coefficient = max_norm / (total + 1e-6)
        if coefficient < 1.0:
            self.grad *= coefficient

    def step(self) -> None:
        """The optimizer's update of every parameter, on the vectors."""
        if self.kind is None:
            self.write_back()
            self.optimizer.step()
            self.data[:] = [p.data for p in self.params]
            return
        whole = isinstance(self._selection, slice)
        data = self.data if whole else self.data[self._selection]
        grad = self.grad if whole else self.grad[self._selection]
        work = self._work if whole else np.empty_like(data)
        spare = self._spare if whole else np.empty_like(data)
        if self.kind == "sgd":
            self._sgd(data, grad, work)
        else:
            self._adam(data, grad, work, spare)
        if not whole:
            self.data[self._selection] = data

    def _sgd(self, data: np.ndarray, grad: np.ndarray, g: np.ndarray) -> None:
        """nn.SGD.step: g = grad + wd*p; with momentum, buf = m*buf + g (the first gradient at first); p -= lr*buf."""
        opt = self.optimizer
        step = grad
        if opt.weight_decay or opt.momentum:  # without either, g is the gradient itself (plus 0·p)
            np.multiply(data, opt.weight_decay, out=g)
            g += grad
            step = g
        if opt.momentum:
            step = self._state["buffers"]  # type: ignore[assignment]
            if step is None:
                self._state["buffers"] = step = g.copy()
            else:
                step *= opt.momentum
                step += g
        np.multiply(step, opt.lr, out=g)
        data -= g

    def _adam(self, data: np.ndarray, grad: np.ndarray, work: np.ndarray, spare: np.ndarray) -> None:
        """nn.Adam.step (and AdamW's, which first shrinks p by 1 - lr*wd): running means m and v of the
        gradient and its square, then p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)."""
        opt = self.optimizer
        m, v = self._state["m"], self._state["v"]
        assert m is not None and v is not None
        opt.t += 1
        beta1, beta2 = opt.betas
        step_size = opt.lr / (1 - beta1**opt.t)
        v_correction = math.sqrt(1 - beta2**opt.t)
        if self.kind == "adamw":
            data *= 1 - opt.lr * opt.weight_decay
            g = grad
        else:
            g = np.multiply(data, opt.weight_decay, out=work)
            g += grad
        m *= beta1
        m += np.multiply(g, 1 - beta1, out=spare)
        v *= beta2
        np.multiply(g, 1 - beta2, out=spare)
        spare *= g
        v += spare
        np.sqrt(v, out=work)
        work /= v_correction
        work += opt.eps
        np.multiply(m, step_size, out=spare)
        spare /= work
        data -= spare
