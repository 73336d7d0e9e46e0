"""README's examples run and print what README says they print."""

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from gategrad.cli import build_parser, main

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README, re.M | re.S)


def expected_output(code):
    """The text after each `# prints: ` comment, in order: one line of output each."""
    return re.findall(r"# prints: (.*)$", code, re.M)


@pytest.mark.needs_dot
@pytest.mark.parametrize("code", blocks("python"), ids=lambda code: code.splitlines()[0])
def test_each_python_example_prints_what_its_comments_say(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the stepper example writes files
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == expected_output(code)


def test_there_are_python_examples_with_their_output():
    assert len(blocks("python")) >= 4
    assert "print(x.grad, y.grad, z.grad)  # prints: -4.0 -4.0 3.0" in README


def commands():
    """Each `gategrad ...` command of README's shell blocks, continuation lines joined."""
    text = "\n".join(blocks("sh")).replace("\\\n", " ")
    return [shlex.split(line.split("  #")[0])[1:] for line in text.splitlines() if line.startswith("gategrad ")]


def test_every_documented_command_parses():
    documented = commands()
    assert {argv[0] for argv in documented} == {"explain", "train", "eval", "demo"}
    for argv in documented:
        build_parser().parse_args(argv)


@pytest.mark.needs_dot
@pytest.mark.parametrize("argv", [c for c in commands() if c[0] == "explain"], ids=" ".join)
def test_every_documented_explain_runs(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0


def test_the_walk_shown_is_the_walk_explain_prints(capsys):
    (shown,) = blocks("text")
    assert main(["explain", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert all(line in printed for line in shown.splitlines())
