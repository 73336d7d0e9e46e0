"""The catalogue: hand backprops as learners write them, right and broken, and what `check` finds in each.

Each file in tests/backprops/ defines params(), loss(p) and grads(p); a broken one says its bug in its
docstring and marks the line. test_check_against_torch.py recomputes the first divergence's numbers.
"""

import re
from pathlib import Path

import numpy as np
import pytest

from gategrad.check import KINDS, check_file
from gategrad.engine import fmt

BACKPROPS = Path(__file__).parent / "backprops"

RIGHT = [
    "sigmoid_mse",
    "relu_softmax_ce",
    "relu_softmax_ce_where",
    "tanh_mse",
    "nielsen_columns",
    "tied_weights",
    "abs_sqrt_norms",
    "cs231n_two_layer_net",
    "dlai_planar_tanh",
    "dlai_planar_tanh_returns_dz",
    "ng_bias_row",
    "skip_connection",
]

ALL_SCALE = ("scale",) * 4

# file: (the first divergence, the kind of each array that disagrees)
BROKEN = {
    "sigmoid_mse_prime_of_activation": (
        "z1",
        {"z1": "derivative_at_output", "b1": "derivative_at_output", "W1": "derivative_at_output"},
    ),
    "sigmoid_mse_prime_of_preactivation": (
        "z2",
        {
            **dict.fromkeys(["z2", "b2", "a1", "W2"], "derivative_at_output"),
            **dict.fromkeys(["z1", "b1", "W1"], "other"),
        },
    ),
    "sigmoid_mse_mean_in_one_layer": ("b1", {"b1": "scale", "W1": "scale"}),
    "sigmoid_mse_output_bias_forgotten": ("b2", {"b2": "zero"}),
    "relu_softmax_ce_bias_per_sample": ("b2", {"b2": "shape"}),
    "relu_softmax_ce_no_relu_mask": ("z1", {"z1": "mask", "b1": "mask", "W1": "mask"}),
    "relu_softmax_ce_unstable_backward": (
        "scores",
        {name: "nonfinite" for name in ("scores", "b2", "W2", "z1", "b1", "W1")},
    ),
    "tanh_mse_sign_flipped": ("out", {name: "scale" for name in ("out", "b2", "h", "W2", "z1", "b1", "W1")}),
    "tanh_prime_of_activation": (
        "z1",
        {"z1": "derivative_at_output", "b1": "derivative_at_output", "W1": "derivative_at_output"},
    ),
    "nielsen_columns_transposed": ("w1", {"w1": "transposed"}),
    "nielsen_network_sigmoid_prime_of_activation": (
        "b1",
        {"b1": "derivative_at_output", "w1": "derivative_at_output"},
    ),
    "tied_weights_one_use": ("W", {"W": "missing_path"}),
    "tied_weights_overwritten": ("W", {"W": "missing_path"}),
    "skip_connection_one_use": ("h", {"h": "missing_path", "W1": "other"}),
    "cs231n_two_layer_net_accumulating": ("W2", dict(zip(["W2", "b2", "W1", "b1"], ALL_SCALE))),
    "cs231n_two_layer_net_inplace_relu": ("W2", {"W2": "wrong_operand"}),
    "cs231n_two_layer_net_no_mean": ("W2", dict(zip(["W2", "b2", "W1", "b1"], ALL_SCALE))),
    "cs231n_two_layer_net_no_minus_one": (
        "W2",
        {"W2": "label_entries", "b2": "label_entries", "W1": "other", "b1": "other"},
    ),
    "cs231n_two_layer_net_no_relu_mask": ("W1", {"W1": "mask", "b1": "mask"}),
    "cs231n_two_layer_net_reg_without_two": ("W2", {"W2": "regularization", "W1": "regularization"}),
    "dlai_planar_relu_no_mask": ("b1", {"b1": "mask", "W1": "mask"}),
    "dlai_planar_relu_inplace_mask": ("W2", {"W2": "wrong_operand"}),
    "dlai_planar_softmax_no_minus_one": (
        "b2",
        {"b2": "label_entries", "W2": "label_entries", "b1": "other", "W1": "other"},
    ),
    "dlai_planar_tanh_dz2_without_m": ("Z2", {"Z2": "scale"}),
    "dlai_planar_tanh_prime_of_activation": ("b1", {"b1": "derivative_at_output", "W1": "derivative_at_output"}),
    "ng_bias_row_regularised": ("W2", {"W2": "regularization"}),
    "ng_bias_row_zeroed": ("W2", {"W2": "zero"}),
}


