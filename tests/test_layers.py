"""The house's floors: which package may import which, and the light core that runs without numpy.

The data flows one way: cli → (check, viz, nn, replay, explain) → engine. Every import of every
module is read from its source (function-level and TYPE_CHECKING ones too) and held to the layers.
"""

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gategrad

PACKAGE = Path(gategrad.__file__).resolve().parent
OURS = {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir() if not path.name.startswith("_")}
OURS = {name for name in OURS if (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file()}

# What each floor must not import. The engine imports nothing else of ours; cli and playground are the top.
TOP = {"cli", "playground"}
FORBIDDEN = {
    "engine": OURS - {"engine"},
    "files": OURS - {"files"},
    "explain": {"viz", "nn", "replay", "check", "data", "exercise", *TOP},
    "data": {"viz", "explain", "nn", "replay", "check", "exercise", *TOP},
    "nn": {"viz", "explain", "check", "exercise", *TOP},
    "replay": {"viz", "explain", "nn", "check", "exercise", *TOP},
    "check": {"viz", "exercise", *TOP},
    "viz": {"check", "exercise", *TOP},
    "exercise": TOP,  # it sits beside check and viz, and uses both
}


def imported_floors(source: str, package: tuple[str, ...]) -> dict[str, int]:
    """Each of our top-level packages or modules that `source`, a module of `package`, imports, with its first line."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import, resolved against the importing module's package
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            # `from gategrad import nn` imports gategrad.nn; `from gategrad import Value` goes through the root
            modules = [f"{base}.{alias.name}" if base == "gategrad" else base for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] != "gategrad" or len(parts) < 2:
                continue
            floor = parts[1] if parts[1] in OURS else gategrad._HOMES[parts[1]].split(".")[1]
            found.setdefault(floor, node.lineno)
    return found


def floor_of(path: Path) -> str:
    return path.relative_to(PACKAGE).with_suffix("").parts[0]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_import_points_down(path):
    package = path.relative_to(PACKAGE.parent).parts[:-1]
    forbidden = FORBIDDEN.get(floor_of(path), set())
    found = imported_floors(path.read_text(encoding="utf-8"), package)
    wrong = {floor: line for floor, line in found.items() if floor in forbidden}
    assert wrong == {}, f"{path.relative_to(PACKAGE)} imports {sorted(wrong)} (first at lines {sorted(wrong.values())})"


def test_the_scan_sees_imports_inside_functions_and_type_checking_blocks():
    source = """
        from typing import TYPE_CHECKING
        from gategrad.engine import Value
        if TYPE_CHECKING:
            from gategrad.viz import dot
        def later():
            from gategrad import explain, Stepper
            from .. import check
            from . import modules
    """
    found = imported_floors(textwrap.dedent(source), ("gategrad", "nn"))
    assert found == {"engine": 3, "viz": 5, "explain": 7, "check": 8, "nn": 9}


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True)


def test_importing_the_engine_loads_no_heavy_package_and_no_other_floor():
    result = run(
        """
        import sys
        import gategrad.engine
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "graphviz", "tqdm", "polib")))
        print(sorted({m.split(".")[1] for m in sys.modules if m.startswith("gategrad.")}))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "['engine']"]


