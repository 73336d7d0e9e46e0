"""The circuits many tests share, with their known numbers, and what a test needs installed.

A test that needs Graphviz's `dot`, Chromium or torch says so (the markers `needs_dot` and
`needs_chromium`, or `needs("torch")`). On a laptop without the tool it is skipped with the
reason; under CI=true it fails instead, so CI always runs every test.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gategrad import nn
from gategrad.engine import GATES, Step, Value
from gategrad.engine.gates import Gate
from gategrad.explain.expr import Circuit, build
from gategrad.explain.lang import translator

IN_CI = os.environ.get("CI") == "true"

# cs231n's circuits (https://cs231n.github.io/optimization-2/), as (expression, values).
ADD_MUL = ("(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0})  # f = -12; grads x -4, y -4, z 3
MAX_CIRCUIT = ("2*(x*y+max(z,w))", {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0})  # f = -20; grads x -8, y 6, z 2, w 0
NEURON = (  # a sigmoid neuron: f = 0.7311; grads w0 -0.1966, x0 0.3932, w1 -0.3932, x1 -0.5898, w2 0.1966
    "sigmoid(w0*x0 + w1*x1 + w2)",
    {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0},
)

REQUIREMENTS = {
    "needs_dot": ("Graphviz's dot", lambda: shutil.which("dot") is not None),
    "needs_chromium": (
        "Chromium and ChromeDriver (/usr/bin/chromium, /usr/bin/chromedriver)",
        lambda: os.path.exists("/usr/bin/chromium") and os.path.exists("/usr/bin/chromedriver"),
    ),
}


def row_steps(gate: Gate) -> list[Step]:
    """The first backward step of `gate` at each of its row's points (inputs x, y), constant points included.

    For the gate `Value.sum` makes, also one of three inputs (x, y, z), the sum of a neuron's products.
    """
    steps = []
    three = [Value(x, label=k) for k, x in zip("xyz", (1.5, -2.0, 0.5))]
    if Value.sum(three).op == gate.op:
        steps.append(next(Value.sum(three).backward_steps()))
    for point in gate.points:
        steps.append(next(gate(*(Value(x, label=k) for k, x in zip("xy", point))).backward_steps()))
    for point in gate.constant_points:
        x = Value(point[1 - gate.constant_place], label="x")
        steps.append(next(gate(*gate.operands([x], point[gate.constant_place])).backward_steps()))
    return steps


def chinese_gate(op: str) -> str:
    """The zh catalogue's short name of the gate `op` and 门: tanh 门 after a Latin name, 加法门 after a Chinese one."""
    short = translator("zh").pgettext("gate", GATES[op].name)
    return f"{short} 门" if short[-1].isascii() else f"{short}门"


def needs(module: str) -> ModuleType:
    """Import `module`, or skip the whole test file without it (fail under CI)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        if IN_CI:
            raise
        pytest.skip(f"needs {module}, which is not installed", allow_module_level=True)


def pytest_configure(config: pytest.Config) -> None:
    for name, (what, _) in REQUIREMENTS.items():
        config.addinivalue_line("markers", f"{name}: the test needs {what}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    for name, (what, present) in REQUIREMENTS.items():
        if item.get_closest_marker(name) and not present():
            if IN_CI:
                pytest.fail(f"{what} is missing, and CI runs every test")
            pytest.skip(f"needs {what}")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium (Debian's) for a test module, with a fresh profile and its console log kept."""
    webdriver = needs("selenium.webdriver")
    service = needs("selenium.webdriver.chrome.service").Service(executable_path="/usr/bin/chromedriver")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",  # the machine has no network: no background requests to refuse
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1300,1000",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=service, options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gategrad's wheel, built once offline from a copy of what it is made of, so building leaves nothing behind."""
    root = Path(__file__).resolve().parent.parent
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(root / name, source / name)
    shutil.copytree(root / "gategrad", source / "gategrad", ignore=shutil.ignore_patterns("__pycache__", ".copied"))
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    subprocess.run([*pip, "-w", str(folder), str(source)], check=True)
    (built,) = folder.glob("gategrad-*.whl")
    return built


def console_errors(driver) -> list[str]:
    """What the open pages logged as errors since the last look (a browser test fails on any)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture
def add_mul() -> Circuit:
    """cs231n's (x+y)*z at x=-2, y=5, z=-4."""
    return build(*ADD_MUL)


@pytest.fixture
def max_circuit() -> Circuit:
    """cs231n's 2*(x*y + max(z, w)) at x=3, y=-4, z=2, w=-1."""
    return build(*MAX_CIRCUIT)


@pytest.fixture
def neuron() -> Circuit:
    """cs231n's sigmoid neuron at w0=2, x0=-1, w1=-3, x1=-2, w2=-3."""
    return build(*NEURON)


def one_hot_mse(outputs, labels):
    return nn.mse_loss(outputs, [[float(j == c) for j in range(3)] for c in labels])


TRAINING_LOSSES = {  # name: (loss, outputs, a class's label for it), for fit on both engines
    "hinge": (nn.hinge_loss, 1, lambda c: 2 * c - 1),
    "mse": (nn.mse_loss, 1, lambda c: 2 * c - 1),
    "bce": (nn.bce_with_logits, 1, int),
    "cross_entropy": (nn.cross_entropy, 3, int),
    "one-hot mse": (one_hot_mse, 3, int),
}
TRAINING_OPTIMIZERS = {
    "sgd": lambda p: nn.SGD(p, lr=0.3),  # at 0.5, mse runs away (2,700 times its first loss by step 5) and stops
    "sgd with momentum and weight decay": lambda p: nn.SGD(p, lr=0.2, momentum=0.9, weight_decay=1e-3),
    "adam": lambda p: nn.Adam(p, lr=0.03),
    "adam with weight decay": lambda p: nn.Adam(p, lr=0.03, weight_decay=1e-2),
    "adamw": lambda p: nn.AdamW(p, lr=0.03),
}