def report_of(name):
    return check_file(BACKPROPS / f"{name}.py")


def test_the_catalogue_has_at_least_25_backprops_and_every_file_is_in_it():
    files = {path.stem for path in BACKPROPS.glob("*.py")}
    assert files == {*RIGHT, *BROKEN, "sigmoid_mse_accumulating"}
    assert len(files) >= 25


NEW_KINDS = ("mask", "derivative_at_output", "missing_path", "regularization", "label_entries", "wrong_operand")


def test_every_new_kind_is_the_first_divergence_of_at_least_two_files():
    firsts = {kind: [name for name, (first, kinds) in BROKEN.items() if kinds[first] == kind] for kind in NEW_KINDS}
    assert {kind: len(names) >= 2 for kind, names in firsts.items()} == dict.fromkeys(NEW_KINDS, True)


@pytest.mark.parametrize("name", RIGHT)
def test_a_right_backprop_agrees_in_every_array(name):
    report = report_of(name)
    assert report.ok and report.repeatable
    assert report.first_divergence is None
    assert [c.name for c in report.checked if not c.agrees or c.diagnosis is not None] == []
    assert all(c.max_abs_error < 1e-15 for c in report.checked)


@pytest.mark.parametrize("name", BROKEN)
def test_a_broken_backprop_is_diagnosed_with_its_kind_and_first_divergence(name):
    first, kinds = BROKEN[name]
    report = report_of(name)
    assert not report.ok
    assert report.first_divergence.name == first
    assert {c.name: c.diagnosis.kind for c in report.checked if not c.agrees} == kinds


def test_the_arrays_are_listed_walking_back_from_the_loss():
    names = [c.name for c in report_of("sigmoid_mse").checked]
    assert names == ["a2", "z2", "b2", "a1", "W2", "z1", "b1", "W1"]
    kinds = {c.name: c.kind for c in report_of("sigmoid_mse").checked}
    assert kinds == {
        **dict.fromkeys(["a2", "z2", "a1", "z1"], "intermediate"),
        **dict.fromkeys(["W1", "b1", "W2", "b2"], "parameter"),
    }


def test_a_missing_mean_in_one_layer_is_a_factor_of_m():
    checked = {c.name: c for c in report_of("sigmoid_mse_mean_in_one_layer").checked}
    assert checked["W1"].diagnosis.factor == 4.0  # m = 4 samples of XOR
    assert checked["b1"].diagnosis.factor == 4.0
    assert "1/m of a mean over m = 4" in checked["W1"].diagnosis.message
    assert checked["W2"].agrees and checked["b2"].agrees


def test_a_flipped_sign_is_a_factor_of_minus_one_everywhere():
    report = report_of("tanh_mse_sign_flipped")
    assert {c.diagnosis.factor for c in report.checked} == {-1.0}
    assert "sign is flipped" in report.checked[0].diagnosis.message


def test_a_per_sample_bias_gradient_says_to_sum_over_the_batch():
    (b2,) = [c for c in report_of("relu_softmax_ce_bias_per_sample").checked if not c.agrees]
    assert b2.max_abs_error is None
    assert b2.shape == (3,)
    assert "shape (6, 3), the true gradient (3,)" in b2.diagnosis.message
    assert ".sum(axis=0)" in b2.diagnosis.message


def test_a_transposed_weight_gradient_in_nielsens_layout():
    (w1,) = [c for c in report_of("nielsen_columns_transposed").checked if not c.agrees]
    assert w1.shape == (3, 2)
    assert "yours has shape (2, 3)" in w1.diagnosis.message.lower()
    assert "dW = dz @ x.T" in w1.diagnosis.message


def diagnosis_of(name, array):
    return next(c.diagnosis for c in report_of(name).checked if c.name == array)


