"""Peak memory of a gategrad command in a fresh process: its own high-water mark, so no earlier child counts."""

import json
import subprocess
import sys

RUN = """
import contextlib, io, json, resource, sys
from gategrad.cli import main
out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(json.loads(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "peak": peak}))
"""


def run(argv, cwd=None):
    """`gategrad ARGV` in a new Python process: its exit code, stdout, stderr and peak resident bytes."""
    done = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps([str(a) for a in argv])],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    return json.loads(done.stdout)
