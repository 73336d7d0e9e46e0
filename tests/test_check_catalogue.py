"""The catalogue: hand backprops as learners write them, right and broken, and what `check` finds in each.

Each file in tests/backprops/ defines params(), loss(p) and grads(p); a broken one says its bug in its
docstring and marks the line. test_check_against_torch.py recomputes the first divergence's numbers.
"""

from pathlib import Path

import pytest

from gategrad.check import check_file
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
]

# file: (the first divergence, the kind of each array that disagrees)
BROKEN = {
    "sigmoid_mse_prime_of_activation": ("z1", {"z1": "other", "b1": "other", "W1": "other"}),
    "sigmoid_mse_prime_of_preactivation": (
        "z2",
        {"z2": "other", "b2": "other", "a1": "other", "W2": "other", "z1": "other", "b1": "other", "W1": "other"},
    ),
    "sigmoid_mse_mean_in_one_layer": ("b1", {"b1": "scale", "W1": "scale"}),
    "sigmoid_mse_output_bias_forgotten": ("b2", {"b2": "zero"}),
    "relu_softmax_ce_bias_per_sample": ("b2", {"b2": "shape"}),
    "relu_softmax_ce_no_relu_mask": ("z1", {"z1": "other", "b1": "other", "W1": "other"}),
    "relu_softmax_ce_unstable_backward": (
        "scores",
        {name: "nonfinite" for name in ("scores", "b2", "W2", "z1", "b1", "W1")},
    ),
    "tanh_mse_sign_flipped": ("out", {name: "scale" for name in ("out", "b2", "h", "W2", "z1", "b1", "W1")}),
    "tanh_prime_of_activation": ("z1", {"z1": "other", "b1": "other", "W1": "other"}),
    "nielsen_columns_transposed": ("w1", {"w1": "transposed"}),
    "tied_weights_one_use": ("W", {"W": "other"}),
}


def report_of(name):
    return check_file(BACKPROPS / f"{name}.py")


def test_the_catalogue_has_at_least_ten_backprops_and_every_file_is_in_it():
    files = {path.stem for path in BACKPROPS.glob("*.py")}
    assert files == {*RIGHT, *BROKEN, "sigmoid_mse_accumulating"}
    assert len(files) >= 10


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


def test_sigma_prime_at_the_activation_is_named():
    z1 = report_of("sigmoid_mse_prime_of_activation").checked[5]
    assert z1.name == "z1"
    assert "σ' taken at the activation a1, not at z1" in z1.diagnosis.message


def test_a_times_one_minus_a_on_the_pre_activation_is_named():
    z2 = report_of("sigmoid_mse_prime_of_preactivation").checked[1]
    assert z2.name == "z2"
    assert "a·(1 - a) is σ' only where a is the activation σ(z); here that is a2" in z2.diagnosis.message


def test_tanh_prime_at_the_activation_is_named():
    report = report_of("tanh_prime_of_activation")
    z1 = next(c for c in report.checked if c.name == "z1")
    assert "tanh' taken at the activation h, not at z1" in z1.diagnosis.message


def test_a_forgotten_relu_mask_is_named_and_its_entries_counted():
    report = report_of("relu_softmax_ce_no_relu_mask")
    z1 = next(c for c in report.checked if c.name == "z1")
    assert "Yours is ∂L/∂a1 unchanged" in z1.diagnosis.message
    relu_off = report.first_divergence.route.entry
    assert relu_off.data <= 0 and relu_off.grad == 0.0  # shown where relu blocks: the true gradient is 0
    assert report.first_divergence.route.terms == ()


def test_tied_weights_used_twice_need_the_sum_of_both_uses():
    report = report_of("tied_weights_one_use")
    (w,) = [c for c in report.checked if not c.agrees]
    assert "yours is the gradient through pre alone, but W also reaches the loss through xhat" in w.diagnosis.message
    uses = {t.output.label.split("[")[0] for t in report.first_divergence.route.terms}
    assert uses == {"pre", "xhat"}


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
