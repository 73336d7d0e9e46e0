"""The HTML page of `gategrad.viz.Stepper`: one self-contained page that steps through backprop.

Everything is inline (the SVG frames, the CSS, a short script), so the page works from
`file://` and loads nothing from the network: it has no `src` or `href` attribute and no
CSS `url()`. Text from labels only ever appears escaped, as text.

The same markup serves a saved file and a notebook. A saved page is alone, so its parts
carry the plain ids `prev`, `next`, `play`, `step` and `explanation`, and the arrow keys
work anywhere on it. In a notebook each stepper's ids start with a prefix of its own, the
script finds its parts inside its own container, and keys act only while that stepper has
focus, so several steppers on a page, and the notebook's own keys, leave each other alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from html import escape
from string import Template

PACE_MS = 2500  # time per step while playing: enough to read a sentence and follow the picture

_SVG_NOISE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<title>.*?</title>", re.DOTALL)
_SVG_ATTRS = re.compile(r'\s(?:id|xmlns(?::\w+)?)="[^"]*"')
_SVG_POINTS = re.compile(r'\b(width|height)="([\d.]+)pt"')


@dataclass(frozen=True)
class Slide:
    """What the page shows at one step: its picture, a heading, the sentence, each named input's gradient."""

    svg: str
    heading: str
    explanation: str
    grads: tuple[str, ...]


def inline_svg(svg: str) -> str:
    """Graphviz's SVG made ready to sit inside HTML.

    Drops the XML prolog, DOCTYPE, comments and node titles, the ids (they would repeat
    across frames and steppers) and the namespace URIs (HTML's parser knows SVG without
    them), and sizes it in px rather than pt, so a 14pt label shows at 14px.
    """
    svg = _SVG_NOISE.sub("", svg)
    return re.sub(r"<[^>]+>", lambda tag: _SVG_POINTS.sub(r'\1="\2px"', _SVG_ATTRS.sub("", tag[0])), svg).strip()


def document(title: str, names: Sequence[str], slides: Sequence[Slide]) -> str:
    """A whole HTML page with one stepper, its parts under the plain ids, keys working page-wide."""
    body = fragment(title, names, slides, id_prefix="", page_keys=True)
    return _DOCUMENT.substitute(title=escape(f"gategrad: backprop through {title}"), body=body)


def fragment(title: str, names: Sequence[str], slides: Sequence[Slide], id_prefix: str, page_keys: bool) -> str:
    """One stepper in a container of its own, its ids starting with `id_prefix`.

    The first slide is in the markup itself, so the page shows step 1 even where scripts do not run.
    """
    first = slides[0]
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td data-part="grad">{escape(grad)}</td></tr>'
        for name, grad in zip(names, first.grads)
    )
    data = json.dumps([asdict(s) for s in slides], ensure_ascii=False)
    # Inside <script>, "</script>" or "<!--" would end or confuse the data; JSON's \u escapes read back the same.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    script = _SCRIPT.substitute(root=json.dumps(f"{id_prefix}stepper"), page_keys=json.dumps(page_keys), pace=PACE_MS)
    return _FRAGMENT.substitute(
        p=escape(id_prefix),
        title=escape(title),
        counter=f"1 / {len(slides)}",
        heading=escape(first.heading),
        explanation=escape(first.explanation),
        svg=first.svg,
        rows=rows,
        css=_CSS,
        data=data,
        script=script,
    )


