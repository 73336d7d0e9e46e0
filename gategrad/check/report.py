"""The check's findings, computed once, and the two ways `gategrad check` shows them: text and JSON."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from gategrad.check.diagnose import RTOL, Diagnosis
from gategrad.check.graph import Route
from gategrad.engine import Step, fmt, json_number
from gategrad.explain.lang import ENGLISH, sentence, translator


@dataclass(frozen=True)
class Checked:
    """One array compared: a parameter or a tapped intermediate, your gradient against the true one."""

    name: str
    kind: str  # "parameter" or "intermediate"
    shape: tuple[int, ...]
    agrees: bool
    max_abs_error: float | None  # None when the shapes differ
    diagnosis: Diagnosis | None


@dataclass(frozen=True)
class Divergence:
    """The first array that disagrees, walking back from the loss, and how the gradient of one wrong entry is made."""

    name: str
    route: Route
    yours: float | None  # your number at that entry, None when the shapes differ


@dataclass(frozen=True)
class Report:
    """Everything `gategrad check` found; print it for the text report, `to_json()` for the JSON one."""

    checked: tuple[Checked, ...]  # walking back from the loss: the arrays nearest to it first
    repeatable: bool
    changed: tuple[str, ...]  # the arrays grads(p) returned differently when called again
    first_divergence: Divergence | None
    unchecked: tuple[str, ...]  # arrays tap() named in loss(p) with no key in grads(p)
    lang: str = ENGLISH  # the language of the diagnoses and of the text report

    @property
    def ok(self) -> bool:
        """True when every array agrees and grads(p) gives the same answer twice."""
        return self.repeatable and all(c.agrees for c in self.checked)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `gategrad check --json`; an inf or nan error is the string "Infinity" or "NaN"."""
        return {
            "ok": self.ok,
            "repeatable": self.repeatable,
            "first_divergence": self.first_divergence.name if self.first_divergence else None,
            "checked": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "shape": list(c.shape),
                    "agrees": c.agrees,
                    "max_abs_error": None if c.max_abs_error is None else json_number(c.max_abs_error),
                    "diagnosis": None
                    if c.diagnosis is None
                    else {
                        "kind": c.diagnosis.kind,
                        "factor": c.diagnosis.factor,
                        "equals": c.diagnosis.equals,
                        "message": c.diagnosis.message,
                    },
                }
                for c in self.checked
            ],
        }

    def __str__(self) -> str:
        return format_report(self)


TERMS_SHOWN = 3  # a sum of more terms shows the first ones and how many there are
RUN_SHOWN = 2  # a run of more add gates that pass the gradient on unchanged is one line


def format_report(report: Report) -> str:
    """The text report: a summary, the table, the diagnoses, the first divergence, repeatability."""
    t = translator(report.lang)
    wrong = [c for c in report.checked if not c.agrees]
    parts = [_summary(report, wrong), _table(report.checked, report.lang)]
    if report.unchecked:
        said = t.gettext("Tapped in loss(p) but not in grads(p), so not checked: {names}.")
        parts.append(said.format(names=t.pgettext("list", ", ").join(report.unchecked)))
    if wrong:
        lines = [f"  {c.name} ({_kind(c.diagnosis)}): {c.diagnosis.message}" for c in wrong if c.diagnosis]
        parts.append(t.gettext("Diagnosis:") + "\n" + "\n".join(lines))
    if report.first_divergence is not None:
        parts.append(format_divergence(report.first_divergence, report.lang))
    parts.append(_repeatability(report))
    return "\n\n".join(parts)


def _summary(report: Report, wrong: list[Checked]) -> str:
    t = translator(report.lang)
    tolerance = t.gettext("within {rtol} × the largest |true| entry of each array").format(
        rtol=f"{RTOL:.0e}".replace("e-0", "e-")  # 1e-8
    )
    n = len(report.checked)
    if not wrong:
        if report.repeatable:
            said = t.ngettext(
                "The {n} array agrees with the engine's gradients ({tolerance}).",
                "All {n} arrays agree with the engine's gradients ({tolerance}).",
                n,
            )
        else:
            said = t.ngettext(
                "The {n} array agrees with the engine's gradients ({tolerance}), but grads(p) does not repeat "
                "itself (below).",
                "All {n} arrays agree with the engine's gradients ({tolerance}), but grads(p) does not repeat "
                "itself (below).",
                n,
            )
        return said.format(n=n, tolerance=tolerance)
    if report.first_divergence is None:
        said = t.ngettext(
            "{k} of {n} array disagrees with the engine's gradients ({tolerance}).",
            "{k} of {n} arrays disagree with the engine's gradients ({tolerance}).",
            n,
        )
    else:
        said = t.ngettext(
            "{k} of {n} array disagrees with the engine's gradients ({tolerance}); the first, walking back "
            "from the loss, is {first}.",
            "{k} of {n} arrays disagree with the engine's gradients ({tolerance}); the first, walking back "
            "from the loss, is {first}.",
            n,
        )
    first = report.first_divergence.name if report.first_divergence else ""
    return said.format(k=len(wrong), n=n, tolerance=tolerance, first=first)


