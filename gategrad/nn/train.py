"""The training loop: batches, loss, backward, step. `Training` takes one step at a time; `fit` runs many.

numpy is loaded only for `engine="replay"`, and tqdm only by `fit`: a `Training` on the scalar
engine runs on the light core, as the browser playground runs it. A replayed Training keeps the
parameters in numpy vectors while it steps (`gategrad.replay.flat`) and writes them back into the
Values after each `step()`, or once at the end of `fit`.
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from gettext import NullTranslations
from typing import TYPE_CHECKING, Any, cast

from gategrad.engine import Value, first_nonfinite, fmt, gc_paused, nonfinite_numbers, say_nonfinite
from gategrad.engine.gates import translate
from gategrad.engine.nonfinite import NONFINITE
from gategrad.nn.losses import accuracy, l2_penalty, mean_absolute_error, penalised, r2_score
from gategrad.nn.modules import Module
from gategrad.nn.optim import OPTIMIZERS, Optimizer, clip_grad_norm
from gategrad.nn.record import Recorder

if TYPE_CHECKING:
    import numpy as np

    from gategrad.replay import Replay
    from gategrad.replay.flat import FlatParameters

ENGINES = ("scalar", "replay")
DIAGNOSE_LIMIT = 2_000  # replay rebuilds a diverged batch of up to this many points as Values, to say where
GROWTH = 1e3  # a loss this many times the first step's has run away: training stops, as it does on a nan
# Why training stopped, by kind (besides the engine's NONFINITE, where a gate went non-finite): templates with
# named numbers, so the command line and the playground say them in the reader's language. A pair (singular,
# plural) counts its {n}.
DIVERGED: dict[str, str | tuple[str, str]] = {
    "grown": (
        "the loss grew from {first} at step 1 to {loss}, over {n} time: the {optimizer} steps overshoot "
        "(lr {lr} at this step); try Adam or a smaller lr",
        "the loss grew from {first} at step 1 to {loss}, over {n} times: the {optimizer} steps overshoot "
        "(lr {lr} at this step); try Adam or a smaller lr",
    ),
    "update": "the {optimizer} update (lr {lr}, gradient {grad}) made parameter {name} {value}",
    "parameter": "parameter {name} is {value}",
    "parameter_gradient": "the gradient of parameter {name} added up to {grad}",
    "too_many": (
        "replay's loss ({loss}) or a gradient is not finite; {n} point is too many to rebuild as Values and name "
        'the gate: train a batch of at most {limit} with engine="scalar" to see it',
        "replay's loss ({loss}) or a gradient is not finite; {n} points are too many to rebuild as Values and name "
        'the gate: train a batch of at most {limit} with engine="scalar" to see it',
    ),
    "replay_finite": "replay's loss ({loss}) or a gradient is not finite, though the scalar engine's are all finite",
}
STOPPED = "training diverged at step {step}: {where}"


class TrainingDiverged(RuntimeError):
    """Training met a number that is not finite (inf or nan), or a loss `GROWTH` times its first, and stopped.

    `step` counts from 1, as the progress bar does; `where` says which gate or update made the
    first non-finite number, or how far the loss grew; `history` holds the steps finished before it.
    `kind` (a key of `DIVERGED` or of the engine's `NONFINITE`) and `numbers` are `where` before it
    is said, for `where_in` to say it in another language.
    """

    def __init__(self, step: int, kind: str, numbers: dict[str, Any], history: dict[str, list[float]]) -> None:
        self.step, self.kind, self.numbers, self.history = step, kind, numbers, history
        self.where = self.where_in()
        super().__init__(STOPPED.format(step=step, where=self.where))

    def where_in(self, t: NullTranslations | None = None, **names: str) -> str:
        """`where` in the language of `t`, a gettext translations object (English without one); `names` are
        numbers to use instead, such as the gate's name in that language (`gategrad.explain.lang.gate_numbers`)."""
        if self.kind in NONFINITE:
            return say_nonfinite(self.kind, self.numbers, t, **names)
        text = translate(DIVERGED[self.kind], int(self.numbers.get("n", 1)), t or NullTranslations())
        return text.format(**{**self.numbers, **names})


class Training:
    """A training run taken one `step()` at a time: what `fit` loops over, and what the playground steps.

    It holds the model, the data, the loss, the optimizer, the batches drawn with `seed` and
    `steps`, the number of steps taken. Each `step()` sets the lr from `lr_schedule(steps)` if
    given, runs the model on a batch (all of X, or `batch_size` points), takes `loss_fn(outputs,
    labels)` plus `l2` times the L2 penalty, backpropagates, updates, and returns the batch's loss
    and accuracy from before the update. `history` keeps them. A `regression` keeps R² and MAE
    instead of accuracy (`r2_score`, `mean_absolute_error`), and returns R² in accuracy's place; its
    MAE is in the target's units when the model's `data_info` standardised the target. A `recorder`
    (already started) keeps each step's parameters and gradients. `clip_grad_norm` scales the
    gradients down to that length before each update (as torch.nn.utils.clip_grad_norm_). A number
    that is not finite, or a loss `GROWTH` times the first step's, raises TrainingDiverged, as `fit`
    describes.
    """

    def __init__(
        self,
        model: Module,
        X: Sequence[Sequence[float]] | np.ndarray,
        y: Sequence[float],
        loss_fn: Callable[[list[Any], Sequence[Any]], Value],
        optimizer: Optimizer,
        *,
        batch_size: int | None = None,
        l2: float = 0.0,
        clip_grad_norm: float | None = None,
        l2_half: bool = False,
        l2_biases: bool = True,
        lr_schedule: Callable[[int], float] | None = None,
        seed: int = 0,
        recorder: Recorder | None = None,
        engine: str = "scalar",
        regression: bool = False,
    ) -> None:
        if batch_size is not None and not 1 <= batch_size <= len(X):
            raise ValueError(f"batch_size must be between 1 and {len(X)}, got {batch_size}")
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
        if clip_grad_norm is not None and (
            isinstance(clip_grad_norm, bool) or not isinstance(clip_grad_norm, (int, float)) or not clip_grad_norm > 0
        ):
            raise ValueError(f"clip_grad_norm must be a number above 0, or None, got {clip_grad_norm!r}")
        self.model, self.X, self.y, self.loss_fn, self.optimizer = model, X, y, loss_fn, optimizer
        self.batch_size, self.l2, self.lr_schedule, self.recorder = batch_size, l2, lr_schedule, recorder
        self.clip_grad_norm = clip_grad_norm
        # l2_penalty(model, l2, half=l2_half, biases=l2_biases): the factor, and (biases left out) a flag per parameter.
        self._l2 = 0.5 * l2 if l2_half else l2
        self._l2_biases = l2_biases
        self.replay = _replay(model, loss_fn, X, y) if engine == "replay" else None
        self._flat = None
        if self.replay is not None:
            kept = {id(p) for p in self._penalised} if not l2_biases else set()
            mask = None if l2_biases else [id(p) in kept for p in self.replay.params]
            self._flat = _flat(self.replay.params, optimizer, mask)
        self._held = False  # whether the parameters live in self._flat's vectors just now
        self.steps = 0
        self.batch: Sequence[int] = range(len(X))  # the last step's batch
        self.regression = regression
        info = model.data_info
        # The net learns a standardised target, (y - mean) / scale: its errors times scale are in y's units.
        self._unit = info.target_scale if regression and info is not None and info.target_scale else 1.0
        self.history: dict[str, list[float]] = {"loss": [], **{name: [] for name in self._metric_names()}}
        self._rng = random.Random(seed)

    @cached_property
    def _named(self) -> list[tuple[str, Value]]:
        """The parameters and their names, made when first needed (a replayed step needs them only to say where
        training diverged, or which are biases)."""
        return self.model.named_parameters()

    @cached_property
    def _params(self) -> list[Value]:
        return [p for _, p in self._named]

    @cached_property
    def _penalised(self) -> list[Value]:
        """The parameters the L2 penalty squares: l2_penalty(model, l2, biases=l2_biases)'s."""
        return penalised(self._named, self._l2_biases)

    def step(self) -> tuple[float, float]:
        """One step on the next batch: (its loss, its accuracy or, for a regression, R²), from before the update."""
        with self.vectors():
            return self._step()

    @contextmanager
    def vectors(self) -> Iterator[None]:
        """Inside it, a replayed Training keeps the parameters, their gradients and the optimizer's state
        in numpy vectors, and writes them back into the Values (and the optimizer) on leaving; a Recorder
        still reads every step's. `fit` trains inside it. On the scalar engine it does nothing."""
        if self._flat is None or self._held:
            yield
            return
        self._flat.load()
        self._held = True
        try:
            yield
        finally:
            self._held = False
            self._flat.write_back()

    def _step(self) -> tuple[float, float]:
        k, optimizer = self.steps, self.optimizer
        if self.lr_schedule is not None:
            optimizer.lr = self.lr_schedule(k)
        n = len(self.X)
        batch = range(n) if self.batch_size is None else self._rng.sample(range(n), self.batch_size)
        self.batch = batch
        if self._flat is not None:
            return self._replay_step(k, batch)
        labels, params = [self.y[i] for i in batch], self._params
        # A step builds thousands of gates and frees them together; pausing the cyclic
        # garbage collector meanwhile saves it rescanning them (there are no cycles).
        # The circuit is let go inside the block, so the collector never sees it.
        with gc_paused():
            optimizer.zero_grad()
            total, outputs = _scalar_loss(self.model, self.X, batch, labels, self.loss_fn, self._penalised, self._l2)
            if math.isfinite(total.data):
                total.backward()
            loss, metrics = total.data, self._metrics(outputs, labels)
            del outputs
            finite = math.isfinite(loss) and all(math.isfinite(p.grad) for p in params)
            if finite:
                self.history["loss"].append(loss)
                for name, value in metrics.items():
                    self.history[name].append(value)
            if self.recorder is not None:  # the diverging step too: the page shows where it went
                self.recorder.record(k, loss, metrics, None if self.batch_size is None else batch)
            if not finite:
                raise TrainingDiverged(k + 1, *_where(total, self._names()), self.history)
            self._stop_if_grown(k, loss)
            if self.clip_grad_norm is not None:
                clip_grad_norm(self.model.parameters(), self.clip_grad_norm)
            optimizer.step()
        self.steps += 1
        for name, p in self._named:
            if not math.isfinite(p.data):
                raise TrainingDiverged(k + 1, "update", self._update_made(name, p.data, p.grad), self.history)
        return loss, metrics["r2" if self.regression else "accuracy"]

    def _metric_names(self) -> tuple[str, ...]:
        return ("r2", "mae") if self.regression else ("accuracy",)

    def _metrics(self, outputs: Any, labels: Sequence[float]) -> dict[str, float]:
        """The batch's accuracy, or a regression's R² and MAE (in the target's units)."""
        if not self.regression:
            return {"accuracy": accuracy(outputs, labels)}
        if hasattr(outputs, "tolist"):  # replay's array, read once for both
            outputs = outputs.tolist()
        else:
            outputs = [o.data for o in outputs]
        return {"r2": r2_score(outputs, labels), "mae": mean_absolute_error(outputs, labels) * self._unit}

    def _stop_if_grown(self, k: int, loss: float) -> None:
        """Stop a run whose loss grew GROWTH times its first: the steps overshoot, and it would soon be inf."""
        first = self.history["loss"][0]
        if loss > GROWTH * first > 0:
            numbers = {
                "first": fmt(first),
                "loss": fmt(loss),
                "n": str(int(GROWTH)),
                "optimizer": type(self.optimizer).__name__,
                "lr": f"{self.optimizer.lr:g}",
            }
            raise TrainingDiverged(k + 1, "grown", numbers, self.history)

    def _replay_step(self, k: int, batch: Sequence[int]) -> tuple[float, float]:
        """The step by replay, on the vectors of `self._flat`: the same numbers, no Value touched."""
        flat, replay = self._flat, self.replay
        assert flat is not None and replay is not None
        whole = self.batch_size is None
        loss, scores = replay.gradient(flat.data, flat.grad, None if whole else batch)
        loss = flat.add_l2(loss, self._l2)
        if replay.label_array is not None and not self.regression:  # numbers: counted by numpy
            labels = cast("Sequence[float]", replay.label_array if whole else replay.label_array[batch])
            metrics = {"accuracy": accuracy(scores, labels)}
        else:
            metrics = self._metrics(scores, [self.y[i] for i in batch])
        finite = flat.finite(loss)
        if finite:
            self.history["loss"].append(loss)
            for name, value in metrics.items():
                self.history[name].append(value)
        if self.recorder is not None:  # the diverging step too: the page shows where it went
            if self.recorder.reads(k):  # the vectors themselves, copied there: no Value is written
                self.recorder.record(k, loss, metrics, None if whole else batch, flat.data, flat.grad)
        if not finite:
            flat.write_back()
            where = self._where_replay_diverged(batch, [self.y[i] for i in batch], loss)
            raise TrainingDiverged(k + 1, *where, self.history)
        self._stop_if_grown(k, loss)
        if self.clip_grad_norm is not None:
            flat.clip_grad_norm(self.clip_grad_norm)
        flat.step()
        self.steps += 1
        if (i := flat.first_nonfinite()) is not None:
            name = self._names().get(id(replay.params[i]), str(i))
            numbers = self._update_made(name, float(flat.data[i]), float(flat.grad[i]))
            raise TrainingDiverged(k + 1, "update", numbers, self.history)
        return loss, metrics["r2" if self.regression else "accuracy"]

    def _update_made(self, name: str, value: float, grad: float) -> dict[str, str]:
        """The numbers of DIVERGED["update"]: an update that made a parameter not finite."""
        optimizer = self.optimizer
        lr, grad_text = f"{optimizer.lr:g}", f"{grad:.6g}"
        return {"optimizer": type(optimizer).__name__, "lr": lr, "grad": grad_text, "name": name, "value": fmt(value)}

    def _names(self) -> dict[int, str]:
        return {id(p): name for name, p in self._named}

    def _where_replay_diverged(
        self, batch: Sequence[int], labels: Sequence[float], loss: float
    ) -> tuple[str, dict[str, Any]]:
        """Where a replayed step stopped being finite, as a kind and its numbers: the batch rebuilt as Values, for
        the scalar engine to say."""
        if len(batch) > DIAGNOSE_LIMIT:
            return "too_many", {"loss": fmt(loss), "n": str(len(batch)), "limit": str(DIAGNOSE_LIMIT)}
        for p in self._params:
            p.grad = -0.0
        total, _ = _scalar_loss(self.model, self.X, batch, labels, self.loss_fn, self._penalised, self._l2)
        if math.isfinite(total.data):
            total.backward()
        if first_nonfinite(total) is None:
            return "replay_finite", {"loss": fmt(loss)}
        return _where(total, self._names())


def fit(
    model: Module,
    X: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[float],
    loss_fn: Callable[[list[Any], Sequence[Any]], Value],
    optimizer: Optimizer,
    steps: int = 100,
    *,
    batch_size: int | None = None,
    l2: float = 0.0,
    clip_grad_norm: float | None = None,
    l2_half: bool = False,
    l2_biases: bool = True,
    lr_schedule: Callable[[int], float] | None = None,
    seed: int = 0,
    quiet: bool = False,
    record: Recorder | None = None,
    engine: str = "scalar",
    alpha: float | None = None,
    regression: bool = False,
) -> dict[str, list[float]]:
    """Train `model` for `steps` steps; returns {"loss": [...], "accuracy": [...]}, one entry per step.

    Each step: set the lr from `lr_schedule(step)` if given, run the model on a batch
    (all of X, or `batch_size` points drawn with `seed`), take `loss_fn(outputs, labels)`
    plus `l2` times the L2 penalty (`l2_penalty`; `l2_half` and `l2_biases` are its `half` and `biases`),
    backpropagate, scale the gradients down to a length of `clip_grad_norm` if given (`clip_grad_norm`),
    and step. The loss and accuracy
    recorded are the batch's, before the update (as micrograd's demo prints them). The
    progress bar is hidden when `quiet` or when stderr is not a terminal.

    A loss, gradient or parameter that is not finite stops training with TrainingDiverged,
    naming the step and the gate (or the update) that first made one; the model is left as
    that step found it, or as its update left it. So does a loss `GROWTH` (1000) times the
    first step's: the steps overshoot, and the loss would soon be inf.

    `regression=True` (a target of numbers, `mse_loss`) keeps R² and MAE instead of accuracy:
    {"loss", "r2", "mae"}.

    `record`, a `Recorder`, keeps every step's health figures too, and its parameters and gradients (a large
    net's at fewer steps); `gategrad.viz.save_run(recorder, path)` then writes the run as a page to open in a
    browser. With `engine="replay"` the Recorder works out the layers' activations by replay too.

    `engine="replay"` computes each step's loss and gradients by batched replay
    (`gategrad.replay.Replay`: the model traced once, run with numpy), equal to the scalar
    engine's to 1e-9 and many times faster; it refuses a model whose circuit depends on the data.
    It traces a model once and reuses that in later fits until the model's structure changes; while
    it trains, the parameters live in numpy vectors, written back into the Values when fit returns
    (or stops); a `record` reads them from the vectors.
    """
    from tqdm import tqdm  # only the loop with a progress bar needs it, not a Training stepped on its own

    if alpha is not None:
        warnings.warn("fit(alpha=...) is now fit(l2=...), the name --l2 uses", DeprecationWarning, stacklevel=2)
        l2 = alpha
    if record is not None and not isinstance(record, Recorder):
        raise TypeError(
            f"record must be a gategrad.nn.Recorder, got {type(record).__name__}: {record!r}; to save the run as a "
            "page, pass recorder = nn.Recorder() and then call gategrad.viz.save_run(recorder, path)"
        )
    recorder = record
    if recorder is not None:
        recorder.start(model, X, y, loss_fn, steps, l2, engine)
    training = Training(
        model,
        X,
        y,
        loss_fn,
        optimizer,
        batch_size=batch_size,
        l2=l2,
        clip_grad_norm=clip_grad_norm,
        l2_half=l2_half,
        l2_biases=l2_biases,
        lr_schedule=lr_schedule,
        seed=seed,
        recorder=recorder,
        engine=engine,
        regression=regression,
    )
    metric = "r2" if regression else "accuracy"
    bar = tqdm(range(steps), desc="training", unit="step", disable=True if quiet else None)
    try:
        with training.vectors():
            for _ in bar:
                loss, score = training.step()
                bar.set_postfix({"loss": f"{loss:.4f}", metric: f"{score:.2f}"}, refresh=False)
    except TrainingDiverged:
        if recorder is not None:
            recorder.finish()
        raise
    finally:
        bar.close()
        if training.replay is not None:
            training.replay.release()
    if recorder is not None:
        recorder.finish()
    return training.history


def _replay(
    model: Module,
    loss_fn: Callable[[list[Any], Sequence[Any]], Value],
    X: Sequence[Sequence[float]] | np.ndarray,
    y: Sequence[float],
) -> Replay:
    from gategrad.replay import Replay  # numpy: loaded only when asked for

    return Replay(model, loss_fn, X, y)


def _flat(params: list[Value], optimizer: Optimizer, penalised: list[bool] | None) -> FlatParameters:
    from gategrad.replay.flat import FlatParameters

    kind = next((name for name, cls in OPTIMIZERS.items() if type(optimizer) is cls), None)
    return FlatParameters(params, optimizer, kind, penalised)


def _scalar_loss(
    model: Module,
    X: Sequence[Sequence[float]] | np.ndarray,
    batch: Sequence[int],
    labels: Sequence[float],
    loss_fn: Callable[[list[Any], Sequence[Any]], Value],
    params: list[Value],
    l2: float,
) -> tuple[Value, list[Value | list[Value]]]:
    """The batch's loss as a circuit of Values (plus `l2` times the squares of `params`), and the model's outputs."""
    outputs = [model(X[i]) for i in batch]
    total = loss_fn(outputs, labels)
    if l2:
        total = total + l2_penalty(params, l2)
    return total, outputs


def _where(total: Value, names: dict[int, str]) -> tuple[str, dict[str, Any]]:
    """The first gate of the circuit `total` that made a number not finite, as a kind and its numbers; a leaf in
    `names` is a parameter, called by its name."""
    where = first_nonfinite(total)
    assert where is not None  # the loss or a parameter's gradient is not finite
    kind, numbers = nonfinite_numbers(where)
    if id(where) in names:  # a leaf: kind "input" or "input_gradient"
        kind = {"input": "parameter", "input_gradient": "parameter_gradient"}[kind]
        return kind, {**numbers, "name": names[id(where)]}
    return kind, numbers
