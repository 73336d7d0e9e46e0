"""`gategrad check FILE.py [--json]`: the report, exit codes 0/1/2, errors as one line or the learner's traceback."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gategrad.cli import main

BACKPROPS = Path(__file__).parent / "backprops"

ONE_LAYER = """
import numpy as np
from gategrad.check import tap

X = np.array([[1.0, 2.0], [3.0, -1.0]])


def params():
    return {"w": np.array([[0.5], [-0.25]]), "b": np.array([0.1])}


def loss(p):
    z = tap("z", X @ p["w"] + p["b"])
    return np.sum(z ** 2) / 2
"""


def learner_file(tmp_path, source, name="mine.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def run(capsys, *argv):
    code = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_right_backprop_prints_its_table_and_exits_0(capsys):
    code, out, err = run(capsys, BACKPROPS / "sigmoid_mse.py")
    assert (code, err) == (0, "")
    assert out.startswith("All 8 arrays agree with the engine's gradients (within 1e-8 × the largest |true| entry")
    assert "  array  kind          shape   max |yours - true|  agrees\n  a2     intermediate  (4, 1)  0" in out
    assert out.rstrip().endswith("grads(p) gives the same arrays when called twice.")


def test_a_broken_backprop_prints_its_diagnosis_and_first_divergence_and_exits_1(capsys):
    code, out, err = run(capsys, BACKPROPS / "sigmoid_mse_prime_of_activation.py")
    assert (code, err) == (1, "")
    assert out.startswith("3 of 8 arrays disagree")
    assert "the first, walking back from the loss, is z1." in out
    assert "\nDiagnosis:\n  z1 (derivative_at_output): Yours is ∂L/∂a1 × σ'(a1)" in out
    assert "\nFirst divergence, walking back from the loss: z1. At z1[2,0]:\n  ∂L/∂z1[2,0] = ∂L/∂a1[2,0] × " in out
    assert "  Gate by gate, from a1[2,0] back to z1[2,0]:\n    The mul gate scales by its constant factor 1" in out


def test_only_repeating_wrong_exits_1(capsys):
    code, out, _ = run(capsys, BACKPROPS / "sigmoid_mse_accumulating.py")
    assert code == 1
    assert "but grads(p) does not repeat itself" in out


def test_json_is_one_object_with_the_documented_keys(capsys):
    code, out, err = run(capsys, BACKPROPS / "sigmoid_mse_mean_in_one_layer.py", "--json")
    report = json.loads(out)
    assert (code, err) == (1, "")
    assert (report["ok"], report["repeatable"], report["first_divergence"]) == (False, True, "b1")
    b1 = report["checked"][2]
    assert (b1["name"], b1["kind"], b1["shape"], b1["agrees"]) == ("b1", "parameter", [3], False)
    assert (b1["diagnosis"]["kind"], b1["diagnosis"]["factor"]) == ("scale", 4.0)


def test_what_the_file_prints_goes_to_stderr_so_json_stays_json(tmp_path, capsys):
    path = learner_file(
        tmp_path,
        ONE_LAYER
        + """
print("loading my net")


def grads(p):
    z = X @ p["w"] + p["b"]
    print("computing grads")
    return {"w": X.T @ z, "b": z.sum(axis=0)}
""",
    )
    code, out, err = run(capsys, path, "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    assert err == "loading my net\ncomputing grads\ncomputing grads\n"


@pytest.mark.parametrize(
    "source, message",
    [
        (None, "error: check: no such file: {path}"),
        (
            "x = 1\n",
            "error: check: {path} defines no function params, loss, grads: it needs params(), loss(p), grads(p)",
        ),
        (ONE_LAYER, "error: check: {path} defines no function grads: it needs params(), loss(p), grads(p)"),
        (
            ONE_LAYER.replace("return np.sum(z ** 2) / 2", "return z ** 2 / 2") + "\ndef grads(p):\n    return {}\n",
            "error: check: loss(p) must return one number, the loss; it returned an array of shape (2, 1)",
        ),
        (
            ONE_LAYER + "\ndef grads(p):\n    return {'w': 0, 'b': 0, 'dz': 0}\n",
            "error: check: grads(p) has a key 'dz' that names nothing: parameters are w, b; tapped in loss(p): z",
        ),
    ],
    ids=["missing file", "no functions", "no grads", "loss not a scalar", "a key naming nothing"],
)
def test_a_usage_error_is_one_line_and_exit_2(tmp_path, capsys, source, message):
    path = tmp_path / "mine.py" if source is None else learner_file(tmp_path, source)
    code, out, err = run(capsys, path)
    assert (code, out) == (2, "")
    assert err == message.format(path=path) + "\n"


def test_a_file_that_is_not_python_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "net.txt"
    path.write_text("")
    assert run(capsys, path) == (2, "", f"error: check: {path} is not a Python file (.py)\n")


def test_an_exception_in_the_learners_code_shows_their_traceback_only(tmp_path, capsys):
    path = learner_file(
        tmp_path,
        ONE_LAYER
        + """

