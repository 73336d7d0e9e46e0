"""`gategrad check`: referee a learner's backprop against the engine's exact gradients.

Two referees. The numpy one (`check`, `check_file`, `tap`): a learner's file defines params(),
loss(p) and grads(p); `check` runs loss(p) on arrays of Values, calls backward(), and compares
grads(p) with the true gradient, array by array. The engine one (`check_engine`,
`check_engine_source`): a learner's own micrograd-style Value class, run on small circuits
against gategrad's engine. Names are imported on first use, so the engine referee, which the
browser runs, never imports numpy.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "KINDS": "diagnose",
    "RTOL": "diagnose",
    "Diagnosis": "diagnose",
    "Checked": "report",
    "Divergence": "report",
    "Report": "report",
    "CheckError": "run",
    "check": "run",
    "check_file": "run",
    "tap": "run",
    "EngineError": "referee",
    "EngineReport": "referee",
    "Finding": "referee",
    "check_engine": "referee",
    "check_engine_source": "referee",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'gategrad.check' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"gategrad.check.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
