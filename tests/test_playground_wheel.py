"""The playground from an installed wheel, offline: the wheel carries Pyodide, viz-js and the page."""

import subprocess
import sys
import zipfile

import pytest

from gategrad.playground import build

pytestmark = pytest.mark.slow


def test_an_installed_wheel_builds_the_site(tmp_path, wheel):
    pip = [sys.executable, "-m", "pip"]
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in build.PYODIDE_FILES:
        assert f"gategrad/playground/vendor/pyodide/{name}" in names
    assert {"gategrad/playground/vendor/viz/viz.js", "gategrad/playground/web/index.html"} <= names
    assert any(n.startswith("gategrad/playground/vendor/wheels/hypothesis-") for n in names)
    target = tmp_path / "installed"
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "-q", "--target", str(target), str(wheel)], check=True)
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    where = subprocess.run(
        [sys.executable, "-c", "import gategrad.playground.build as b; print(b.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    assert where.stdout == f"{target / 'gategrad' / 'playground' / 'build.py'}\n"
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "gategrad.cli", "playground", "--build", str(site)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Wrote the playground to {site}")
    for name in ("index.html", "app.js", "worker.js", "site.json", "python.zip", "viz/viz.js"):
        assert (site / name).is_file()
    for name in build.PYODIDE_FILES:
        assert (site / "pyodide" / name).read_bytes() == (
            target / "gategrad/playground/vendor/pyodide" / name
        ).read_bytes()
    inside = zipfile.ZipFile(site / "python.zip").namelist()
    assert "gategrad/playground/bridge.py" in inside and "hypothesis/__init__.py" in inside
