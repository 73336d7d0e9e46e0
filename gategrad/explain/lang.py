"""The walk, the lab and the pages in other languages: one gettext catalogue (a `.po` file) per language.

A language is a file `<lang>/LC_MESSAGES/gategrad.po`, in the folder `locale/` beside this
module or in a folder listed in the environment variable GATEGRAD_LOCALE_PATH (searched
first), so a teacher adds a language by adding a file. English is the messages themselves.
The sentences are the gate table's templates (`gategrad.engine.gates`), translated whole,
filling in the same named numbers; one that counts is a pair (singular, plural), said with
ngettext in as many forms as the language has (Russian three, Chinese one). A gate's short
name is its row's `name` in the context "gate".
"""

from __future__ import annotations

import gettext
import io
import os
import re
import string
from functools import lru_cache
from pathlib import Path

import polib

from gategrad.engine import GATES, Step
from gategrad.engine.gates import Template, fill, name
from gategrad.engine.gates import sentence as english_sentence

DOMAIN = "gategrad"
ENGLISH = "en"
LOCALE_PATH = "GATEGRAD_LOCALE_PATH"
SHIPPED = Path(__file__).parent / "locale"
_CODE = re.compile(r"[A-Za-z]{2,3}(?:[_@-][A-Za-z0-9]+)*")  # gettext's codes: ru, zh_CN, pt_BR, sr@latin


def locale_dirs() -> list[Path]:
    """Where catalogues are looked for: GATEGRAD_LOCALE_PATH's folders first, then the shipped ones."""
    listed = os.environ.get(LOCALE_PATH, "")
    return [*(Path(p) for p in listed.split(os.pathsep) if p), SHIPPED]


def catalogue(lang: str) -> Path | None:
    """The `.po` file of `lang`, the first found in `locale_dirs()`, or None."""
    for folder in locale_dirs():
        path = folder / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
    return None


def languages() -> list[str]:
    """Every language there is a catalogue for, and English, sorted."""
    found = {p.parent.parent.name for folder in locale_dirs() for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return sorted({code for code in found if _CODE.fullmatch(code)} | {ENGLISH})


def translator(lang: str = ENGLISH) -> gettext.NullTranslations:
    """The translations of `lang`; ValueError, listing the known languages, for one without a catalogue."""
    if not isinstance(lang, str):
        raise TypeError(f"lang must be a language code such as 'zh', got {type(lang).__name__}: {lang!r}")
    if lang == ENGLISH:
        return gettext.NullTranslations()
    path = catalogue(lang) if _CODE.fullmatch(lang) else None
    if path is None:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(languages())}")
    return _load(path, path.stat().st_mtime_ns)


def sentence(step: Step, lang: str = ENGLISH) -> str:
    """What `step.explanation` says, in `lang`, with the same numbers."""
    template, numbers = english_sentence(step)
    if len(step.inputs) <= 4:  # the inputs' names, listed as the language lists things (、 in Chinese)
        numbers["names"] = translator(lang).pgettext("list", ", ").join(name(i.value) for i in step.inputs)
    return fill(translated(template, len(step.inputs), lang), numbers)


def translated(template: Template, n: int, lang: str = ENGLISH) -> str:
    """A table's template in `lang`: gettext, or for a pair (singular, plural) ngettext's form for the count `n`."""
    t = translator(lang)
    return t.gettext(template) if isinstance(template, str) else t.ngettext(*template, n)


def gate_name(op: str, lang: str = ENGLISH) -> str:
    """The short name in `lang` of the gate `op` (English: its row's `name`); "input" names a leaf."""
    return translator(lang).pgettext("gate", GATES[op].name if op in GATES else op)


def placeholders(text: str) -> set[str]:
    """The named numbers `{name}` that a message fills in."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


@lru_cache
def _load(path: Path, mtime_ns: int) -> gettext.GNUTranslations:
    """Read a `.po` file (polib) into the standard library's translations, which know plurals and contexts.

    Cached by modification time, so an edited catalogue is read again. Refuses a translation
    that names a number its message does not have: it could only fail when filled in.
    """
    try:
        po = polib.pofile(str(path))
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read the catalogue {path}: {e}") from None
    for entry in po.translated_entries():
        known = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            where = f"{path}, line {entry.linenum}: the translation of {entry.msgid!r}"
            try:
                unknown = placeholders(text) - known
            except ValueError as e:
                raise ValueError(f"{where} is not a template: {e}") from None
            if unknown:
                names = ", ".join("{" + name + "}" for name in sorted(unknown))
                raise ValueError(f"{where} names {names}, which the message does not have")
    return gettext.GNUTranslations(io.BytesIO(po.to_binary()))