def _kind(d: Diagnosis) -> str:
    return d.kind if d.factor is None else f"{d.kind}, factor {fmt(d.factor)}"


def _table(checked: tuple[Checked, ...], lang: str) -> str:
    t = translator(lang)
    header = (
        t.pgettext("check", "array"),
        t.pgettext("check", "kind"),
        t.pgettext("check", "shape"),
        t.pgettext("check", "max |yours - true|"),
        t.pgettext("check", "agrees"),
    )
    rows = [header]
    for c in checked:
        error = "-" if c.max_abs_error is None else fmt(c.max_abs_error)
        kind = t.pgettext("check", "parameter") if c.kind == "parameter" else t.pgettext("check", "intermediate")
        agrees = t.pgettext("check", "yes") if c.agrees else t.pgettext("check", "no")
        rows.append((c.name, kind, str(c.shape), error, agrees))
    widths = [max(_width(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  " + "  ".join([*(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)), row[4]]) for row in rows
    )


def _width(text: str) -> int:
    """Columns a terminal gives `text`: two for a Chinese character."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_divergence(d: Divergence, lang: str = ENGLISH) -> str:
    """The first divergence: its gradient at one wrong entry as a sum of terms, then gate by gate."""
    t = translator(lang)
    entry = d.route.entry
    e = entry.label
    yours = (
        t.gettext("yours has another shape") if d.yours is None else t.gettext("yours is {x}").format(x=fmt(d.yours))
    )
    lines = [t.gettext("First divergence, walking back from the loss: {name}. At {e}:").format(name=d.name, e=e)]
    tapped = [term for term in d.route.terms if term.tapped]
    rest = [term for term in d.route.terms if not term.tapped]
    if not d.route.terms:
        said = t.gettext(
            "∂L/∂{e} = 0: no gate takes {e} on towards the loss (a relu, np.maximum or np.where "
            "passed another value on); {yours}."
        )
        lines.append("  " + said.format(e=e, yours=yours))
    elif not tapped:
        lines.append(f"  ∂L/∂{e} = {fmt(entry.grad)}; {yours}.")
    else:
        shown = tapped[:TERMS_SHOWN]
        symbols = [f"∂L/∂{term.output.label} × ∂{term.output.label}/∂{e}" for term in shown]
        numbers = [f"{fmt(term.upstream)} × {fmt(term.local)}" for term in shown]
        if len(tapped) > TERMS_SHOWN:
            more = t.ngettext("… ({n} term through tapped arrays)", "… ({n} terms through tapped arrays)", len(tapped))
            symbols.append(more.format(n=len(tapped)))
            numbers.append("…")
        if rest:
            symbols.append(t.gettext("the part on ways that pass no tapped array"))
            numbers.append(fmt(rest[0].local))
        equation = f"∂L/∂{e} = {' + '.join(symbols)}"
        values = f"= {_sum(numbers)} = {fmt(entry.grad)}; {yours}."
        lines += [f"  {equation} {values}"] if len(symbols) == 1 else [f"  {equation}", f"  {values}"]
    if d.route.steps:
        start = d.route.terms[0].output.label
        lines.append("  " + t.gettext("Gate by gate, from {start} back to {e}:").format(start=start, e=e))
        lines += [f"    {line}" for line in _steps(d.route.steps, lang)]
    elif d.route.terms and not tapped:
        said = t.gettext(
            "No tapped array lies between {e} and the loss: tap the arrays in between in loss(p) to see "
            "where it first goes wrong."
        )
        lines.append("  " + said.format(e=e))
    return "\n".join(lines)


def _sum(terms: list[str]) -> str:
    """Terms joined by + and -, so that adding a negative term reads as subtracting it."""
    text = terms[0]
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


def _steps(steps: tuple[Step, ...], lang: str) -> list[str]:
    """Each gate's sentence; a long run of add gates that pass the gradient on unchanged is one line."""
    t = translator(lang)
    lines: list[str] = []
    run: list[Step] = []
    for step in (*steps, None):
        if step is not None and step.op == "add":
            run.append(step)
            continue
        if len(run) > RUN_SHOWN:
            said = t.ngettext(
                "… {n} add gate, passing the gradient {g} on unchanged …",
                "… {n} add gates, each passing the gradient {g} on unchanged …",
                len(run),
            )
            lines.append(said.format(n=len(run), g=fmt(run[0].upstream)))
        else:
            lines += [sentence(s, lang) for s in run]
        run = []
        if step is not None:
            lines.append(sentence(step, lang))
    return lines


def _repeatability(report: Report) -> str:
    t = translator(report.lang)
    if report.repeatable:
        return t.gettext("grads(p) gives the same arrays when called twice.")
    said = t.gettext(
        "grads(p) gave other arrays when called again with the same p ({names}): the gradient accumulates "
        "across calls. Reset it to zeros at the start of each call (each training iteration)."
    )
    return said.format(names=t.pgettext("list", ", ").join(report.changed))
