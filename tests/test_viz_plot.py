"""The decision-boundary picture: matplotlib loaded only to draw, pyplot never, and the file named as asked."""

import subprocess
import sys
from collections import Counter

import pytest
from conftest import needs

needs("matplotlib")
from gategrad.viz import plot  # noqa: E402


def test_matplotlib_loads_only_to_draw_and_pyplot_never(tmp_path):
    code = (
        "import sys, pathlib; from gategrad.viz import plot; print('matplotlib' in sys.modules); "
        "plot.decision_boundary(lambda p: int(p[0] > 0), [[-1, 0], [1, 0]], [0, 1], pathlib.Path(sys.argv[1]), ''); "
        "print('matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    )
    path = tmp_path / "b.png"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    assert out == "False\nTrue False\n"  # a notebook's pyplot and its backend are left alone
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_classifier_is_asked_once_for_each_point_of_the_grid(tmp_path):
    asked = []

    def classify(point):
        asked.append(point)
        return int(point[0] + point[1] > 0)

    plot.decision_boundary(classify, [[0.0, 0.0], [1.0, 2.0]], [0, 1], tmp_path / "b.svg", "")
    assert len(asked) == plot.GRID * plot.GRID
    # the grid runs half a unit beyond the points: x from -0.5 to 1.5, y from -0.5 to 2.5
    assert asked[0] == [-0.5, -0.5] and asked[-1] == pytest.approx([1.5, 2.5], abs=1e-15)
    assert (tmp_path / "b.svg").read_text().lstrip().startswith("<?xml")


def test_a_path_without_an_extension_gets_png_and_an_unknown_one_is_refused(tmp_path):
    assert plot.image_path(tmp_path / "b") == tmp_path / "b.png"
    assert plot.image_path(tmp_path / "b.PDF") == tmp_path / "b.PDF"
    with pytest.raises(ValueError, match=r"b\.xyz: unknown image format \.xyz; use one of .*png"):
        plot.image_path(tmp_path / "b.xyz")
    with pytest.raises(ValueError, match="is a folder; give a file name such as"):
        plot.image_path(tmp_path)


def test_without_matplotlib_it_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(plot.MatplotlibNotInstalled, match=r"pip install 'gategrad\[plot\]'"):
        plot.image_path(tmp_path / "b.png")
    with pytest.raises(ImportError):
        plot.decision_boundary(lambda p: 0, [[0.0, 0.0]], [0], tmp_path / "b.png", "")


def test_the_picture_colours_the_classes_with_the_palette(tmp_path):
    image = needs("matplotlib.image")
    X, y = [[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [0, 1, 2]
    plot.decision_boundary(lambda p: 0 if p[0] < -0.3 else 1 if p[0] < 0.3 else 2, X, y, tmp_path / "b.png", "")
    pixels = (255 * image.imread(tmp_path / "b.png")[..., :3]).round().astype(int).reshape(-1, 3)
    found, counts = needs("numpy").unique(pixels, axis=0, return_counts=True)
    colours = Counter({tuple(int(v) for v in colour): int(n) for colour, n in zip(found, counts)})

    def rgb(colour):
        return tuple(int(colour[k : k + 2], 16) for k in (1, 3, 5))

    regions = [c for c, _ in colours.most_common(5) if c not in ((255, 255, 255), (0, 0, 0))][:3]
    shades = [tuple(0.4 * v + 0.6 * 255 for v in rgb(plot.class_color(c))) for c in range(3)]  # alpha 0.4 on white
    for shade in shades:  # each class's region, in its colour at alpha 0.4 over white (to the rounding of one step)
        assert any(all(abs(a - b) <= 1 for a, b in zip(region, shade)) for region in regions), shade
    assert all(colours[rgb(plot.class_color(c))] > 0 for c in range(3))  # the points, in the classes' own colours
    assert plot.class_color(7) == plot.CLASS_COLORS[0]