def test_the_root_loads_its_names_when_asked():
    result = run(
        """
        import sys
        import gategrad
        assert "gategrad.nn" not in sys.modules and "gategrad.viz" not in sys.modules
        from gategrad import Value, draw_dot, nn
        import gategrad.engine, gategrad.nn.modules, gategrad.viz.dot
        assert Value is gategrad.engine.Value and nn.MLP is gategrad.nn.modules.MLP
        assert draw_dot is gategrad.viz.dot.draw_dot and gategrad.data.make_moons
        try:
            gategrad.nope
        except AttributeError as e:
            print(e)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "module 'gategrad' has no attribute 'nope'\n"


WITHOUT_NUMPY = {
    "the engine": """
        x, y = Value(3.0, "x"), Value(-4.0, "y")
        out = (x * y + x.tanh()).relu() + x ** 2
        out.backward()
        assert (out.data, x.grad, y.grad) == (9.0, 6.0, 0.0)
        assert gradcheck(lambda a, b: a * b + a.exp(), [0.5, -1.5])
    """,
    "explain in three languages": """
        from gategrad.explain import expr, walkthrough
        circuit = expr.build("2*(x*y + max(z, w))", expr.parse_values(["x=3", "y=-4", "z=2", "w=-1"]))
        steps = walkthrough.walk(circuit.output)
        assert [circuit.inputs[n].grad for n in "xyzw"] == [-8.0, 6.0, 2.0, 0.0]
        for lang in ("en", "zh", "ru"):
            report = walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps, lang)
            doc = walkthrough.to_json(circuit.expression, circuit.output, circuit.inputs, steps, lang)
            assert doc["grads"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
            print(lang, report.splitlines()[0])
    """,
    "the walkthrough, step by step": """
        from gategrad.explain.walkthrough import format_step, walk
        z = Value(2.0, "a") * Value(-3.0, "b")
        z.label = "z"
        t = z.tanh()
        t.label = "t"
        print(format_step(walk(t)[0], 1))
    """,
    "an MLP, forward and backward": """
        from gategrad import nn
        model = nn.MLP(2, [4, 1], seed=0)
        out = model([0.5, -1.0])
        out.backward()
        assert len(model.parameters()) == 17 and all(isinstance(p.grad, float) for p in model.parameters())
        assert nn.predicted_class(out) == int(out.data > 0)
    """,
    "the toy datasets": """
        from gategrad.data import make_circles, make_moons, make_spiral, make_xor
        for make in (make_moons, make_circles):
            X, y = make(20, seed=0)
            assert len(X) == len(y) == 20 and sorted(set(y)) == [0, 1]
        assert make_xor() == ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
        X, y = make_spiral(5, classes=3, seed=0)
        assert len(X) == 15 and set(y) == {0, 1, 2}
    """,
    "a model file, saved and loaded": """
        import os, tempfile
        from gategrad import nn
        model = nn.MLP(2, [3, 1], seed=1)
        path = os.path.join(tempfile.mkdtemp(), "model.json")
        model.save(path)
        again = nn.load(path)
        assert again.state_dict() == model.state_dict() and again([0.5, 1.0]).data == model([0.5, 1.0]).data
    """,
    "fit on the scalar engine, recorded": """
        from gategrad import nn
        from gategrad.data import make_moons
        X, y = make_moons(20, noise=0.1, seed=0)
        labels = [2 * c - 1 for c in y]
        model = nn.MLP(2, [4, 1], seed=0)
        recorder = nn.Recorder()
        history = nn.fit(model, X, labels, nn.hinge_loss, nn.SGD(model.parameters(), lr=0.5), 5,
                         quiet=True, record=recorder, engine="scalar")
        loss = nn.hinge_loss([model(x) for x in X], labels)
        assert len(history["loss"]) == 5 and history["loss"][-1] > loss.data
        assert recorder.to_json()["steps"][-1]["loss"] == history["loss"][-1]
    """,
}


@pytest.mark.parametrize("case", WITHOUT_NUMPY)
def test_the_light_core_runs_without_numpy(case):
    blocked = 'import sys\nsys.modules["numpy"] = None  # `import numpy` now fails, as where it is not installed\n'
    result = run(blocked + "from gategrad import Value, gradcheck\n" + textwrap.dedent(WITHOUT_NUMPY[case]))
    assert result.returncode == 0, result.stderr
    assert "numpy" not in result.stderr


def test_the_light_core_speaks_each_language_without_numpy():
    result = run(
        'import sys\nsys.modules["numpy"] = None\nfrom gategrad import Value\n'
        + textwrap.dedent(WITHOUT_NUMPY["explain in three languages"])
        + textwrap.dedent(WITHOUT_NUMPY["the walkthrough, step by step"])
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "en Forward pass of 2*(x*y + max(z, w)):",
        "zh 2*(x*y + max(z, w)) 的前向传播：",
        "ru Прямой проход для 2*(x*y + max(z, w)):",
        "step 1: tanh gate, output t = -1, upstream gradient 1",
        "  input  data  local grad  gets",
        "  z      -6    2.458e-05   2.458e-05",  # 1 - tanh(-6)² = 2.458e-05
        "  The tanh gate scales by 1 - t² with its output t = -1: z gets 1 × 2.458e-05 = 2.458e-05.",
    ]
