"""Each kind of wrong, on small arrays whose true gradient is known: what `compare` calls it and says."""

import numpy as np
import pytest

from gategrad.check.diagnose import RTOL, compare, derivative_note, uses_note

TRUE = np.array([[0.5, -1.0, 0.25], [2.0, 0.0, -0.75]])


def test_the_same_numbers_agree_with_no_diagnosis():
    c = compare(TRUE.copy(), TRUE)
    assert c.agrees and c.max_abs_error == 0.0 and c.diagnosis is None


def test_the_tolerance_is_relative_to_the_largest_true_entry():
    scale = np.abs(TRUE).max()  # 2
    inside, outside = TRUE.copy(), TRUE.copy()
    inside[0, 0] += 0.9 * RTOL * scale
    outside[0, 0] += 1.1 * RTOL * scale
    assert compare(inside, TRUE).agrees
    assert not compare(outside, TRUE).agrees
    assert compare(outside, TRUE).max_abs_error == pytest.approx(1.1 * RTOL * scale)
    assert RTOL == 1e-8


def test_an_all_zero_true_gradient_needs_zeros():
    assert compare(np.zeros(3), np.zeros(3)).agrees
    assert compare(np.array([0.0, 1e-300, 0.0]), np.zeros(3)).diagnosis.kind == "other"


def test_the_same_inf_or_nan_agrees_but_a_nan_where_the_truth_is_finite_does_not():
    true = np.array([np.inf, np.nan, 1.0])
    assert compare(true.copy(), true).agrees
    c = compare(np.array([np.inf, np.nan, np.nan]), true)
    assert not c.agrees and np.isnan(c.max_abs_error)
    assert c.diagnosis.kind == "nonfinite"
    assert c.diagnosis.message.startswith("1 of 3 entries are nan or inf (the first at [2])")


def test_a_gradient_per_sample_is_a_shape_and_says_which_axis_to_sum():
    dz = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])  # 2 samples × 3 units
    c = compare(dz, dz.sum(axis=0))
    assert (c.agrees, c.max_abs_error, c.diagnosis.kind) == (False, None, "shape")
    assert "Yours has shape (2, 3), the true gradient (3,)" in c.diagnosis.message
    assert c.diagnosis.message.endswith("add them up: .sum(axis=0).")


def test_in_column_layout_the_bias_sums_over_axis_1_and_keeps_its_column():
    delta = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]])  # 2 units × 4 samples
    c = compare(delta, delta.sum(axis=1, keepdims=True))
    assert c.diagnosis.kind == "shape"
    assert ".sum(axis=1, keepdims=True)" in c.diagnosis.message


def test_the_right_numbers_in_another_shape_say_reshape():
    c = compare(np.array([[1.0, 2.0, 3.0]]), np.array([1.0, 2.0, 3.0]))
    assert c.diagnosis.kind == "shape"
    assert "with the right numbers: reshape yours to (3,)" in c.diagnosis.message


def test_a_shape_with_nothing_more_to_say():
    c = compare(np.ones((2, 2)), np.ones(3))
    assert (
        c.diagnosis.message == "Yours has shape (2, 2), the true gradient (3,): a gradient has the shape of its array."
    )


def test_a_transpose_is_found_whether_or_not_the_shapes_differ():
    assert compare(TRUE.T.copy(), TRUE).diagnosis.kind == "transposed"
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    c = compare(square.T.copy(), square)
    assert (c.agrees, c.max_abs_error, c.diagnosis.kind) == (False, 1.0, "transposed")
    assert "dW = x.T @ dz" in c.diagnosis.message


@pytest.mark.parametrize(
    "factor, says",
    [
        (4.0, "a 1/4 is missing, such as the 1/m of a mean over m = 4 samples."),
        (2.0, "(or the ½ of ½·(a - y)² left out)."),
        (-1.0, "the sign is flipped"),
        (0.5, "there is a 1/2 too many"),
        (-3.0, "and its sign is flipped: a 1/3 is missing"),
        (1.7, "a constant factor is wrong."),
    ],
)
def test_a_constant_factor_is_a_scale_with_yours_over_true(factor, says):
    c = compare(factor * TRUE, TRUE)
    assert c.diagnosis.kind == "scale"
    assert c.diagnosis.factor == pytest.approx(factor, rel=1e-15)
    assert says in c.diagnosis.message


def test_a_round_factor_is_reported_exactly():
    assert compare(4 * TRUE, TRUE).diagnosis.factor == 4.0
    assert compare(TRUE * 4 * (1 + 1e-14), TRUE).diagnosis.factor == 4.0


def test_one_entry_is_a_scale_only_for_a_round_factor():
    assert compare(np.array([8.0]), np.array([2.0])).diagnosis.factor == 4.0
    assert compare(np.array([-21.36]), np.array([1.0])).diagnosis.kind == "other"


def test_all_zeros_is_zero():
    c = compare(np.zeros_like(TRUE), TRUE)
    assert c.diagnosis.kind == "zero"
    assert c.max_abs_error == 2.0
    assert c.diagnosis.message.startswith("Every entry is 0 and the true gradient is not")


def test_other_counts_the_wrong_entries_and_names_the_worst():
    yours = TRUE.copy()
    yours[1, 0] = 0.0  # 2 off
    yours[0, 2] = 0.0  # 0.25 off
    c = compare(yours, TRUE)
    assert c.diagnosis.kind == "other"
    assert c.diagnosis.message == (
        "2 of 6 entries differ (the largest difference, 2, at [1,0]) and yours is 0 at each of them; the others agree."
    )
    c = compare(TRUE + np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), TRUE)
    assert c.diagnosis.message.startswith("Every entry differs (the largest difference, 6, at [1,2])")


# ---- what the circuit around the first divergence tells ----

Z = np.array([[-1.0, 0.5], [2.0, -0.25]])  # pre-activations
UPSTREAM = np.array([[0.3, -0.2], [0.1, 0.4]])  # ∂L/∂a, true


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.mark.parametrize(
    "activation, wrong_derivative, says",
    [
        (sigmoid, lambda z, a: sigmoid(a) * (1 - sigmoid(a)), "σ' taken at the activation a, not at z."),
        (sigmoid, lambda z, a: z * (1 - z), "a·(1 - a) is σ' only where a is the activation σ(z); here that is a"),
        (np.tanh, lambda z, a: 1 - np.tanh(a) ** 2, "tanh' taken at the activation a, not at z."),
        (np.tanh, lambda z, a: 1 - z**2, "1 - a² is tanh' only where a is the activation tanh(z)"),
        (np.tanh, lambda z, a: np.ones_like(z), "Yours is ∂L/∂a unchanged"),
    ],
)
def test_a_derivative_taken_at_the_wrong_place_is_named(activation, wrong_derivative, says):
    a = activation(Z)
    yours = UPSTREAM * wrong_derivative(Z, a)
    assert says in derivative_note("z", "a", yours, UPSTREAM, Z, a)


def test_no_note_when_no_guess_fits():
    a = sigmoid(Z)
    assert derivative_note("z", "a", UPSTREAM * 0.3, UPSTREAM, Z, a) == ""


def test_a_use_alone_is_named_when_yours_is_its_part():
    note = uses_note("W", "W[0,1]", {"pre": 0.25, "xhat": -0.5}, yours=0.25)
    assert note.startswith(
        "At W[0,1], yours is the gradient through pre alone, but W also reaches the loss through xhat"
    )
    assert uses_note("W", "W[0,1]", {"pre": 0.25, "xhat": -0.5}, yours=0.3) == ""
    assert uses_note("W", "W[0,1]", {"pre": 0.25}, yours=0.25) == ""
