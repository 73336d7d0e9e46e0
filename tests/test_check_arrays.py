"""The array path of check: loss(p) traced on float arrays, one vectorised backward pass, and walks replayed on
Values at the entries they pass. It must give the report the circuit of Values gives, on every catalogue file."""

import re
from pathlib import Path

import numpy as np
import pytest

from gategrad.check import check_file, run
from gategrad.check.diagnose import close

BACKPROPS = Path(__file__).parent / "backprops"
CATALOGUE = sorted(path.stem for path in BACKPROPS.glob("*.py"))


@pytest.fixture
def circuits(monkeypatch):
    """check_file(path, arrays) on the array path (arrays=True), on Values (False) or as the size decides (None),
    and the circuit it read."""
    seen = []
    report = run._report

    def spy(circuit, *rest):
        seen.append(circuit)
        return report(circuit, *rest)

    monkeypatch.setattr(run, "_report", spy)

    def checked(path, arrays):
        monkeypatch.setattr(run, "ARRAYS", {True: 0, False: 10**12, None: run.LARGE}[arrays])
        seen.clear()
        out = check_file(path)
        return out, seen[-1]

    return checked


def table_without_round_off(report):
    """The text report, with the error column blank where it is round-off (below 1e-15), spaces collapsed."""
    lines = []
    for line in str(report).splitlines():
        row = re.match(r"^  (\S+)\s+(parameter|intermediate)\s+(\(.*?\))\s+(\S+)\s+(yes|no)$", line)
        if row:
            error = row[4]
            tiny = error == "0" or bool(re.fullmatch(r"\d(\.\d+)?e-(1[5-9]|[2-9]\d)", error))
            line = " ".join([row[1], row[2], row[3], "~0" if tiny else error, row[5]])
        lines.append(line)
    return lines


@pytest.mark.parametrize("name", CATALOGUE)
def test_the_traced_gradients_are_the_engines_on_every_catalogue_file(name, circuits):
    _, on_arrays = circuits(BACKPROPS / f"{name}.py", arrays=True)
    _, on_values = circuits(BACKPROPS / f"{name}.py", arrays=False)
    assert isinstance(on_arrays, run.arraygraph.Circuit)
    assert isinstance(on_values, run._Values)
    assert set(on_arrays.true) == set(on_values.true)
    assert [n for n in on_values.true if not close(on_arrays.true[n], on_values.true[n])] == []
    same = {n: np.allclose(on_arrays.data[n], on_values.data[n], rtol=1e-12, atol=0) for n in on_values.data}
    assert [n for n, agree in same.items() if not agree] == []


@pytest.mark.parametrize("name", CATALOGUE)
def test_the_array_path_gives_the_report_the_values_give_on_every_catalogue_file(name, circuits):
    on_arrays, _ = circuits(BACKPROPS / f"{name}.py", arrays=True)
    on_values, _ = circuits(BACKPROPS / f"{name}.py", arrays=False)
    assert table_without_round_off(on_arrays) == table_without_round_off(on_values)
    assert [said(c) for c in on_arrays.checked] == [said(c) for c in on_values.checked]
    factors = [c.diagnosis.factor for c in on_values.checked if c.diagnosis and c.diagnosis.factor is not None]
    mine = [c.diagnosis.factor for c in on_arrays.checked if c.diagnosis and c.diagnosis.factor is not None]
    assert mine == pytest.approx(factors, rel=1e-12)


def said(c):
    d = c.diagnosis
    return (c.name, c.agrees) if d is None else (c.name, c.agrees, d.kind, d.equals, d.message)


def test_the_walk_of_the_first_divergence_is_the_same_gates_on_both_paths(circuits):
    on_arrays, _ = circuits(BACKPROPS / "cs231n_two_layer_net_no_relu_mask.py", arrays=True)
    on_values, _ = circuits(BACKPROPS / "cs231n_two_layer_net_no_relu_mask.py", arrays=False)
    mine, theirs = on_arrays.first_divergence.route, on_values.first_divergence.route
    assert mine.entry.label == theirs.entry.label == "W1[1,4]"
    assert [(t.output.label, t.local) for t in mine.terms] == [(t.output.label, t.local) for t in theirs.terms]
    assert [s.upstream for s in mine.steps] == pytest.approx([s.upstream for s in theirs.steps], rel=1e-12)
    assert [s.op for s in mine.steps] == [s.op for s in theirs.steps]
    assert len(mine.steps) == 5  # the tap of X.dot(W1) + b1, four adds of the matmul's sum, its product


LEARNER = """
import numpy as np

X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]])


def params():
    return {"W": np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])}


def loss(p):
    z = X @ p["W"]
    {line}
    return np.sum(h * h) / 2


def grads(p):
    z = X @ p["W"]
    {line}
    dh = h
    dz = {dz}
    return {"W": X.T @ dz}
"""


