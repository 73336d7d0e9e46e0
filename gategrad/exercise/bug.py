"""The bug kind: a numpy backprop of a small two-layer net with one line of grads(p) made wrong.

The mistake is one of `check`'s kinds, planted by replacing one line, and the key is what `check`
itself says about the file: the kind of the first array that disagrees, walking back from the loss,
and its message. A draw whose diagnosis is not the planted kind is drawn again, so sheet and key agree.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass
from gettext import NullTranslations
from html import escape
from pathlib import Path

from gategrad.check import CheckError, check_file
from gategrad.exercise import pages
from gategrad.exercise.variant import WORD, Exercise, Item
from gategrad.explain.lang import translator

ATTEMPTS = 50

FILE = '''"""A {d}-{h}-1 network, {hidden} then sigmoid, squared error averaged over the batch.

One line of grads(p) is wrong.
"""

import numpy as np

X = np.array({X})
Y = np.array({Y})
m = len(X)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def params():
    rng = np.random.default_rng({seed})
    return {{
        "W1": rng.normal(size=({d}, {h})),
        "b1": rng.normal(size={h}),
        "W2": rng.normal(size=({h}, 1)),
        "b2": rng.normal(size=1),
    }}


def forward(p):
    z1 = X @ p["W1"] + p["b1"]
    a1 = {activation}
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = sigmoid(z2)
    return z1, a1, z2, a2


def loss(p):
    a2 = forward(p)[3]
    return np.sum((a2 - Y) ** 2) / (2 * m)


def grads(p):
    z1, a1, z2, a2 = forward(p)
    da2 = (a2 - Y) / m
    dz2 = da2 * a2 * (1 - a2)
    dW2 = a1.T @ dz2
    db2 = dz2.sum(axis=0)
    da1 = dz2 @ p["W2"].T
    dz1 = {derivative}
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return {{"a2": da2, "z2": dz2, "W2": dW2, "b2": db2, "a1": da1, "z1": dz1, "W1": dW1, "b1": db1}}
'''

ACTIVATIONS = {"sigmoid": ("sigmoid(z1)", "da1 * a1 * (1 - a1)"), "relu": ("np.maximum(0, z1)", "da1 * (z1 > 0)")}


@dataclass(frozen=True)
class Plant:
    """One mistake: the line it replaces, what it writes instead, the kind `check` names it, the activations it fits."""

    right: str
    wrong: str
    kind: str
    hidden: tuple[str, ...] = tuple(ACTIVATIONS)


PLANTS = (
    Plant("da2 = (a2 - Y) / m", "da2 = a2 - Y", "scale"),
    Plant("da2 = (a2 - Y) / m", "da2 = (Y - a2) / m", "scale"),
    Plant("db2 = dz2.sum(axis=0)", 'db2 = np.zeros_like(p["b2"])', "zero"),
    Plant("db1 = dz1.sum(axis=0)", "db1 = dz1", "shape"),
    Plant("dW1 = X.T @ dz1", "dW1 = dz1.T @ X", "transposed"),
    Plant(
        "dz1 = da1 * a1 * (1 - a1)", "dz1 = da1 * sigmoid(a1) * (1 - sigmoid(a1))", "derivative_at_output", ("sigmoid",)
    ),
    Plant("dz1 = da1 * (z1 > 0)", "dz1 = da1", "mask", ("relu",)),
)
KINDS = tuple(dict.fromkeys(p.kind for p in PLANTS))


def source(rng: random.Random) -> tuple[str, str]:
    """A right file for a student (its numbers drawn by `rng`) and its hidden activation."""
    d, h = rng.choice(((2, 3), (2, 4), (3, 2), (3, 4), (4, 3)))
    n = rng.randint(4, 6)
    hidden = rng.choice(tuple(ACTIVATIONS))
    X = [[rng.randint(-9, 9) / 4 for _ in range(d)] for _ in range(n)]
    Y = [[float(rng.randint(0, 1))] for _ in range(n)]
    activation, derivative = ACTIVATIONS[hidden]
    text = FILE.format(d=d, h=h, hidden=hidden, X=X, Y=Y, seed=rng.randrange(1000), activation=activation,
                       derivative=derivative)  # fmt: skip
    return text, hidden


def make(rng: random.Random, lang: str, student: str) -> Exercise:
    """One student's broken file, sheet and key: the kind `check` names and the planted line."""
    t = translator(lang)
    for _ in range(ATTEMPTS):
        right, hidden = source(rng)
        fitting = [p for p in PLANTS if hidden in p.hidden]
        kind = rng.choice(list(dict.fromkeys(p.kind for p in fitting)))  # each kind as likely, however many plants
        plant = rng.choice([p for p in fitting if p.kind == kind])
        lines = right.splitlines()
        (index,) = [k for k, line in enumerate(lines) if line.strip() == plant.right]
        lines[index] = lines[index].replace(plant.right, plant.wrong)
        text = "\n".join(lines) + "\n"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "backprop.py"
            path.write_text(text, encoding="utf-8")
            try:
                report = check_file(path, lang)
            except CheckError:  # a relu layer dead on every sample leaves a1 all zeros, which check cannot name
                continue
        first = report.first_divergence
        checked = {c.name: c for c in report.checked}
        diagnosis = checked[first.name].diagnosis if first else None
        if diagnosis is not None and diagnosis.kind == plant.kind:
            break
    else:
        raise RuntimeError(f"check did not name a planted mistake in {ATTEMPTS} draws")
    line = index + 1
    numbered = "\n".join(f"{k:>3}  {escape(s)}" for k, s in enumerate(text.splitlines(), start=1))
    sentences, labels = _kind_sentences(t), _labels(t)
    kinds = "".join(f"<li><code>{k}</code>: {escape(sentences[k])}</li>" for k in KINDS)
    ask = t.gettext(
        "One line of grads(p) in this file is wrong. Give the kind of the mistake, one of the kinds below, "
        "and the number of the line. You may run `gategrad check {file}` on the file."
    ).format(file=f"files/{student}.py")
    sheet = f'<p>{escape(ask)}</p><ul class="kinds">{kinds}</ul><pre class="file">{numbered}</pre>'
    said = t.gettext("The planted mistake is on line {line}: {wrong}; the right line is {right}.").format(
        line=line, wrong=plant.wrong, right=plant.right
    )
    solution = (
        f"<p>{escape(said)}</p><h2>{escape(t.gettext('What gategrad check says'))}</h2>"
        f'<pre class="check">{escape(str(report))}</pre>'
        + pages.answers_table({"kind": plant.kind, "line": str(line)}, labels, lang)
    )
    items = {
        "kind": Item(diagnosis.kind, 2, labels["kind"]),
        "line": Item(line, 1, labels["line"]),
    }
    return Exercise("bug", WORD, items, sheet, solution, {f"files/{student}.py": text})


def _kind_sentences(t: NullTranslations) -> dict[str, str]:
    """One sentence per kind the sheet offers, for the student choosing among them."""
    return {
        "scale": t.gettext("the array is the right one times a number (a factor left out or added, a sign flipped)"),
        "zero": t.gettext("the array is all zeros: it is never computed"),
        "shape": t.gettext("the array has the wrong shape (a sum over the batch left out)"),
        "transposed": t.gettext("the array is the transpose of the right one"),
        "derivative_at_output": t.gettext("an activation's derivative is taken at its output instead of its input"),
        "mask": t.gettext("relu's mask is left out: the gradient passes where the unit was off"),
    }


def _labels(t: NullTranslations) -> dict[str, str]:
    return {"kind": escape(t.gettext("the kind of the mistake")), "line": escape(t.gettext("the line number"))}
