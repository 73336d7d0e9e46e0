"""The command line as a whole: a reader that leaves early gets no traceback."""

import subprocess
import sys


def test_a_closed_pipe_ends_quietly():
    expression = "+".join(["tanh(exp(x*y))"] * 60)  # about 260 kB of JSON, more than a pipe holds
    proc = subprocess.Popen(
        [sys.executable, "-m", "gategrad.cli", "explain", expression, "x=0.1", "y=0.2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout.read(100).startswith(b"{")
    proc.stdout.close()  # like `| head -c 100`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert stderr == ""


def test_no_subcommand_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "gategrad.cli"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "required" in proc.stderr
