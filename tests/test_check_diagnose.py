"""Each kind of wrong, on small arrays whose true gradient is known: what `compare` calls it and says."""

import numpy as np
import pytest

from gategrad.check.diagnose import RTOL, Context, compare, in_context

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


def test_differences_at_each_rows_label_alone_are_label_entries():
    m = 4
    probs = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5], [0.1, 0.1, 0.8]])
    onehot = np.eye(3)[[1, 0, 2, 0]]
    c = compare(probs / m, (probs - onehot) / m)
    assert (c.diagnosis.kind, c.diagnosis.factor) == ("label_entries", None)
    assert "only at one entry in each row, the label's column (yours - true = 0.25 there)" in c.diagnosis.message
    assert "dscores[np.arange(m), y] -= 1" in c.diagnosis.message
    by_column = compare(probs.T / m, (probs - onehot).T / m)
    assert "only at one entry in each column, the label's row" in by_column.diagnosis.message


def test_yours_less_true_in_proportion_to_the_parameter_is_a_regularization():
    w = np.array([[0.5, -1.0], [2.0, 0.25]])
    true = np.array([[0.1, 0.2], [-0.3, 0.4]])
    c = compare(true + 0.01 * w, true, name="W", values=w)
    assert (c.diagnosis.kind, c.diagnosis.factor) == ("regularization", pytest.approx(0.01))
    assert c.diagnosis.message.startswith("Yours - true = 0.01·W in every entry")
    assert compare(true + 0.01 * w, true).diagnosis.kind == "other"  # an intermediate has no such term


def test_a_regularised_bias_row_alone_needs_to_know_it_is_the_bias():
    w = np.array([[0.5, -1.0], [2.0, 0.25]])
    true = np.array([[0.1, 0.2], [-0.3, 0.4]])
    yours = true.copy()
    yours[0] += 0.1 * w[0]
    assert compare(yours, true, name="W", values=w).diagnosis.kind == "other"
    c = compare(yours, true, name="W", values=w, bias="row")
    assert (c.diagnosis.kind, c.diagnosis.factor) == ("regularization", pytest.approx(0.1))
    assert "row 0 of W is the bias" in c.diagnosis.message


# ---- what the circuit around the array tells ----

Z = np.array([[-1.0, 0.5], [2.0, -0.25]])  # pre-activations
UPSTREAM = np.array([[0.3, -0.2], [0.1, 0.4]])  # ∂L/∂a, true


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def around(true_z, activation, parts=None):
    a = activation(Z)
    return Context("z", "a", parts or {}, {"z": Z, "a": a}, {"z": true_z, "a": UPSTREAM})


@pytest.mark.parametrize(
    "activation, derivative, wrong_derivative, says",
    [
        (
            sigmoid,
            lambda z, a: a * (1 - a),
            lambda z, a: sigmoid(a) * (1 - sigmoid(a)),
            "σ'(a): the sigmoid's derivative is taken at its output a instead of its input z.",
        ),
        (
            sigmoid,
            lambda z, a: a * (1 - a),
            lambda z, a: z * (1 - z),
            "the form a·(1 - a) of σ' holds for the output a = σ(z), but it is applied to the input z.",
        ),
        (
            np.tanh,
            lambda z, a: 1 - a**2,
            lambda z, a: 1 - np.tanh(a) ** 2,
            "tanh'(a): tanh's derivative is taken at its output a instead of its input z.",
        ),
        (
            np.tanh,
            lambda z, a: 1 - a**2,
            lambda z, a: 1 - z**2,
            "the form 1 - a² of tanh' holds for the output a = tanh(z), but it is applied to the input z.",
        ),
    ],
)
def test_a_derivative_taken_at_the_wrong_place_is_named(activation, derivative, wrong_derivative, says):
    a = activation(Z)
    true = UPSTREAM * derivative(Z, a)
    d = in_context(UPSTREAM * wrong_derivative(Z, a), true, around(true, activation))
    assert d.kind == "derivative_at_output"
    assert says in d.message


def test_the_upstream_passed_on_where_relu_blocks_is_a_mask():
    true = UPSTREAM * (Z > 0)
    d = in_context(UPSTREAM.copy(), true, around(true, lambda z: np.maximum(0, z)))
    assert d.kind == "mask"
    assert d.message.startswith(
        "Yours is ∂L/∂a passed on unchanged, also where the true gradient is 0 (2 of 4 entries)"
    )


def test_no_diagnosis_when_no_guess_fits():
    true = UPSTREAM * sigmoid(Z) * (1 - sigmoid(Z))
    assert in_context(UPSTREAM * 0.3, true, around(true, sigmoid)) is None


def test_a_use_alone_is_a_missing_path_naming_the_use_left_out():
    pre, xhat = np.array([[0.25, 1.0]]), np.array([[-0.5, 2.0]])
    c = Context("W", None, {"pre": pre, "xhat": xhat}, {"W": np.ones((1, 2))}, {})
    d = in_context(pre.copy(), pre + xhat, c)
    assert d.kind == "missing_path"
    assert d.message.startswith(
        "Yours is the gradient through pre alone, but W also reaches the loss through xhat: a value used in "
        "more than one place gets the sum of the gradients through each use."
    )
    assert in_context(pre + 0.5 * xhat, pre + xhat, c) is None


def test_a_product_taken_with_a_mask_for_its_operand_is_a_wrong_operand():
    h = np.array([[0.0, 0.5], [1.5, 0.0], [0.25, 2.0]])  # h = relu(z), 3 samples × 2 units
    z = np.array([[-0.5, 0.5], [1.5, -1.0], [0.25, 2.0]])
    g = np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [-0.7, 0.8, 0.9]])  # ∂L/∂s for s = h @ W2
    true = h.T @ g
    c = Context("W2", None, {"s": true}, {"z": z, "h": h, "W2": np.ones((2, 3))}, {"s": g})
    d = in_context((h > 0).T @ g, true, c)
    assert (d.kind, d.equals) == ("wrong_operand", "(h > 0)")
    assert d.message.startswith("Yours is (h > 0).T @ ds, but the forward pass computed s from h")
