"""Which loss a task trains with (`nn.objective`), the class an output names, and each class's probability."""

import math

import pytest

from gategrad import nn
from gategrad.engine import Value


def test_a_regression_has_one_output_trained_with_mse_on_the_numbers():
    task = nn.objective("mse", 0)
    assert task.outputs == 1 and task.loss is nn.mse_loss
    assert task.label("2.5") == 2.5


def test_cross_entropy_has_one_output_per_class_and_takes_class_indices():
    task = nn.objective("cross_entropy", 3)
    assert task.outputs == 3 and task.loss is nn.cross_entropy
    assert [task.label(c) for c in (0, 1, 2)] == [0, 1, 2]


@pytest.mark.parametrize("loss, function", [("hinge", nn.hinge_loss), ("mse", nn.mse_loss)])
def test_two_classes_with_hinge_or_mse_are_one_score_with_labels_minus_one_and_one(loss, function):
    task = nn.objective(loss, 2)
    assert task.outputs == 1 and task.loss is function
    assert [task.label(0), task.label(1)] == [-1, 1]


def test_two_classes_with_bce_are_one_logit_with_labels_zero_and_one():
    task = nn.objective("bce", 2)
    assert task.outputs == 1 and task.loss is nn.bce_with_logits
    assert [task.label(0), task.label(1)] == [0, 1]


def test_mse_with_three_classes_compares_an_output_per_class_with_one_hot_targets():
    task = nn.objective("mse", 3)
    assert task.outputs == 3
    outputs = [[Value(0.5), Value(-1.0), Value(2.0)], [Value(0.0), Value(1.0), Value(0.0)]]
    loss = task.loss(outputs, [task.label(2), task.label(1)])
    # targets [0, 0, 1] and [0, 1, 0]: squares 0.25, 1, 1 and 0, 0, 0 over six elements
    assert loss.data == pytest.approx((0.25 + 1.0 + 1.0) / 6, abs=1e-15)


@pytest.mark.parametrize("loss", ["hinge", "bce"])
def test_a_two_class_loss_refuses_three_classes_and_names_cross_entropy(loss):
    with pytest.raises(ValueError, match=f"^{loss} needs two classes, the dataset has 3; use cross_entropy$"):
        nn.objective(loss, 3)


def test_an_unknown_loss_or_a_negative_class_count_is_refused_by_name():
    with pytest.raises(ValueError, match="loss must be one of hinge, mse, bce, cross_entropy; got 'l1'"):
        nn.objective("l1", 2)
    with pytest.raises(ValueError, match="classes must be 0 .* got -1"):
        nn.objective("mse", -1)


def test_the_predicted_class_is_the_largest_score_or_the_sign_of_one():
    assert nn.predicted_class([0.1, 2.0, -3.0]) == 1
    assert nn.predicted_class([Value(1.0), Value(1.0), Value(0.5)]) == 0  # a tie goes to the first, as torch's argmax
    assert nn.predicted_class(0.3) == 1
    assert nn.predicted_class(Value(-0.3)) == 0
    assert nn.predicted_class(0.0) == 0


def test_probabilities_of_several_logits_are_their_softmax():
    z = [1.0, 2.0, 3.0]
    total = math.exp(1.0) + math.exp(2.0) + math.exp(3.0)
    assert nn.probabilities(z) == pytest.approx([math.exp(v) / total for v in z], rel=1e-15)


def test_softmax_of_huge_logits_does_not_overflow():
    assert nn.probabilities([1000.0, 1000.0, -1000.0]) == [0.5, 0.5, 0.0]


def test_probabilities_of_one_logit_are_one_minus_its_sigmoid_and_its_sigmoid():
    s = 1.0 / (1.0 + math.exp(-0.5))  # 0.6225
    assert nn.probabilities(0.5) == pytest.approx([1.0 - s, s], rel=1e-15)
    assert nn.probabilities(-1000.0) == [1.0, 0.0]
    assert nn.probabilities(1000.0) == [0.0, 1.0]
