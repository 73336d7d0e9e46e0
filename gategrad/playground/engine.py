"""The "Your engine" tab: the engine referee of `gategrad check my_engine.py`, on a class pasted into the page.

The learner's code runs inside the page's Python, in a Web Worker; the page stops a run that
takes too long by ending the worker and starting a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gategrad.check.referee import check_engine_source
from gategrad.explain.lang import ENGLISH


def handle(action: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Answer the tab's one request, "check"."""
    if action != "check":
        raise ValueError(f"the engine tab has no action {action!r}")
    return check(**args)


def check(source: str, class_name: str = "Value", lang: str = ENGLISH) -> dict[str, Any]:
    """Referee the class `class_name` defined in `source`: `gategrad check FILE.py:CLASS --json`'s report and its text.

    A class that cannot be checked (EngineError, a ValueError) is an error reply with its reason.
    """
    if not isinstance(source, str) or not source.strip():
        raise ValueError("paste a Python class first")
    if not isinstance(class_name, str) or not class_name.isidentifier():
        raise ValueError(f"the class name must be a Python name such as Value, got {class_name!r}")
    report = check_engine_source(source, class_name=class_name, lang=lang)
    return {**report.to_json(), "text": report.text()}
