"""Optimizers whose every update equals torch.optim's."""

from __future__ import annotations

import math
from collections.abc import Iterable

from gategrad.engine import Value


class Optimizer:
    """Holds a parameter list and a learning rate `lr` you may change between steps."""

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        self.params = list(params)
        if not self.params or not all(isinstance(p, Value) for p in self.params):
            raise TypeError("an optimizer needs a non-empty list of Values, such as model.parameters()")
        self.lr = _check_rate("lr", lr)

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0."""
        for p in self.params:
            p.grad = -0.0  # as a fresh Value: adding the first gradient keeps its sign of zero

    def step(self) -> None:
        """Move every parameter using its gradient."""
        raise NotImplementedError


def _check_rate(name: str, x: object, below: float = math.inf) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(x).__name__}: {x!r}")
    if not 0.0 <= x < below:
        raise ValueError(f"{name} must be >= 0{f' and < {below}' if below < math.inf else ''}, got {x!r}")
    return float(x)


class SGD(Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD: g = grad + wd*p; with momentum, buf = m*buf + g; p -= lr*buf."""

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        self.momentum = _check_rate("momentum", momentum)
        self.weight_decay = _check_rate("weight_decay", weight_decay)
        self.buffers: list[float] | None = None  # torch starts the buffer at the first gradient

    def step(self) -> None:
        grads = [p.grad + self.weight_decay * p.data for p in self.params]
        if self.momentum:
            if self.buffers is None:
                self.buffers = grads
            else:
                self.buffers = [self.momentum * b + g for b, g in zip(self.buffers, grads)]
            grads = self.buffers
        for p, g in zip(self.params, grads):
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam, as torch.optim.Adam: running means of the gradient and its square, bias-corrected.

    `weight_decay` adds wd*p to the gradient (L2); AdamW instead shrinks the weights directly.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of numbers, got {betas!r}")
        self.betas = (_check_rate("betas[0]", betas[0], below=1.0), _check_rate("betas[1]", betas[1], below=1.0))
        self.eps = _check_rate("eps", eps)
        self.weight_decay = _check_rate("weight_decay", weight_decay)
        self.t = 0
        self.m = [0.0] * len(self.params)  # running mean of the gradient
        self.v = [0.0] * len(self.params)  # running mean of the squared gradient

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1**self.t)
        v_correction = math.sqrt(1 - beta2**self.t)
        for i, p in enumerate(self.params):
            g = self._decayed_grad(p)
            self.m[i] = m = beta1 * self.m[i] + (1 - beta1) * g
            self.v[i] = v = beta2 * self.v[i] + (1 - beta2) * g * g
            p.data -= step_size * m / (math.sqrt(v) / v_correction + self.eps)

    def _decayed_grad(self, p: Value) -> float:
        """The gradient Adam follows: with weight decay as L2, wd*p is added to it."""
        return p.grad + self.weight_decay * p.data


class AdamW(Adam):
    """Adam with decoupled weight decay, as torch.optim.AdamW: p *= 1 - lr*wd before Adam's step."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decayed_grad(self, p: Value) -> float:
        """AdamW decays the weight itself and leaves the gradient alone."""
        p.data *= 1 - self.lr * self.weight_decay
        return p.grad


def clip_grad_norm(parameters: Iterable[Value], max_norm: float) -> float:
    """Scale every gradient down by one factor so that together, as one vector, their length is at most
    `max_norm`, as torch.nn.utils.clip_grad_norm_ does; returns their length before."""
    params = list(parameters)
    total = math.sqrt(sum(p.grad * p.grad for p in params))
    coefficient = max_norm / (total + 1e-6)  # torch's 1e-6 keeps a zero gradient from dividing by zero
    if coefficient < 1.0:
        for p in params:
            p.grad *= coefficient
    return total


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "adamw": AdamW}  # `gategrad train`'s choices
DEFAULT_LR = {"sgd": 1.0, "adam": 0.05, "adamw": 0.05}  # `gategrad train`'s learning rates: micrograd's demo for sgd
