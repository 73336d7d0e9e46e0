"""The engine referee: learners' own Value classes, right and broken, and what `check_engine` finds in each.

Each file in tests/engines/ is a micrograd-style engine as a learner writes it; a broken one says its
mistake in its docstring and marks the line. The numbers a finding shows are recomputed here by hand.
"""

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gategrad.check import EngineError, check_engine, check_engine_source
from gategrad.check.circuits import METHODS, circuit
from gategrad.check.referee import KINDS
from gategrad.cli import main
from gategrad.engine import GATES

ENGINES = Path(__file__).parent / "engines"

LIMIT_TWICE = ("accumulation", "limit", None)  # micrograd's second backward(): the gates' old gradients flow again

# engine: the (kind, severity, op) of each finding
EXPECTED = {
    "micrograd": {LIMIT_TWICE, ("recursion", "limit", None)},
    "lecture": {LIMIT_TWICE},
    "perfect": set(),
    "backward_resets": {LIMIT_TWICE},
    "overwrite": {("accumulation", "wrong", None)},
    "div_overwrite": {("accumulation", "wrong", None)},
    "no_topo_recursive": {("order", "wrong", None), ("recursion", "limit", None)},
    "bfs_no_sort": {("order", "wrong", None)},
    "reversed_order": {("order", "wrong", None)},
    "no_seed": {("seed", "wrong", None)},
    "pow_no_minus_one": {
        ("local_grad", "wrong", "__pow__"),
        ("local_grad", "wrong", "__truediv__"),  # built as self * other**-1
        ("reflected", "wrong", "__rtruediv__"),  # built as other * self**-1
        LIMIT_TWICE,
    },
    "pow_no_upstream": {
        ("local_grad", "wrong", "__pow__"),
        ("local_grad", "wrong", "__truediv__"),
        ("reflected", "wrong", "__rtruediv__"),
        LIMIT_TWICE,
    },
    "sub_own_gate": {("local_grad", "wrong", "__sub__"), LIMIT_TWICE},
    "div_sign": {("local_grad", "wrong", "__truediv__"), LIMIT_TWICE},
    "mul_from_output": {
        ("local_grad", "wrong", "__mul__"),
        ("local_grad", "wrong", "__truediv__"),  # built on the broken *
        ("local_grad", "wrong", "__neg__"),  # -a is a * -1: found by the random circuits at a = 0
    },
    "rsub_sign": {("reflected", "wrong", "__rsub__"), LIMIT_TWICE},
    "rsub_grad": {("reflected", "wrong", "__rsub__"), LIMIT_TWICE},
    "rtruediv_swapped": {("reflected", "wrong", "__rtruediv__"), LIMIT_TWICE},
    "radd_missing_grad": {("reflected", "wrong", "__radd__"), ("reflected", "wrong", "__rsub__"), LIMIT_TWICE},
    "relu_at_zero": {("local_grad", "wrong", "relu"), LIMIT_TWICE},
    "tanh_at_input": {("local_grad", "wrong", "tanh"), LIMIT_TWICE},
    "tanh_from_exp": {("forward", "wrong", "tanh"), LIMIT_TWICE},
    "exp_at_input": {("local_grad", "wrong", "exp"), LIMIT_TWICE},
    "sigmoid_no_one_minus": {("local_grad", "wrong", "sigmoid"), LIMIT_TWICE},
    "no_constants": {
        *(("constant", "wrong", m) for m in ("__add__", "__sub__", "__mul__", "__truediv__")),
        *(("constant", "wrong", m) for m in ("__radd__", "__rsub__", "__rmul__", "__rtruediv__")),
        ("forward", "wrong", "__neg__"),  # -a is a * -1, and * takes no number
    },
}
FAST = {"overwrite", "no_topo_recursive", "bfs_no_sort", "reversed_order", "no_seed"}  # no random circuits to run


