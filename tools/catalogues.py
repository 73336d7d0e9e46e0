"""Keep the translation catalogues in step with the code: `make messages` runs this.

Writes `gategrad/explain/locale/gategrad.pot`, the template of every message gategrad
translates: the gate table's sentences and gate names, the misconception lab's table of
mistakes, the stepper page's UI_STRINGS, the training viewer's and the playground's STRINGS, the sentences
saying why training diverged (engine's NONFINITE, nn's DIVERGED), and each string
literal passed to gettext, ngettext or pgettext in gategrad/. Then merges it
into every shipped `.po` file, as gettext's msgmerge does: a new message shows up there
untranslated (and the tests fail until it is translated), a message no longer used becomes
obsolete. `--check` only says whether the template is up to date.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
from pathlib import Path

import polib

from gategrad.engine import nonfinite
from gategrad.engine.gates import GATES, Template
from gategrad.explain.lang import DOMAIN, SHIPPED, placeholders
from gategrad.explain.mistakes import MISTAKES
from gategrad.nn import train
from gategrad.nn.record import WARNINGS
from gategrad.playground import bridge
from gategrad.viz.page import UI_STRINGS
from gategrad.viz.viewer import STRINGS

ROOT = Path(__file__).resolve().parent.parent
POT = SHIPPED / f"{DOMAIN}.pot"
CALLS = {
    "gettext": ("msgid",),
    "ngettext": ("msgid", "msgid_plural"),
    "pgettext": ("msgctxt", "msgid"),
    "npgettext": ("msgctxt", "msgid", "msgid_plural"),
}


def messages() -> list[polib.POEntry]:
    """Every message the code translates, each once, with where it comes from and a note for the translator."""
    found: dict[tuple[str, str], polib.POEntry] = {}

    def add(where: tuple[str, str], note: str = "", msgctxt: str | None = None, msgid: str = "", **more: str) -> None:
        entry = found.get((msgctxt or "", msgid))
        if entry is None:
            entry = found[msgctxt or "", msgid] = polib.POEntry(msgctxt=msgctxt, msgid=msgid, comment=note, **more)
            if entry.msgid_plural:
                entry.msgstr_plural = {0: "", 1: ""}
            if placeholders(msgid) | placeholders(entry.msgid_plural):
                entry.flags.append("python-brace-format")
        if where not in entry.occurrences:
            entry.occurrences.append(where)

    gates = ("gategrad/engine/gates.py", "")
    for op, gate in GATES.items():
        for case, template in gate.sentences.items():
            add(gates, f"the {op} gate, case {case!r}; see gates.py for what each {{number}} is", **_texts(template))
        add(gates, f"the {gate.name} gate's short name, in tables", msgctxt="gate", msgid=gate.name)
        add(
            gates,
            f"the {gate.name} gate as a whole, which a translation may name as {{gate_phrase}} or {{op_phrase}} "
            "where its message names {gate} or {op}",
            msgctxt="gate phrase",
            msgid=f"{gate.name} gate",
        )
    add(gates, "a Value no gate made (one you created), in the forward table's gate column", "gate", "input")
    lab = ("gategrad/explain/mistakes.py", "")
    for m in MISTAKES.values():
        add(lab, f"the {m.name} mistake's name (--mistake {m.name}), in the lab's headings", "mistake", m.name)
        add(lab, f"the {m.name} mistake in a sentence, after 'The mistake: '", msgid=m.summary)
        for case, template in m.sentences.items():
            note = f"why the {m.name} walk goes wrong, case {case!r}; _Context.divergence says what each {{number}} is"
            add(lab, note, **_texts(template))
        add(
            lab,
            f"what a circuit needs for the {m.name} mistake to show: the {{needs}} of 'The two walks agree'",
            msgid=m.needs,
        )
    for key, text in UI_STRINGS.items():
        add(("gategrad/viz/page.py", ""), f"the stepper page: {key}", msgid=text)
    for key, text in STRINGS.items():
        add(("gategrad/viz/viewer.py", ""), f"the training viewer: {key}", msgid=text)
    for key, text in WARNINGS.items():
        add(("gategrad/nn/record.py", ""), f"train's warning at the end of a run: {key}", msgid=text)
    engine = ("gategrad/engine/nonfinite.py", "")
    for key, said in nonfinite.NONFINITE.items():
        add(engine, f"why training diverged: where a number first went nan or inf, case {key!r}", **_texts(said))
    add(engine, "an input of a gate that gave nan or inf, in a list of them", msgid=nonfinite.INPUT)
    add(engine, f"the inputs after the first {nonfinite.SHOWN}, counted", **_texts(nonfinite.MORE))
    for key, said in train.DIVERGED.items():
        add(("gategrad/nn/train.py", ""), f"why training diverged, case {key!r}", **_texts(said))
    add(("gategrad/nn/train.py", ""), "training stopped: {where} is why", msgid=train.STOPPED)
    for module in bridge.STRING_MODULES:  # each playground lab's words
        for text in importlib.import_module(module).STRINGS:
            add((module.replace(".", "/") + ".py", ""), "the playground", msgid=text)
    for path in sorted((ROOT / "gategrad").rglob("*.py")):
        calls = sorted(ast.walk(ast.parse(path.read_text(encoding="utf-8"))), key=lambda n: getattr(n, "lineno", 0))
        for node in calls:
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLS):
                continue
            fields = CALLS[node.func.attr]
            texts = [
                a.value for a in node.args[: len(fields)] if isinstance(a, ast.Constant) and isinstance(a.value, str)
            ]
            if len(texts) == len(fields):
                where = (path.relative_to(ROOT).as_posix(), "")  # no line numbers: they would change with any edit
                add(where, **dict(zip(fields, texts)))
    return list(found.values())


def _texts(template: Template) -> dict[str, str]:
    """A table's template as a message: a pair (singular, plural) is a plural message, for ngettext."""
    if isinstance(template, str):
        return {"msgid": template}
    return {"msgid": template[0], "msgid_plural": template[1]}