def test_sigma_prime_at_the_activation_is_named_with_both_forms():
    said = diagnosis_of("sigmoid_mse_prime_of_activation", "z1").message
    assert said.startswith("Yours is ∂L/∂a1 × σ'(a1): the sigmoid's derivative is taken at its output a1 instead")
    assert "σ'(z1) = a1·(1 - a1) (for tanh: 1 - a1²), so use dz1 = da1 * a1 * (1 - a1)." in said


def test_a_times_one_minus_a_on_the_pre_activation_is_named():
    said = diagnosis_of("sigmoid_mse_prime_of_preactivation", "z2").message
    assert "the form a·(1 - a) of σ' holds for the output a = σ(z), but it is applied to the input z2" in said


def test_tanh_prime_at_the_activation_is_named():
    said = diagnosis_of("tanh_prime_of_activation", "z1").message
    assert "tanh's derivative is taken at its output h instead of its input z1. tanh'(z1) = 1 - h²" in said


def test_a_parameter_after_a_wrong_derivative_is_told_where_the_mistake_is():
    said = diagnosis_of("dlai_planar_tanh_prime_of_activation", "b1").message
    assert said.startswith(
        "Yours follows rightly from your ∂L/∂Z1, but that is wrong: the mistake is one step nearer the loss. "
        "About ∂L/∂Z1: Yours is ∂L/∂A1 × tanh'(A1)"
    )
    assert "tanh's derivative is taken at its output A1 instead of its input Z1" in said


def test_a_forgotten_relu_mask_is_named_and_its_entries_counted(monkeypatch):
    monkeypatch.syspath_prepend(str(BACKPROPS))
    import relu_softmax_ce as net

    p = net.params()
    off = int(np.sum(net.X @ p["W1"] + p["b1"] <= 0))  # where relu passes 0 on
    report = report_of("relu_softmax_ce_no_relu_mask")
    z1 = next(c for c in report.checked if c.name == "z1")
    assert z1.diagnosis.message.startswith(
        f"Yours is ∂L/∂a1 passed on unchanged, also where the true gradient is 0 ({off} of 24 entries)"
    )
    assert "Multiply by the mask: dz1 = da1 * (z1 > 0)." in z1.diagnosis.message
    relu_off = report.first_divergence.route.entry
    assert relu_off.data <= 0 and relu_off.grad == 0.0  # shown where relu blocks: the true gradient is 0
    assert report.first_divergence.route.terms == ()


def test_a_relu_of_an_unnamed_array_is_named_by_its_text():
    said = diagnosis_of("cs231n_two_layer_net_no_relu_mask", "W1").message
    assert "Yours is ∂L/∂hidden passed on unchanged" in said
    assert "where (X.dot(W1) + b1) > 0" in said


def test_tied_weights_used_twice_need_the_sum_of_both_uses():
    report = report_of("tied_weights_one_use")
    (w,) = [c for c in report.checked if not c.agrees]
    assert w.diagnosis.message.startswith(
        "Yours is the gradient through pre alone, but W also reaches the loss through xhat"
    )
    assert "Add the missing one with +=" in w.diagnosis.message
    uses = {t.output.label.split("[")[0] for t in report.first_divergence.route.terms}
    assert uses == {"pre", "xhat"}


def test_an_overwritten_use_is_the_other_use_alone():
    said = diagnosis_of("tied_weights_overwritten", "W").message
    assert said.startswith("Yours is the gradient through xhat alone, but W also reaches the loss through pre")


def test_a_regularisation_off_by_its_two_names_c_and_the_convention():
    d = diagnosis_of("cs231n_two_layer_net_reg_without_two", "W2")
    assert d.factor == pytest.approx(-0.05)  # yours adds reg·W2, the loss's gradient is 2·reg·W2: reg = 0.05
    assert d.message.startswith("Yours - true = -0.05·W2 in every entry")
    assert "A loss term 0.5·reg·ΣW2² has the gradient reg·W2 (reg·ΣW2² has 2·reg·W2)" in d.message


