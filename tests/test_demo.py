"""`gategrad demo`: the walk it prints, the files it writes, and what it does without matplotlib or Graphviz."""

import contextlib
import html
import importlib.util
import io
import json
import re
import struct
from collections import Counter

import pytest

from gategrad import nn
from gategrad.cli import main
from gategrad.data import make_moons
from gategrad.viz import viewer

pytestmark = pytest.mark.needs_dot


def run_demo(*argv):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["demo", "--quiet", *argv])
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One run of the demo into a folder it has to create, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("demo") / "tour"
    return (*run_demo("--out", str(out)), out)


def test_the_demo_walks_cs231n_circuit_gate_by_gate(demo):
    code, out, err, _ = demo
    assert code == 0 and err == ""
    assert "$ gategrad explain '2*(x*y + max(z, w))' x=3 y=-4 z=2 w=-1" in out
    assert "The max gate routes: the larger input z (2) gets the upstream gradient 2, and w (-1) gets 0." in out
    grads = out[out.index("Gradients of") :].splitlines()[2:6]
    assert [line.split() for line in grads] == [["x", "-8"], ["y", "6"], ["z", "2"], ["w", "0"]]


def test_the_demo_trains_micrograds_moons_net_and_saves_it(demo):
    _, out, _, folder = demo
    assert "accuracy: 0.99" in out.splitlines()  # measured: micrograd's demo at seed 0
    model = nn.load(folder / "model.json")
    assert model.config() == {"nin": 2, "nouts": [16, 16, 1], "activation": "relu"}
    X, y = make_moons(100, noise=0.1, seed=0)
    assert nn.accuracy([model(x) for x in X], [2 * c - 1 for c in y]) == 0.99


def test_the_demo_writes_a_picture_of_the_circuit_a_stepper_and_the_boundary(demo):
    _, out, _, folder = demo
    assert sorted(p.name for p in folder.iterdir()) == [
        "boundary.png",
        "circuit.svg",
        "model.json",
        "run.html",
        "walkthrough.html",
    ]
    svg = html.unescape((folder / "circuit.svg").read_text())
    assert svg.startswith("<?xml") and svg.count("<svg") == 1 and svg.rstrip().endswith("</svg>")
    # x, y, the four intermediates, z, w and the output, each with its gradient.
    assert Counter(re.findall(r">grad (-?\d+)<", svg)) == {"-8": 1, "6": 1, "2": 4, "0": 1, "1": 1}
    page = (folder / "walkthrough.html").read_text()
    slides = json.loads(re.search(r'<script type="application/json" data-part="data">(.*?)</script>', page, re.S)[1])
    assert 'id="next"' in page and len(slides) == 5  # the forward pass, then one slide per gate
    png = (folder / "boundary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (500, 500)
    assert f"The files are in {folder.resolve()}:" in out
    listed = out[out.index("The files are in") :].splitlines()[1:]
    assert [line.split()[0] for line in listed] == [
        "circuit.svg",
        "walkthrough.html",
        "model.json",
        "run.html",
        "boundary.png",
    ]


def test_the_demo_records_its_training_run_as_a_page(demo):
    _, out, _, folder = demo
    doc = viewer.read_record(folder / "run.html")
    assert (doc["model"], doc["config"]["nouts"], doc["loss"]) == ("MLP", [16, 16, 1], "hinge_loss")
    assert [s["step"] for s in doc["steps"]] == list(range(100))
    model = nn.load(folder / "model.json")
    last, lr = doc["steps"][-1], 1.0 * (1.0 - 0.9 * 99 / 100)  # SGD at the last step of the linear schedule
    assert [p.data for p in model.parameters()] == [p - lr * g for p, g in zip(last["parameters"], last["gradients"])]
    assert f"$ gategrad train --save {folder / 'model.json'} --record {folder / 'run.html'} --plot" in out


def test_without_matplotlib_the_demo_skips_only_the_plot(tmp_path, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else find_spec(name))
    code, out, err = run_demo("--out", str(tmp_path))
    assert code == 0
    assert err.strip() == "skipped the decision boundary: it needs matplotlib (pip install 'gategrad[plot]')"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["circuit.svg", "model.json", "run.html", "walkthrough.html"]
    assert "accuracy: 0.99" in out.splitlines()


@pytest.mark.slow
def test_without_graphviz_the_demo_says_how_to_install_it_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    code, out, err = run_demo("--out", str(tmp_path))
    assert code == 0
    assert err.strip().startswith("skipped the pictures: rendering needs the Graphviz program `dot`")
    assert "apt-get install graphviz" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.png", "model.json", "run.html"]


def test_an_output_folder_that_is_a_file_is_one_line_and_exit_2(tmp_path):
    taken = tmp_path / "taken"
    taken.write_text("keep me")
    code, out, err = run_demo("--out", str(taken))
    assert code == 2 and out == ""
    assert err == f"error: demo: cannot make the folder {taken}: File exists\n"
    assert taken.read_text() == "keep me"


def test_a_file_it_cannot_write_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "circuit.svg").mkdir()
    code, _, err = run_demo("--out", str(tmp_path))
    assert code == 2
    assert err == f"error: demo: cannot write {tmp_path / 'circuit.svg'}: not a regular file (a directory)\n"
