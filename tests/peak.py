"""Peak memory of a gategrad command in a fresh process: its own high-water mark, so no earlier child counts."""

import json
import subprocess
import sys

RUN = """
import contextlib, io, json, resource, sys
from gategrad.cli import main


def peak():
    # VmHWM is this program's own high-water mark; ru_maxrss also keeps the forking parent's size across exec
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


out, err = io.StringIO(), io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "out": out.getvalue(), "err": err.getvalue(), "peak": peak()}))
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
