"""Neural nets on the engine: neurons, layers, MLPs, losses, optimizers, a training loop, model files.

Names and numerics follow PyTorch (`parameters`, `zero_grad`, `step`, `state_dict`,
`cross_entropy`, `torch.optim`), so what you learn here carries over.

Initialisation is micrograd's: every weight drawn from uniform(-1, 1), every bias 0. (A
Kaiming/LeCun scale of 1/sqrt(nin) trains micrograd's moons demo less reliably at its lr of
1.0, so we keep the simpler rule.) The draws come from a `random.Random` seeded by you
(`seed` / `rng`; None means seed 0), never from Python's global random state, so the same
seed always builds the same net.
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence

from tqdm import tqdm

from gategrad.engine import Value, gc_paused

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}

FORMAT = "gategrad-model"
FORMAT_VERSION = 1

# ---- modules ----


class Module:
    """Anything with parameters: a Neuron, a Layer or an MLP."""

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        """The output for one sample `x`: a Value, or a list of Values for several outputs."""
        raise NotImplementedError

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Every parameter with its name (such as "layers.0.neurons.3.w.1"), in a fixed order."""
        return []

    def parameters(self) -> list[Value]:
        """Every parameter, weights before the bias of each neuron (micrograd's order)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (gradients accumulate, as in PyTorch)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """Every parameter's value by name: what a model file stores."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from `state`, which must name exactly this module's parameters."""
        named = dict(self.named_parameters())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            raise ValueError(f"state_dict does not fit this model: missing {missing[:3]}, unexpected {unexpected[:3]}")
        values = {}
        for name, x in state.items():
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise TypeError(f"parameter {name} must be a number, got {type(x).__name__}: {x!r}")
            if isinstance(x, int) and not -1e308 < x < 1e308:
                raise ValueError(f"parameter {name} is too large for a float")
            values[name] = float(x)
        for name, p in named.items():
            p.data = values[name]

    def config(self) -> dict:
        """The constructor arguments that rebuild this module's architecture."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and every parameter to a JSON model file, atomically.

        The file is written beside `path` under a temporary name and then renamed over it,
        so a save that fails or is interrupted leaves any earlier file at `path` untouched.
        Floats are written as repr, which reads back bit for bit.
        """
        model = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": type(self).__name__,
            "config": self.config(),
            "parameters": self.state_dict(),
        }
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".gategrad-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(model, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # mkstemp makes the file private; a model file is ordinary data
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise


def _check_count(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{name} must be an int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be at least 1, got {n}")
    return n


def _check_activation(activation: object) -> str:
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    return activation


def _check_rng(rng: object) -> random.Random:
    if rng is None:
        return random.Random(0)
    if not isinstance(rng, random.Random):
        raise TypeError(f"rng must be a random.Random, got {type(rng).__name__}: {rng!r}")
    return rng


class Neuron(Module):
    """act(b + sum of w_i * x_i): one add gate for the whole sum, then the activation."""

    def __init__(self, nin: int, activation: str = "relu", rng: random.Random | None = None) -> None:
        _check_count("nin", nin)
        self.activation = _check_activation(activation)
        rng = _check_rng(rng)
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self._act = ACTIVATIONS[activation]

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        # Bias first, so the float sum runs in the same order as micrograd's sum(..., self.b).
        out = Value.sum([self.b, *(wi * xi for wi, xi in zip(self.w, x))])
        return out if self._act is None else self._act(out)

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def config(self) -> dict:
        return {"nin": len(self.w), "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons reading the same inputs."""

    def __init__(self, nin: int, nout: int, activation: str = "relu", rng: random.Random | None = None) -> None:
        _check_count("nout", nout)
        rng = _check_rng(rng)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"neurons.{i}.{name}", p) for i, n in enumerate(self.neurons) for name, p in n.named_parameters()]

    def config(self) -> dict:
        first = self.neurons[0]
        return {"nin": len(first.w), "nout": len(self.neurons), "activation": first.activation}

    def __repr__(self) -> str:
        return f"Layer({len(self.neurons[0].w)}, {len(self.neurons)}, activation={self.neurons[0].activation!r})"


