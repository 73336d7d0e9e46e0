"""`gategrad playground --build DIR`: the playground as a folder of static files that works offline.

The site is the page's own files (`web/`), Pyodide's core and viz-js (`vendor/`, copied from
npm by `make setup` and shipped in the wheel), and `python.zip`: gategrad's pure-Python files
and the pure-Python packages it needs in the browser, copied from the Python that builds it.
"""

from __future__ import annotations

import io
import json
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

from gategrad.files import atomic_write
from gategrad.playground import bridge

HERE = Path(__file__).parent
PACKAGE = HERE.parent  # gategrad/
WEB = HERE / "web"
VENDOR = HERE / "vendor"
# Pyodide's core: the loader, the interpreter, the standard library and the package index it reads at start.
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
VIZ_FILES = ("viz.js",)  # viz-js's standalone ES module, Graphviz's wasm inside it
# What gategrad imports in the browser besides itself: the .po reader, the DOT writer, and the engine
# referee's hypothesis with its dependency. Each is copied from this Python when it is pure Python there,
# else from a pure-Python wheel in vendor/wheels (recent hypothesis releases carry a compiled part).
BUNDLED = ("polib", "graphviz", "hypothesis", "sortedcontainers")
LABS = ("expr", "net", "engine")  # the tabs, in order: web/<lab>.js mounts each
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # a fixed date, so the same sources make the same python.zip


class AssetsMissing(RuntimeError):
    """Pyodide or viz-js is not in gategrad/playground/vendor/ (a source checkout without `make setup`)."""


def build(out: str | Path) -> list[Path]:
    """Write the playground into the folder `out` (made if needed) and return the files written."""
    missing = [f"pyodide/{n}" for n in PYODIDE_FILES if not (VENDOR / "pyodide" / n).is_file()]
    missing += [f"viz/{n}" for n in VIZ_FILES if not (VENDOR / "viz" / n).is_file()]
    missing += [f"wheels/{n}-*.whl" for n in BUNDLED if _installed_files(n) is None and _wheel(n) is None]
    if missing:
        raise AssetsMissing(
            f"the playground's assets are missing from {VENDOR} ({', '.join(missing)}): in a source checkout "
            "run `make setup`, which copies them from npm; an installed wheel carries them"
        )
    out = Path(out)
    files: dict[str, bytes] = {
        path.name: path.read_bytes() for path in sorted(WEB.iterdir()) if path.is_file() and path.name[0] != "."
    }
    for folder, names in (("pyodide", PYODIDE_FILES), ("viz", VIZ_FILES)):
        for name in names:
            files[f"{folder}/{name}"] = (VENDOR / folder / name).read_bytes()
    files["python.zip"] = python_zip()
    files["site.json"] = json.dumps(site(), ensure_ascii=False).encode("utf-8")
    written = []
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
        written.append(path)
    return written


def site() -> dict[str, Any]:
    """What the page reads first: its words in every language (so the progress line speaks the learner's
    language before Python runs), the labs, and their style sheets."""
    styles = [f"{lab}.css" for lab in LABS if (WEB / f"{lab}.css").is_file()]
    return {**bridge.all_strings(), "labs": list(LABS), "styles": styles}


def python_zip() -> bytes:
    """gategrad's Python files and catalogues, and the BUNDLED packages', as a zip to unpack in site-packages."""
    members: dict[str, bytes] = {}
    for path in sorted(PACKAGE.rglob("*")):
        relative = path.relative_to(PACKAGE.parent)
        if path.is_file() and _is_source(relative) and relative.parts[1:3] != ("playground", "vendor"):
            members[relative.as_posix()] = path.read_bytes()
    for name in BUNDLED:
        members.update(_distribution_files(name))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members.items()):
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _is_source(relative: Path) -> bool:
    """A module, or a translation catalogue the walk reads: no bytecode, no page assets."""
    return "__pycache__" not in relative.parts and (relative.suffix == ".py" or relative.suffix == ".po")


def _distribution_files(name: str) -> dict[str, bytes]:
    """The modules and data files of the distribution `name`: installed here if pure Python, else its vendored wheel."""
    found = _installed_files(name)
    if found is not None:
        return found
    wheel = _wheel(name)
    if wheel is None:
        raise AssetsMissing(f"the playground bundles the pure-Python package {name}, which is not installed here")
    with zipfile.ZipFile(wheel) as archive:
        return {
            n: archive.read(n)
            for n in archive.namelist()
            if not n.endswith("/") and not n.split("/")[0].endswith((".dist-info", ".data"))
        }


def _installed_files(name: str) -> dict[str, bytes] | None:
    """The files the installed distribution `name` put on sys.path, or None if it is missing or not pure Python."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    found = {}
    for file in dist.files or ():
        parts = file.parts
        if parts[0] == ".." or parts[0].endswith((".dist-info", ".egg-info")) or "__pycache__" in parts:
            continue
        if file.suffix in (".so", ".pyd"):
            return None
        found[file.as_posix()] = Path(str(dist.locate_file(file))).read_bytes()
    return found


def _wheel(name: str) -> Path | None:
    return next(iter(sorted((VENDOR / "wheels").glob(f"{name}-*-py3-none-any.whl"))), None)