def engine(name):
    """The class Value of tests/engines/NAME.py, imported fresh."""
    spec = importlib.util.spec_from_file_location(f"engine_{name}", ENGINES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Value


_reports = {}


def report(name, lang="en"):
    if (name, lang) not in _reports:
        _reports[name, lang] = check_engine(engine(name), lang)
    return _reports[name, lang]


def finding(name, kind, op=None, severity="wrong"):
    (f,) = [f for f in report(name).findings if (f.kind, f.op, f.severity) == (kind, op, severity)]
    return f


def test_the_catalogue_has_every_file_and_at_least_fifteen_engines():
    assert {path.stem for path in ENGINES.glob("*.py")} == set(EXPECTED)
    assert len(EXPECTED) >= 15


@pytest.mark.parametrize(
    "name", [name if name in FAST else pytest.param(name, marks=pytest.mark.slow) for name in EXPECTED]
)
def test_each_engine_gets_exactly_its_expected_findings(name):
    r = report(name)
    assert {(f.kind, f.severity, f.op) for f in r.findings} == EXPECTED[name]
    assert {f.kind for f in r.findings} <= set(KINDS) and {f.severity for f in r.findings} <= {"wrong", "limit"}
    assert r.ok == all(severity == "limit" for _, severity, _ in EXPECTED[name])


# ---- micrograd: right, with its two limits ----


@pytest.mark.slow
def test_micrograd_is_right_and_its_missing_ops_are_listed_not_counted():
    r = report("micrograd")
    assert r.ok
    assert r.missing == ("exp", "log", "tanh", "sigmoid", "abs", "sqrt")
    assert set(r.tested) | set(r.missing) == set(METHODS)
    assert r.to_json()["ops"]["missing"] == ["exp", "log", "tanh", "sigmoid", "abs", "sqrt"]


@pytest.mark.slow
def test_micrograds_recursive_sort_is_a_limit_on_the_2000_gate_chain():
    f = finding("micrograd", "recursion", severity="limit")
    assert f.circuit == "x = a; for k in range(2000): x = x + Value(0.5)"
    assert f.yours is None and f.true == {"a": 1.0}
    assert "RecursionError" in f.message and "in build_topo)" in f.message


@pytest.mark.slow
def test_micrograds_second_backward_gives_three_times_one_calls_gradient():
    # c = (a*3)*4: dc/da = 12; a second call passes on the gates' old gradients again: 12 + 12 + 12 = 36.
    f = finding("micrograd", "accumulation", severity="limit")
    assert f.circuit == "b = a * 3; c = b * 4"
    assert (f.inputs, f.yours, f.true, f.mistake) == ({"a": 2.0}, {"a": 36.0}, {"a": 24.0}, "no-zero")
    assert "gategrad explain 'x*x + x' x=3 --mistake no-zero" in f.message


@pytest.mark.slow
def test_an_engine_with_pytorchs_second_backward_has_no_finding():
    assert report("perfect").findings == ()


# ---- the classic mistakes, on the smallest circuit, with the walk ----


def test_overwrite_is_accumulation_on_a_plus_a_in_the_labs_words():
    f = finding("overwrite", "accumulation")
    assert (f.circuit, f.inputs, f.yours, f.true, f.mistake) == (
        "b = a + a",
        {"a": 3.0},
        {"a": 1.0},
        {"a": 2.0},
        "overwrite",
    )
    assert f.message.splitlines()[:3] == [
        "b = a + a  at a = 3",
        "yours: a = 1; true: a = 2",
        "a is used 2 times, and its gradient 1 is not the sum over its uses, 2: each gate must add to its inputs' "
        "gradients with +=, never set them with =.",
    ]
    assert (
        "  step 1: The add gate distributes: each of its 2 inputs (a, a) gets the upstream gradient 1 unchanged.\n"
        "    <- here yours differs: a has the gradient 1, the true one is 2"
    ) in f.message
    assert "gategrad explain 'a+a' a=3 --mistake overwrite" in f.message


def test_the_command_a_finding_points_to_runs_and_says_the_same_sentence(capsys):
    f = finding("overwrite", "accumulation")
    assert main(["explain", "a+a", "a=3", "--mistake", "overwrite"]) == 0
    lab = capsys.readouterr().out
    step = next(line for line in f.message.splitlines() if line.startswith("Step 1: "))
    assert step.replace("add gate b ", "add gate a+a ") in lab  # explain labels a gate by its text


def test_a_recursive_backward_without_a_sort_is_order_on_the_issues_circuit():
    # d = b*c with b = 3a, c = b + 1 at a = 2: dd/da = 3(c + b) = 3(7 + 6) = 39. The recursion walks b once
    # from d (a += 3·7) and again from c, with all b holds by then (a += 3·13): 21 + 39 = 60.
    f = finding("no_topo_recursive", "order")
    assert (f.circuit, f.yours, f.true, f.mistake) == (
        "b = a * 3; c = b + 1; d = b * c",
        {"a": 60.0},
        {"a": 39.0},
        "recursive",
    )
    walk = [line.strip() for line in f.message.splitlines() if line.strip().startswith("step ")]
    assert walk == [
        "step 1: The mul gate swaps its inputs: b gets 1 × c's value 7 = 7, and c gets 1 × b's value 6 = 6.",
        "step 2: The add gate adds the constant 1: b gets the upstream gradient 6 unchanged, and the constant gets no "
        "gradient.",
        "step 3: The mul gate scales by its constant factor 3: a gets 13 × 3 = 39.",
    ]
    assert "gategrad explain '(a*3)*((a*3)+1)' a=2 --mistake recursive" in f.message


def test_a_breadth_first_walk_is_order_named_no_sort():
    f = finding("bfs_no_sort", "order")
    assert (f.circuit, f.mistake) == ("b = a * 3; c = b + 1; d = b * c", "no-sort")
    # b is walked when d reports (7), before c adds its 6: a gets 3·7 = 21, and c's 6 never reaches a.
    assert (f.yours, f.true) == ({"a": 21.0}, {"a": 39.0})


def test_walking_the_sort_forwards_is_order_reversed():
    # d = c + a with c = a*b at (2, -3): dd/da = b + 1 = -2; walked from the inputs, c's gate runs before
    # c has a gradient, so a keeps only the 1 of its direct use.
    f = finding("reversed_order", "order")
    assert (f.circuit, f.yours, f.true, f.mistake) == (
        "c = a * b; d = c + a",
        {"a": 1.0, "b": 0.0},
        {"a": -2.0, "b": 2.0},
        "reversed",
    )
    assert "Walk reversed(topo)." in f.message


def test_a_missing_seed_stops_the_gradient_checks():
    r = report("no_seed")
    (f,) = r.findings
    assert (f.kind, f.circuit, f.yours, f.true) == (
        "seed",
        "c = a + b",
        {"a": 0.0, "b": 0.0, "c": 0.0},
        {"a": 1.0, "b": 1.0, "c": 1.0},
    )
    assert "After backward(), the output c has the gradient 0, not 1." in f.message


@pytest.mark.slow
def test_pows_missing_minus_one_is_its_local_gradient_with_the_rule_in_gategrads_words():
    f = finding("pow_no_minus_one", "local_grad", "__pow__")
    # a ** 2 at 4: 2·4 = 8 is due; 2·4² = 32 is what k·x^k gives.
    assert (f.circuit, f.inputs, f.yours, f.true) == ("b = a ** 2", {"a": 4.0}, {"a": 32.0}, {"a": 8.0})
    assert "  step 1: The pow gate raises a to the constant power 2: a gets 1 × 2·a^(2-1) = 1 × 8 = 8." in f.message


@pytest.mark.slow
def test_a_gate_that_forgets_the_upstream_gradient_shows_once_its_output_is_scaled():
    f = finding("pow_no_upstream", "local_grad", "__pow__")
    assert (f.circuit, f.yours, f.true) == ("b = a ** 2; c = b * -2", {"a": 8.0}, {"a": -16.0})
    assert (
        "its local derivative alone: the chain rule multiplies it by the gradient that arrives from above, -2"
        in f.message
    )


@pytest.mark.slow
def test_reflected_ops_are_named():
    assert finding("rsub_grad", "reflected", "__rsub__").yours == {"a": 1.0}  # 3 - a: -1 is due
    assert finding("rsub_grad", "reflected", "__rsub__").true == {"a": -1.0}
    f = finding("rsub_sign", "reflected", "__rsub__")  # a - 3 where 3 - a is due, at a = 2
    assert (f.circuit, f.yours, f.true) == ("b = 3 - a", {"b": -1.0}, {"b": 1.0})
    f = finding("rtruediv_swapped", "reflected", "__rtruediv__")
    assert (f.circuit, f.yours, f.true) == ("b = 3 / a", {"b": 2 / 3}, {"b": 1.5})


@pytest.mark.slow
def test_relu_at_exactly_zero_takes_pytorchs_zero():
    f = finding("relu_at_zero", "local_grad", "relu")
    assert (f.circuit, f.inputs, f.yours, f.true) == ("b = a.relu()", {"a": 0.0}, {"a": 1.0}, {"a": 0.0})


@pytest.mark.slow
def test_tanh_and_exp_and_sigmoid_local_gradients():
    f = finding("tanh_at_input", "local_grad", "tanh")  # at -2: 1 - 4 = -3 against 1 - tanh(-2)²
    assert (f.inputs, f.yours) == ({"a": -2.0}, {"a": -3.0})
    assert f.true["a"] == pytest.approx(1 - 0.9640275800758169**2, rel=1e-15)
    f = finding("exp_at_input", "local_grad", "exp")
    assert (f.inputs, f.yours) == ({"a": -2.0}, {"a": -2.0})
    f = finding("sigmoid_no_one_minus", "local_grad", "sigmoid")
    s = 1 / (1 + 2.718281828459045**2)
    assert f.yours["a"] == pytest.approx(s) and f.true["a"] == pytest.approx(s * (1 - s))


@pytest.mark.slow
def test_tanh_from_the_lectures_formula_overflows_at_400():
    f = finding("tanh_from_exp", "forward", "tanh")
    assert (f.circuit, f.inputs, f.yours, f.true) == ("b = a.tanh()", {"a": 400.0}, None, {"b": 1.0})
    assert "raised OverflowError: math range error (tanh_from_exp.py, line 60, in tanh)" in f.message


@pytest.mark.slow
def test_an_engine_without_constants_fails_on_each_op_with_a_number():
    f = finding("no_constants", "constant", "__add__")
    assert (f.circuit, f.yours, f.true) == ("b = a + 3", None, {"b": 5.0})
    assert "AttributeError: 'float' object has no attribute 'data'" in f.message
    assert "other = other if isinstance(other, Value) else Value(other)" in f.message


@pytest.mark.slow
def test_random_circuits_find_and_shrink_what_the_fixed_ones_miss():
    # Only the hand-written div sets with =, so only a / a (or a Value on both sides) shows it: d(a/a)/da = 0.
    f = finding("div_overwrite", "accumulation")
    assert (f.circuit, f.inputs, f.yours, f.true, f.mistake) == (
        "b = a / a",
        {"a": 2.0},
        {"a": -0.5},
        {"a": 0.0},
        "overwrite",
    )
    assert report("div_overwrite").random > 0


@pytest.mark.slow
def test_a_random_circuits_op_is_judged_alone_at_its_own_inputs():
    f = finding("mul_from_output", "local_grad", "__neg__")
    assert (f.circuit, f.inputs) == ("b = -a", {"a": 0.0})
    assert "ZeroDivisionError: float division by zero (mul_from_output.py, line 33, in _backward)" in f.message


@pytest.mark.slow
def test_a_run_is_deterministic():
    first = check_engine(engine("lecture")).to_json()
    assert check_engine(engine("lecture")).to_json() == first
    assert first["random_circuits"] > 0


# ---- the report: JSON, text, languages ----


def test_json_has_the_documented_keys():
    data = json.loads(json.dumps(report("overwrite").to_json(), allow_nan=False))
    assert set(data) == {"ok", "class", "ops", "circuits", "random_circuits", "findings"}
    assert data["ok"] is False and data["class"] == "Value" and data["ops"]["missing"] == ["abs", "sqrt"]
    keys = {"kind", "severity", "op", "circuit", "inputs", "yours", "true", "message", "mistake"}
    assert all(set(f) == keys for f in data["findings"])


def test_the_text_report_lists_each_finding_with_its_message():
    text = report("overwrite").text()
    assert text.splitlines()[1:4] == [
        "Ops tested: __add__ __sub__ __mul__ __truediv__ __pow__ __neg__ __radd__ __rsub__ __rmul__ __rtruediv__ "
        "relu exp log tanh sigmoid",
        "Not in your class, so not tested: abs sqrt",
        "",
    ]
    assert "\n1 finding shows a wrong value or gradient.\n\n1. wrong: accumulation\n   b = a + a  at a = 3\n" in text


@pytest.mark.parametrize("lang", ["zh", "ru"])
def test_the_report_in_chinese_and_russian_has_the_same_numbers_and_gategrads_sentences(lang):
    from gategrad.engine import Value
    from gategrad.explain.lang import sentence

    english, translated = report("overwrite"), report("overwrite", lang)
    assert [f.to_json() | {"message": ""} for f in translated.findings] == [
        f.to_json() | {"message": ""} for f in english.findings
    ]
    a = Value(3.0, "a")
    (step,) = list((a + a).backward_steps())
    message = translated.findings[0].message
    assert sentence(step, lang) in message
    assert "gategrad explain 'a+a' a=3 --mistake overwrite" in message
    assert "yours" not in message and "The misconception lab" not in message


# ---- in the browser: from source text ----

MICROGRAD = (ENGINES / "micrograd.py").read_text()


@pytest.mark.slow
def test_check_engine_source_gives_the_same_report_as_the_class():
    assert check_engine_source(MICROGRAD, filename="micrograd.py").to_json() == report("micrograd").to_json()


def test_an_exception_in_the_source_is_its_traceback_trimmed_to_the_source():
    source = "import math\n\nclass Value:\n    pass\n\nraise RuntimeError('oops')\n"
    with pytest.raises(EngineError) as e:
        check_engine_source(source)
    assert str(e.value) == (
        'Traceback (most recent call last):\n  File "my_engine.py", line 6, in <module>\n'
        "    raise RuntimeError('oops')\nRuntimeError: oops\n"
    )


@pytest.mark.parametrize(
    "source, name, message",
    [
        (
            "class Node:\n    pass\n",
            "Value",
            "my_engine.py defines no class Value; it has Node: name one with my_engine.py:ClassName",
        ),
        ("Value = 3\n", "Value", "Value in my_engine.py is not a class but int"),
        (
            "class Value:\n    def __init__(self, x):\n        self.data = x\n",
            "Value",
            "Value(2.0) has no attribute grad: the checker needs data, grad and backward()",
        ),
        (
            "class Value:\n    def __init__(self, x):\n        self.data, self.grad = x, 0\n",
            "Value",
            "Value has no method backward(): the checker needs data, grad and backward()",
        ),
        ("class Value:\n    def __init__(self, x, y):\n        pass\n", "Value", "Value(2.0) raised TypeError"),
    ],
    ids=["no such class", "not a class", "no grad", "no backward", "needs two arguments"],
)
def test_a_class_that_cannot_be_checked_is_an_engine_error(source, name, message):
    with pytest.raises(EngineError) as e:
        check_engine_source(source, name)
    assert str(e.value).startswith(message)


def test_the_referee_imports_neither_numpy_nor_the_numpy_checker():
    code = (
        "import sys\n"
        "import gategrad.check.referee as r\n"
        "exec(open(sys.argv[1]).read(), ns := {})\n"
        "r.check_engine(ns['Value'])\n"
        "print(sorted(m for m in ('gategrad.check.run', 'gategrad.check.diagnose', 'gategrad.check.report', "
        "'gategrad.arrays') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(ENGINES / "overwrite.py")], capture_output=True, text=True)
    assert (out.returncode, out.stdout) == (0, "[]\n"), out.stderr
    for module in ("referee", "circuits", "sandbox", "__init__"):
        source = (Path(__file__).parent.parent / "gategrad" / "check" / f"{module}.py").read_text()
        assert not re.search(r"^\s*(import|from) numpy", source, re.M)


def test_the_unary_ops_are_the_gate_tables_one_input_functions():
    unary = [m for m in METHODS if not m.startswith("__")]
    assert unary == [g.method for g in GATES.values() if g.function and g.arity == 1]


def test_a_circuit_prints_as_the_program_a_learner_types():
    c = circuit([2.0], ("*", (0, 3.0)), ("+", (1, 1.0)), ("*", (1, 2)))
    assert str(c) == "b = a * 3; c = b + 1; d = b * c  at a = 2"
    assert c.expression() == "(a*3)*((a*3)+1)"


@pytest.mark.slow
def test_the_installed_micrograd_gets_the_same_findings_as_its_copy_here():
    from micrograd.engine import Value

    assert [(f.kind, f.circuit, f.yours) for f in check_engine(Value).findings] == [
        (f.kind, f.circuit, f.yours) for f in report("micrograd").findings
    ]
