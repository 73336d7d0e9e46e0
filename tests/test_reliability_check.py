"""`gategrad check` against a learner's file that exits, rewires numpy or is too large (issue 28)."""

import textwrap

import pytest
from peak import run as fresh_run

from gategrad import check
from gategrad.check import run as check_run
from gategrad.cli import main

NET = """
import sys
import numpy as np

def params():
    return {"w": np.array([1.0, -2.0])}

def loss(p):
    return (p["w"] * 3.0).sum()

def grads(p):
    return {"w": np.array([3.0, 3.0])}
"""

ENGINE = """
import sys

class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev = data, 0.0, _children
        EXIT
"""


def checked(capsys, tmp_path, source, name="learner.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    return code, out, err, path


def test_the_net_without_an_exit_agrees(capsys, tmp_path):
    code, out, err, _ = checked(capsys, tmp_path, NET)
    assert code == 0 and "agree" in out


@pytest.mark.parametrize(
    "where, call, shown",
    [
        ("import", "sys.exit(0)", "sys.exit(0)"),
        ("import", "sys.exit(3)", "sys.exit(3)"),
        ("import", "sys.exit()", "sys.exit()"),
        ("grads", "sys.exit(0)", "sys.exit(0)"),
        ("grads", 'sys.exit("bye")', "sys.exit('bye')"),
        ("loss", "raise SystemExit(0)", "sys.exit(0)"),
    ],
)
def test_a_file_that_exits_is_an_error_never_a_pass(capsys, tmp_path, where, call, shown):
    if where == "import":
        source = NET + f"\n{call}\n"
    else:
        source = NET.replace(f"def {where}(p):\n", f"def {where}(p):\n    {call}\n")
    code, out, err, path = checked(capsys, tmp_path, source)
    assert (code, out) == (2, "")
    assert err == (
        f"error: check: {path} called {shown} while being checked, so nothing was checked: "
        'put the lines that run the file as a script under if __name__ == "__main__":\n'
    )


def test_check_file_raises_a_check_error_for_an_exit(tmp_path):
    path = tmp_path / "learner.py"
    path.write_text(NET + "\nsys.exit(0)\n", encoding="utf-8")
    with pytest.raises(check.CheckError, match=r"called sys.exit\(0\) while being checked"):
        check.check_file(path)


@pytest.mark.parametrize("call", ["sys.exit(0)", "sys.exit(3)", 'sys.exit("bye")'])
def test_an_engine_file_that_exits_is_an_error_never_a_pass(capsys, tmp_path, call):
    source = ENGINE.replace("EXIT", call)
    code, out, err, path = checked(capsys, tmp_path, source, "engine.py")
    assert (code, out) == (2, "")
    assert err.startswith(f"error: check: {path} called sys.exit(") and err.count("\n") == 1


def test_a_file_that_replaces_numpys_functions_is_named_not_a_traceback(capsys, tmp_path):
    import numpy as np

    asarray = np.asarray
    code, out, err, path = checked(capsys, tmp_path, NET + "\nnp.asarray = None\n")
    assert (code, out) == (2, "")
    assert err == (
        f"error: check: {path} replaced numpy's np.asarray, which the check uses too: "
        "leave numpy's own names as they are\n"
    )
    assert np.asarray is asarray  # and numpy is itself again


def test_params_over_the_limit_are_refused_before_any_circuit_is_built(tmp_path):
    """10⁷ parameter entries reached 3.4 GB; they are refused with the arrays alone in memory (80 MB)."""
    path = tmp_path / "huge.py"
    path.write_text(NET.replace("np.array([1.0, -2.0])", "np.zeros(10**7)"), encoding="utf-8")
    done = fresh_run(["check", path])
    assert (done["code"], done["out"]) == (2, "")
    assert done["err"] == (
        f"error: check: params() holds 10,000,000 numbers, more than the check's limit of "
        f"{check_run.MAX_ENTRIES:,}: check the same code on a smaller net (fewer inputs or units); "
        "a wrong gradient shows at any size\n"
    )
    assert done["peak"] < 400 * 2**20, done["peak"]


def test_a_learners_100_kb_names_are_cut_in_the_message(capsys, tmp_path):
    source = NET.replace('"w"', '"' + "w" * 100_000 + '"').replace(
        'return {"' + "w" * 100_000 + '": np.array([3.0, 3.0])}',
        'return {"' + "w" * 100_000 + '": np.array([3.0, 3.0]), "' + "z" * 100_000 + '": 1.0}',
    )
    code, out, err, _ = checked(capsys, tmp_path, source)
    assert (code, out) == (2, "")
    assert err == (
        f"error: check: grads(p) has a key '{'z' * 80}'… (100,000 characters) that names nothing: "
        f"parameters are {'w' * 80}… (100,000 characters); loss(p) taps no array\n"
    )
