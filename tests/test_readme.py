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
    assert {argv[0] for argv in documented} == {"explain", "train", "eval", "demo", "check"}
    for argv in documented:
        build_parser().parse_args(argv)


@pytest.mark.needs_dot
@pytest.mark.parametrize("argv", [c for c in commands() if c[0] == "explain"], ids=" ".join)
def test_every_documented_explain_runs(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0


def test_the_walk_shown_is_the_walk_explain_prints(capsys):
    (shown,) = [block for block in blocks("text") if block.startswith("Backward pass")]
    assert main(["explain", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert all(line in printed for line in shown.splitlines())


def test_the_check_report_shown_is_what_check_prints_for_the_file_shown(tmp_path, monkeypatch, capsys):
    (source,) = [block for block in blocks("python") if block.startswith("# broken_backprop.py")]
    (shown,) = [block for block in blocks("text") if "First divergence" in block]
    (tmp_path / "broken_backprop.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "broken_backprop.py"]) == 1
    assert capsys.readouterr().out == shown
    assert main(["check", "broken_backprop.py", "--json"]) == 1
    assert '"first_divergence": "z1"' in capsys.readouterr().out


def test_the_tolerance_the_readme_states_is_the_checks():
    from gategrad.check import RTOL

    assert RTOL == 1e-8
    assert "within **1e-8 × the largest |true| entry of that array**" in README
