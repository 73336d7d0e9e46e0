"""The training loop: batches, loss, backward, step, with a progress bar."""

from __future__ import annotations

import math
import os
import random
import warnings
from collections.abc import Callable, Sequence

from tqdm import tqdm

from gategrad.engine import Value, gc_paused
from gategrad.explain.walkthrough import describe_nonfinite, first_nonfinite
from gategrad.nn.losses import accuracy, l2_penalty
from gategrad.nn.modules import Module
from gategrad.nn.optim import Optimizer
from gategrad.nn.record import Recorder


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
    X: Sequence[Sequence[float]],
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
    record: str | os.PathLike | Recorder | None = None,
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

    `record`, a path or a `Recorder`, keeps every step's parameters and gradients too; with a
    path, the run is saved there as a page to open in a browser (see `nn.Recorder`).
    """
    if alpha is not None:
        warnings.warn("fit(alpha=...) is now fit(l2=...), the name --l2 uses", DeprecationWarning, stacklevel=2)
        l2 = alpha
    if batch_size is not None and not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}")
    if record is not None and not isinstance(record, (str, os.PathLike, Recorder)):
        raise TypeError(f"record must be a path or a Recorder, got {type(record).__name__}: {record!r}")
    recorder = record if isinstance(record, Recorder) or record is None else Recorder()
    if recorder is not None:
        recorder.start(model, X, y, loss_fn, steps, l2)
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
                outputs = [model(X[i]) for i in batch]
                loss = loss_fn(outputs, labels)
                if l2:
                    loss = loss + l2_penalty(params, l2)
                optimizer.zero_grad()
                if math.isfinite(loss.data):
                    loss.backward()
                finite = math.isfinite(loss.data) and all(math.isfinite(p.grad) for p in params)
                right = accuracy(outputs, labels)
                if finite:
                    history["loss"].append(loss.data)
                    history["accuracy"].append(right)
                if recorder is not None:  # the diverging step too: the page shows where it went
                    recorder.record(k, loss.data, right, None if batch_size is None else batch)
                if not finite:
                    where = first_nonfinite(loss)
                    assert where is not None  # the loss or a parameter's gradient is not finite
                    raise TrainingDiverged(k + 1, describe_nonfinite(where, names.get(id(where), "")), history)
                optimizer.step()
                del outputs, loss
            for name, p in named:
                if not math.isfinite(p.data):
                    update = f"the {type(optimizer).__name__} update (lr {optimizer.lr:g}, gradient {p.grad:.6g})"
                    raise TrainingDiverged(k + 1, f"{update} made parameter {name} {p.data}", history)
            bar.set_postfix(loss=f"{history['loss'][-1]:.4f}", accuracy=f"{history['accuracy'][-1]:.2f}", refresh=False)
    except TrainingDiverged:
        if recorder is not None:
            _finish(recorder, record)
        raise
    finally:
        bar.close()
    if recorder is not None:
        _finish(recorder, record)
    return history


def _finish(recorder: Recorder, record: str | os.PathLike | Recorder | None) -> None:
    """Close the record after the last step, and save the page when fit was given a path."""
    recorder.finish()
    if recorder is not record:
        recorder.save(record)  # type: ignore[arg-type]
