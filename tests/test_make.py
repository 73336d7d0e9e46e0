"""`make demo` installs only what the demo needs, as any user, and ends by saying how to run gategrad next."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HINT = [
    "gategrad is installed in .venv. Run it next as",
    "  .venv/bin/gategrad explain '(x+y)*z' x=-2 y=5 z=-4",
    "or activate the venv once per terminal, then call gategrad by name:",
    "  . .venv/bin/activate",
    "  gategrad --help",
]

HIDDEN = re.compile(r"chrom|npm|npx|node|apt|dpkg|sudo")  # what a newcomer's machine may well not have

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def demo_plan():
    """What `make demo` would run, as a user's shell asks it: not as a sub-make of `make test` (whose MAKEFLAGS and
    MAKELEVEL would add "Entering directory" lines)."""
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(["make", "-n", "-B", "demo"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)


def test_make_demo_would_install_the_package_and_plot_alone():
    plan = demo_plan().stdout
    assert re.findall(r"pip install .*", plan) == ["pip install -q -e '.[plot]'"]
    for word in ("apt-get", "npm", "torch", "chromium", "[dev]", "sudo"):
        assert word not in plan, word
    assert [line.removeprefix("echo ").strip('"') for line in plan.splitlines()[-5:]] == HINT


def test_make_demo_reuses_a_developers_full_venv():
    """With `make setup`'s stamp newer than pyproject.toml, the demo installs nothing."""
    plan = demo_plan().stdout
    assert "[ .venv/.installed -nt pyproject.toml ] || .venv/bin/pip install -q -e '.[plot]'" in plan


@pytest.fixture
def folder():
    """A temporary folder a plain user can reach (pytest's tmp_path sits in a folder only its owner may enter)."""
    path = Path(tempfile.mkdtemp(prefix="gategrad-demo-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow  # a fresh venv and pip install: about 40 s with a cold pip cache
def test_make_demo_works_in_a_fresh_copy_as_a_plain_user_without_chromium_or_npm(folder):
    copy = folder / "gategrad"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in files.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    # The system's commands (a newcomer's python3, not a pyenv's in root's home) less chromium, npm and apt.
    tools = folder / "bin"
    tools.mkdir()
    for system in ("/usr/local/bin", "/usr/bin", "/bin"):
        for command in Path(system).iterdir():
            if not HIDDEN.match(command.name) and not (tools / command.name).exists():
                (tools / command.name).symlink_to(command)
    home = folder / "home"
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if key.startswith("PIP_")}
    env |= {"PATH": str(tools), "HOME": str(home)}
    plain_user: list[str] = []
    if os.geteuid() == 0:
        plain_user = [shutil.which("setpriv"), "--reuid", "65534", "--regid", "65534", "--clear-groups"]
        for path in (folder, *folder.rglob("*")):
            os.chown(path, 65534, 65534, follow_symlinks=False)
    done = subprocess.run(
        [*plain_user, shutil.which("make"), "demo"], cwd=copy, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-5:] == HINT
    installed = {p.name.split("-")[0].lower() for p in (copy / ".venv").glob("lib/python3*/site-packages/*")}
    assert "matplotlib" in installed
    assert not {"torch", "selenium", "pytest", "mypy", "mkdocs"} & installed
    assert {p.name for p in (copy / "gategrad-demo").iterdir()} >= {"walkthrough.html", "model.json", "run.html"}
    shown = subprocess.run(  # the hint's own command
        [*plain_user, ".venv/bin/gategrad", "explain", "(x+y)*z", "x=-2", "y=5", "z=-4"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "The add gate distributes: each of its 2 inputs (x, y) gets the upstream gradient -4 unchanged." in shown


def test_the_readme_and_the_install_page_show_the_hints_command():
    for page in ("README.md", "docs/install.md"):
        text = (ROOT / page).read_text(encoding="utf-8")
        assert HINT[1].strip().split(" explain")[0] in text, page  # .venv/bin/gategrad
        assert ". .venv/bin/activate" in text, page
    assert HINT[1].strip() in (ROOT / "README.md").read_text(encoding="utf-8")
