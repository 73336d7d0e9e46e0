"""Losses, each the mean over samples as torch.nn.functional's, and accuracy."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

from gategrad.engine import Value
from gategrad.nn.modules import predicted_class


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


def l2_penalty(parameters: Iterable[Value], l2: float) -> Value:
    """`l2` times the sum of squared parameters (micrograd's weight regularisation).

    Its gradient is 2·l2·p, so it equals an optimizer's `weight_decay` of 2·l2 (torch's name for it).
    """
    return Value.sum([p * p for p in parameters]) * l2


def accuracy(outputs: Iterable, labels: Sequence[int]) -> float:
    """The fraction of samples classified right, each output's class by `predicted_class`.

    A single score's label counts as class 1 when > 0 (labels +1/-1, or 1/0 for logits); with
    several scores the label is the class index. Only each output's number is read, one at a
    time: given a generator, such as `(model(x) for x in X)`, or the plain numbers of
    `nn.predict`, no sample's circuit outlives its turn. Replay's outputs, a numpy array of a
    score per sample or a row of scores, are read as lists of numbers.
    """
    if hasattr(outputs, "tolist"):  # a numpy array: its rows as lists, its scores as floats
        outputs = outputs.tolist()
    classes, several = [], False
    for out in outputs:  # each circuit is let go once its class is read
        several = isinstance(out, (list, tuple))
        classes.append(predicted_class(out))
    if len(classes) != len(labels):
        raise ValueError(f"accuracy: {len(classes)} outputs but {len(labels)} labels")
    if not classes:
        raise ValueError("accuracy: no samples")
    truth = labels if several else [int(y > 0) for y in labels]
    return sum(map(operator.eq, classes, truth)) / len(classes)
