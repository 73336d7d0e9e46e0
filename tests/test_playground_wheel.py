"""The playground from an installed wheel, offline: the wheel carries Pyodide, viz-js and the page."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gategrad.playground import build

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_an_installed_wheel_builds_the_site(tmp_path):
    source = tmp_path / "source"  # only what the wheel is made from, so building leaves nothing in the work tree
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "gategrad", source / "gategrad", ignore=shutil.ignore_patterns("__pycache__", ".copied"))
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", str(tmp_path), str(source)],
        check=True,
    )
    (wheel,) = tmp_path.glob("gategrad-*.whl")
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
