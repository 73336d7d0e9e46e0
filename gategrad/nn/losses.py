"""Losses, each the mean over samples as torch.nn.functional's; which loss a task trains with; accuracy, R² and MAE."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from gategrad.engine import Value

if TYPE_CHECKING:
    from gategrad.nn.modules import Module

# One sample's output or target: a number, or a list of them.
Sample = Value | float | Sequence[Value | float]


def _check_pairs(what: str, outputs: Sequence[object], labels: Sequence[object]) -> int:
    if len(outputs) != len(labels):
        raise ValueError(f"{what}: {len(outputs)} outputs but {len(labels)} labels")
    if not outputs:
        raise ValueError(f"{what}: no samples")
    return len(outputs)


def mse_loss(preds: Sequence[Sample], targets: Sequence[Sample]) -> Value:
    """Mean squared error over every element, as torch's mse_loss; a sample may be a number or a list."""
    _check_pairs("mse_loss", preds, targets)
    squares: list[Value | float] = []
    for p, t in zip(preds, targets):
        if isinstance(p, (list, tuple)):
            if not isinstance(t, (list, tuple)) or len(t) != len(p):
                raise ValueError(f"mse_loss: a prediction of {len(p)} outputs needs a target of {len(p)} numbers")
            squares += [(pi - ti) ** 2 for pi, ti in zip(p, t)]
        else:
            squares.append((p - t) ** 2)  # type: ignore[operator]  # a sample that is not a list or tuple is a number
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

    Each sample's largest logit, taken with max gates, is subtracted first, so exp never
    overflows. Softmax does not change, and the gradient through the max is 0 (up to rounding):
    every sample has the same circuit, whatever its numbers.
    """
    n = _check_pairs("cross_entropy", logits_per_sample, labels)
    losses = []
    for logits, y in zip(logits_per_sample, labels):
        if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < len(logits):
            raise ValueError(f"cross_entropy: label {y!r} is not a class index below {len(logits)}")
        top = logits[0]
        for z in logits[1:]:
            top = top.max(z)
        shifted = [z - top for z in logits]
        log_sum_exp = Value.sum([s.exp() for s in shifted]).log()
        losses.append(log_sum_exp - shifted[y])
    return Value.sum(losses) / n


LOSSES = ("hinge", "mse", "bce", "cross_entropy")


@dataclass(frozen=True)
class Objective:
    """What training with a loss on a task needs: the net's outputs, the loss function, and each target's label."""

    outputs: int
    loss: Callable[[Sequence[Any], Sequence[Any]], Value]  # each loss takes its own kind of outputs and labels
    label: Callable[[Any], Any]


def objective(loss: str, classes: int) -> Objective:
    """How `loss` reads a task of `classes` classes; 0 classes is a regression, which takes mse of one output.

    cross_entropy has an output per class and takes class indices; so does mse with more than two
    classes, against one-hot targets. With two classes there is one output: a logit with labels
    0/1 for bce, a score with labels -1/+1 for hinge and mse.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    if classes < 0:
        raise ValueError(f"classes must be 0 (a regression) or more, got {classes}")
    if classes == 0:
        return Objective(1, mse_loss, float)
    if loss == "cross_entropy":
        return Objective(classes, cross_entropy, int)
    if loss == "mse" and classes > 2:
        return Objective(classes, _one_hot_mse(classes), int)
    if classes > 2:
        raise ValueError(f"{loss} needs two classes, the dataset has {classes}; use cross_entropy")
    if loss == "bce":
        return Objective(1, bce_with_logits, int)
    return Objective(1, hinge_loss if loss == "hinge" else mse_loss, lambda c: 2 * c - 1)


def _one_hot_mse(classes: int) -> Callable[[Sequence[Sample], Sequence[int]], Value]:
    def one_hot_mse(outputs: Sequence[Sample], labels: Sequence[int]) -> Value:
        return mse_loss(outputs, [[float(j == c) for j in range(classes)] for c in labels])

    return one_hot_mse


def l2_penalty(
    parameters: Module | Iterable[Value] | Iterable[tuple[str, Value]],
    l2: float,
    *,
    half: bool = False,
    biases: bool = True,
) -> Value:
    """`l2` times the sum of squared parameters (micrograd's weight regularisation).

    Its gradient is 2·l2·p, so it equals an optimizer's `weight_decay` of 2·l2 (torch's name for it).
    `half=True` takes half of it, cs231n's 0.5·reg·Σ W², whose gradient is reg·W. `biases=False`
    leaves every bias out, as cs231n and most courses do; it needs the names, so pass the model
    (or its `named_parameters()`) rather than bare Values.
    """
    return Value.sum([p * p for p in penalised(parameters, biases)]) * (0.5 * l2 if half else l2)


def penalised(parameters: Module | Iterable[Value] | Iterable[tuple[str, Value]], biases: bool = True) -> list[Value]:
    """The parameters an L2 penalty squares: all of them, or (`biases=False`) all but the biases."""
    if hasattr(parameters, "named_parameters"):
        parameters = parameters.named_parameters()
    items = list(parameters)
    named = [item for item in items if isinstance(item, tuple)]
    if named and len(named) != len(items):
        raise TypeError("l2_penalty takes Values or (name, Value) pairs, not a mix of them")
    if not named:
        if not biases:
            raise ValueError(
                "l2_penalty(biases=False) tells a bias by its name: pass the model or model.named_parameters(), "
                "not model.parameters()"
            )
        return cast("list[Value]", items)
    return [p for name, p in named if biases or not is_bias(name)]