def test_a_regularised_bias_row_is_named_as_the_bias():
    d = diagnosis_of("ng_bias_row_regularised", "W2")
    assert d.kind == "regularization"
    assert d.factor == pytest.approx(0.3 / 5)  # reg / m
    assert "in row 0 alone, and row 0 of W2 is the bias: it multiplies the column of ones" in d.message


def test_a_bias_row_zeroed_by_zeroing_the_column_of_ones_is_named_as_the_bias():
    report = report_of("ng_bias_row_zeroed")
    d = diagnosis_of("ng_bias_row_zeroed", "W2")
    assert d.message.startswith("Yours is 0 in row 0 of W2 alone, and row 0 is the bias")
    assert report.first_divergence.route.entry.label == "W2[0,0]"
    assert {t.output.label.split("[")[0] for t in report.first_divergence.route.terms} == {"z3"}
    assert {t.local for t in report.first_divergence.route.terms} == {1.0}  # W2[0,0] multiplies a2's ones


def test_a_gradient_that_grows_across_calls_and_is_wrong_still_says_it_is_not_repeatable():
    report = report_of("cs231n_two_layer_net_accumulating")
    assert (report.ok, report.repeatable) == (False, False)
    assert report.changed == ("W1", "b1", "W2", "b2")
    assert report.to_json()["repeatable"] is False
    assert str(report).endswith(
        "grads(p) gave other arrays when called again with the same p (W1, b1, W2, b2): the gradient accumulates "
        "across calls. Reset it to zeros at the start of each call (each training iteration)."
    )


def test_a_missing_minus_one_differs_at_the_labels_only():
    d = diagnosis_of("cs231n_two_layer_net_no_minus_one", "W2")
    assert d.message.startswith("Yours follows rightly from your ∂L/∂scores, but that is wrong")
    assert "only at one entry in each row, the label's column (yours - true = 0.2 there)" in d.message  # 1/N
    columns = diagnosis_of("dlai_planar_softmax_no_minus_one", "b2").message
    assert "only at one entry in each column, the label's row (yours - true = 0.1667 there)" in columns  # 1/m


def test_an_array_changed_in_place_is_named_as_the_operand_yours_used():
    d = diagnosis_of("cs231n_two_layer_net_inplace_relu", "W2")
    assert d.equals == "(hidden > 0)"
    assert d.message.startswith("Yours is (hidden > 0).T @ dscores, but the forward pass computed scores from hidden")
    columns = diagnosis_of("dlai_planar_relu_inplace_mask", "W2")
    assert columns.equals == "(A1 > 0)"
    assert columns.message.startswith("Yours is dZ2 @ (A1 > 0).T, but the forward pass computed Z2 from A1")


def test_a_missing_mean_upstream_is_a_scale_of_the_parameter_it_reaches():
    d = diagnosis_of("cs231n_two_layer_net_no_mean", "W2")
    assert (d.kind, d.factor) == ("scale", 5.0)  # N = 5 samples; W2's own 2·reg·W2 is right
    assert d.message.startswith("Yours is what W2 gets from a ∂L/∂scores 5 times the true one: a 1/5 is missing")


def test_an_accumulating_gradient_is_not_repeatable():
    report = report_of("sigmoid_mse_accumulating")
    assert all(c.agrees for c in report.checked)  # the first call is right
    assert not report.repeatable and not report.ok
    assert report.changed == ("W1", "b1", "W2", "b2")
    assert "accumulates across calls" in str(report)


def test_checking_a_file_twice_starts_its_buffers_afresh():
    assert [c.agrees for c in report_of("sigmoid_mse_accumulating").checked] == [True] * 4
    assert [c.agrees for c in report_of("sigmoid_mse_accumulating").checked] == [True] * 4


# ---- the first divergence: its terms and gates ----


def index_of(label):
    return tuple(int(k) for k in label[label.index("[") + 1 : -1].split(","))


