"""A classifier's decision boundary over two features, drawn with matplotlib, and the colours of the classes.

matplotlib is an extra (`pip install 'gategrad[plot]'`), imported only when a picture is asked for.
The figure is drawn without pyplot, so a notebook's own plots and backend are left alone.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gategrad import files

GRID = 60  # points along each side of the plane that is coloured by class

# The colour of class 0, 1, 2, ... in every picture: boundary.png, the run page and the notebooks.
# Okabe and Ito's palette (Color Universal Design, 2002), which people with any common colour blindness
# tell apart; blue and orange first, the pair that differs most. Beyond 7 classes it repeats.
CLASS_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


class MatplotlibNotInstalled(ImportError):
    """Drawing needs matplotlib, and it is not installed."""

    def __init__(self) -> None:
        super().__init__("needs matplotlib; install it with: pip install 'gategrad[plot]'")


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MatplotlibNotInstalled() from None


def image_formats() -> dict[str, str]:
    """The image formats matplotlib writes, by extension: {'png': 'Portable Network Graphics', ...}."""
    _require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    return FigureCanvasBase.get_supported_filetypes()


def image_path(path: Path) -> Path:
    """The file a picture saved as `path` goes to: `path` itself, or `path`.png when it has no extension.

    Raises ValueError for a folder or an extension matplotlib has no format for.
    """
    formats = image_formats()
    if path.is_dir():
        raise ValueError(f"{path} is a folder; give a file name such as {path / 'boundary.png'}")
    if not path.suffix:
        return path.with_name(path.name + ".png")
    if path.suffix[1:].lower() not in formats:
        raise ValueError(f"{path}: unknown image format {path.suffix}; use one of {', '.join(formats)}")
    return path


def class_color(c: int) -> str:
    """The colour of class `c` (0, 1, 2, ...)."""
    return CLASS_COLORS[c % len(CLASS_COLORS)]


def class_colormap(classes: int) -> Any:
    """A matplotlib colormap giving class 0 .. `classes` - 1 their colours: `scatter(..., c=y, cmap=it, vmin=0,
    vmax=classes - 1)`."""
    _require_matplotlib()
    from matplotlib.colors import ListedColormap

    return ListedColormap([class_color(c) for c in range(classes)], name="gategrad-classes")


def decision_boundary(
    classify: Callable[[list[float]], int], X: Sequence[Sequence[float]], y: Sequence[int], path: Path, title: str
) -> None:
    """Colour the plane by the class `classify` gives each point of a grid, draw the points X (classes y) on top,
    and write the picture to `path` in the format its extension names."""
    _require_matplotlib()
    from matplotlib.figure import Figure

    xs, ys = [p[0] for p in X], [p[1] for p in X]
    (left, right), (bottom, top) = (min(xs) - 0.5, max(xs) + 0.5), (min(ys) - 0.5, max(ys) + 0.5)
    grid_x = [left + (right - left) * i / (GRID - 1) for i in range(GRID)]
    grid_y = [bottom + (top - bottom) * i / (GRID - 1) for i in range(GRID)]
    predicted = [[classify([gx, gy]) for gx in grid_x] for gy in grid_y]
    classes = max(max(y), *(max(row) for row in predicted)) + 1
    colors = [class_color(c) for c in range(classes)]
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    ax.contourf(grid_x, grid_y, predicted, levels=[c - 0.5 for c in range(classes + 1)], colors=colors, alpha=0.4)
    ax.scatter(xs, ys, c=[colors[c] for c in y], s=20, edgecolors="k")
    ax.set_title(title)
    image = io.BytesIO()
    fig.savefig(image, format=path.suffix[1:].lower(), dpi=100)
    files.atomic_write(path, image.getvalue())
