"""gategrad: a scalar autograd engine for seeing backpropagation gate by gate."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["Value", "gradcheck", "draw_dot", "render_walkthrough", "Stepper", "nn"]
__version__ = "0.1.0"

# Where each name lives; imported on first use, so `import gategrad.engine` (and the browser's light core)
# never loads numpy, graphviz or polib it does not need.
_HOMES = {
    "Value": "gategrad.engine",
    "gradcheck": "gategrad.engine",
    "draw_dot": "gategrad.viz",
    "render_walkthrough": "gategrad.viz",
    "Stepper": "gategrad.viz",
}


def __getattr__(name: str) -> Any:
    if name == "nn":
        return importlib.import_module("gategrad.nn")
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'gategrad' has no attribute {name!r}")
