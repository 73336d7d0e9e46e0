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


@pytest.mark.slow
@pytest.mark.needs_dot
@pytest.mark.parametrize("code", blocks("python"), ids=lambda code: code.splitlines()[0])
def test_each_python_example_prints_what_its_comments_say(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the stepper example writes files
    (tmp_path / "fruit.csv").write_text(blocks("csv")[0])  # the file "Your own data" reads
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
    assert {argv[0] for argv in documented} == {"explain", "train", "eval", "predict", "demo", "check", "playground"}
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


def test_your_own_data_runs_as_shown(tmp_path, monkeypatch, capsys):
    """README's CSV file trains, evaluates to the numbers its comment shows, and predicts, as documented."""
    monkeypatch.chdir(tmp_path)
    (csv_text,) = blocks("csv")
    assert len(csv_text.splitlines()) == 10
    (tmp_path / "fruit.csv").write_text(csv_text)
    text = "\n".join(blocks("sh")).replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith("gategrad ") and "--csv fruit.csv" in line]
    assert [shlex.split(line)[1] for line in lines] == ["train", "train", "eval", "predict"]
    for line in lines:
        command, _, comment = line.partition("  #")
        argv = shlex.split(command)[1:]
        assert main([*argv, "--quiet"] if argv[0] == "train" else argv) == 0
        out = capsys.readouterr().out
        if argv[0] == "eval":
            assert out == comment.strip().replace(", ", "\n") + "\n"
        if argv[0] == "predict":
            rows = out.splitlines()
            assert rows[0] == "width,height,weight,fruit,predicted_fruit,p_apple,p_cherry,p_pear"
            assert [row.split(",")[4] for row in rows[1:]] == [row.split(",")[3] for row in csv_text.splitlines()[1:]]


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
