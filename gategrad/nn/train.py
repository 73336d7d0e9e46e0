"""The training loop: batches, loss, backward, step, with a progress bar."""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from tqdm import tqdm

from gategrad.engine import Value, describe_nonfinite, first_nonfinite, fmt, gc_paused
from gategrad.nn.losses import accuracy, l2_penalty
from gategrad.nn.modules import Module
from gategrad.nn.optim import Optimizer
from gategrad.nn.record import Recorder
from gategrad.replay import Replay

ENGINES = ("scalar", "replay")
DIAGNOSE_LIMIT = 2_000  # replay rebuilds a diverged batch of up to this many points as Values, to say where


class TrainingDiverged(RuntimeError):
    """Training met a number that is not finite (inf or nan) and stopped.

    `step` counts from 1, as the progress bar does; `where` says which gate or update made the
    first non-finite number; `history` holds the steps finished before it.
    """

    def __init__(self, step: int, where: str, history: dict[str, list[float]]) -> None:
        super().__init__(f"training diverged at step {step}: {where}")
        self.step, self.where, self.history = step, where, history


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
    record: Recorder | None = None,
    engine: str = "scalar",
    alpha: float | None = None,
) -> dict[str, list[float]]:
    """Train `model` for `steps` steps; returns {"loss": [...], "accuracy": [...]}, one entry per step.

    Each step: set the lr from `lr_schedule(step)` if given, run the model on a batch
    (all of X, or `batch_size` points drawn with `seed`), take `loss_fn(outputs, labels)`
    plus `l2` times the L2 penalty (`l2_penalty`), backpropagate and step. The loss and accuracy
    recorded are the batch's, before the update (as micrograd's demo prints them). The
    progress bar is hidden when `quiet` or when stderr is not a terminal.

    A loss, gradient or parameter that is not finite stops training with TrainingDiverged,
    naming the step and the gate (or the update) that first made one; the model is left as
    that step found it, or as its update left it.

    `record`, a `Recorder`, keeps every step's parameters and gradients too;
    `gategrad.viz.save_run(recorder, path)` then writes the run as a page to open in a browser.

    `engine="replay"` computes each step's loss and gradients by batched replay
    (`gategrad.replay.Replay`: the model traced once, run with numpy), equal to the scalar
    engine's to 1e-9 and many times faster; it refuses a model whose circuit depends on the data.
    """
    if alpha is not None:
        warnings.warn("fit(alpha=...) is now fit(l2=...), the name --l2 uses", DeprecationWarning, stacklevel=2)
        l2 = alpha
    if batch_size is not None and not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}")
    if record is not None and not isinstance(record, Recorder):
        raise TypeError(
            f"record must be a gategrad.nn.Recorder, got {type(record).__name__}: {record!r}; to save the run as a "
            "page, pass recorder = nn.Recorder() and then call gategrad.viz.save_run(recorder, path)"
        )
    recorder = record
    if recorder is not None:
        recorder.start(model, X, y, loss_fn, steps, l2)
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    replay = Replay(model, loss_fn, X, y) if engine == "replay" else None
    rng = random.Random(seed)
    named = model.named_parameters()
    params = [p for _, p in named]
    names = {id(p): f"parameter {name}" for name, p in named}
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    bar = tqdm(range(steps), desc="training", unit="step", disable=True if quiet else None)
    try:
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
                    total, outputs = _scalar_loss(model, X, batch, labels, loss_fn, params, l2)
                    if math.isfinite(total.data):
                        total.backward()
                    loss, acc = total.data, accuracy(outputs, labels)
                    del outputs
                finite = math.isfinite(loss) and all(math.isfinite(p.grad) for p in params)
                if finite:
                    history["loss"].append(loss)
                    history["accuracy"].append(acc)
                if recorder is not None:  # the diverging step too: the page shows where it went
                    recorder.record(k, loss, acc, None if batch_size is None else batch)
                if not finite:
                    if replay is not None:
                        where = _where_replay_diverged(model, X, batch, labels, loss_fn, params, l2, names, loss)
                    else:
                        where = _where(total, names)
                    raise TrainingDiverged(k + 1, where, history)
                optimizer.step()
            for name, p in named:
                if not math.isfinite(p.data):
                    update = f"the {type(optimizer).__name__} update (lr {optimizer.lr:g}, gradient {p.grad:.6g})"
                    raise TrainingDiverged(k + 1, f"{update} made parameter {name} {p.data}", history)
            bar.set_postfix(loss=f"{history['loss'][-1]:.4f}", accuracy=f"{history['accuracy'][-1]:.2f}", refresh=False)
    except TrainingDiverged:
        if recorder is not None:
            recorder.finish()
        raise
    finally:
        bar.close()
    if recorder is not None:
        recorder.finish()
    return history


def _scalar_loss(
    model: Module,
    X: Sequence[Sequence[float]] | np.ndarray,
    batch: Sequence[int],
    labels: Sequence[int],
    loss_fn: Callable[[list, Sequence[int]], Value],
    params: list[Value],
    l2: float,
) -> tuple[Value, list]:
    """The batch's loss as a circuit of Values (plus the L2 penalty), and the model's outputs."""
    outputs = [model(X[i]) for i in batch]
    total = loss_fn(outputs, labels)
    if l2:
        total = total + l2_penalty(params, l2)
    return total, outputs


def _where(total: Value, names: dict[int, str]) -> str:
    """The first gate of the circuit `total` that made a number not finite, in words."""
    where = first_nonfinite(total)
    assert where is not None  # the loss or a parameter's gradient is not finite
    return describe_nonfinite(where, names.get(id(where), ""))


def _replay_step(replay: Replay, batch: Sequence[int], labels: Sequence[int], l2: float) -> tuple[float, float]:
    """The batch's loss and accuracy by replay, each parameter's gradient added to its .grad (as backward())."""
    loss, outputs = replay.backward(batch, l2)
    return loss, accuracy(outputs, labels)


def _where_replay_diverged(
    model: Module,
    X: Sequence[Sequence[float]] | np.ndarray,
    batch: Sequence[int],
    labels: Sequence[int],
    loss_fn: Callable[[list, Sequence[int]], Value],
    params: list[Value],
    l2: float,
    names: dict[int, str],
    loss: float,
) -> str:
    """Where a replayed step stopped being finite: the batch rebuilt as Values, for the scalar engine to say."""
    if len(batch) > DIAGNOSE_LIMIT:
        return (
            f"replay's loss ({fmt(loss)}) or a gradient is not finite; {len(batch)} points are too many to rebuild "
            f'as Values and name the gate: train a batch of at most {DIAGNOSE_LIMIT} with engine="scalar" to see it'
        )
    for p in params:
        p.grad = -0.0
    total, _ = _scalar_loss(model, X, batch, labels, loss_fn, params, l2)
    if math.isfinite(total.data):
        total.backward()
    if first_nonfinite(total) is None:
        return f"replay's loss ({fmt(loss)}) or a gradient is not finite, though the scalar engine's are all finite"
    return _where(total, names)
