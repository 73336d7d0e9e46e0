"""`gategrad explain`: tables, JSON, SVG frames, and one-line refusals with exit code 2."""

import json
import math

import pytest
from conftest import MAX_CIRCUIT as MAX

from gategrad.cli import main
from gategrad.explain import expr

MAX_CIRCUIT = [MAX[0], *(f"{name}={value:g}" for name, value in MAX[1].items())]


def run(capsys, *argv):
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_output_is_forward_table_walk_and_gradients(capsys):
    code, out, err = run(capsys, *MAX_CIRCUIT)
    assert code == 0
    assert err == ""
    assert "  max(z,w)          max    2\n" in out
    assert "  3     max   max(z,w)          2         The max gate routes: the larger input z (2)" in out
    assert out.endswith("  input  grad\n  x      -8\n  y      6\n  z      2\n  w      0\n")


def test_json_of_the_add_mul_circuit(capsys):
    code, out, _ = run(capsys, "(x+y)*z", "x=-2", "y=5", "z=-4", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["expression"] == "(x+y)*z"
    assert data["grads"] == {"x": -4.0, "y": -4.0, "z": 3.0}
    assert [s["gate"] for s in data["steps"]] == ["mul", "add"]
    assert data["steps"][1]["upstream"] == -4.0


def test_json_of_the_max_circuit_routes_2_to_z_and_0_to_w(capsys):
    _, out, _ = run(capsys, *MAX_CIRCUIT, "--json")
    data = json.loads(out)
    max_step = data["steps"][2]
    assert data["grads"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    assert [(i["label"], i["contribution"]) for i in max_step["inputs"]] == [("z", 2.0), ("w", 0.0)]


def test_json_stays_valid_with_inf_and_nan(capsys):
    _, out, _ = run(capsys, "log(x) + y", "x=0", "y=nan", "--json")
    data = json.loads(out)
    assert data["forward"][1] == {"label": "log(x)", "op": "log", "data": "-Infinity"}
    assert data["forward"][2]["data"] == "NaN"
    assert math.isnan(float(data["forward"][3]["data"]))


def test_a_negative_value_is_a_value_not_an_option(capsys):
    code, out, _ = run(capsys, "x*y", "x=-2", "y=3", "--json")
    assert code == 0
    assert json.loads(out)["grads"] == {"x": 3.0, "y": -2.0}


def test_an_expression_starting_with_minus_goes_after_double_dash(capsys):
    code, out, _ = run(capsys, "--json", "--", "-x*y", "x=-2", "y=3")
    assert code == 0
    assert json.loads(out)["grads"] == {"x": -3.0, "y": 2.0}


@pytest.mark.needs_dot
def test_svg_dir_writes_the_frames(capsys, tmp_path):
    code, out, _ = run(capsys, *MAX_CIRCUIT, "--svg-dir", str(tmp_path / "frames"))
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f"frame-00{k}.svg" for k in range(5)]
    assert "grad &#45;8" in (tmp_path / "frames" / "frame-004.svg").read_text()
    assert "Wrote 5 frames to" in out


def test_svg_dir_without_dot_is_one_line_saying_how_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, *MAX_CIRCUIT, "--svg-dir", str(tmp_path / "frames"))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "apt-get install graphviz" in err


def test_svg_dir_that_cannot_be_written_is_one_line_and_exit_2(capsys, tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    code, out, err = run(capsys, *MAX_CIRCUIT, "--svg-dir", str(tmp_path / "taken"))
    assert (code, out) == (2, "")
    assert err == f"error: explain: cannot write {tmp_path / 'taken'}: File exists\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x.__class__", "x=1"], "attribute access is not allowed"),
        (
            ["open(x)", "x=1"],
            f"only the functions {', '.join(expr.FUNCTIONS)} can be called",
        ),
        (["(lambda: x)()", "x=1"], "only the functions"),
        (["x[0]", "x=1"], "subscripting is not allowed"),
        (["'a'*x", "x=1"], "only real numbers can be constants"),
        (["x**10000", "x=2"], "the exponent 10000 is too large"),
        (["2**2**x", "x=2"], "a power inside an exponent"),
        (["+" * 200 + "x", "x=1"], "nested more than 100 levels deep"),
        (["x*y", "x=1"], "no value for y"),
        (["x", "x=1", "y=2"], "y given but not used"),
        (["x", "x=one"], "the value of x must be a number"),
        (["x", "x=1", "x=2"], "x is given twice"),
        (["x", "x"], "'x' is not NAME=VALUE"),
        (["x", "x=1e999"], "the value of x, 1e999, is too large for a float; write inf for inf"),
        (["--", "-" * 101 + "x", "x=1"], "nested more than 100 levels deep; the limit is 100"),
    ],
)
def test_refusals_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err


def test_a_refused_expression_is_never_executed(capsys, tmp_path):
    marker = tmp_path / "ran"
    code, _, _ = run(capsys, f"__import__('pathlib').Path({str(marker)!r}).touch() or x", "x=1")
    assert code == 2
    assert not marker.exists()


def test_a_fullwidth_name_and_its_value_are_the_same_name(capsys):
    code, out, _ = run(capsys, "ｘ*2", "ｘ=3", "--json")
    assert code == 0
    assert json.loads(out)["grads"] == {"x": 2.0}


def test_a_flat_sum_of_10000_terms_is_explained(capsys):
    code, out, err = run(capsys, "+".join(["x"] * 10_000), "x=1", "--json")
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["grads"] == {"x": 10_000.0} and len(report["steps"]) == 9_999
