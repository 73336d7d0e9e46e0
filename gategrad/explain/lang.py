"""The walk, the lab and the pages in other languages: one gettext catalogue (a `.po` file) per language.

A language is a file `<lang>/LC_MESSAGES/gategrad.po`, in the folder `locale/` beside this
module or in a folder listed in the environment variable GATEGRAD_LOCALE_PATH (searched
first), so a teacher adds a language by adding a file. English is the messages themselves.
The sentences are the gate table's templates (`gategrad.engine.gates`), translated whole,
filling in the same named numbers; one that counts is a pair (singular, plural), said with
ngettext in as many forms as the language has (Russian three, Chinese one). A gate's short
name is its row's `name` in the context "gate", and the gate as a whole ("tanh gate": 加法门
but tanh 门, «вентиль tanh») is an entry of its own in the context "gate phrase": where a
message names a gate by its short name, `{gate}` or `{op}`, its translation may name the
phrase instead, `{gate_phrase}` or `{op_phrase}`.
"""

from __future__ import annotations

import gettext
import io
import os
import re
import string
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import polib

from gategrad.engine import GATES, Step
from gategrad.engine.gates import Template, fill, name, translate
from gategrad.engine.gates import sentence as english_sentence
from gategrad.files import FileRefused, read_bytes
from gategrad.text import listed, quoted

DOMAIN = "gategrad"
ENGLISH = "en"
LOCALE_PATH = "GATEGRAD_LOCALE_PATH"
SHIPPED = Path(__file__).parent / "locale"
GATE_NUMBERS = ("gate", "op")  # the numbers a message names a gate's short name by
_CODE = re.compile(r"[A-Za-z]{2,3}(?:[_@-][A-Za-z0-9]+)*")  # gettext's codes: ru, zh_CN, pt_BR, sr@latin
MAX_BYTES = 2 * 2**20  # a catalogue's size limit: the shipped ones are under 100 KB, and polib slows quadratically
# The format spec a translation may give a number (filled in as text): an alignment and a width of two digits.
_SPEC = re.compile(r"[<>^]?\d{0,2}")
# A line of a PO file that is not a comment: a keyword and a string, or a string continuing the one before.
_PO_LINE = re.compile(r'\s*(?:(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?"(?:[^"\\]|\\.)*"\s*')


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
    return translate(template, n, translator(lang))


def gate_name(op: str, lang: str = ENGLISH) -> str:
    """The short name in `lang` of the gate `op` (English: its row's `name`); "input" names a leaf."""
    return translator(lang).pgettext("gate", GATES[op].name if op in GATES else op)


def gate_phrase(op: str, lang: str = ENGLISH) -> str:
    """The gate `op` as a whole in `lang`: "tanh gate", 加法门, tanh 门, «вентиль tanh»."""
    return translator(lang).pgettext("gate phrase", f"{GATES[op].name} gate")


def gate_words(op: str, lang: str = ENGLISH, number: str = "gate") -> dict[str, str]:
    """The numbers naming the gate `op` in a message that calls it `{number}`: its short name and its phrase."""
    return {number: gate_name(op, lang), f"{number}_phrase": gate_phrase(op, lang)}


def gate_numbers(numbers: Mapping[str, Any], lang: str = ENGLISH) -> dict[str, str]:
    """The words in `lang` for each gate a message's `numbers` name by its op ({gate}, {op}), as `gate_words`."""
    words: dict[str, str] = {}
    for number in GATE_NUMBERS:
        if number in numbers:
            words.update(gate_words(numbers[number], lang, number))
    return words


def grouped(n: int, lang: str = ENGLISH) -> str:
    """`n` with its digits grouped in thousands as `lang` writes them (786,561; ru 786 561): the separator is a
    message of the catalogue, so a new language sets its own."""
    return f"{n:,}".replace(",", translator(lang).pgettext("thousands separator", ","))