def test_the_first_divergence_reads_like_the_walkthrough():
    report = report_of("sigmoid_mse_prime_of_activation")
    d = report.first_divergence
    e, (term,) = d.route.entry, d.route.terms
    a = term.output.label
    line = (
        f"∂L/∂{e.label} = ∂L/∂{a} × ∂{a}/∂{e.label} = {fmt(term.upstream)} × {fmt(term.local)} = {fmt(e.grad)}; "
        f"yours is {fmt(d.yours)}."
    )
    text = str(report)
    assert line in text
    assert [s.op for s in d.route.steps] == ["mul", "pow", "add", "exp", "mul"]  # 1 / (1 + exp(-z)), backwards
    assert all(s.explanation in text for s in d.route.steps)
    last = d.route.steps[-1].inputs[0]
    assert last.value is e and last.contribution == e.grad  # the last gate hands z1[i,j] its whole gradient


def test_a_weight_gradient_is_a_sum_over_the_samples_of_the_input_times_the_upstream(monkeypatch):
    monkeypatch.syspath_prepend(str(BACKPROPS))
    d = report_of("nielsen_columns_transposed").first_divergence
    r, c = index_of(d.route.entry.label)  # w1[r,c]: z1[r,k] = Σ_c w1[r,c] x[c,k] + b1[r]
    import nielsen_columns

    assert [t.output.label for t in d.route.terms] == [f"z1[{r},{k}]" for k in range(4)]
    assert [t.local for t in d.route.terms] == nielsen_columns.x[c].tolist()
    assert d.route.entry.grad == pytest.approx(sum(t.upstream * t.local for t in d.route.terms), rel=1e-12)
    assert [s.op for s in d.route.steps] == ["add", "add", "mul"]  # + b1, the sum over c, then × x[c,0]


# ---- automatic taps: every assignment in the learner's functions names an array ----


def test_a_file_without_tap_may_return_the_gradient_of_any_array_it_names():
    report = report_of("dlai_planar_tanh_returns_dz")
    assert report.ok
    assert {c.name: c.kind for c in report.checked if c.kind == "intermediate"} == {
        "Z2": "intermediate",
        "Z1": "intermediate",
    }
    assert report.unchecked == ()  # automatic taps are not listed as unchecked; tap()'s are


@pytest.mark.parametrize("name", [n for n in BROKEN if n != "relu_softmax_ce_bias_per_sample"])
def test_the_walk_names_every_gate_made_value_by_its_name_or_expression_never_its_number(name):
    d = report_of(name).first_divergence
    for step in d.route.steps:
        for v in (step.output, *(i.value for i in step.inputs)):
            assert v.label or not v.children, (name, step.explanation)


def test_an_unnamed_part_of_a_product_is_written_as_its_expression():
    text = str(report_of("cs231n_two_layer_net_inplace_relu"))
    assert "each of its 2 inputs ((… + …) + (hidden[0,5] × W2[5,2]), b2[2])" in text


def test_the_docs_table_of_kinds_names_files_that_have_them():
    page = (Path(__file__).parent.parent / "docs" / "tutorials" / "check-backprop.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)` \| .* \| `(\w+)\.py` \|$", page, flags=re.MULTILINE)
    assert {kind for kind, _ in rows} == set(KINDS) - {"other"}
    for kind, name in rows:
        first, kinds = BROKEN[name]
        assert kinds[first] == kind, name


def test_an_array_a_helper_names_is_also_named_as_its_caller_names_it(tmp_path):
    helper_and_caller = (
        (BACKPROPS / "dlai_planar_tanh.py")
        .read_text()
        .replace(
            '    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}\n',
            "    dA2 = (A2 - Y) / (A2 * (1 - A2)) / m\n"
            '    return {"A2": dA2, "s": dA2, "W1": dW1, "b1": db1, "W2": dW2, "b2": db2}\n',
        )
    )
    (tmp_path / "helper.py").write_text(helper_and_caller)
    report = check_file(tmp_path / "helper.py")
    assert report.ok
    assert [c.name for c in report.checked][:2] == ["A2", "s"]  # A2 = sigmoid(Z2), where sigmoid returns its s


def test_on_a_large_circuit_only_the_first_divergence_is_read_from_the_circuit(monkeypatch):
    from gategrad.check import run

    monkeypatch.setattr(run, "LARGE", 0)  # every circuit counts as large
    report = report_of("dlai_planar_relu_no_mask")
    assert {c.name: c.diagnosis.kind for c in report.checked if not c.agrees} == {"b1": "mask", "W1": "other"}
