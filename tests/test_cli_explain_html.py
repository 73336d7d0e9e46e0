"""`gategrad explain ... --html FILE`: the stepper page from the command line."""

import json
import re

import pytest

from gategrad import Value
from gategrad.cli import main
from gategrad.viz import CircuitGraph

pytestmark = pytest.mark.needs_dot


def slides(path):
    """The steps a saved page carries, from its JSON data."""
    html = path.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" data-part="data">(.*?)</script>', html)[1])


def test_explain_html_writes_the_page(capsys, tmp_path):
    path = tmp_path / "walk.html"
    code = main(["explain", "2*(x*y+max(z,w))", "x=3", "y=-4", "z=2", "w=-1", "--html", str(path)])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    assert out.endswith(f"\nWrote the stepper to {path}: open it in a browser\n")
    assert [s["grads"] for s in slides(path)][::4] == [["?", "?", "?", "?"], ["-8", "6", "2", "0"]]


def test_explain_html_with_json_keeps_stdout_json(capsys, tmp_path):
    path = tmp_path / "walk.html"
    code = main(["explain", "x*y", "x=2", "y=3", "--json", "--html", str(path)])
    out, _ = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["grads"] == {"x": 3.0, "y": 2.0}
    assert slides(path)[-1]["grads"] == ["3", "2"]


def test_explain_html_into_a_missing_directory_is_one_line_and_exit_2(capsys, tmp_path):
    code = main(["explain", "x*y", "x=2", "y=3", "--html", str(tmp_path / "missing" / "walk.html")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith("error: explain: ") and err.count("\n") == 1


def test_explain_walks_once_and_runs_dot_once_for_the_layout_and_once_per_frame(tmp_path, monkeypatch, capsys):
    walks, dots = [], []
    steps, pipe = Value.backward_steps, CircuitGraph.pipe
    monkeypatch.setattr(Value, "backward_steps", lambda self: walks.append(self) or steps(self))
    monkeypatch.setattr(CircuitGraph, "pipe", lambda self, *a, **k: dots.append(self) or pipe(self, *a, **k))
    argv = ["explain", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1"]
    assert main([*argv, "--svg-dir", str(tmp_path / "frames"), "--html", str(tmp_path / "page.html")]) == 0
    assert len(walks) == 1
    assert len(dots) == 1 + 5 == 1 + len(list((tmp_path / "frames").glob("frame-*.svg")))
    assert len(slides(tmp_path / "page.html")) == 5


def test_explain_html_onto_a_folder_or_an_empty_name_is_one_line_and_exit_2(capsys, tmp_path):
    code = main(["explain", "x*y", "x=2", "y=3", "--html", str(tmp_path)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == f"error: explain: {tmp_path}: not a regular file (a directory)\n"
    code = main(["explain", "x*y", "x=2", "y=3", "--html", ""])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err == "error: gategrad explain: argument --html: expected a file name, got an empty string\n"
