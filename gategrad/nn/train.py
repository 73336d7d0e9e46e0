"""The training loop: batches, loss, backward, step, with a progress bar."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from tqdm import tqdm

from gategrad.engine import Value, gc_paused
from gategrad.nn.losses import accuracy, l2_penalty
from gategrad.nn.modules import Module
from gategrad.nn.optim import Optimizer
from gategrad.replay import Replay

ENGINES = ("scalar", "replay")


def fit(
    model: Module,
    X: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[int],
    loss_fn: Callable[[list, Sequence[int]], Value],
    optimizer: Optimizer,
    steps: int = 100,
    *,
    batch_size: int | None = None,
    l2: float = 0.0,
    lr_schedule: Callable[[int], float] | None = None,
    seed: int = 0,
    quiet: bool = False,
    engine: str = "scalar",
    alpha: float | None = None,
) -> dict[str, list[float]]:
    """Train `model` for `steps` steps; returns {"loss": [...], "accuracy": [...]}, one entry per step.

    Each step: set the lr from `lr_schedule(step)` if given, run the model on a batch
    (all of X, or `batch_size` points drawn with `seed`), take `loss_fn(outputs, labels)`
    plus `l2` times the L2 penalty (`l2_penalty`), backpropagate and step. The loss and accuracy
    recorded are the batch's, before the update (as micrograd's demo prints them). The
    progress bar is hidden when `quiet` or when stderr is not a terminal.

    `engine="replay"` computes each step's loss and gradients by batched replay
    (`gategrad.replay.Replay`: the model traced once, run with numpy), equal to the scalar
    engine's to 1e-9 and many times faster; it refuses a model whose circuit depends on the data.
    """
    if alpha is not None:
        warnings.warn("fit(alpha=...) is now fit(l2=...), the name --l2 uses", DeprecationWarning, stacklevel=2)
        l2 = alpha
    if batch_size is not None and not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    replay = Replay(model, loss_fn, X, y) if engine == "replay" else None
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
            optimizer.zero_grad()
            if replay is not None:
                loss, acc = _replay_step(replay, batch, labels, l2)
            else:
                outputs = [model(X[i]) for i in batch]
                total = loss_fn(outputs, labels)
                if l2:
                    total = total + l2_penalty(params, l2)
                total.backward()
                loss, acc = total.data, accuracy(outputs, labels)
                del outputs, total
            optimizer.step()
            history["loss"].append(loss)
            history["accuracy"].append(acc)
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}", accuracy=f"{history['accuracy'][-1]:.2f}", refresh=False)
    return history


def _replay_step(replay: Replay, batch: Sequence[int], labels: Sequence[int], l2: float) -> tuple[float, float]:
    """The batch's loss and accuracy by replay, each parameter's gradient added to its .grad (as backward())."""
    loss, outputs = replay.backward(batch, l2)
    return loss, accuracy(outputs, labels)
