"""Which Values a neuron made: the light tag a `gategrad.nn` Neuron leaves on the Values it computes.

A neuron computes its pre-activation z = b + w₀·x₀ + w₁·x₁ + ... (one add gate over the bias
and the products) and its output a = act(z). When it runs, it labels z and a with strings made
once when it was built: "z1:3" and "a1:3" for neuron 3 of layer 1 (a linear neuron's output is
its z, and carries the a label). A label is a slot every Value already has, so the tag costs
no memory, and the pictures and the training record find a neuron's gates again from it: the
products are the inputs of the add gate after the bias. A label you set yourself replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gategrad.engine.value import Value

_OUTPUT = re.compile(r"a(\d+):(\d+)")


def neuron_labels(layer: int, index: int) -> tuple[str, str]:
    """The labels of the pre-activation and the output of neuron `index` of layer `layer`."""
    return f"z{layer}:{index}", f"a{layer}:{index}"


@dataclass(frozen=True)
class NeuronCall:
    """One run of a neuron inside a circuit: the Values it made, from its products to its output."""

    layer: int
    index: int
    output: Value  # a = act(z)
    pre: Value  # z, the add gate; the output itself for a linear neuron

    @property
    def key(self) -> str:
        """ "layer:index", as the training page's `data-neuron` attributes name it."""
        return f"{self.layer}:{self.index}"

    @property
    def bias(self) -> Value:
        return self.pre.children[0]

    @property
    def products(self) -> tuple[Value, ...]:
        """The mul gates w_i·x_i, in input order."""
        return self.pre.children[1:]

    @property
    def weights(self) -> tuple[Value, ...]:
        return tuple(p.children[0] for p in self.products)

    @property
    def inputs(self) -> tuple[Value | float, ...]:
        """What each weight multiplies: a Value, or a plain number folded into its mul gate."""
        return tuple(p.children[1] if len(p.children) == 2 else p.constant for p in self.products)  # type: ignore[misc]

    @property
    def gates(self) -> tuple[Value, ...]:
        """The Values this run computed, in the order they ran: the products, z, then a."""
        return (*self.products, self.pre) + (() if self.output is self.pre else (self.output,))

    def name_parameters(self) -> None:
        """Label the run's bias, weights and products as PyTorch indexes a layer's: b1[3], w1[3,0], w1[3,0]·a0:0.

        A walk then names each weight, not its value; a plain number input j is x{j}.
        """
        self.bias.label = f"b{self.layer}[{self.index}]"
        for j, (w, product, x) in enumerate(zip(self.weights, self.products, self.inputs)):
            w.label = f"w{self.layer}[{self.index},{j}]"
            product.label = f"{w.label}·{x.label if isinstance(x, Value) else f'x{j}'}"


def neuron_calls(values: Iterable[Value]) -> list[NeuronCall]:
    """Every run of a neuron among `values` (such as `topological_order(root)`), in their order.

    A Value counts when its label is a neuron's output tag and the gates below it have a
    neuron's shape, so a Value you happened to label "a0:1" is not mistaken for one.
    """
    calls = []
    for v in values:
        match = _OUTPUT.fullmatch(v.label)
        if match is None or not v.children:
            continue
        layer, index = int(match[1]), int(match[2])
        pre = v if v.op == "add" else v.children[0]
        if pre is not v and (len(v.children) != 1 or pre.label != neuron_labels(layer, index)[0]):
            continue
        if pre.op != "add" or len(pre.children) < 2 or any(p.op != "mul" for p in pre.children[1:]):
            continue
        calls.append(NeuronCall(layer, index, v, pre))
    return calls
