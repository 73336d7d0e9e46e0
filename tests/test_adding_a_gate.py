"""The docs' "Adding a gate", followed to the letter: a copy of tanh named tanh2 works everywhere, with tanh's numbers.

The recipe is the two `py` blocks of that section of docs/tutorials/gates.md: the test checks they are
tanh's method and row with only the op, method and function names changed, inserts them into a copy of
the package, and runs `explain` (en, zh, ru, --json), `draw_dot`, replay, nn and the table-driven tests on the copy.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGE = (ROOT / "docs" / "tutorials" / "gates.md").read_text(encoding="utf-8")
SECTION = PAGE.split("\n## Adding a gate\n", 1)[1].split("\n## ", 1)[0]
METHOD, ROW = re.findall(r"^```py\n(.*?)^```", SECTION, re.M | re.S)

TANH_ROW = re.compile(r"^    Gate\(\n        op=\"tanh\",\n.*?^    \),\n", re.M | re.S)
TANH_METHOD = re.compile(r"^    def tanh\(self\) -> Value:\n.*?\n\n", re.M | re.S)

# The table-driven test files, and the tests of them that must have run on tanh2.
TABLE_TESTS = [
    "tests/test_gates.py",
    "tests/test_against_torch.py",
    "tests/test_replay.py",
    "tests/test_lang.py",
    "tests/test_cli_explain.py",
    "tests/test_nn.py",
    "tests/test_torch_export.py",
    "tests/test_nn_against_torch.py",
]
COVERED = [
    "test_gates.py::test_every_method_agrees_with_its_row_at_the_rows_points[tanh2]",
    "test_against_torch.py::test_gate_matches_torch_float64[tanh2(0.5,)]",
    "test_against_torch.py::test_the_stated_ulps_hold_over_100_000_random_points[tanh2]",
    "test_replay.py::test_each_gate_replays_the_scalar_gates_numbers_edge_cases_included[tanh2-fused]",
    "test_nn.py::test_a_neuron_applies_its_activation_as_one_gate_after_the_sum[tanh2]",
    "test_torch_export.py::test_to_torch_computes_the_same_outputs_in_float64[tanh2]",
    "test_nn_against_torch.py::test_mlp_gradients_under_cross_entropy_equal_torch[tanh2]",
]


def tanh2(source: str, pattern: re.Pattern, renames: list[tuple[str, str]]) -> tuple[str, str]:
    """`source` with a copy of what `pattern` finds, renamed, right after it; and the copy."""
    found = pattern.search(source)
    assert found, pattern.pattern
    copy = found[0]
    for old, new in renames:
        assert old in copy, old
        copy = copy.replace(old, new)
    return source[: found.end()] + copy + source[found.end() :], copy


def apply_recipe(package: Path) -> None:
    """Insert the recipe's method and row into `package` (a copy of gategrad), after tanh's."""
    value, gates = package / "engine" / "value.py", package / "engine" / "gates.py"
    method = textwrap.indent(METHOD, "    ") + "\n"
    row = textwrap.indent(ROW, "    ")
    source = value.read_text(encoding="utf-8")
    value.write_text(source.replace(TANH_METHOD.search(source)[0], TANH_METHOD.search(source)[0] + method))
    source = gates.read_text(encoding="utf-8")
    gates.write_text(source.replace(TANH_ROW.search(source)[0], TANH_ROW.search(source)[0] + row))


def test_the_recipe_is_tanhs_method_and_row_with_only_the_names_changed():
    gates = (ROOT / "gategrad" / "engine" / "gates.py").read_text(encoding="utf-8")
    value = (ROOT / "gategrad" / "engine" / "value.py").read_text(encoding="utf-8")
    _, row = tanh2(
        gates,
        TANH_ROW,
        [('op="tanh"', 'op="tanh2"'), ('method="tanh"', 'method="tanh2"'), ("a.tanh()", "a.tanh2()"),
         ('function="tanh"', 'function="tanh2"')],
    )  # fmt: skip
    _, method = tanh2(value, TANH_METHOD, [("def tanh(", "def tanh2("), ('"tanh", self', '"tanh2", self')])
    assert textwrap.dedent(row) == ROW
    assert textwrap.dedent(method).rstrip("\n") + "\n" == METHOD


def run(copy: Path, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run([sys.executable, *argv], cwd=copy, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    """The repository's package, tests and tools, copied with the recipe applied."""
    root = tmp_path_factory.mktemp("tanh2")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("gategrad", "tests", "tools"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, root / name)
    apply_recipe(root / "gategrad")
    return root


