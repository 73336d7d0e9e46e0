"""The command line as a whole: a reader that leaves early gets no traceback."""

import subprocess
import sys

from gategrad import cli


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


def test_no_subcommand_lists_the_commands_with_an_example_each_on_stderr_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "gategrad.cli"], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == cli.overview(cli.build_parser()) + "\n"
