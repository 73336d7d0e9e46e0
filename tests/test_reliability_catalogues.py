"""A teacher's catalogue is trusted no more than a data file: it fills in numbers and does nothing else (issue 28)."""

import os

import polib
import pytest

from gategrad.cli import main
from gategrad.engine import GATES
from gategrad.explain import lang

MUL = GATES["mul"].sentences["two"]  # "... {a} ... {a_gets} ... {b} ... {b_gets}"


def write(folder, entries, plural="nplurals=2; plural=(n != 1);"):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": plural}
    for msgid, msgstr in entries.items():
        po.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    path = folder / "pir" / "LC_MESSAGES" / "gategrad.po"
    path.parent.mkdir(parents=True)
    po.save(str(path))
    return path


@pytest.fixture
def teacher(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    return tmp_path


def explain_in(capsys, code="pir"):
    status = main(["explain", "x*y", "x=3", "y=-4", "--lang", code])
    out, err = capsys.readouterr()
    return status, out, err


def test_a_field_nested_in_a_format_spec_cannot_reach_the_environment(capsys, teacher):
    write(teacher, {MUL: "{a:{dir.__class__.__new__.__globals__[os].environ}} takes {a_gets}"})
    with pytest.raises(ValueError, match=r"names \{dir.__class__.__new__.__globals__\[os\].environ\}, which"):
        lang.translator("pir")
    status, out, err = explain_in(capsys)
    assert (status, out) == (2, "")
    assert err.count("\n") == 1 and "environ" in err and os.environ.get("HOME", "/") not in err.split("names")[1]


def test_a_known_name_nested_in_a_format_spec_is_refused_too(teacher):
    write(teacher, {MUL: "{a:{b}} takes {a_gets}"})
    with pytest.raises(ValueError, match=r"formats a number as '\{a:\{b\}\}'"):
        lang.translator("pir")


WIDE = ["{a_gets:>400000000}", "{a_gets!r}", "{a_gets:,>99}", "{a_gets:^100}", "{a_gets:.2f}"]


@pytest.mark.parametrize("field", WIDE)
def test_a_format_spec_beyond_a_short_width_is_refused(teacher, field):
    write(teacher, {MUL: f"{{a}} takes {field}"})
    with pytest.raises(ValueError, match=r"formats a number as .*a width of at most two digits"):
        lang.translator("pir")


def test_a_short_format_spec_is_allowed_and_filled_in(capsys, teacher):
    write(teacher, {MUL: "{a} takes {a_gets:>6}, {b} takes {b_gets:<5}|"})
    status, out, _ = explain_in(capsys)
    assert status == 0
    assert "x takes     -4, y takes 3    |" in out


def test_an_attribute_of_a_number_is_refused(teacher):
    write(teacher, {MUL: "{a.real} takes {a_gets}"})
    with pytest.raises(ValueError, match=r"names \{a.real\}, which the message does not have"):
        lang.translator("pir")


@pytest.mark.parametrize("plural", ["nplurals=2; plural=n/0;", "nplurals=2; plural=n;", "nplurals=2; plural=(n;"])
def test_a_bad_plural_forms_expression_is_refused_when_the_catalogue_loads(capsys, teacher, tmp_path, plural):
    write(teacher, {MUL: "{a} takes {a_gets}"}, plural)
    with pytest.raises(ValueError, match="cannot read the catalogue .*gategrad.po: "):
        lang.translator("pir")
    status, out, err = explain_in(capsys)
    assert (status, out) == (2, "") and err.count("\n") == 1


def test_train_refuses_a_bad_plural_forms_before_any_training(capsys, teacher, tmp_path):
    write(teacher, {MUL: "{a} takes {a_gets}"}, "nplurals=2; plural=n/0;")
    run = tmp_path / "run.html"
    status = main(["train", "--steps", "1", "--quiet", "--lang", "pir", "--record", str(run)])
    out, err = capsys.readouterr()
    assert (status, out) == (2, "")
    assert err.startswith("error: train: cannot read the catalogue ") and "Plural-Forms fails for n = 0" in err
    assert not run.exists()


def test_an_unterminated_string_is_refused_naming_its_line(teacher):
    path = teacher / "pir" / "LC_MESSAGES" / "gategrad.po"
    path.parent.mkdir(parents=True)
    path.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Gradients of {expression}:"\n'
        'msgstr "Treasure of {expression}\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"gategrad.po: line 6: an unterminated string: 'msgstr \"Treasure"):
        lang.translator("pir")


def test_the_shipped_catalogues_pass_every_check():
    for code in ("ru", "zh"):
        assert lang.translator(code).gettext(MUL) != MUL


def test_a_catalogue_over_the_size_limit_is_refused_unread(teacher):
    """A long comment block made polib quadratic (10 MB took 38 s): a catalogue over 2 MiB is not parsed."""
    path = write(teacher, {MUL: "{a} takes {a_gets}"})
    with open(path, "a", encoding="utf-8") as f:
        f.write(("# " + "a" * 1000 + "\n") * (lang.MAX_BYTES // 1000))
    with pytest.raises(ValueError, match=r"gategrad.po: .* bytes, more than the limit of 2,097,152"):
        lang.translator("pir")


def test_a_sparse_two_gigabyte_catalogue_is_refused_without_reading_it(teacher):
    path = teacher / "pir" / "LC_MESSAGES" / "gategrad.po"
    path.parent.mkdir(parents=True)
    with open(path, "wb") as f:
        f.truncate(2 * 2**30)
    with pytest.raises(ValueError, match=r"2,147,483,648 bytes, more than the limit"):
        lang.translator("pir")
