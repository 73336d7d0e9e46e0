"""Grading a pack: each student's answers against their key, item by item, into grades.csv and a feedback page.

A number is right within the key's rule (exact, or one unit of the third significant digit); a wrong
number that equals one of the key's classic slips is named in the feedback; an answer that cannot be
read as a number counts 0 and is listed. A missing or broken answer file grades as all unanswered.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from gettext import NullTranslations
from html import escape
from pathlib import Path
from typing import Any

from gategrad.exercise import pages
from gategrad.exercise.pack import PACK, PackError, load_nbformat, title, write_file
from gategrad.exercise.variant import EXACT, SIGNIFICANT, WORD, tolerance
from gategrad.explain.lang import gate_words, translator

RULES = (EXACT, SIGNIFICANT, WORD)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/[+-]?\d+)?")


class Unreadable(ValueError):
    """An answer that is not a number (or, for a word item, not a word)."""


@dataclass
class Graded:
    """One student's result: points per item, what could not be read, and the slips named."""

    student: str
    points: dict[str, float]
    maximum: int
    unreadable: dict[str, str] = field(default_factory=dict)
    missing_file: bool = False

    @property
    def score(self) -> float:
        return sum(self.points.values())


def parse_number(raw: object) -> float:
    """An answer as a number: a JSON number, or text such as "-1.5", "3/4", "0,25" or "−2" (a typeset minus)."""
    if isinstance(raw, bool):
        raise Unreadable(repr(raw))
    if isinstance(raw, (int, float)):
        if abs(raw) > 1e300 or not math.isfinite(raw):
            raise Unreadable(repr(raw))
        return float(raw)
    if not isinstance(raw, str):
        raise Unreadable(json.dumps(raw, ensure_ascii=False))
    text = raw.strip().replace("−", "-").replace(" ", "")
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as ru and many European classes write
    if not _NUMBER.fullmatch(text):
        raise Unreadable(raw)
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError, OverflowError):
        raise Unreadable(raw) from None
    if not math.isfinite(value):
        raise Unreadable(raw)
    return value


def parse_word(raw: object) -> str:
    """A word item's answer, as compared: a kind such as "scale", or a line number, in any case and spacing."""
    if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
        raise Unreadable(json.dumps(raw, ensure_ascii=False))
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
    if not text:
        raise Unreadable(repr(raw))
    return text


def grade_pack(folder: str | Path) -> list[Graded]:
    """Grade every student of the pack in `folder`; writes grades.csv and feedback/<id>.html there."""
    folder = Path(folder)
    try:
        pack = json.loads((folder / PACK).read_text(encoding="utf-8"))
        students = [row["id"] for row in pack["students"]]
        lang, kind = pack["lang"], pack["kind"]
    except (OSError, ValueError, KeyError, TypeError):
        raise PackError(f"{folder} is not an exercise pack: it has no readable {PACK}") from None
    results, keys = [], {}
    for student in students:
        try:
            keys[student] = json.loads((folder / "key" / f"{student}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise PackError(f"{folder} has no readable key for {student} (key/{student}.json)") from None
        k = keys[student]
        if not (isinstance(k, dict) and k.get("rule") in RULES and isinstance(k.get("answers"), dict)
                and isinstance(k.get("points"), dict) and set(k["points"]) == set(k["answers"])):  # fmt: skip
            raise PackError(f"{folder}/key/{student}.json is not a key that gategrad exercise new wrote")
    items = list(dict.fromkeys(item for k in keys.values() for item in k["answers"]))
    rows = []
    for student in students:
        k = keys[student]
        answers, missing = _answers(folder, student, pack.get("format", "html"))
        graded, said = _grade(student, k, answers, missing, lang)
        results.append(graded)
        write_file(folder / "feedback" / f"{student}.html", _feedback(graded, k, answers, said, lang, kind))
        rows.append(
            [
                student,
                _n(graded.score),
                str(graded.maximum),
                *(_n(graded.points[i]) if i in graded.points else "" for i in items),
            ]
        )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "score", "max", *items])
    writer.writerows(rows)
    write_file(folder / "grades.csv", out.getvalue())
    return results


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _answers(folder: Path, student: str, format: str) -> tuple[dict[str, Any], bool]:
    """The student's answers by item, and whether their answer file was missing or unreadable."""
    if format == "notebook":
        path = folder / "notebooks" / f"{student}.ipynb"
        nbformat = load_nbformat()  # not installed: a PackError that says so, not a class of zeros
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # nbformat raises many kinds for a broken file: any of them is a file that cannot be read
            return {}, True
        found = {}
        for cell in nb.cells:
            item = cell.get("metadata", {}).get("gategrad", {}).get("item")
            if item is not None and cell.cell_type == "code":
                found[item] = _cell_answer(cell.source)
        return found, False
    try:
        answers = json.loads((folder / "answers" / f"{student}.json").read_text(encoding="utf-8"))["answers"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}, True
    return (answers, False) if isinstance(answers, dict) else ({}, True)