def backward_layer(p, z):
    return X.T @ z @ p["w2"]


def grads(p):
    z = X @ p["w"] + p["b"]
    return {"w": backward_layer(p, z), "b": z.sum(axis=0)}
""",
    )
    code, out, err = run(capsys, path)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: check: {path} raised an exception:\nTraceback (most recent call last):\n")
    assert err.count('  File "') == 2  # grads, then backward_layer: no frame of gategrad's
    assert f'  File "{path.resolve()}", line 23, in grads' in err
    assert "gategrad" not in err.replace(str(tmp_path), "")
    assert err.endswith("KeyError: 'w2'\n")


def test_the_traceback_is_trimmed_for_a_file_named_relative_to_here(tmp_path, capsys, monkeypatch):
    learner_file(tmp_path, ONE_LAYER + "\ndef grads(p):\n    return 1 / 0\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "mine.py")
    assert code == 2
    assert err.count('  File "') == 1 and err.endswith("ZeroDivisionError: division by zero\n")


def test_a_syntax_error_shows_the_line(tmp_path, capsys):
    path = learner_file(tmp_path, "def params(:\n    pass\n")
    code, out, err = run(capsys, path)
    assert code == 2
    assert "Traceback" not in err
    assert "line 1" in err and err.endswith("SyntaxError: invalid syntax\n")


def test_the_command_exits_with_its_code_and_no_traceback(tmp_path):
    path = learner_file(tmp_path, "x = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "gategrad.cli", "check", str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "gategrad.cli", "check", str(BACKPROPS / "tied_weights_one_use.py")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stderr) == (1, "")
    assert "First divergence, walking back from the loss: W." in proc.stdout


@pytest.mark.parametrize(
    "lang, says",
    [
        ("zh", "你的梯度是 (hidden > 0).T @ dscores，但前向传播是用 hidden 算出 scores 的"),
        ("ru", "Ваш градиент равен (hidden > 0).T @ dscores, но прямой проход вычислил scores из hidden"),
    ],
)
def test_lang_translates_the_report_and_its_diagnoses(capsys, lang, says):
    code, out, err = run(capsys, BACKPROPS / "cs231n_two_layer_net_inplace_relu.py", "--lang", lang)
    assert (code, err) == (1, "")
    assert says in out
    assert "W2 (wrong_operand): " in out  # the kind is the JSON's key, in every language
    data = json.loads(run(capsys, BACKPROPS / "cs231n_two_layer_net_inplace_relu.py", "--lang", lang, "--json")[1])
    (w2,) = [row for row in data["checked"] if not row["agrees"]]
    assert (w2["diagnosis"]["kind"], w2["diagnosis"]["equals"]) == ("wrong_operand", "(hidden > 0)")
    assert says in w2["diagnosis"]["message"]


def test_an_unknown_language_exits_2_naming_the_known_ones(capsys):
    code, out, err = run(capsys, BACKPROPS / "sigmoid_mse.py", "--lang", "xx")
    assert (code, out) == (2, "")
    assert err == "error: gategrad check: argument --lang: invalid choice: 'xx' (choose from 'en', 'ru', 'zh')\n"


def test_help_lists_every_kind_of_diagnosis(capsys):
    from gategrad.check import KINDS

    with pytest.raises(SystemExit):
        main(["check", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert [kind for kind in KINDS if kind not in text] == []
    assert "--lang LANG" in text
