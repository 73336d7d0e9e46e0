"""The one door between the page and Python: `handle` takes a JSON request and gives a JSON reply.

A request is `{"lab": "expr"|"net"|"engine"|"ui", "action": ..., "args": {...}}`; the reply is
`{"ok": true, "result": ...}` or `{"ok": false, "error": "one line"}`. A learner's mistake
(a bad expression, an unknown language) is an error reply, never an exception in the worker.
Each lab's module is imported on its first request, so the page is ready before the labs it
has not opened are loaded.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from gategrad.explain.lang import ENGLISH, languages, translator

# Each lab's module; it has `handle(action, args) -> dict` and may list its words in `STRINGS`.
LABS = {
    "expr": "gategrad.playground.expression",
    "net": "gategrad.playground.net",
    "engine": "gategrad.playground.engine",
}
STRING_MODULES = ("gategrad.playground.ui", "gategrad.playground.net")


def handle(request: str) -> str:
    """Answer one JSON request with one JSON reply."""
    try:
        message = json.loads(request)
        lab, action, args = message["lab"], message["action"], message.get("args", {})
        if not isinstance(args, dict):
            raise ValueError(f"args must be an object, got {type(args).__name__}")
        result = strings(**args) if (lab, action) == ("ui", "strings") else _lab(lab).handle(action, args)
        reply: dict[str, Any] = {"ok": True, "result": result}
    except (ValueError, TypeError, KeyError, RecursionError) as e:
        reply = {"ok": False, "error": _one_line(e)}
    return json.dumps(reply, ensure_ascii=False, allow_nan=False)


def strings(lang: str = ENGLISH) -> dict[str, str]:
    """Every lab's words (each module's `STRINGS`) in `lang`, by their English text."""
    t = translator(lang)
    modules = [importlib.import_module(name) for name in STRING_MODULES]
    return {text: t.gettext(text) for module in modules for text in module.STRINGS}


def all_strings() -> dict[str, Any]:
    """Every language there is a catalogue for, and the page's words in each: what the built site carries."""
    codes = languages()
    return {"languages": codes, "strings": {code: strings(code) for code in codes}}


def _lab(name: str) -> Any:
    if name not in LABS:
        raise ValueError(f"unknown lab {name!r}; known: {', '.join(LABS)}")
    return importlib.import_module(LABS[name])


def _one_line(e: BaseException) -> str:
    text = str(e) if not isinstance(e, KeyError) else f"missing {e}"
    if isinstance(e, RecursionError):
        text = "the circuit is too deep for Python's recursion limit"
    return " ".join(text.split()) or type(e).__name__
