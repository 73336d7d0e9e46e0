"""`gategrad check my_engine.py`: a Value class goes to the engine referee, in a child process with a time limit."""

import json
import re
import textwrap
import time
from pathlib import Path

import pytest

from gategrad.cli import main

ENGINES = Path(__file__).parent / "engines"
BACKPROPS = Path(__file__).parent / "backprops"


def run(capsys, *argv):
    code = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def learner_file(tmp_path, source, name="my_engine.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_broken_engine_prints_its_report_and_exits_1(capsys):
    code, out, err = run(capsys, ENGINES / "overwrite.py")
    assert (code, err) == (1, "")
    assert out.startswith("Your Value against gategrad's engine: ")
    assert "\n1. wrong: accumulation\n   b = a + a  at a = 3\n   yours: a = 1; true: a = 2\n" in out


@pytest.mark.slow
def test_micrograd_exits_0_with_its_limits(capsys):
    start = time.perf_counter()
    code, out, err = run(capsys, ENGINES / "micrograd.py")
    assert (code, err) == (0, "")
    print(f"{time.perf_counter() - start:.1f} s")  # shown with -s; measured for the docs, not asserted
    assert "Every value and gradient agrees with gategrad's engine.\n2 limits, which are not wrong gradients." in out
    assert "\n2. limit: recursion\n" in out


def test_json_is_the_reports_json(capsys):
    code, out, _ = run(capsys, ENGINES / "no_seed.py", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert [(f["kind"], f["circuit"], f["yours"], f["true"]) for f in report["findings"]] == [
        ("seed", "c = a + b", {"a": 0.0, "b": 0.0, "c": 0.0}, {"a": 1.0, "b": 1.0, "c": 1.0})
    ]


def test_lang_translates_the_report(capsys):
    code, out, _ = run(capsys, ENGINES / "no_seed.py", "--lang", "zh")
    assert code == 1
    assert "发现 1 处错误的值或梯度。" in out and "调用 backward() 之后，输出 c 的梯度是 0，而不是 1。" in out


def test_file_colon_class_names_another_class(tmp_path, capsys):
    source = (ENGINES / "no_seed.py").read_text().replace("class Value:", "class Node:").replace("Value(", "Node(")
    source = source.replace("isinstance(other, Value)", "isinstance(other, Node)")
    path = learner_file(tmp_path, source)
    code, out, _ = run(capsys, f"{path}:Node")
    assert code == 1 and out.startswith("Your Node against gategrad's engine")


def test_a_file_with_params_loss_grads_still_goes_to_the_numpy_check(capsys):
    code, out, _ = run(capsys, BACKPROPS / "sigmoid_mse.py")
    assert code == 0 and out.startswith("All 8 arrays agree")


def test_an_engine_that_imports_value_is_refereed(tmp_path, capsys):
    learner_file(tmp_path, (ENGINES / "overwrite.py").read_text(), "engine.py")
    path = learner_file(tmp_path, "from engine import Value\n")
    code, out, _ = run(capsys, path)
    assert code == 1 and "1. wrong: accumulation" in out


def test_what_the_engine_prints_goes_to_stderr(tmp_path, capsys):
    path = learner_file(tmp_path, 'print("loading my engine")\n' + (ENGINES / "overwrite.py").read_text())
    code, out, err = run(capsys, path, "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    assert err == "loading my engine\n"


@pytest.mark.slow
def test_an_endless_loop_is_stopped_with_one_line_and_exit_2(tmp_path, capsys):
    source = (
        (ENGINES / "perfect.py")
        .read_text()
        .replace("        self.grad = 1.0\n", "        while True:\n            pass\n")
    )
    path = learner_file(tmp_path, source)
    code, out, err = run(capsys, path, "--timeout", "3")
    assert (code, out) == (2, "")
    assert err == (
        f"error: check: {path} did not finish within 3 s (while running c = a + b  at a = 2, b = -3): "
        "is there an endless loop? --timeout SECONDS gives it longer\n"
    )


def test_an_exception_on_import_shows_the_traceback_trimmed_to_the_file(tmp_path, capsys):
    path = learner_file(tmp_path, "class Value:\n    pass\n\n\n1 / 0\n")
    code, out, err = run(capsys, path)
    assert (code, out) == (2, "")
    assert err.startswith(
        f"error: check: {path} raised an exception:\nTraceback (most recent call last):\n"
        f'  File "{path.resolve()}", line 5, in <module>\n    1 / 0\n'
    )
    assert err.endswith("ZeroDivisionError: division by zero\n") and "gategrad" not in err


@pytest.mark.parametrize(
    "source, argv, message",
    [
        (None, [], "error: check: no such file: {path}"),
        (
            "class Value:\n    def __init__(self, data):\n        pass\n",
            [],
            "error: check: Value(2.0) has no attribute data: the checker needs data, grad and backward()",
        ),
        (
            "class Node:\n    pass\n",
            [":Value"],
            "error: check: {path} defines no class Value; it has Node: name one with {path}:ClassName",
        ),
        (
            "class Value:\n    pass\n",
            ["--timeout", "0"],
            "error: check: --timeout must be a positive number of seconds, got 0",
        ),
    ],
    ids=["missing file", "no data", "no such class", "no time"],
)
def test_a_class_that_cannot_be_checked_is_one_line_and_exit_2(tmp_path, capsys, source, argv, message):
    path = tmp_path / "my_engine.py" if source is None else learner_file(tmp_path, source)
    target = f"{path}{argv[0]}" if argv[:1] == [":Value"] else str(path)
    code, out, err = run(capsys, target, *[a for a in argv if a != ":Value"])
    assert (code, out) == (2, "")
    assert err == message.format(path=path) + "\n"


def test_the_docs_engine_report_is_what_check_prints_for_the_engine_shown(tmp_path, monkeypatch, capsys):
    page = (Path(__file__).parent.parent / "docs" / "tutorials" / "check-engine.md").read_text(encoding="utf-8")
    (source,) = [b for b in re.findall(r"^```python\n(.*?)^```", page, re.M | re.S) if b.startswith("# my_engine.py")]
    (shown,) = [b for b in re.findall(r"^```text\n(.*?)^```", page, re.M | re.S) if "against gategrad's engine" in b]
    (tmp_path / "my_engine.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "my_engine.py"]) == 1
    assert capsys.readouterr().out == shown
    assert main(["check", "my_engine.py", "--json"]) == 1
    assert [f["kind"] for f in json.loads(capsys.readouterr().out)["findings"]] == ["accumulation", "recursion"]


def test_an_engine_that_crashes_python_is_one_line_and_exit_2(tmp_path, capsys):
    source = "import ctypes\n" + (ENGINES / "perfect.py").read_text().replace(
        "        self.grad = 1.0\n", "        ctypes.string_at(0)  # reads address 0: a segmentation fault\n"
    )
    path = learner_file(tmp_path, source)
    code, out, err = run(capsys, path)
    assert (code, out) == (2, "")
    assert err.endswith(
        f"error: check: Python crashed (SIGSEGV) running {path} while running c = a + b  at a = 2, b = -3\n"
    )
