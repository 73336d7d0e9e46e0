"""The benchmark workloads, each run in a fresh process: `python workloads.py TASK ENGINE`.

Prints one JSON object with the measured figures. The same code drives both engines: it
only uses the operations micrograd 0.1.0 has, plus `Value.sum` where gategrad has it.
`train_step` is the same step three ways: micrograd, gategrad's replay, and torch float64
on one thread (tensors), from the same starting weights.
"""

from __future__ import annotations

import gc
import json
import random
import sys
import time
import tracemalloc
from typing import Any

from gategrad.data import make_moons


def engine(name: str) -> type:
    if name == "micrograd":
        from micrograd.engine import Value
    else:
        from gategrad import Value
    return Value


def mlp_step(name: str, steps: int = 5, binary_adds: bool = False, gc_paused: bool = False) -> dict:
    """micrograd's demo step, written with plain Value ops: MLP(2, 16, 16, 1), hinge loss + L2, SGD."""
    Value = engine(name)
    n_ary = name == "gategrad" and not binary_adds
    rng = random.Random(1337)
    sizes = [2, 16, 16, 1]
    layers = [
        [([Value(rng.uniform(-1, 1)) for _ in range(nin)], Value(0.0)) for _ in range(nout)]
        for nin, nout in zip(sizes, sizes[1:])
    ]
    params = [p for layer in layers for w, b in layer for p in (*w, b)]
    X, y = make_moons(100, noise=0.1, seed=0)
    y = [2 * label - 1 for label in y]

    def neuron(w: list, b: object, x: list) -> object:
        if n_ary:
            return Value.sum([b, *(wi * xi for wi, xi in zip(w, x))])
        return sum((wi * xi for wi, xi in zip(w, x)), b)

    def forward(x: list) -> object:
        for i, layer in enumerate(layers):
            x = [neuron(w, b, x) for w, b in layer]
            if i < len(layers) - 1:
                x = [v.relu() for v in x]
        return x[0]

    losses, times = [], []
    for k in range(steps):
        if gc_paused:
            gc.disable()
        start = time.process_time()
        scores = [forward(x) for x in X]
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(y))
        reg_loss = 1e-4 * sum(p * p for p in params)
        loss = data_loss + reg_loss
        for p in params:
            p.grad = 0.0
        loss.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in params:
            p.data -= lr * p.grad
        losses.append(loss.data)
        if gc_paused:  # collect what the step left behind, and count it in the step
            del scores, data_loss, reg_loss, loss
            gc.enable()
            gc.collect()
        times.append(time.process_time() - start)
    return {"seconds_per_step": sorted(times)[len(times) // 2], "losses": losses}


def nn_step(name: str, steps: int = 5) -> dict:
    """micrograd's demo step with each library's own MLP, losses and update (micrograd's demo notebook)."""
    X, y = make_moons(100, noise=0.1, seed=0)
    y = [2 * label - 1 for label in y]
    rng = random.Random(1337)
    if name == "micrograd":
        from micrograd.nn import MLP

        model = MLP(2, [16, 16, 1])
    else:
        from gategrad import nn

        model = nn.MLP(2, [16, 16, 1])
        optimizer = nn.SGD(model.parameters(), lr=1.0)
    for p in model.parameters():  # the same starting weights for both
        p.data = rng.uniform(-1, 1)

    losses, times = [], []
    for k in range(steps):
        start = time.process_time()
        scores = [model(x) for x in X]
        if name == "micrograd":
            data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(y))
            loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= (1.0 - 0.9 * k / 100) * p.grad
        else:
            loss = nn.hinge_loss(scores, y) + nn.l2_penalty(model.parameters(), 1e-4)
            optimizer.zero_grad()
            loss.backward()
            optimizer.lr = 1.0 - 0.9 * k / 100
            optimizer.step()
        times.append(time.process_time() - start)
        losses.append(loss.data)
    return {"seconds_per_step": sorted(times)[len(times) // 2], "losses": losses}


def torch_hinge_loss(tensors: list, params: list, inputs: Any, labels: Any) -> Any:
    """micrograd's demo loss in torch: the relu MLP's output, the mean hinge loss, and 1e-4 × every parameter²."""
    import torch

    h = inputs
    for i, (W, b) in enumerate(tensors):
        h = h @ W.T + b
        if i < len(tensors) - 1:
            h = torch.relu(h)
    return torch.relu(1 - labels * h[:, 0]).mean() + 1e-4 * sum((p * p).sum() for p in params)


def train_step(name: str, points: int = 100, width: int = 16, steps: int = 5) -> dict:
    """micrograd's demo step (hinge loss + 1e-4 L2, SGD) for MLP(2, width, width, 1) on `points` moons.

    gategrad runs it by replay (`Replay.backward`, then `nn.SGD`, as `fit(engine="replay")`
    does), torch with float64 tensors on one thread, micrograd with its own MLP.
    """
    X, y = make_moons(points, noise=0.1, seed=0)
    y = [2 * label - 1 for label in y]
    rng = random.Random(1337)
    sizes = [2, width, width, 1]
    # Each layer's weights and biases, neuron by neuron: micrograd's and gategrad's parameter order.
    layers = [[[rng.uniform(-1, 1) for _ in range(nin)] for _ in range(nout)] for nin, nout in zip(sizes, sizes[1:])]
    start = [x for layer in layers for neuron in layer for x in (*neuron, 0.0)]
    measured: dict = {}
    if name == "torch":
        import torch

        torch.set_num_threads(1)
        tensors = [
            (torch.tensor(layer, dtype=torch.float64), torch.zeros(len(layer), dtype=torch.float64)) for layer in layers
        ]
        params = [p.requires_grad_() for pair in tensors for p in pair]
        inputs, labels = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        optimizer = torch.optim.SGD(params, lr=1.0)

        def step(k: int) -> float:
            loss = torch_hinge_loss(tensors, params, inputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.param_groups[0]["lr"] = 1.0 - 0.9 * k / 100
            optimizer.step()
            return loss.item()

    elif name == "micrograd":
        from micrograd.nn import MLP

        model = MLP(2, sizes[1:])
        for p, x in zip(model.parameters(), start):
            p.data = x

        def step(k: int) -> float:
            scores = [model(x) for x in X]
            data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(y))
            loss = data_loss + 1e-4 * sum(p * p for p in model.parameters())
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data -= (1.0 - 0.9 * k / 100) * p.grad
            return loss.data

    else:
        from gategrad import nn
        from gategrad.replay import Replay

        model = nn.MLP(2, sizes[1:])
        for p, x in zip(model.parameters(), start):
            p.data = x
        optimizer = nn.SGD(model.parameters(), lr=1.0)
        setup = time.process_time()
        replay = Replay(model, nn.hinge_loss, X, y)  # traces, checks and fuses once, before the first step
        measured["setup_seconds"] = time.process_time() - setup

        def step(k: int) -> float:
            optimizer.zero_grad()
            loss, _ = replay.backward(l2=1e-4)
            optimizer.lr = 1.0 - 0.9 * k / 100
            optimizer.step()
            return loss

    losses, times = [], []
    for k in range(steps):
        start_time = time.process_time()
        losses.append(step(k))
        times.append(time.process_time() - start_time)
    return {"seconds_per_step": sorted(times)[len(times) // 2], "losses": losses, **measured}


def bytes_per_node(name: str, steps: int = 100_000) -> dict:
    """Memory of a long `y = y * w + x` chain, measured with tracemalloc: two nodes per step."""
    Value = engine(name)
    x, w, y = Value(0.5), Value(0.999), Value(1.0)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(steps):
        y = y * w + x
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return {"bytes_per_node": (after - before) / (2 * steps)}


def deep_chain(name: str, nodes: int = 1_000_000) -> dict:
    """Forward and backward seconds of a chain of `nodes` gates (micrograd's recursion fails here)."""
    Value = engine(name)
    x, w, y = Value(0.5), Value(0.999), Value(1.0)
    start = time.process_time()
    for _ in range(nodes // 2):
        y = y * w + x
    forward = time.process_time() - start
    start = time.process_time()
    try:
        y.backward()
    except RecursionError:
        return {"forward_seconds": forward, "backward_seconds": None, "error": "RecursionError"}
    return {"forward_seconds": forward, "backward_seconds": time.process_time() - start, "w_grad": w.grad}


TASKS = {
    "mlp_step": mlp_step,
    "nn_step": nn_step,
    "train_step": train_step,
    "bytes_per_node": bytes_per_node,
    "deep_chain": deep_chain,
}

if __name__ == "__main__":
    task, name = sys.argv[1], sys.argv[2]
    kwargs = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    print(json.dumps(TASKS[task](name, **kwargs)))
