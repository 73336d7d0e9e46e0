"""gategrad: a scalar autograd engine for seeing backpropagation gate by gate.

The names below load on first use (a module `__getattr__`), so `import gategrad.engine`
costs only the engine: no numpy, Graphviz, tqdm or polib until something asks for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gategrad import nn
    from gategrad.engine import Value, gradcheck
    from gategrad.viz import Stepper, draw_dot, render_walkthrough

# Each public name and the module that defines it.
_HOMES = {
    "Value": "gategrad.engine",
    "gradcheck": "gategrad.engine",
    "draw_dot": "gategrad.viz",
    "render_walkthrough": "gategrad.viz",
    "Stepper": "gategrad.viz",
    "nn": "gategrad.nn",
}

__all__ = ["Value", "gradcheck", "draw_dot", "render_walkthrough", "Stepper", "nn"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """A public name from its home, or a subpackage (`gategrad.viz`) imported on first use."""
    if name in _HOMES:
        module = importlib.import_module(_HOMES[name])
        value = module if module.__name__ == f"gategrad.{name}" else getattr(module, name)
    else:
        try:
            value = importlib.import_module(f"gategrad.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"gategrad.{name}":  # the subpackage exists but needs something missing: say that
                raise
            raise AttributeError(f"module 'gategrad' has no attribute {name!r}") from None
    globals()[name] = value  # the next lookup finds it without calling __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
