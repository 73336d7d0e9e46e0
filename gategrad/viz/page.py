"""The HTML page of `gategrad.viz.Stepper`: one self-contained page that steps through backprop.

Its HTML, CSS and JavaScript are files in `gategrad/viz/web/`, inlined into the page when it
is made: everything is inline (the SVG frames, the CSS, the script), so the page works from
`file://` and loads nothing from the network: it has no `src` or `href` attribute and no
CSS `url()`. Text from labels only ever appears escaped, as text.

The same markup serves a saved file and a notebook. A saved page is alone, so its parts
carry the plain ids `prev`, `next`, `play`, `step`, `explanation`, `predict` and `score`,
and the arrow keys work anywhere on it but in a text field. In a notebook each stepper's
ids start with a prefix of its own, the script finds its parts inside its own container,
and keys act only while that stepper has focus, so several steppers on a page, and the
notebook's own keys, leave each other alone.

Predict mode (the `predict` toggle) asks, before each backward step, what the gate sends
each of its inputs, checks the answers against the engine's numbers and keeps a score.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from html import escape
from importlib import resources
from string import Template

from gategrad.explain.lang import ENGLISH, translator

PACE_MS = 2500  # time per step while playing: enough to read a sentence and follow the picture
PREDICT_TOLERANCE = 0.01  # in predict mode an answer within 1% of the engine's number is right

# Every word the page shows besides the walk's sentences, by key: English here, the messages
# of the catalogues (`ui_strings` translates them). The script reads them too, as JSON.
UI_STRINGS = {
    "page_title": "gategrad: backprop through {title}",
    "title": "Backpropagation through {title}",
    "untitled": "the circuit",
    "prev": "prev",
    "play": "play",
    "pause": "pause",
    "next": "next",
    "step": "step",
    "keys": "keys: ← → Home End",
    "input": "input",
    "grad": "grad",
    "forward": "Forward pass",
    "backward": "Backward pass, gate {k} of {n}: {gate}",
    "predict": "predict",
    "predict_hint": "Type what each input gets (Tab between fields), then Enter. Within {percent} counts as right.",
    "predict_question": "Gate {k} of {n}: the {gate} gate {out} received the upstream gradient {g}. What does each of "
    "its inputs get?",
    "predict_field": "{input} gets",
    "predict_nth": "{input} (input {i})",
    "predict_check": "check",
    "predict_not_a_number": "Type a number in each field (inf and nan are numbers too).",
    "predict_right": "right",
    "predict_wrong": "wrong",
    "predict_feedback": "{input}: {verdict}, you said {answer}. It gets its local gradient {local} × the upstream "
    "{g} = {gets}.",
    "predict_score": "score: {right} of {answered}",
}

_SVG_NOISE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<title>.*?</title>", re.DOTALL)
_SVG_ATTRS = re.compile(r'\s(?:id|xmlns(?::\w+)?)="[^"]*"')
_SVG_POINTS = re.compile(r'\b(width|height)="([\d.]+)pt"')


@dataclass(frozen=True)
class SlideInput:
    """One input of a step's gate, for predict mode: its name, its local gradient and what it gets."""

    name: str
    local: str
    gets: str
    exactly: str  # what it gets, unrounded, as Python's repr writes it ("-8.0", "inf", "nan")


@dataclass(frozen=True)
class Slide:
    """What the page shows at one step: its picture, a heading, the sentence, each named input's gradient.

    A backward step also names its gate, its output and the upstream gradient, and carries
    its inputs, so predict mode can ask what each gets and check the answer.
    """

    svg: str
    heading: str
    explanation: str
    grads: tuple[str, ...]
    gate: str = ""
    gate_phrase: str = ""
    output: str = ""
    upstream: str = ""
    inputs: tuple[SlideInput, ...] = ()


def inline_svg(svg: str) -> str:
    """Graphviz's SVG made ready to sit inside HTML.

    Drops the XML prolog, DOCTYPE, comments and node titles, the ids (they would repeat
    across frames and steppers) and the namespace URIs (HTML's parser knows SVG without
    them), and sizes it in px rather than pt, so a 14pt label shows at 14px.
    """
    svg = _SVG_NOISE.sub("", svg)
    return re.sub(r"<[^>]+>", lambda tag: _SVG_POINTS.sub(r'\1="\2px"', _SVG_ATTRS.sub("", tag[0])), svg).strip()


def ui_strings(lang: str = ENGLISH) -> dict[str, str]:
    """`UI_STRINGS` in `lang`."""
    t = translator(lang)
    return {key: t.gettext(text) for key, text in UI_STRINGS.items()}


def document(
    title: str, names: Sequence[str], slides: Sequence[Slide], ui: Mapping[str, str] = UI_STRINGS, lang: str = ENGLISH
) -> str:
    """A whole HTML page with one stepper, its parts under the plain ids, keys working page-wide.

    `ui` is `ui_strings(lang)`: the page's words in the language `lang`.
    """
    body = fragment(title, names, slides, id_prefix="", page_keys=True, ui=ui, lang=lang)
    return _template("page.html").substitute(
        lang=escape(lang), title=escape(ui["page_title"].format(title=title)), body=body
    )


def fragment(
    title: str,
    names: Sequence[str],
    slides: Sequence[Slide],
    id_prefix: str,
    page_keys: bool,
    ui: Mapping[str, str] = UI_STRINGS,
    lang: str = ENGLISH,
) -> str:
    """One stepper in a container of its own, its ids starting with `id_prefix`, its words from `ui`.

    The first slide is in the markup itself, so the page shows step 1 even where scripts do not run.
    """
    first = slides[0]
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td data-part="grad">{escape(grad)}</td></tr>'
        for name, grad in zip(names, first.grads)
    )
    root = f"document.getElementById({json.dumps(id_prefix + 'stepper')})"
    start = f"gategradStepper({root}, {json.dumps(page_keys)}, {PACE_MS}, {PREDICT_TOLERANCE});"
    return _template("stepper.html").substitute(
        {f"ui_{key}": escape(text) for key, text in ui.items()},
        p=escape(id_prefix),
        lang=escape(lang),
        title=escape(ui["title"]).format(title=f"<code>{escape(title)}</code>"),
        counter=f"1 / {len(slides)}",
        heading=escape(first.heading),
        explanation=escape(first.explanation),
        predict_hint=escape(ui["predict_hint"].format(percent=f"{PREDICT_TOLERANCE:.0%}")),
        svg=first.svg,
        rows=rows,
        css=web_file("stepper.css"),
        data=script_json([asdict(s) for s in slides]),
        ui=script_json(dict(ui)),
        script=web_file("stepper.js") + start,
    )


def script_json(value: object) -> str:
    """`value` as JSON that can sit inside a <script> element."""
    data = json.dumps(value, ensure_ascii=False, allow_nan=False)
    # Inside <script>, "</script>" or "<!--" would end or confuse the data; JSON's \u escapes read back the same.
    return data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def web_file(name: str) -> str:
    """A file of `gategrad/viz/web/`, the pages' HTML, CSS and JavaScript, as text."""
    return resources.files("gategrad.viz").joinpath("web").joinpath(name).read_text(encoding="utf-8")


def _template(name: str) -> Template:
    return Template(web_file(name))
