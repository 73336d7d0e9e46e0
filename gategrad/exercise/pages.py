"""The pack's pages: a printable sheet, the worked solution in a key, a student's feedback. Plain HTML, no scripts.

Every sentence comes through the catalogues in the class's language; every number is the engine's.
Pictures are Graphviz's SVG inlined, so a page loads nothing from outside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

from gategrad.engine import Step, Value, fmt, topological_order
from gategrad.engine.gates import name
from gategrad.explain.lang import ENGLISH, gate_name, sentence, translator
from gategrad.viz.dot import draw_dot
from gategrad.viz.page import inline_svg

CSS = """
body { font-family: "Noto Serif", "Noto Serif CJK SC", Georgia, serif; max-width: 46em; margin: 2em auto;
  padding: 0 1em; line-height: 1.5; color: #111; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
td, th { border: 1px solid #999; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
table.answers td { height: 2.2em; } table.answers td:last-child { min-width: 14em; } .student { color: #444; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; } ol.walk li { margin-bottom: 0.3em; }
.right { color: #145a14; } .wrong { color: #8a1010; }
@media print { body { margin: 0; max-width: none; } pre { background: none; } h2 { break-after: avoid; } }
"""


def document(title: str, body: str, lang: str) -> str:
    """A whole page: `body` under `title`, with the pack's style, and nothing loaded from outside."""
    return (
        f'<!DOCTYPE html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{escape(title)}</h1>\n"
        f"{body}\n</body>\n</html>\n"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[str]], attrs: str = "") -> str:
    """A table of already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def circuit_svg(root: Value, show_grad: bool) -> str:
    """The circuit drawn by viz, as inline SVG."""
    svg = str(draw_dot(root, show_grad=show_grad).pipe(format="svg", encoding="utf-8"))
    return f"<figure>{inline_svg(svg)}</figure>"


def walk_html(root: Value, steps: Sequence[Step], lang: str = ENGLISH) -> str:
    """The worked solution: the forward values, then the engine's walk, one sentence per gate."""
    t = translator(lang)
    forward = table(
        (escape(t.gettext("value of")), escape(t.gettext("gate")), escape(t.gettext("data"))),
        (
            (escape(name(v)), escape(gate_name(v.op or "input", lang)), escape(fmt(v.data)))
            for v in topological_order(root)
        ),
    )
    walk = "".join(f"<li>{escape(sentence(s, lang))}</li>" for s in steps)
    return (
        f"<h2>{escape(t.gettext('Forward pass'))}</h2>{forward}"
        f"<h2>{escape(t.gettext('Backward pass, one gate at a time:').rstrip(':：'))}</h2>"
        f'<ol class="walk">{walk}</ol>'
    )


def answers_table(answers: Mapping[str, str], labels: Mapping[str, str], lang: str) -> str:
    """Each item's right answer, as the key gives it."""
    t = translator(lang)
    return f"<h2>{escape(t.gettext('Answers'))}</h2>" + table(
        (escape(t.gettext("item")), escape(t.gettext("answer"))),
        ((labels[item], f'<span data-item="{escape(item)}">{escape(a)}</span>') for item, a in answers.items()),
    )


def answer_boxes(labels: Mapping[str, str], points: Mapping[str, int], lang: str) -> str:
    """The sheet's answer table: each item, its points, and an empty box to write in."""
    t = translator(lang)
    rows = (
        (label, escape(str(points[item])), f'<span data-item="{escape(item)}"></span>')
        for item, label in labels.items()
    )
    head = (escape(t.gettext("item")), escape(t.gettext("points")), escape(t.gettext("your answer")))
    return f"<h2>{escape(t.gettext('Answers'))}</h2>" + table(head, rows, ' class="answers"')
