"""The words of the playground's frame, expression lab and "Your engine" tab, translated through the catalogues.

`STRINGS` are English messages; the page asks for them by their English text (`api.t`).
The stepper's words that the expression lab shares (prev, next, predict, ...) are the
stepper page's own messages, so they are translated once.
"""

from __future__ import annotations

from gategrad.viz.page import UI_STRINGS

STRINGS = [
    "gategrad playground: backpropagation live in your browser",
    "gategrad playground",
    "Language",
    "Expression",
    "Network",
    "Your engine",
    "Loading Python in your browser (about 12 MB, once)…",
    "Unpacking gategrad…",
    "Starting the engine…",
    "The engine could not start: {error}",
    "Python runs in your browser: nothing is sent anywhere.",
    "Expression, in the language of gategrad explain",
    "Backward pass, one gate at a time",
    "Gradients",
    "Misconception lab",
    "none: the right walk",
    "Paste your micrograd-style Value class, then check it against gategrad's engine.",
    "Class name",
    "check",
    "checking…",
    "Stopped after {seconds} s: the engine took too long (an endless loop?). Python was restarted.",
    UI_STRINGS["prev"],
    UI_STRINGS["next"],
    UI_STRINGS["input"],
    UI_STRINGS["grad"],
    UI_STRINGS["predict"],
    UI_STRINGS["predict_score"],
]