def is_bias(name: str) -> bool:
    """Whether a parameter's name (from `named_parameters()`, such as "layers.0.neurons.3.b") is a bias."""
    return name == "b" or name.endswith(".b")


def accuracy(outputs: Iterable[Value | float | Sequence[Value | float]], labels: Sequence[float]) -> float:
    """The fraction of samples classified right, each output's class by `predicted_class`.

    A single score's label counts as class 1 when > 0 (labels +1/-1, or 1/0 for logits); with
    several scores the label is the class index. Only each output's number is read, one at a
    time: given a generator, such as `(model(x) for x in X)`, or the plain numbers of
    `nn.predict`, no sample's circuit outlives its turn. Replay's outputs, a numpy array of a
    score per sample or a row of scores, are read as lists of numbers.
    """
    if hasattr(outputs, "argmax") and hasattr(labels, "argmax"):  # replay's arrays, counted by numpy
        return _accuracy_of_arrays(outputs, labels)
    if hasattr(outputs, "tolist"):  # a numpy array: its rows as lists, its scores as floats
        outputs = outputs.tolist()
    classes, several = [], False
    for out in outputs:  # each circuit is let go once its class is read
        several = isinstance(out, Sequence)
        classes.append(predicted_class(out))
    if len(classes) != len(labels):
        raise ValueError(f"accuracy: {len(classes)} outputs but {len(labels)} labels")
    if not classes:
        raise ValueError("accuracy: no samples")
    # several scores against a class index; one score's class (0 or 1) against its label's sign
    truth = labels if several else [int(y > 0) for y in labels]
    right: int = sum(map(operator.eq, classes, truth))  # operator.eq is typed Any; on ints it gives bools
    return right / len(classes)


def _accuracy_of_arrays(outputs: Any, labels: Any) -> float:
    """accuracy's rule on numpy arrays of outputs and labels, counted by numpy (which this module never imports)."""
    several = outputs.ndim == 2
    classes = outputs.argmax(axis=1) if several else outputs > 0
    return float((classes == (labels if several else labels > 0)).mean())


def r2_score(outputs: Iterable[Value | float], targets: Sequence[float]) -> float:
    """The coefficient of determination, as sklearn's r2_score: 1 - (squared error) / (squared spread of the targets).

    1 is a perfect fit, 0 no better than always predicting the targets' mean, below 0 worse. Targets
    that are all equal have no spread: 1.0 if every output equals them, else 0.0 (as sklearn's).
    Like `accuracy`, it reads only each output's number, and takes a numpy array as a list.
    """
    predictions = _numbers("r2_score", outputs, targets)
    mean = math.fsum(targets) / len(targets)
    residual = math.fsum((t - p) * (t - p) for p, t in zip(predictions, targets))
    spread = math.fsum((t - mean) * (t - mean) for t in targets)
    if spread == 0.0:
        return 1.0 if residual == 0.0 else 0.0
    return 1.0 - residual / spread


def mean_absolute_error(outputs: Iterable[Value | float], targets: Sequence[float]) -> float:
    """The mean of |output - target|, as sklearn's mean_absolute_error (torch's l1_loss): in the targets' units."""
    predictions = _numbers("mean_absolute_error", outputs, targets)
    return math.fsum(abs(t - p) for p, t in zip(predictions, targets)) / len(targets)


def _numbers(what: str, outputs: Iterable[Value | float], targets: Sequence[float]) -> list[float]:
    """Each single output's number, as many as there are targets."""
    if hasattr(outputs, "tolist"):  # a numpy array of one score per sample
        outputs = outputs.tolist()
    numbers = [o.data if isinstance(o, Value) else float(o) for o in outputs]
    _check_pairs(what, numbers, targets)
    return numbers


def predicted_class(output: Value | float | Sequence[Value | float]) -> int:
    """The class an output names: the largest of several scores (the first of a tie, as torch's argmax),
    or for a single score class 1 when it is above 0 (labels +1/-1, or 1/0 for a logit)."""
    if isinstance(output, Sequence):
        scores = [s.data if isinstance(s, Value) else s for s in output]
        return scores.index(max(scores))
    score = output.data if isinstance(output, Value) else output
    return int(score > 0)


def probabilities(output: float | Sequence[float]) -> list[float]:
    """Each class's probability from a net's plain outputs: the softmax of several logits (cross_entropy's),
    or [1 - sigmoid(z), sigmoid(z)] for one logit z (bce's)."""
    if isinstance(output, Sequence):
        top = max(output)  # subtracted first, so exp never overflows; softmax does not change
        e = [math.exp(z - top) for z in output]
        total = math.fsum(e)
        return [v / total for v in e]
    z = output
    # the form of sigmoid that never takes exp of a large positive number
    p = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
    return [1.0 - p, p]