_DOCUMENT = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
</head>
<body>
$body
</body>
</html>
""")

_FRAGMENT = Template("""<div class="gategrad-stepper" id="${p}stepper" tabindex="0">
<style>$css</style>
<div class="gg-title">Backpropagation through <code>$title</code></div>
<div class="gg-controls">
<button type="button" id="${p}prev" data-part="prev">&#9664; prev</button>
<button type="button" id="${p}play" data-part="play">&#9654; play</button>
<button type="button" id="${p}next" data-part="next">next &#9654;</button>
<span class="gg-counter">step <span id="${p}step" data-part="step">$counter</span></span>
<span class="gg-hint">keys: &larr; &rarr; Home End</span>
</div>
<div class="gg-middle">
<div class="gg-text">
<div class="gg-heading" data-part="heading">$heading</div>
<p class="gg-explanation" id="${p}explanation" data-part="explanation">$explanation</p>
</div>
<table class="gg-grads"><thead><tr><th>input</th><th>grad</th></tr></thead><tbody>$rows</tbody></table>
</div>
<div class="gg-figure" data-part="figure">$svg</div>
<script type="application/json" data-part="data">$data</script>
<script>$script</script>
</div>""")

_CSS = """
.gategrad-stepper { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827;
  background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px; }
.gategrad-stepper:focus-within { border-color: #93c5fd; outline: none; }
.gategrad-stepper .gg-title { font-weight: 600; margin-bottom: 8px; }
.gategrad-stepper .gg-controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.gategrad-stepper button { font: inherit; padding: 4px 14px; border: 1px solid #9ca3af; border-radius: 6px;
  background: #f9fafb; color: inherit; cursor: pointer; }
.gategrad-stepper button:hover { background: #f3f4f6; }
.gategrad-stepper .gg-counter { margin-left: 8px; font-weight: 600; font-variant-numeric: tabular-nums; }
.gategrad-stepper .gg-hint { color: #6b7280; font-size: 14px; margin-left: auto; }
.gategrad-stepper .gg-middle { display: flex; flex-wrap: wrap; gap: 8px 32px; align-items: flex-start;
  margin: 12px 0; }
.gategrad-stepper .gg-text { flex: 1 1 400px; }
.gategrad-stepper .gg-heading { color: #c2410c; font-weight: 600; }
.gategrad-stepper .gg-explanation { font-size: 18px; margin: 4px 0 0; }
.gategrad-stepper .gg-grads { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0;
  font-size: 16px; }
.gategrad-stepper .gg-grads th, .gategrad-stepper .gg-grads td { padding: 3px 12px; text-align: left;
  border: none; border-bottom: 1px solid #e5e7eb; background: none; }
.gategrad-stepper .gg-figure { overflow-x: auto; }
.gategrad-stepper .gg-figure svg { display: block; max-width: none; height: auto; }
"""

_SCRIPT = Template("""
(function () {
  "use strict";
  const root = document.getElementById($root);
  const part = (name) => root.querySelector('[data-part="' + name + '"]');
  const slides = JSON.parse(part("data").textContent);
  const grads = root.querySelectorAll('[data-part="grad"]');
  const last = slides.length - 1;
  let k = 0;
  let timer = null;

  function show(i) {
    k = Math.max(0, Math.min(last, i));
    const slide = slides[k];
    part("step").textContent = (k + 1) + " / " + slides.length;
    part("heading").textContent = slide.heading;
    part("explanation").textContent = slide.explanation;
    part("figure").innerHTML = slide.svg;
    slide.grads.forEach((g, j) => { grads[j].textContent = g; });
  }
  function pause() {
    clearInterval(timer);
    timer = null;
    part("play").textContent = "\\u25B6 play";
  }
  function go(i) {
    pause();
    show(i);
  }
  part("play").addEventListener("click", () => {
    if (timer) return pause();
    if (k === last) show(0);
    part("play").textContent = "\\u275A\\u275A pause";
    timer = setInterval(() => {
      show(k + 1);
      if (k === last) pause();
    }, $pace);
  });
  part("prev").addEventListener("click", () => go(k - 1));
  part("next").addEventListener("click", () => go(k + 1));
  const keys = { ArrowLeft: () => k - 1, ArrowRight: () => k + 1, Home: () => 0, End: () => last };
  const keysFrom = $page_keys ? document : root;
  keysFrom.addEventListener("keydown", (event) => {
    if (!(event.key in keys) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    event.stopPropagation();
    go(keys[event.key]());
  });
})();
""")
