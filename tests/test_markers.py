"""A test that needs a missing tool skips on a laptop and fails under CI, so CI runs everything."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDS_DOT = "tests/test_viz.py::test_the_rendered_svg_shows_the_numbers"


def run_without_dot(tmp_path, ci):
    env = {**os.environ, "PATH": str(tmp_path)}  # no `dot` on this PATH
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    args = [sys.executable, "-m", "pytest", NEEDS_DOT, "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)


def test_without_dot_a_laptop_skips_with_the_reason(tmp_path):
    run = run_without_dot(tmp_path, ci=False)
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout and "needs Graphviz's dot" in run.stdout


def test_without_dot_ci_fails(tmp_path):
    run = run_without_dot(tmp_path, ci=True)
    assert run.returncode == 1, run.stdout
    assert "Graphviz's dot is missing, and CI runs every test" in run.stdout
