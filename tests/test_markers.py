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


def test_the_projects_markers_are_known_and_a_mistyped_one_is_an_error(tmp_path):
    (tmp_path / "test_marks.py").write_text(
        "import pytest\n\n\n"
        "@pytest.mark.slow\n@pytest.mark.needs_dot\n@pytest.mark.needs_chromium\ndef test_known():\n    pass\n\n\n"
        "@pytest.mark.slwo\ndef test_mistyped():\n    pass\n"
    )
    # The project's settings, and tests/conftest.py loaded as a plugin, as they are for the suite's own files.
    args = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT)]
    args += ["-p", "conftest", "-p", "no:cacheprovider", "--collect-only", str(tmp_path / "test_marks.py")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    run = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert run.returncode == 2, run.stdout  # a collection error; marks are read top to bottom, so slwo is the first
    assert "'slwo' not found in `markers` configuration option" in run.stdout
    assert "'slow' not found" not in run.stdout and "'needs_" not in run.stdout
