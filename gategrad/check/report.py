"""The check's findings, computed once, and the two ways `gategrad check` shows them: text and JSON."""

from __future__ import annotations

from dataclasses import dataclass

from gategrad.check.diagnose import RTOL, Diagnosis
from gategrad.check.graph import Route
from gategrad.engine import Step, fmt, json_number


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
    unchecked: tuple[str, ...]  # arrays tapped in loss(p) with no key in grads(p)

    @property
    def ok(self) -> bool:
        """True when every array agrees and grads(p) gives the same answer twice."""
        return self.repeatable and all(c.agrees for c in self.checked)

    def to_json(self) -> dict:
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
                    else {"kind": c.diagnosis.kind, "factor": c.diagnosis.factor, "message": c.diagnosis.message},
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
    wrong = [c for c in report.checked if not c.agrees]
    parts = [_summary(report, wrong), _table(report.checked)]
    if report.unchecked:
        parts.append(f"Tapped in loss(p) but not in grads(p), so not checked: {', '.join(report.unchecked)}.")
    if wrong:
        lines = [f"  {c.name} ({_kind(c.diagnosis)}): {c.diagnosis.message}" for c in wrong if c.diagnosis]
        parts.append("Diagnosis:\n" + "\n".join(lines))
    if report.first_divergence is not None:
        parts.append(format_divergence(report.first_divergence))
    parts.append(_repeatability(report))
    return "\n\n".join(parts)


def _summary(report: Report, wrong: list[Checked]) -> str:
    tolerance = f"within {RTOL:.0e} × the largest |true| entry of each array".replace("e-0", "e-")  # 1e-8
    n = len(report.checked)
    if not wrong:
        agree = f"All {n} arrays agree with the engine's gradients ({tolerance})"
        return agree + ("." if report.repeatable else ", but grads(p) does not repeat itself (below).")
    first = (
        f"; the first, walking back from the loss, is {report.first_divergence.name}" if report.first_divergence else ""
    )
    return f"{len(wrong)} of {n} arrays disagree with the engine's gradients ({tolerance}){first}."


def _kind(d: Diagnosis) -> str:
    return d.kind if d.factor is None else f"{d.kind}, factor {fmt(d.factor)}"


def _table(checked: tuple[Checked, ...]) -> str:
    rows = [("array", "kind", "shape", "max |yours - true|", "agrees")]
    for c in checked:
        error = "-" if c.max_abs_error is None else fmt(c.max_abs_error)
        rows.append((c.name, c.kind, str(c.shape), error, "yes" if c.agrees else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  " + "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths)), row[4]]) for row in rows)


def format_divergence(d: Divergence) -> str:
    """The first divergence: its gradient at one wrong entry as a sum of terms, then gate by gate."""
    entry = d.route.entry
    e = entry.label
    yours = "yours has another shape" if d.yours is None else f"yours is {fmt(d.yours)}"
    lines = [f"First divergence, walking back from the loss: {d.name}. At {e}:"]
    tapped = [t for t in d.route.terms if t.tapped]
    rest = [t for t in d.route.terms if not t.tapped]
    if not d.route.terms:
        lines.append(
            f"  ∂L/∂{e} = 0: no gate takes {e} on towards the loss (a relu, np.maximum or np.where "
            f"passed another value on); {yours}."
        )
    elif not tapped:
        lines.append(f"  ∂L/∂{e} = {fmt(entry.grad)}; {yours}.")
    else:
        shown = tapped[:TERMS_SHOWN]
        symbols = [f"∂L/∂{t.output.label} × ∂{t.output.label}/∂{e}" for t in shown]
        numbers = [f"{fmt(t.upstream)} × {fmt(t.local)}" for t in shown]
        if len(tapped) > TERMS_SHOWN:
            symbols.append(f"… ({len(tapped)} terms through tapped arrays)")
            numbers.append("…")
        if rest:
            symbols.append("the part on ways that pass no tapped array")
            numbers.append(fmt(rest[0].local))
        equation = f"∂L/∂{e} = {' + '.join(symbols)}"
        values = f"= {_sum(numbers)} = {fmt(entry.grad)}; {yours}."
        lines += [f"  {equation} {values}"] if len(symbols) == 1 else [f"  {equation}", f"  {values}"]
    if d.route.steps:
        start = d.route.terms[0].output.label
        lines.append(f"  Gate by gate, from {start} back to {e}:")
        lines += [f"    {line}" for line in _steps(d.route.steps)]
    elif d.route.terms and not tapped:
        lines.append(
            f"  No tapped array lies between {e} and the loss: tap the arrays in between in loss(p) to see "
            "where it first goes wrong."
        )
    return "\n".join(lines)


def _sum(terms: list[str]) -> str:
    """Terms joined by + and -, so that adding a negative term reads as subtracting it."""
    text = terms[0]
    for term in terms[1:]:
        text += f" - {term[1:]}" if term.startswith("-") else f" + {term}"
    return text


def _steps(steps: tuple[Step, ...]) -> list[str]:
    """Each gate's sentence; a long run of add gates that pass the gradient on unchanged is one line."""
    lines: list[str] = []
    run: list[Step] = []
    for step in (*steps, None):
        if step is not None and step.op == "add":
            run.append(step)
            continue
        if len(run) > RUN_SHOWN:
            lines.append(f"… {len(run)} add gates, each passing the gradient {fmt(run[0].upstream)} on unchanged …")
        else:
            lines += [s.explanation for s in run]
        run = []
        if step is not None:
            lines.append(step.explanation)
    return lines


def _repeatability(report: Report) -> str:
    if report.repeatable:
        return "grads(p) gives the same arrays when called twice."
    return (
        f"grads(p) gave other arrays when called again with the same p ({', '.join(report.changed)}): "
        "the gradient accumulates across calls. Reset it to zeros at the start of each call "
        "(each training iteration)."
    )