def _cell_answer(source: str) -> Any:
    """What an answer cell holds: None while untouched, else its text without comments (a number or a word)."""
    text = "\n".join(line.split("#", 1)[0] for line in source.splitlines()).strip()
    if text in ("", "None"):
        return None
    return text.strip("\"'")


def _grade(
    student: str, key: dict[str, Any], answers: dict[str, Any], missing: bool, lang: str
) -> tuple[Graded, dict[str, str]]:
    """Points per item and, for each wrong item, the sentence that names its slip (if it is a classic one)."""
    rule = key["rule"]
    graded = Graded(student, {}, sum(key["points"].values()), missing_file=missing)
    said: dict[str, str] = {}
    for item, right in key["answers"].items():
        raw = answers.get(item)
        graded.points[item] = 0
        if raw is None:
            continue
        try:
            if rule == WORD:
                ok = parse_word(raw) == parse_word(right)
            else:
                value = parse_number(raw)
                ok = abs(value - right) <= tolerance(right, rule)
        except Unreadable as e:
            graded.unreadable[item] = str(e)
            continue
        if ok:
            graded.points[item] = key["points"][item]
            continue
        for slip in key.get("slips", {}).get(item, []):
            if abs(value - slip["value"]) <= tolerance(slip["value"], rule):
                said[item] = slip_sentence(slip, item, _shown(raw), lang)
                break
    return graded, said


def _shown(raw: object) -> str:
    return raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)


def slip_sentence(slip: dict[str, Any], item: str, yours: str, lang: str) -> str:
    """The feedback sentence that names a classic slip, in `lang`."""
    t = translator(lang)
    numbers = {**slip["numbers"], "item": item, "yours": yours}
    if "gate" in numbers:
        numbers.update(gate_words(numbers["gate"], lang))
    return _slip_templates(t, int(numbers.get("n", 2)))[slip["slip"]].format(**numbers)


def _slip_templates(t: NullTranslations, n: int) -> dict[str, str]:
    return {
        "sign": t.gettext("{item}: your {yours} has the right size but the wrong sign."),
        "missing_local": t.gettext(
            "{item}: your {yours} leaves out a factor: the local gradient {local} that the {gate} gate making "
            "{output} gives its input {input}."
        ),
        "own_value": t.gettext(
            "{item}: your {yours} multiplies by {input}'s own value {value} at the mul gate making {output}; "
            "a mul gate gives each input the other input's value."
        ),
        "missing_term": t.ngettext(
            "{item}: your {yours} keeps one path only; {name} is used {n} time, and the gradients of all its uses "
            "add up.",
            "{item}: your {yours} keeps one path only; {name} is used {n} times, and the gradients of all its uses "
            "add up.",
            n,
        ),
        "missing_upstream": t.gettext(
            "{item}: your {yours} is the local gradient alone; it still has to be multiplied by the upstream "
            "gradient {g} that reaches {output}."
        ),
    }


def _feedback(
    graded: Graded, key: dict[str, Any], answers: dict[str, Any], said: dict[str, str], lang: str, kind: str
) -> str:
    """A student's page: the score, each item with their answer and points, the slips named, what was unreadable."""
    t = translator(lang)
    student = escape(t.gettext("Student: {student}")).format(student=f"<b>{escape(graded.student)}</b>")
    score = t.gettext("Score: {score} of {max}").format(score=_n(graded.score), max=graded.maximum)
    parts = [
        f'<p class="student">{student}</p>',
        f'<p class="score">{escape(score)}</p>',
    ]
    if graded.missing_file:
        parts.append(f"<p>{escape(t.gettext('No answer file could be read, so every item counts 0.'))}</p>")
    rows = []
    for item, points in graded.points.items():
        raw = answers.get(item)
        if raw is None:
            verdict = t.gettext("no answer")
        elif item in graded.unreadable:
            verdict = t.gettext("not readable")
        elif points:
            verdict = t.gettext("right")
        else:
            verdict = t.gettext("wrong")
        css = "right" if points else "wrong"
        yours = "" if raw is None else _shown(raw)
        rows.append(
            (
                f"<code>{escape(item)}</code>",
                escape(yours),
                f'<span class="{css}">{escape(verdict)}</span>',
                f"{_n(points)} / {key['points'][item]}",
            )
        )
    head = tuple(
        escape(h) for h in (t.gettext("item"), t.gettext("your answer"), t.gettext("result"), t.gettext("points"))
    )
    parts.append(pages.table(head, rows, ' class="feedback"'))
    if said:
        parts.append(f"<h2>{escape(t.gettext('Classic mistakes in your answers'))}</h2>")
        parts.append('<ul class="slips">' + "".join(f"<li>{escape(s)}</li>" for s in said.values()) + "</ul>")
    if graded.unreadable:
        listed = ", ".join(f"{item} ({text})" for item, text in graded.unreadable.items())
        said_unreadable = t.gettext("These answers could not be read as answers and count 0: {items}.")
        parts.append(f'<p class="unreadable">{escape(said_unreadable.format(items=listed))}</p>')
    return pages.document(title(kind, lang), "".join(parts), lang)
