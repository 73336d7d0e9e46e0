"""Writing a pack: for each student of a roster, a sheet, an answer file (or a notebook), and a key.

A variant depends on (kind, seed, student id) alone, so the same roster and seed give the same bytes,
and a student keeps their numbers when the roster grows. The folder holds:

    pack.json              the kind, seed, language, format and the roster's rows
    sheets/<id>.html       the printable sheet, in the class's language
    answers/<id>.json      {"student": id, "answers": {item: null, ...}} to fill in (format "html")
    notebooks/<id>.ipynb   the same with an answer cell per item (format "notebook")
    key/<id>.json          {"answers", "points", "solution_html", ...}: the key and the worked solution
    files/<id>.py          the bug kind's numpy file
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from gategrad import data
from gategrad.exercise import bug, circuit, net, pages
from gategrad.exercise.variant import Exercise, student_rng
from gategrad.explain.lang import translator
from gategrad.files import atomic_write

KINDS = ("circuit", "net", "bug")
FORMATS = ("html", "notebook")
PACK = "pack.json"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # an id names the student's files


class PackError(ValueError):
    """A roster, an option or a folder that cannot make or grade a pack; the message says which and why."""


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"


def read_roster(path: str | Path) -> list[dict[str, str]]:
    """The roster's rows as {column: text}; it needs an `id` column of distinct ids that can name files."""
    try:
        table = data.load_csv(path, features=[], keep_rows=True)
    except data.CSVError as e:
        raise PackError(str(e)) from None
    except OSError as e:
        raise PackError(f"cannot read {path}: {e.strerror or e}") from None
    if "id" not in table.columns:
        raise PackError(f"{path} has no id column (its columns: {', '.join(table.columns)})")
    rows = [dict(zip(table.columns, row)) for row in table.rows or []]
    if not rows:
        raise PackError(f"{path} lists no students")
    seen: set[str] = set()
    for k, row in enumerate(rows, start=2):
        sid = row["id"].strip()
        if not _ID.fullmatch(sid):
            raise PackError(f"{path}, line {k}: the id {sid!r} cannot name a file (use letters, digits, _ . -)")
        if sid in seen:
            raise PackError(f"{path}, line {k}: the id {sid!r} is there twice")
        seen.add(sid)
        row["id"] = sid
    return rows


def exercise(kind: str, seed: int, student: str, lang: str) -> Exercise:
    """The variant of `kind` for one student."""
    rng = student_rng(kind, seed, student)
    if kind == "circuit":
        return circuit.make(rng, lang)
    if kind == "net":
        return net.make(rng, lang)
    if kind == "bug":
        return bug.make(rng, lang, student)
    raise PackError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")


def new_pack(roster: str | Path, kind: str, seed: int, lang: str, out: str | Path, format: str = "html") -> list[str]:
    """Write a pack for every student of `roster` into the folder `out`; returns the ids, in the roster's order."""
    if kind not in KINDS:
        raise PackError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    if format not in FORMATS:
        raise PackError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    try:
        translator(lang)
    except ValueError as e:
        raise PackError(str(e)) from None
    if format == "notebook":
        load_nbformat()
    rows = read_roster(roster)
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / PACK).is_file())):
        raise PackError(f"{out} is there and is not an exercise pack: choose a new folder")
    made = [(row, exercise(kind, seed, row["id"], lang)) for row in rows]  # all before any file: no half a pack
    for row, ex in made:
        student = row["id"]
        write_file(out / "sheets" / f"{student}.html", sheet(ex, row, lang))
        blank = {item: None for item in ex.items}
        if format == "html":
            write_file(out / "answers" / f"{student}.json", to_json({"student": student, "answers": blank}))
        else:
            write_file(out / "notebooks" / f"{student}.ipynb", notebook(ex, row, lang))
        write_file(out / "key" / f"{student}.json", to_json(key(ex, student)))
        for name, text in ex.files.items():
            write_file(out / name, text)
    write_file(
        out / PACK,
        to_json({"kind": kind, "seed": seed, "lang": lang, "format": format, "students": rows}),
    )
    return [row["id"] for row in rows]


def write_file(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, making its folder first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text)


def title(kind: str, lang: str) -> str:
    """The heading of a kind's sheet and feedback, in `lang`."""
    t = translator(lang)
    return {
        "circuit": t.gettext("Backpropagation by hand: a circuit"),
        "net": t.gettext("Backpropagation by hand: a small network"),
        "bug": t.gettext("Find the bug in a numpy backprop"),
    }[kind]


def _student_line(row: dict[str, str], lang: str) -> str:
    t = translator(lang)
    others = "".join(f", {escape(col)}: {escape(text)}" for col, text in row.items() if col != "id")
    student = escape(t.gettext("Student: {student}")).format(student=f"<b>{escape(row['id'])}</b>")
    return f'<p class="student">{student}{others}</p>'


def sheet(ex: Exercise, row: dict[str, str], lang: str) -> str:
    """The printable sheet: who it is for, the exercise, and an answer box per item with its points."""
    labels = {item: i.question for item, i in ex.items.items()}
    points = {item: i.points for item, i in ex.items.items()}
    body = _student_line(row, lang) + ex.sheet_html + pages.answer_boxes(labels, points, lang)
    return pages.document(title(ex.kind, lang), body, lang)


def key(ex: Exercise, student: str) -> dict[str, Any]:
    """The key of one student: the answers and points, the grading rule, the classic slips, the worked solution."""
    return {
        "student": student,
        "kind": ex.kind,
        "rule": ex.rule,
        "answers": {item: i.answer for item, i in ex.items.items()},
        "points": {item: i.points for item, i in ex.items.items()},
        "slips": {item: [s.to_json() for s in i.slips] for item, i in ex.items.items() if i.slips},
        "solution_html": ex.solution_html,
    }


def load_nbformat() -> Any:
    """nbformat, or a PackError saying how to install it (it comes with the notebooks extra)."""
    try:
        import nbformat
    except ImportError:
        raise PackError("notebooks need nbformat: pip install 'gategrad[notebooks]'") from None
    return nbformat


def notebook(ex: Exercise, row: dict[str, str], lang: str) -> str:
    """The sheet as a notebook: the exercise in Markdown (HTML), then per item its question and an answer cell."""
    nbformat = load_nbformat()
    t = translator(lang)
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(f"# {escape(title(ex.kind, lang))}\n\n{_student_line(row, lang)}\n\n{ex.sheet_html}")]
    hint = t.gettext("Write your answer in place of None, then save the notebook.")
    for item, i in ex.items.items():
        cells.append(
            v4.new_markdown_cell(
                f"**{i.question}** ({t.ngettext('{n} point', '{n} points', i.points).format(n=i.points)})"
            )
        )
        cell = v4.new_code_cell(f"None  # {hint}")
        cell.metadata["gategrad"] = {"item": item}
        cells.append(cell)
    for k, cell in enumerate(cells):
        cell["id"] = f"{ex.kind}-{k}"  # fixed ids: the same roster and seed give the same bytes
    nb = v4.new_notebook(cells=cells, metadata={"gategrad": {"student": row["id"], "kind": ex.kind}})
    return str(nbformat.writes(nb))
