"""Modules on the engine: Neuron, Layer, MLP, and predict (their outputs as plain numbers).

Initialisation is micrograd's: every weight drawn from uniform(-1, 1), every bias 0. (A
Kaiming/LeCun scale of 1/sqrt(nin) trains micrograd's moons demo less reliably at its lr of
1.0, so we keep the simpler rule.) The draws come from a `random.Random` seeded by you
(`seed`: an int, or a `random.Random` to continue one stream of draws; None means seed 0),
never from Python's global random state, so the same seed always builds the same net.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gategrad.engine import GATES, Value
from gategrad.nn.tags import neuron_labels

if TYPE_CHECKING:
    import torch

    from gategrad.nn.serialization import DataInfo

# A layer's activation: a gate the table marks as one (its Value method), or "linear" for none.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    **{op: getattr(Value, gate.method) for op, gate in GATES.items() if gate.activation},
    "linear": None,
}


class Module:
    """Anything with parameters: a Neuron, a Layer or an MLP."""

    # How the model reads a table (its columns, standardisation, classes): saved in its model file.
    data_info: DataInfo | None = None

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
            p.grad = -0.0  # as a fresh Value: adding the first gradient keeps its sign of zero

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

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture."""
        raise NotImplementedError

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the architecture, `data_info` and every parameter to a JSON model file, atomically.

        See `gategrad.nn.serialization`, whose `load` reads it back.
        """
        from gategrad.nn import serialization  # model files rebuild every kind of module, so they import this file

        serialization.save(self, path)


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


def _random(seed: object, rng: object = None) -> random.Random:
    """The draws for `seed`: an int or None (seed 0) starts a new stream, a random.Random continues its own."""
    if rng is not None:
        warnings.warn("rng=... is now seed=..., which also takes a random.Random", DeprecationWarning, stacklevel=3)
        seed = rng
    if isinstance(seed, random.Random):
        return seed
    if seed is None:
        return random.Random(0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, a random.Random or None, got {type(seed).__name__}: {seed!r}")
    return random.Random(seed)


class Neuron(Module):
    """act(b + sum of w_i * x_i): one add gate for the whole sum, then the activation.

    It labels the sum z and the output a it makes ("z1:3", "a1:3": neuron 3 of layer 1, a tag
    its Layer or MLP gives it; see `gategrad.nn.tags`), so pictures can find it again.
    """

    def __init__(
        self, nin: int, activation: str = "relu", seed: int | random.Random | None = None, *, rng: object = None
    ) -> None:
        _check_count("nin", nin)
        self.activation = _check_activation(activation)
        rng = _random(seed, rng)
        self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self._act = ACTIVATIONS[activation]
        self._place(0, 0)

    def _place(self, layer: int, index: int) -> None:
        """Make the tags of neuron `index` of layer `layer` once, so a call only assigns them."""
        self._z_label, self._a_label = neuron_labels(layer, index)

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        # Bias first, so the float sum runs in the same order as micrograd's sum(..., self.b).
        z = Value.sum([self.b, *(wi * xi for wi, xi in zip(self.w, x))])
        if self._act is None:
            z.label = self._a_label
            return z
        z.label = self._z_label
        out = self._act(z)
        out.label = self._a_label
        return out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"w.{i}", w) for i, w in enumerate(self.w)] + [("b", self.b)]

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]  # named_parameters' order, without making the names

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": self.activation}

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons reading the same inputs."""

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str = "relu",
        seed: int | random.Random | None = None,
        *,
        rng: object = None,
    ) -> None:
        _check_count("nout", nout)
        rng = _random(seed, rng)
        self.neurons = [Neuron(nin, activation, rng) for _ in range(nout)]
        self._place(0)

    def _place(self, layer: int) -> None:
        """Tag the neurons as the ones of layer `layer`."""
        for i, n in enumerate(self.neurons):
            n._place(layer, i)

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [(f"neurons.{i}.{name}", p) for i, n in enumerate(self.neurons) for name, p in n.named_parameters()]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in (*n.w, n.b)]

    def config(self) -> dict[str, Any]:
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
        rng = _random(seed)
        sizes = [nin, *nouts]
        self.activation = activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < len(nouts) - 1 else "linear", rng)
            for i in range(len(nouts))
        ]
        for i, layer in enumerate(self.layers):
            layer._place(i)

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = [n(x) for n in self.layers[0].neurons]
        for layer in self.layers[1:]:
            out = [n(out) for n in layer.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"layers.{i}.{name}", p) for i, layer in enumerate(self.layers) for name, p in layer.named_parameters()
        ]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def config(self) -> dict[str, Any]:
        nin = len(self.layers[0].neurons[0].w)
        return {"nin": nin, "nouts": [len(layer.neurons) for layer in self.layers], "activation": self.activation}

    def __repr__(self) -> str:
        c = self.config()
        return f"MLP({c['nin']}, {c['nouts']}, activation={c['activation']!r})"

    def to_torch(self) -> torch.nn.Sequential:
        """This net as a `torch.nn.Sequential` of Linear and activation layers, in float64 (needs torch)."""
        from gategrad.nn import torch_interop as convert  # torch is optional: load it only when asked

        return convert.to_torch(self)

    @classmethod
    def from_torch(cls, seq: torch.nn.Sequential) -> MLP:
        """The MLP computing what a `torch.nn.Sequential` of Linear layers and activations (ReLU, Tanh...) computes."""
        from gategrad.nn import torch_interop as convert

        return convert.from_torch(seq)


def predict(model: Module, X: Iterable[Sequence[float]]) -> list[float | list[float]]:
    """The model's outputs for each sample as plain numbers: a float, or a list of floats for several outputs.

    Each sample's circuit is dropped as soon as its numbers are read, so evaluating many
    samples needs the memory of one circuit, not one per sample.
    """
    outputs: list[float | list[float]] = []
    for x in X:
        out = model(x)
        outputs.append([v.data for v in out] if isinstance(out, list) else out.data)
        del out  # frees this circuit before the next one is built
    return outputs