@pytest.mark.parametrize(
    "line, dz",
    [
        ("h = np.cumsum(z, axis=1)", "np.cumsum(dh[:, ::-1], axis=1)[:, ::-1]"),  # a call the tracer does not know
        ("h = z.copy(); h[0] = h[0] * 2", "dh * np.array([[2.0], [1.0]])"),  # a write in place
    ],
)
def test_a_call_the_tracer_does_not_know_is_checked_on_values(tmp_path, monkeypatch, line, dz):
    path = tmp_path / "learner.py"
    path.write_text(LEARNER.replace("{line}", line).replace("{dz}", dz))
    monkeypatch.setattr(run, "ARRAYS", 0)
    calls = []
    record = run._record
    monkeypatch.setattr(run, "_record", lambda *a: calls.append(1) or record(*a))
    report = check_file(path)
    assert calls == [1]  # the circuit of Values was built
    assert report.ok and [c.name for c in report.checked] == ["W"]


def test_a_large_circuit_builds_no_values_when_every_array_agrees(monkeypatch):
    monkeypatch.setattr(run, "ARRAYS", 0)
    monkeypatch.setattr(run, "_record", lambda *a: pytest.fail("the circuit of Values was built"))
    assert check_file(BACKPROPS / "cs231n_two_layer_net.py").ok


def test_x_dot_w_in_a_learners_file_is_traced():
    source = "def f(a, b):\n    return a.dot(b)\n"
    tree = run._TapAssignments(source).visit(run.ast.parse(source))
    assert run._DOT in run.ast.unparse(tree)
    x, w = np.array([[1.0, 2.0]]), run.trace.Traced(np.array([[3.0], [4.0]]), made=False)
    out = run._dot(x, w)
    assert isinstance(out, run.trace.Traced) and out.value.tolist() == [[11.0]]
    assert run._dot(x, np.array([[3.0], [4.0]])).tolist() == [[11.0]]


def every_call(p):
    """A loss that makes each numpy call the tracer knows, on arrays of mixed signs."""
    W, b = p["W"], p["b"]
    z = np.dot(np.array([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]), W) + b
    s = np.where(z > 0, np.sqrt(np.abs(z) + 1), np.tanh(z))
    m = np.maximum(s, 0.1) - np.minimum(z.T, -0.2).T
    e = np.exp(m - np.max(m, axis=1, keepdims=True))
    q = e / np.sum(e, axis=1, keepdims=True)
    both = np.hstack([q, np.concatenate([z, z**2], axis=0).reshape(3, 4)[:, :2]])
    picked = both[np.arange(3), np.array([0, 2, 1])]
    return np.mean(-np.log(picked)) + np.square(W).sum() * 0.5 + np.transpose(W)[1, 0] / 3


@pytest.mark.parametrize("arrays", [True, False])
def test_every_call_the_tracer_knows_has_the_engines_gradient(monkeypatch, arrays):
    seen = []
    report = run._report
    monkeypatch.setattr(run, "_report", lambda circuit, *rest: seen.append(circuit) or report(circuit, *rest))
    monkeypatch.setattr(run, "ARRAYS", 0 if arrays else 10**12)
    params = {"W": np.array([[0.3, -0.6], [0.9, 0.2]]), "b": np.array([0.1, -0.4])}
    run.check(params, every_call, lambda p: {"W": np.zeros((2, 2)), "b": np.zeros(2)})
    monkeypatch.setattr(run, "ARRAYS", 10**12)
    run.check(params, every_call, lambda p: {"W": np.zeros((2, 2)), "b": np.zeros(2)})
    traced_or_not, values = seen
    assert isinstance(traced_or_not, run.arraygraph.Circuit) == arrays
    assert close(traced_or_not.true["W"], values.true["W"]) and close(traced_or_not.true["b"], values.true["b"])
    assert np.abs(values.true["W"]).min() > 0.01  # every entry gets a gradient, so a wrong one shows


@pytest.mark.slow
def test_a_net_of_327680_gates_gets_the_same_walk_through_x_at_w1_on_both_paths(tmp_path, circuits):
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    try:
        from check_size import NET
    finally:
        sys.path.pop(0)
    source = NET.format(inputs=1024, hidden=16, samples=10, mask="da1 * (z1 > 0)").replace(
        '"W1": X.T @ dz1', '"W1": 2 * X.T @ dz1'
    )
    (tmp_path / "cat_net.py").write_text(source)
    on_arrays, circuit = circuits(tmp_path / "cat_net.py", arrays=None)
    assert isinstance(circuit, run.arraygraph.Circuit) and circuit.size > run.LARGE
    on_values, _ = circuits(tmp_path / "cat_net.py", arrays=False)
    assert table_without_round_off(on_arrays) == table_without_round_off(on_values)
    mine, theirs = on_arrays.first_divergence.route, on_values.first_divergence.route
    assert on_arrays.first_divergence.name == "W1" and mine.entry.label == theirs.entry.label
    assert [t.output.label for t in mine.terms] == [t.output.label for t in theirs.terms]  # z1[i,j], live samples
    assert [(s.op, s.output.label) for s in mine.steps] == [(s.op, s.output.label) for s in theirs.steps]
    assert [s.upstream for s in mine.steps] == pytest.approx([s.upstream for s in theirs.steps], rel=1e-12)
    assert len(mine.steps) > 900  # + b1, the adds of the matmul's sum from W1[48,11]'s product on, the product