T = math.tanh(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh", "ru"])
def test_explain_walks_tanh2_with_tanhs_numbers_and_sentences(copy, lang):
    new = run(copy, "-m", "gategrad.cli", "explain", "tanh2(x)*x", "x=0.5", "--lang", lang)
    old = run(copy, "-m", "gategrad.cli", "explain", "tanh(x)*x", "x=0.5", "--lang", lang)
    assert new.returncode == 0 and new.stderr == "", new.stderr
    assert new.stdout.replace("tanh2", "tanh").split() == old.stdout.split()  # the same but for column widths
    assert f"{T:.4g}" in new.stdout and f"{T + 0.5 * (1 - T * T):.4g}" in new.stdout  # tanh(0.5), and x's grad


@pytest.mark.slow
def test_explain_json_gives_tanhs_numbers(copy):
    new = run(copy, "-m", "gategrad.cli", "explain", "tanh2(x)*x", "x=0.5", "--json")
    old = run(copy, "-m", "gategrad.cli", "explain", "tanh(x)*x", "x=0.5", "--json")
    assert new.returncode == 0, new.stderr
    data = json.loads(new.stdout)
    assert [step["gate"] for step in data["steps"]] == ["mul", "tanh2"]
    assert data["steps"][1]["inputs"][0]["local_grad"] == 1 - T * T
    assert data["grads"] == {"x": T + 0.5 * (1 - T * T)}
    assert json.loads(new.stdout.replace("tanh2", "tanh")) == json.loads(old.stdout)


SCRIPT = """
import json
import numpy as np
from gategrad import Value, draw_dot, nn
from gategrad.replay import Plan, trace

x = Value(0.5, label="x")
new, old = draw_dot(x.tanh2() * x).source, draw_dot(x.tanh() * x).source
assert new.replace("tanh2", "tanh") == old.replace("tanh2", "tanh") and "tanh" in new, new

batch = np.array([[0.5], [-2.0], [20.0], [0.0]])
for f in (lambda v: v[0].tanh2() * v[0], lambda v: v[0].tanh() * v[0]):
    plan = Plan(trace(f, [], [0.5]), input_grads=True)
    out = plan.forward(batch)
    print(json.dumps([out[:, 0].tolist(), plan.backward(np.ones_like(out))[1][:, 0].tolist()]))

X, y = [[0.5, -1.0], [1.0, 2.0], [-1.5, 0.5]], [1.0, -1.0, 1.0]
for act in ("tanh2", "tanh"):
    model = nn.MLP(2, [4, 1], act, seed=0)
    print(json.dumps([model(x).data for x in X]))
"""


@pytest.mark.slow
def test_draw_dot_replay_and_nn_take_tanh2_and_give_tanhs_numbers(copy):
    done = run(copy, "-c", SCRIPT)
    assert done.returncode == 0, done.stderr
    replay_new, replay_old, nn_new, nn_old = done.stdout.splitlines()
    assert replay_new == replay_old and nn_new == nn_old
    values, grads = json.loads(replay_new)
    for x, out, grad in zip([0.5, -2.0, 20.0, 0.0], values, grads):
        assert math.isclose(out, math.tanh(x) * x, rel_tol=1e-15, abs_tol=0)
        assert math.isclose(grad, math.tanh(x) + x * (1 - math.tanh(x) ** 2), rel_tol=1e-15, abs_tol=1e-300)


@pytest.mark.slow
def test_the_table_driven_tests_cover_tanh2_and_pass(copy):
    done = run(copy, "-m", "pytest", "-q", "-rN", "-p", "no:randomly", "-p", "no:cacheprovider", "-k", "not million",
               "-o", "addopts=", "--junit-xml", str(copy / "report.xml"), *TABLE_TESTS)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    report = (copy / "report.xml").read_text(encoding="utf-8")
    for test in COVERED:
        path, name = test.split("::")
        assert f'classname="tests.{path[:-3]}" name="{name}"' in report, test