class MLP(Module):
    """A multi-layer perceptron: layers of sizes `nouts`, `activation` on the hidden ones, the last linear."""

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu", seed: int | None = None) -> None:
        _check_count("nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise TypeError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        for n in nouts:
            _check_count("each layer size in nouts", n)
        _check_activation(activation)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {type(seed).__name__}: {seed!r}")
        rng = random.Random(0 if seed is None else seed)
        sizes = [nin, *nouts]
        self.activation = activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.layers[0].neurons]
        for layer in self.layers[1:]:
            out = [n(out) for n in layer.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()
        ]

    def config(self) -> dict:
        nin = len(self.layers[0].neurons[0].w)
        return {"nin": nin, "nouts": [len(layer.neurons) for layer in self.layers], "activation": self.activation}

    def __repr__(self) -> str:
        c = self.config()
        return f"MLP({c['nin']}, {c['nouts']}, activation={c['activation']!r})"


_MODULES: dict[str, type[Module]] = {"Neuron": Neuron, "Layer": Layer, "MLP": MLP}


def load(path: str | os.PathLike) -> Module:
    """Read a model file written by `save()` and rebuild the model.

    Raises FileNotFoundError for a missing file and ValueError, naming the file, for
    anything that is not a complete gategrad model file.
    """
    with open(path, "rb") as f:
        raw = f.read()

    def broken(problem: str) -> ValueError:
        return ValueError(f"{os.fspath(path)}: not a gategrad model file ({problem})")

    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise broken("not UTF-8 text") from None
    except ValueError as e:  # json's JSONDecodeError, or a number too long to read
        raise broken(f"invalid or truncated JSON: {e}") from None
    except RecursionError:
        raise broken("JSON nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise broken(f'no "format": "{FORMAT}" field')
    if doc.get("version") != FORMAT_VERSION:
        raise broken(f"version {doc.get('version')!r}; this gategrad reads version {FORMAT_VERSION}")
    name = doc.get("model")
    cls = _MODULES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise broken(f"unknown model {name!r}; expected one of {', '.join(_MODULES)}")
    config, state = doc.get("config"), doc.get("parameters")
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise broken('"config" and "parameters" must be JSON objects')
    try:
        model = cls(**config)
        model.load_state_dict(state)
    except (TypeError, ValueError) as e:
        raise broken(str(e)) from None
    return model


# ---- losses: each returns one Value, the mean over samples ----


def _check_pairs(what: str, outputs: Sequence, labels: Sequence) -> int:
    if len(outputs) != len(labels):
        raise ValueError(f"{what}: {len(outputs)} outputs but {len(labels)} labels")
    if not outputs:
        raise ValueError(f"{what}: no samples")
    return len(outputs)


def mse_loss(preds: Sequence, targets: Sequence) -> Value:
    """Mean squared error over every element, as torch's mse_loss; a sample may be a number or a list."""
    _check_pairs("mse_loss", preds, targets)
    squares = []
    for p, t in zip(preds, targets):
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                raise ValueError(f"mse_loss: a prediction of {len(p)} outputs needs a target of {len(p)} numbers")
            squares += [(pi - ti) ** 2 for pi, ti in zip(p, t)]
        else:
            squares.append((p - t) ** 2)
    return Value.sum(squares) / len(squares)


def hinge_loss(scores: Sequence[Value], labels: Sequence[int]) -> Value:
    """micrograd's max-margin loss: mean of relu(1 - y * s), for labels -1 and +1."""
    n = _check_pairs("hinge_loss", scores, labels)
    if not set(labels) <= {-1, 1}:
        raise ValueError(f"hinge_loss needs labels -1 and +1, got {sorted(set(labels))}")
    return Value.sum([(1 + -y * s).relu() for s, y in zip(scores, labels)]) / n


def bce_with_logits(logits: Sequence[Value], labels: Sequence[int]) -> Value:
    """Binary cross-entropy on logits z, for labels 0 and 1, as torch's binary_cross_entropy_with_logits.

    Written max(z, 0) - z*y + log(1 + exp(-|z|)), which equals -y*log(sigmoid(z)) -
    (1-y)*log(1 - sigmoid(z)) but never takes exp of a large number: |logit| = 1000 is fine.
    """
    n = _check_pairs("bce_with_logits", logits, labels)
    if not set(labels) <= {0, 1}:
        raise ValueError(f"bce_with_logits needs labels 0 and 1, got {sorted(set(labels))}")
    losses = []
    for z, y in zip(logits, labels):
        # max(z, 0) splits a tie 0.5/0.5 and |z| = max(z, -z) has slope 0 at 0, so the
        # gradient at z = 0 is sigmoid(0) - y, as torch's.
        losses.append(z.max(0.0) - z * y + (1.0 + (-z.max(-z)).exp()).log())
    return Value.sum(losses) / n


def cross_entropy(logits_per_sample: Sequence[Sequence[Value]], labels: Sequence[int]) -> Value:
    """Softmax cross-entropy, as torch.nn.functional.cross_entropy: mean of -log softmax(logits)[label].

    Each sample's largest logit is subtracted first (as a constant: softmax does not change),
    so exp never overflows.
    """
    n = _check_pairs("cross_entropy", logits_per_sample, labels)
    losses = []
    for logits, y in zip(logits_per_sample, labels):
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < len(logits):
            raise ValueError(f"cross_entropy: label {y!r} is not a class index below {len(logits)}")
        top = max(z.data for z in logits)
        shifted = [z - top for z in logits]
        log_sum_exp = Value.sum([s.exp() for s in shifted]).log()
        losses.append(log_sum_exp - shifted[y])
    return Value.sum(losses) / n


def l2_penalty(parameters: Iterable[Value], alpha: float) -> Value:
    """alpha times the sum of squared parameters (micrograd's weight regularisation)."""
    return Value.sum([p * p for p in parameters]) * alpha


def accuracy(outputs: Sequence, labels: Sequence[int]) -> float:
    """The fraction of samples classified right.

    A single score counts as class "positive" when > 0 (labels +1/-1, or 1/0 for logits);
    a list of scores picks the largest (labels are class indices).
    """
    n = _check_pairs("accuracy", outputs, labels)
    right = 0
    for out, y in zip(outputs, labels):
        if isinstance(out, (list, tuple)):
            scores = [s.data if isinstance(s, Value) else s for s in out]
            right += scores.index(max(scores)) == y
        else:
            score = out.data if isinstance(out, Value) else out
            right += (score > 0) == (y > 0)
    return right / n


# ---- optimizers: each update equals torch.optim's ----


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
            p.grad = 0.0

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


# ---- training ----


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    loss_fn: Callable[[list, Sequence[int]], Value],
    optimizer: Optimizer,
    steps: int = 100,
    *,
    batch_size: int | None = None,
    alpha: float = 0.0,
    lr_schedule: Callable[[int], float] | None = None,
    seed: int = 0,
    quiet: bool = False,
) -> dict[str, list[float]]:
    """Train `model` for `steps` steps; returns {"loss": [...], "accuracy": [...]}, one entry per step.

    Each step: set the lr from `lr_schedule(step)` if given, run the model on a batch
    (all of X, or `batch_size` points drawn with `seed`), take `loss_fn(outputs, labels)`
    plus `alpha` times the L2 penalty, backpropagate and step. The loss and accuracy
    recorded are the batch's, before the update (as micrograd's demo prints them). The
    progress bar is hidden when `quiet` or when stderr is not a terminal.
    """
    if batch_size is not None and not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}")
    rng = random.Random(seed)
    params = model.parameters()
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    bar = tqdm(range(steps), desc="training", unit="step", disable=True if quiet else None)
    for k in bar:
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(k)
        batch = range(len(X)) if batch_size is None else rng.sample(range(len(X)), batch_size)
        labels = [y[i] for i in batch]
        # A step builds thousands of gates and frees them together; pausing the cyclic
        # garbage collector meanwhile saves it rescanning them (there are no cycles).
        # The circuit is let go inside the block, so the collector never sees it.
        with gc_paused():
            outputs = [model(X[i]) for i in batch]
            loss = loss_fn(outputs, labels)
            if alpha:
                loss = loss + l2_penalty(params, alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history["loss"].append(loss.data)
            history["accuracy"].append(accuracy(outputs, labels))
            del outputs, loss
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}", accuracy=f"{history['accuracy'][-1]:.2f}", refresh=False)
    return history