def placeholders(text: str) -> set[str]:
    """The named numbers `{name}` that a message fills in."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


@lru_cache
def _load(path: Path, mtime_ns: int) -> gettext.GNUTranslations:
    """Read a `.po` file (polib) into the standard library's translations, which know plurals and contexts.

    Cached by modification time, so an edited catalogue is read again. A teacher's catalogue is
    trusted no more than a data file: see `_read`, `check_template` and `check_plural`. A
    translation may name a gate's phrase where its message names the gate's short name.
    """
    po = _read(path)
    for entry in po.translated_entries():
        known = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
        known |= {f"{number}_phrase" for number in GATE_NUMBERS if number in known}
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            check_template(text, known, f"{path}, line {entry.linenum}: the translation of {quoted(entry.msgid)}")
    try:
        translations = gettext.GNUTranslations(io.BytesIO(po.to_binary()))
    except (ValueError, KeyError, OverflowError, RecursionError) as e:  # the header's Plural-Forms, or its charset
        raise ValueError(f"cannot read the catalogue {path}: {e}") from None
    check_plural(translations, po.metadata.get("Plural-Forms", ""), path)
    return translations


def _read(path: Path) -> polib.POFile:
    """The catalogue at `path`, at most MAX_BYTES, every string on it terminated."""
    try:
        text = read_bytes(path, MAX_BYTES).decode("utf-8")
    except FileRefused as e:
        raise ValueError(f"cannot read the catalogue {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"cannot read the catalogue {path}: not UTF-8 text (at byte {e.start})") from None
    except OSError as e:
        raise ValueError(f"cannot read the catalogue {path}: {e.strerror or e}") from None
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _PO_LINE.fullmatch(line):
            problem = "an unterminated string" if stripped.count('"') % 2 else "not a line of a PO file"
            raise ValueError(f"cannot read the catalogue {path}: line {number}: {problem}: {quoted(stripped)}")
    try:
        return polib.pofile(text)
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read the catalogue {path}: {e}") from None


def _fields(text: str) -> list[tuple[str, str | None, str]]:
    """Every replacement field of a format string, at every depth (a field may hide in another's spec)."""
    found = []
    for _, field, spec, conversion in string.Formatter().parse(text):
        if field is not None:
            found.append((field, conversion, spec or ""))
            found += _fields(spec or "")
    return found


def check_template(text: str, known: set[str], where: str) -> None:
    """Refuse a translation that could do more than fill in its message's numbers: a field that is not one
    of `known` (at any depth), an attribute or index of one, a conversion, or a format spec beyond `_SPEC`."""
    try:
        fields = _fields(text)
    except ValueError as e:
        raise ValueError(f"{where} is not a template: {e}") from None
    unknown = sorted({field for field, _, _ in fields if field not in known})
    if unknown:
        names = listed(("{" + field + "}" for field in unknown), 3)
        raise ValueError(f"{where} names {names}, which the message does not have")
    for field, conversion, spec in fields:
        if conversion is not None or not _SPEC.fullmatch(spec):
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"{where} formats a number as {quoted(shown)}; a translation may give it only an alignment and "
                "a width of at most two digits, as in {x:>8}"
            )


def check_plural(translations: gettext.GNUTranslations, header: str, path: Path) -> None:
    """Refuse a Plural-Forms expression that fails, or picks a form the catalogue does not have, for some n."""
    match = re.search(r"nplurals\s*=\s*(\d+)", header)
    forms = int(match.group(1)) if match else 2
    for n in [*range(1000), 10**6 + 1, 10**9 + 2, 2**31 - 1]:
        try:
            form = translations.plural(n)  # type: ignore[attr-defined]
        except Exception as e:  # the expression is the teacher's: n/0 divides by zero
            raise ValueError(f"cannot read the catalogue {path}: its Plural-Forms fails for n = {n}: {e}") from None
        if isinstance(form, bool) or not isinstance(form, int) or not 0 <= form < forms:
            raise ValueError(
                f"cannot read the catalogue {path}: its Plural-Forms picks form {form!r} for n = {n}, "
                f"and nplurals is {forms}"
            )