def template() -> polib.POFile:
    """The .pot file: every message, untranslated."""
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {
        "Project-Id-Version": "gategrad",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    pot.header = "The messages gategrad translates. Made by tools/catalogues.py (make messages): do not edit."
    pot.extend(messages())
    return pot


def _fit_plurals(po: polib.POFile) -> None:
    """Give each plural message as many forms as the language has (merging gives it the template's two).

    A message that has just become plural keeps its old translation as a fuzzy first form: polib counts an entry
    with a msgstr as translated, whatever its plural forms hold, so the old one would hide the new forms."""
    found = re.search(r"nplurals\s*=\s*(\d+)", po.metadata.get("Plural-Forms", ""))
    forms = int(found[1]) if found else 2
    for entry in po:
        if entry.msgid_plural:
            entry.msgstr_plural = {k: entry.msgstr_plural.get(k, "") for k in range(forms)}
            if entry.msgstr:
                entry.msgstr_plural[0] = entry.msgstr_plural[0] or entry.msgstr
                entry.msgstr = ""
                entry.flags.append("fuzzy")


def main(argv: list[str]) -> int:
    pot = template()
    if argv == ["--check"]:
        if not POT.is_file() or POT.read_text(encoding="utf-8") != str(pot):
            print(f"{POT.relative_to(ROOT)} is out of date: run make messages", file=sys.stderr)
            return 1
        return 0
    pot.save(str(POT))
    for path in sorted(SHIPPED.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        po = polib.pofile(str(path), wrapwidth=0)
        po.merge(pot)
        _fit_plurals(po)
        po.save()
        missing = len(po.untranslated_entries()) + len(po.fuzzy_entries())
        print(f"{path.relative_to(ROOT)}: {missing} messages to translate" if missing else f"{path.name}: complete")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
