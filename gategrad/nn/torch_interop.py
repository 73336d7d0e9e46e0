"""An MLP to and from `torch.nn.Sequential`: the way out to PyTorch, and back.

torch is imported inside each function, so gategrad works without it and importing
gategrad never loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gategrad.engine import GATES
from gategrad.nn.modules import MLP

if TYPE_CHECKING:
    import torch
    from torch.nn import Sequential

# The name of torch.nn's module for each activation of ours, from its gate's row; "linear" has none.
TORCH_ACTIVATIONS = {op: gate.activation.torch_module for op, gate in GATES.items() if gate.activation}


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise ImportError("converting to or from PyTorch needs torch: pip install torch") from None
    return torch


def to_torch(model: MLP) -> torch.nn.Sequential:
    """`model` as Linear layers with its activation between them, in float64, with the same weights."""
    torch = _torch()
    modules = []
    for i, layer in enumerate(model.layers):
        linear = torch.nn.Linear(len(layer.neurons[0].w), len(layer.neurons), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64))
        modules.append(linear)
        if i < len(model.layers) - 1 and model.activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[model.activation])())
    seq: Sequential = torch.nn.Sequential(*modules)  # named, as torch comes from _torch() untyped
    return seq


def from_torch(seq: torch.nn.Sequential) -> MLP:
    """The MLP that computes what `seq` computes: Linear layers, one activation after each but the last.

    Raises ValueError naming the layer for anything else (a convolution, dropout, a second
    kind of activation, sizes that do not chain), since gategrad has no gate for it.
    """
    torch = _torch()
    if not isinstance(seq, torch.nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Sequential, got {type(seq).__name__}")
    if type(seq) is not torch.nn.Sequential:
        raise ValueError(f"from_torch reads a torch.nn.Sequential of Linear and activation layers, not {seq!r}")
    ours: dict[Any, str] = {}
    for activation, name in TORCH_ACTIVATIONS.items():  # the first gate computing a module stands for it
        ours.setdefault(getattr(torch.nn, name), activation)
    linears: list[Any] = []
    activations: list[str] = []  # activations[i] follows linears[i]: "linear" when nothing does
    for name, module in seq.named_children():
        if type(module) is torch.nn.Linear:
            if linears and module.in_features != linears[-1].out_features:
                raise _refuse(
                    name,
                    module,
                    f"takes {module.in_features} inputs but the layer before gives {linears[-1].out_features}",
                )
            if len(activations) < len(linears):
                activations.append("linear")
            linears.append(module)
        elif type(module) in ours:
            if len(activations) == len(linears):
                raise _refuse(name, module, "does not follow a Linear layer: an MLP has one activation after each")
            activations.append(ours[type(module)])
        else:
            known = ", ".join(dict.fromkeys(TORCH_ACTIVATIONS.values()))
            raise _refuse(name, module, f"has no gategrad gate: an MLP is Linear layers with activations ({known})")
        if activations and activations[-1] != activations[0]:
            raise _refuse(
                name,
                module,
                f"makes a hidden layer {activations[-1]}, an earlier one is "
                f"{activations[0]}: gategrad's MLP has one activation for every hidden layer",
            )
    if not linears:
        raise ValueError("from_torch needs at least one Linear layer, got an empty Sequential")
    if len(activations) == len(linears):
        name, module = list(seq.named_children())[-1]
        raise _refuse(
            name,
            module,
            "follows the last Linear layer: gategrad's MLP ends with a linear layer "
            "(apply it to the outputs instead, or train on logits with cross_entropy or bce_with_logits)",
        )
    model = MLP(linears[0].in_features, [m.out_features for m in linears], activations[0] if activations else "linear")
    for layer, linear in zip(model.layers, linears):
        weight = linear.weight.detach().double().tolist()
        bias = linear.bias.detach().double().tolist() if linear.bias is not None else [0.0] * linear.out_features
        for neuron, row, b in zip(layer.neurons, weight, bias):
            for w, value in zip(neuron.w, row):
                w.data = value
            neuron.b.data = b
    return model


def _refuse(name: str, module: Any, problem: str) -> ValueError:
    return ValueError(f"layer {name} ({module!r}) {problem}")
