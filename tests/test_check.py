"""check() as a Python function: tap, the report's parts and numbers, and the mistakes it names."""

import json

import numpy as np
import pytest

from gategrad.check import CheckError, check, tap
from gategrad.engine import Value

# A one-layer net small enough to differentiate by hand: L = Σ (x @ w + b)² / 2 over two samples.
X = np.array([[1.0, 2.0], [3.0, -1.0]])
W = np.array([[0.5], [-0.25]])
B = np.array([0.1])


def params():
    return {"w": W.copy(), "b": B.copy()}


def loss(p):
    z = tap("z", X @ p["w"] + p["b"])
    return np.sum(z**2) / 2


def right_grads(p):
    z = X @ p["w"] + p["b"]  # [[0.1], [1.85]]
    return {"z": z, "w": X.T @ z, "b": z.sum(axis=0)}


def test_tap_outside_a_check_returns_the_array_itself():
    a = np.array([1.0, 2.0])
    assert tap("a", a) is a
    assert loss(params()) == pytest.approx((0.1**2 + 1.85**2) / 2)


def test_the_gradients_are_the_ones_worked_out_by_hand():
    report = check(params(), loss, right_grads)
    assert report.ok and report.repeatable and report.first_divergence is None
    assert [(c.name, c.kind, c.shape) for c in report.checked] == [
        ("z", "intermediate", (2, 1)),
        ("b", "parameter", (1,)),
        ("w", "parameter", (2, 1)),
    ]
    assert [c.max_abs_error for c in report.checked] == [0.0, 0.0, 0.0]


def test_a_scaled_weight_gradient_is_the_first_divergence_with_its_terms():
    def grads(p):
        g = right_grads(p)
        return {**g, "w": 2 * g["w"]}

    report = check(params(), loss, grads)
    d = report.first_divergence
    assert (report.ok, d.name, d.route.entry.label) == (False, "w", "w[0,0]")
    # ∂L/∂w[0,0] = Σ_i ∂L/∂z[i,0] × x[i,0] = 0.1 × 1 + 1.85 × 3 = 5.65
    assert [(t.output.label, t.upstream, t.local) for t in d.route.terms] == [
        ("z[0,0]", 0.1, 1.0),
        ("z[1,0]", 1.85, 3.0),
    ]
    assert d.route.entry.grad == pytest.approx(5.65)
    assert d.yours == pytest.approx(11.3)
    assert "∂L/∂w[0,0] = ∂L/∂z[0,0] × ∂z[0,0]/∂w[0,0] + ∂L/∂z[1,0] × ∂z[1,0]/∂w[0,0]" in str(report)
    assert "= 0.1 × 1 + 1.85 × 3 = 5.65; yours is 11.3." in str(report)
    assert report.checked[2].diagnosis.factor == 2.0


def test_the_json_has_the_documented_keys_and_values():
    def grads(p):
        return {**right_grads(p), "b": np.zeros(1)}

    report = check(params(), loss, grads)
    data = json.loads(json.dumps(report.to_json()))
    assert set(data) == {"ok", "repeatable", "first_divergence", "checked"}
    assert (data["ok"], data["repeatable"], data["first_divergence"]) == (False, True, "b")
    assert [set(row) for row in data["checked"]] == [
        {"name", "kind", "shape", "agrees", "max_abs_error", "diagnosis"}
    ] * 3
    z, b, w = data["checked"]
    assert z == {
        "name": "z",
        "kind": "intermediate",
        "shape": [2, 1],
        "agrees": True,
        "max_abs_error": 0.0,
        "diagnosis": None,
    }
    assert b["diagnosis"]["kind"] == "zero" and b["diagnosis"]["factor"] is None
    assert b["max_abs_error"] == pytest.approx(1.95)  # 0.1 + 1.85


def test_a_nan_error_is_the_string_nan_in_json():
    def grads(p):
        return {**right_grads(p), "b": np.array([np.nan])}

    row = check(params(), loss, grads).to_json()["checked"][1]
    assert (row["max_abs_error"], row["diagnosis"]["kind"]) == ("NaN", "nonfinite")


def test_a_shape_mismatch_has_no_error_number():
    def grads(p):
        return {**right_grads(p), "b": right_grads(p)["z"]}  # per sample, (2, 1)

    row = check(params(), loss, grads).to_json()["checked"][1]
    assert (row["max_abs_error"], row["diagnosis"]["kind"]) == (None, "shape")


def test_a_gradient_that_grows_each_call_is_not_repeatable():
    calls = []

    def grads(p):
        calls.append(1)
        return {name: len(calls) * g for name, g in right_grads(p).items()}

    report = check(params(), loss, grads)
    assert len(calls) == 2
    assert report.checked[0].agrees and not report.repeatable and not report.ok
    assert report.changed == ("z", "w", "b")


def test_grads_gets_fresh_copies_and_may_not_change_the_parameters_it_is_checked_on():
    def grads(p):
        g = right_grads(p)
        p["w"] -= 0.1 * g["w"]  # a training step inside grads
        return g

    assert check(params(), loss, grads).ok


def test_an_intermediate_tapped_but_not_returned_is_listed_as_unchecked():
    def grads(p):
        g = right_grads(p)
        return {"w": g["w"], "b": g["b"]}

    report = check(params(), loss, grads)
    assert report.unchecked == ("z",)
    assert "Tapped in loss(p) but not in grads(p), so not checked: z." in str(report)


def test_an_entry_that_reaches_the_loss_by_no_tapped_array_has_its_gradient_alone():
    def grads(p):
        return {"w": np.zeros((2, 1)), "b": np.ones(1)}

    report = check(params(), lambda p: np.sum((X @ p["w"] + p["b"]) ** 2) / 2, grads)
    assert report.first_divergence.name == "b"
    assert "∂L/∂b[0] = 1.95; yours is 1." in str(report)
    assert "No tapped array lies between b[0] and the loss" in str(report)


def test_the_array_after_the_first_divergence_need_not_be_returned_to_name_the_mistake():
    def sigmoid_loss(p):
        z = tap("z", X @ p["w"] + p["b"])
        a = tap("a", 1 / (1 + np.exp(-z)))
        return np.sum(a)

    def grads(p):
        a = 1 / (1 + np.exp(-(X @ p["w"] + p["b"])))
        s = 1 / (1 + np.exp(-a))
        dz = s * (1 - s)  # σ' at the activation a: the bug
        return {"z": dz, "w": X.T @ dz, "b": dz.sum(axis=0)}

    report = check(params(), sigmoid_loss, grads)
    assert report.unchecked == ("a",)
    assert report.first_divergence.name == "z"
    assert report.checked[0].diagnosis.kind == "derivative_at_output"
    assert (
        "the sigmoid's derivative is taken at its output a instead of its input z"
        in report.checked[0].diagnosis.message
    )


def test_a_value_scalar_can_be_tapped_and_stays_a_value():
    seen = []

    def scalar_loss(p):
        total = tap("total", np.sum(X @ p["w"] + p["b"]))
        seen.append(total)
        return total * total

    def grads(p):
        total = np.sum(X @ p["w"] + p["b"])
        return {"total": 2 * total, "w": 2 * total * X.sum(axis=0)[:, None], "b": np.array([4 * total])}

    assert check(params(), scalar_loss, grads).ok
    assert len(seen) == 2  # once on traced arrays, to learn the circuit's size; then, being small, on Values
    assert isinstance(seen[-1], Value) and seen[-1].label == "total"


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: ([1.0], loss, right_grads), "params() must return a dict of name -> float array, got list [1.0]"),
        (lambda: ({"w": "abc"}, loss, right_grads), "params()['w'] is not an array of numbers: str 'abc'"),
        (lambda: (params(), lambda p: X @ p["w"], right_grads), "it returned an array of shape (2, 1)"),
        (lambda: (params(), lambda p: 3.0, right_grads), "loss(p) must compute the loss from the arrays in p"),
        (lambda: (params(), loss, lambda p: [1]), "grads(p) must return a dict of name -> array, got list [1]"),
        (
            lambda: (params(), loss, lambda p: {**right_grads(p), "a1": 0}),
            "grads(p) has a key 'a1' that names nothing: parameters are w, b; tapped in loss(p): z",
        ),
        (lambda: (params(), loss, lambda p: {"w": 0}), "grads(p) has no key 'b'"),
        (lambda: (params(), loss, lambda p: {**right_grads(p), "b": "x"}), "grads(p)['b'] is not an array of numbers"),
        (
            lambda: (params(), lambda p: np.sum(tap("z", p["w"]) + tap("z", p["w"])), right_grads),
            "loss(p) taps two arrays named 'z'",
        ),
        (lambda: (params(), lambda p: np.sum(tap("w", p["w"])), right_grads), "the name of a parameter"),
        (lambda: (params(), lambda p: np.sum(tap("s", ["a"])), right_grads), "tap('s', ...) needs an array of numbers"),
    ],
)
def test_a_mistake_is_a_check_error_that_says_what_is_wrong(make, message):
    with pytest.raises(CheckError) as error:
        check(*make())
    assert message in str(error.value)


def test_the_learners_own_exception_comes_through_unchanged():
    def broken(p):
        raise ZeroDivisionError("in my loss")

    with pytest.raises(ZeroDivisionError, match="in my loss"):
        check(params(), broken, right_grads)


def test_tap_is_off_again_after_a_failed_check():
    with pytest.raises(CheckError):
        check(params(), lambda p: X @ tap("z", p["w"]), right_grads)
    a = np.array([1.0])
    assert tap("z", a) is a
