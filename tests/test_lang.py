"""The walk in Chinese and Russian: complete catalogues, the engine's numbers, and a new language as a file."""

import importlib.util
import json
import re
import subprocess
import sys
import unicodedata
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from conftest import row_steps

from gategrad import Value
from gategrad.cli import main
from gategrad.engine import GATES, topological_order
from gategrad.engine.gates import sentence as english_sentence
from gategrad.explain import lang
from gategrad.explain.expr import build
from gategrad.explain.walkthrough import format_forward, format_report, format_step, format_walk, to_json, walk
from gategrad.viz import Stepper, walkthrough_frames

ROOT = Path(__file__).resolve().parent.parent
MAX_CIRCUIT = ["2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1"]
SHIPPED = ["ru", "zh"]


def load_tool():
    spec = importlib.util.spec_from_file_location("catalogues", ROOT / "tools" / "catalogues.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def catalogue(code):
    return polib.pofile(str(lang.SHIPPED / code / "LC_MESSAGES" / "gategrad.po"))


def key(entry):
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def explain(capsys, *argv):
    code = main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def every_case():
    """One Step for each point of each row of the gate table: every gate, every case of its sentences."""
    return [step for gate in GATES.values() for step in row_steps(gate)]


# ---- the shipped catalogues ----


def test_russian_and_chinese_are_shipped_beside_english():
    assert lang.languages() == ["en", "ru", "zh"]


def templates(gate):
    """A row's sentences as messages: a pair (singular, plural) is one message, known by its singular."""
    return [t if isinstance(t, str) else t[0] for t in gate.sentences.values()]


def test_the_cases_above_reach_every_sentence_of_the_gate_table():
    reached = {english_sentence(step)[0] for step in every_case()}
    assert reached == {template for gate in GATES.values() for template in gate.sentences.values()}


@pytest.mark.parametrize("code", SHIPPED)
def test_every_sentence_of_the_gate_table_is_translated_with_the_same_numbers(code):
    translated = {e.msgid: e.msgstr or e.msgstr_plural[0] for e in catalogue(code) if not e.msgctxt and e.translated()}
    for gate in GATES.values():
        for template in templates(gate):
            assert template in translated, f"{code} has no translation of {template!r}"
            assert lang.placeholders(translated[template]) == lang.placeholders(template), template


@pytest.mark.parametrize("code", SHIPPED)
def test_every_gate_has_a_short_name(code):
    names = {e.msgid: e.msgstr for e in catalogue(code) if e.msgctxt == "gate" and e.translated()}
    assert set(names) == {gate.name for gate in GATES.values()} | {"input"}


@pytest.mark.parametrize("code", SHIPPED)
def test_every_message_is_translated_none_fuzzy_none_stale(code):
    po = catalogue(code)
    template = polib.pofile(str(lang.SHIPPED / "gategrad.pot"))
    assert {key(e) for e in po if not e.obsolete} == {key(e) for e in template}
    assert po.untranslated_entries() == [] and po.fuzzy_entries() == [] and po.obsolete_entries() == []
    for entry in po:
        forms = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
        for text in forms:
            assert named(text) == lang.placeholders(entry.msgid_plural or entry.msgid), entry.msgid


def named(text):
    """The numbers a translation names, a gate's phrase ({op_phrase}) counted as its short name ({op})."""
    return {
        p.removesuffix("_phrase") if p.removesuffix("_phrase") in lang.GATE_NUMBERS else p
        for p in lang.placeholders(text)
    }


def test_plural_forms_are_russian_and_chinese():
    assert catalogue("ru").metadata["Plural-Forms"].startswith("nplurals=3;")
    assert catalogue("zh").metadata["Plural-Forms"].startswith("nplurals=1;")


def test_the_template_lists_exactly_the_messages_the_code_translates():
    tool = load_tool()
    template = polib.pofile(str(lang.SHIPPED / "gategrad.pot"))
    assert {key(e) for e in tool.messages()} == {key(e) for e in template}
    assert tool.main(["--check"]) == 0


def test_large_counts_are_grouped_as_each_language_writes_them():
    assert [lang.grouped(786_561, code) for code in ("en", "zh", "ru")] == ["786,561", "786,561", "786\u00a0561"]
    assert lang.grouped(999, "ru") == "999" and lang.grouped(1_000_000, "ru") == "1\u00a0000\u00a0000"


def test_a_message_that_becomes_plural_is_left_to_translate_not_counted_done():
    tool = load_tool()
    po = polib.POFile(wrapwidth=0)
    po.metadata = {"Plural-Forms": catalogue("ru").metadata["Plural-Forms"]}
    po.append(polib.POEntry(msgid="{n} inputs", msgstr="{n} входов"))
    template = polib.POFile(wrapwidth=0)
    template.append(polib.POEntry(msgid="{n} inputs", msgid_plural="{n} inputs", msgstr_plural={0: "", 1: ""}))
    po.merge(template)
    tool._fit_plurals(po)
    (entry,) = po
    assert entry.msgstr == "" and entry.msgstr_plural == {0: "{n} входов", 1: "", 2: ""}
    assert entry.fuzzy and not entry.translated() and po.percent_translated() == 0


@pytest.mark.parametrize("code", SHIPPED)
def test_every_case_reads_in_the_language_with_no_template_left(code):
    for step in every_case():
        text = lang.sentence(step, code)
        assert "{" not in text and "}" not in text
        assert text != step.explanation
        template, numbers = english_sentence(step)
        for name in lang.placeholders(template if isinstance(template, str) else template[0]):
            if name == "names":  # listed as the language lists things
                assert all(i.value.label in text for i in step.inputs), text
            else:
                assert numbers[name] in text, (name, text)


# ---- cs231n's max circuit, in each language ----


@pytest.mark.parametrize("code", SHIPPED)
def test_the_max_circuit_walk_has_no_english_word_left(capsys, code):
    status, out, err = explain(capsys, *MAX_CIRCUIT, "--lang", code)
    assert status == 0 and err == ""
    circuit = build(MAX_CIRCUIT[0], {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0})
    own_names = sorted({v.label for v in topological_order(circuit.output)}, key=len, reverse=True)
    rest = out
    for label in own_names:
        rest = rest.replace(label, "")
    assert re.findall(r"[A-Za-z]+", rest) == []


@pytest.mark.parametrize("code", ["en", *SHIPPED])
def test_the_max_circuit_gradients_are_the_same_in_every_language(capsys, code):
    _, out, _ = explain(capsys, *MAX_CIRCUIT, "--lang", code)
    last_lines = out.splitlines()[-4:]
    assert [line.split() for line in last_lines] == [["x", "-8"], ["y", "6"], ["z", "2"], ["w", "0"]]


def test_the_chinese_walk_says_what_each_gate_does(capsys):
    _, out, _ = explain(capsys, *MAX_CIRCUIT, "--lang", "zh")
    assert "2*(x*y + max(z, w)) 的前向传播：" in out
    assert "最大值门对梯度做路由：较大的输入 z（2）得到全部上游梯度 2，w（-1）得到 0。" in out
    assert "x 得到上游梯度乘以 y 的值，即 2 × (-4) = -8；y 得到上游梯度乘以 x 的值，即 2 × 3 = 6。" in out
    assert "加法门分发梯度：它的两个输入（x*y、max(z, w)）都原样得到上游梯度 2。" in out


def test_the_russian_walk_says_what_each_gate_does(capsys):
    _, out, _ = explain(capsys, *MAX_CIRCUIT, "--lang", "ru")
    assert "Обратный проход, вентиль за вентилем:" in out
    assert "больший из входов, z (2), получает весь градиент по выходу 2, а w (-1) — 0." in out
    assert "x получает градиент по выходу, умноженный на значение y, то есть 2 × (-4) = -8" in out
    assert "оба его входа (x*y, max(z, w)) получают градиент по выходу 2 без изменений." in out


def test_chinese_columns_line_up_on_a_terminal():
    circuit = build(MAX_CIRCUIT[0], {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0})
    steps = walk(circuit.output)
    table = format_walk(steps, "zh").splitlines()
    lasts = ["说明", *(lang.sentence(step, "zh") for step in steps)]

    def columns(text):  # a Chinese character takes two columns in a terminal
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    starts = [columns(line[: line.index(last)]) for line, last in zip(table, lasts)]
    assert starts == [columns("步骤  门      输出                 上游梯度  ")] * 5


def test_the_json_explanations_are_translated_and_the_numbers_are_not(capsys):
    _, en, _ = explain(capsys, *MAX_CIRCUIT, "--json")
    _, ru, _ = explain(capsys, *MAX_CIRCUIT, "--json", "--lang", "ru")
    en, ru = json.loads(en), json.loads(ru)
    assert ru["grads"] == en["grads"] == {"x": -8.0, "y": 6.0, "z": 2.0, "w": 0.0}
    assert [s["inputs"] for s in ru["steps"]] == [s["inputs"] for s in en["steps"]]
    assert ru["steps"][2]["explanation"].startswith("Вентиль максимума направляет градиент")


def test_the_python_api_takes_lang_and_keeps_english_by_default():
    circuit = build("(x+y)*z", {"x": -2.0, "y": 5.0, "z": -4.0})
    steps = walk(circuit.output)
    assert (
        format_step(steps[0], 1, "ru").splitlines()[0]
        == "шаг 1, вентиль умножения: выход (x+y)*z = -12, градиент по выходу 1"
    )
    assert format_forward(circuit.output, "zh").splitlines()[0].split() == ["节点", "门", "值"]
    assert format_report("(x+y)*z", circuit.output, circuit.inputs, steps) == format_report(
        "(x+y)*z", circuit.output, circuit.inputs, steps, "en"
    )
    assert to_json("(x+y)*z", circuit.output, circuit.inputs, steps, "zh")["steps"][1]["explanation"].startswith(
        "加法门"
    )
    assert lang.gate_name("max", "ru") == "максимум" and lang.gate_name("max") == "max"


# ---- the stepper page ----


class Visible(HTMLParser):
    """The text a reader sees outside the pictures, and every element's id."""

    def __init__(self, html):
        super().__init__()
        self.text, self.ids, self._skip = [], set(), 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.ids.add(dict(attrs).get("id"))
        self._skip += tag in ("svg", "script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("svg", "script", "style")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


def page_data(html, part):
    return json.loads(re.search(rf'<script type="application/json" data-part="{part}">(.*?)</script>', html)[1])


@pytest.fixture(scope="module")
def chinese_page(tmp_path_factory):
    """The saved Chinese stepper of the max circuit, and the circuit."""
    circuit = build("2*(x*y+max(z,w))", {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0})
    path = Stepper(circuit.output, lang="zh").save(tmp_path_factory.mktemp("zh") / "s.html")
    return path.read_text(encoding="utf-8"), circuit


def test_the_chinese_page_keeps_its_ids_and_says_everything_in_chinese(chinese_page):
    html, circuit = chinese_page
    seen = Visible(html)
    assert {"stepper", "prev", "play", "next", "step", "explanation"} <= seen.ids
    assert '<html lang="zh">' in html and 'id="stepper" lang="zh"' in html
    assert seen.text[:8] == ["gategrad：2*(x*y+max(z,w)) 的反向传播", "2*(x*y+max(z,w))", "的反向传播", "◀ 上一步",
                             "▶ 播放", "下一步 ▶", "步骤", "1 / 5"]  # fmt: skip
    labels = {v.label for v in topological_order(circuit.output)}
    words = set(re.findall(r"[A-Za-z_]+", " ".join(seen.text)))
    assert words <= {"gategrad", "Home", "End", "Tab"} | set(re.findall(r"[A-Za-z_]+", " ".join(labels)))


def test_the_chinese_slides_are_the_engines_steps_in_chinese(chinese_page):
    html, circuit = chinese_page
    slides = page_data(html, "data")
    steps = walk(build("2*(x*y+max(z,w))", {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}).output)
    assert [s["heading"] for s in slides] == [
        "前向传播",
        "反向传播，第 1 个门（共 4 个）：乘法门",
        "反向传播，第 2 个门（共 4 个）：加法门",
        "反向传播，第 3 个门（共 4 个）：最大值门",
        "反向传播，第 4 个门（共 4 个）：乘法门",
    ]
    assert slides[0]["explanation"] == "前向传播：每个值都由它的输入算出；此时还不知道任何梯度。"
    assert [s["explanation"] for s in slides[1:]] == [lang.sentence(step, "zh") for step in steps]
    assert slides[-1]["grads"] == ["-8", "6", "2", "0"]
    assert page_data(html, "ui")["pause"] == "暂停"


def test_the_frames_say_so_far_in_the_language():
    x = Value(3.0, "x")
    root = x * x + x  # x hears from the add gate first, then from the mul gate
    frames = walkthrough_frames(root, lang="ru")
    assert frames[1].grads[x] == "пока 1"
    assert "{ x | знач. 3 | град. пока 1 }" in frames[1].graph.source
    assert "{ x | знач. 3 | град. 7 }" in frames[-1].graph.source
    assert frames[1].caption.startswith("Шаг 1: Вентиль сложения распределяет градиент")
    assert frames[-1].grads[x] == "7"


def test_a_stepper_refuses_frames_in_another_language():
    root = Value(2.0, "a") * Value(3.0, "b")
    with pytest.raises(ValueError, match=r"the frames are in en and the stepper in ru: make them with walkthrough_"):
        Stepper(root, frames=walkthrough_frames(root), lang="ru")
    with pytest.raises(ValueError, match="unknown language 'fr'; known: en, ru, zh"):
        Stepper(root, lang="fr")


def test_explain_html_lang_ru_writes_the_russian_page(capsys, tmp_path):
    path = tmp_path / "walk.html"
    code, out, err = explain(capsys, *MAX_CIRCUIT, "--html", str(path), "--lang", "ru")
    assert code == 0 and err == ""
    assert out.endswith(f"\nПошаговый разбор записан в {path}: откройте его в браузере\n")
    html = path.read_text(encoding="utf-8")
    assert "Обратное распространение градиента через <code>2*(x*y + max(z, w))</code>" in html
    assert [s["grads"] for s in page_data(html, "data")][-1] == ["-8", "6", "2", "0"]


# ---- messages and plurals ----


@pytest.mark.parametrize(
    ("expression", "values", "said"),
    [
        ("x", ["x=1"], "записан 1 кадр: frame-000.svg, прямой проход"),
        ("x*2", ["x=1"], "записаны 2 кадра: от frame-000.svg (прямой проход) до frame-001.svg"),
        (MAX_CIRCUIT[0], MAX_CIRCUIT[1:], "записано 5 кадров: от frame-000.svg (прямой проход) до frame-004.svg"),
    ],
)
def test_russian_counts_frames_with_the_right_plural(capsys, tmp_path, expression, values, said):
    code, out, _ = explain(capsys, expression, *values, "--svg-dir", str(tmp_path), "--lang", "ru")
    assert code == 0
    assert out.endswith(f"\nВ {tmp_path} {said}\n")


def test_english_counts_one_frame_and_many(capsys, tmp_path):
    _, one, _ = explain(capsys, "x", "x=1", "--svg-dir", str(tmp_path / "one"))
    _, two, _ = explain(capsys, "x*2", "x=1", "--svg-dir", str(tmp_path / "two"))
    assert one.endswith(f"Wrote 1 frame to {tmp_path / 'one'}: frame-000.svg, the forward pass\n")
    assert two.endswith(f"Wrote 2 frames to {tmp_path / 'two'}: frame-000.svg (the forward pass) to frame-001.svg\n")


# ---- unknown languages and broken catalogues ----


def test_an_unknown_language_exits_2_listing_the_known_ones(capsys):
    code, out, err = explain(capsys, *MAX_CIRCUIT, "--lang", "fr")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err
    assert "'fr'" in err and all(f"'{known}'" in err for known in ("en", "ru", "zh"))


@pytest.mark.parametrize("code", ["fr", "", "../zh", "zh/LC_MESSAGES"])
def test_the_python_api_refuses_an_unknown_language_listing_the_known_ones(code):
    with pytest.raises(ValueError, match=r"unknown language .*; known: en, ru, zh$"):
        lang.translator(code)


def test_a_language_that_is_not_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="lang must be a language code such as 'zh', got NoneType"):
        lang.translator(None)


# ---- a teacher's language: a .po file in a folder of their own ----


def write_catalogue(folder, code, entries, plural="nplurals=2; plural=(n != 1);"):
    po = polib.POFile()
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Plural-Forms": plural}
    for msgid, msgstr in entries.items():
        context, _, msgid = msgid.rpartition("|")
        po.append(polib.POEntry(msgctxt=context or None, msgid=msgid, msgstr=msgstr))
    path = folder / code / "LC_MESSAGES" / "gategrad.po"
    path.parent.mkdir(parents=True)
    po.save(str(path))
    return path


MUL = GATES["mul"].sentences["two"]
PIRATE = {
    MUL: "Arr, the mul gate trades its loot: {a} takes {a_gets} and {b} takes {b_gets}.",
    "gate|mul": "cannon",
    "Gradients of {expression}:": "Treasure of {expression}:",
}


def test_a_teachers_catalogue_in_a_folder_of_their_own_is_picked_up(capsys, tmp_path, monkeypatch):
    write_catalogue(tmp_path, "pir", PIRATE)
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    assert lang.languages() == ["en", "pir", "ru", "zh"]
    code, out, err = explain(capsys, "x*y", "x=3", "y=-4", "--lang", "pir")
    assert code == 0 and err == ""
    assert "Arr, the mul gate trades its loot: x takes -4 and y takes 3." in out
    assert "  1     cannon" in out
    assert "Treasure of x*y:\n  input  grad\n  x      -4\n  y      3" in out  # untranslated words stay English


def test_a_folder_that_is_not_a_language_code_is_not_a_language(tmp_path, monkeypatch):
    write_catalogue(tmp_path, "ru.old", {"gate|max": "макс"})
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    assert lang.languages() == ["en", "ru", "zh"]


def test_a_teachers_catalogue_comes_before_a_shipped_one_of_the_same_language(tmp_path, monkeypatch):
    write_catalogue(tmp_path, "ru", {"gate|max": "макс"})
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    assert lang.gate_name("max", "ru") == "макс"


def test_an_edited_catalogue_is_read_again(tmp_path, monkeypatch):
    path = write_catalogue(tmp_path, "pir", {"gate|mul": "cannon"})
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    assert lang.gate_name("mul", "pir") == "cannon"
    path.write_text(path.read_text(encoding="utf-8").replace("cannon", "musket"), encoding="utf-8")
    assert lang.gate_name("mul", "pir") == "musket"


def test_a_translation_naming_a_number_its_template_lacks_is_refused(capsys, tmp_path, monkeypatch):
    path = write_catalogue(tmp_path, "pir", {MUL: "{a} takes {c}"})
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    with pytest.raises(
        ValueError, match=r"gategrad.po, line \d+: the translation of .* names \{c\}, which the message"
    ):
        lang.translator("pir")
    code, out, err = explain(capsys, "x*y", "x=3", "y=-4", "--lang", "pir")
    assert code == 2 and out == ""
    assert err.startswith(f"error: explain: {path}, line ") and err.count("\n") == 1


def test_a_catalogue_that_is_not_po_is_refused_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "pir" / "LC_MESSAGES" / "gategrad.po"
    path.parent.mkdir(parents=True)
    path.write_text('msgid "x"\nthis is not a catalogue\n', encoding="utf-8")
    monkeypatch.setenv("GATEGRAD_LOCALE_PATH", str(tmp_path))
    with pytest.raises(ValueError, match=f"cannot read the catalogue {re.escape(str(path))}"):
        lang.translator("pir")


# ---- packaging: a wheel carries the catalogues ----


@pytest.mark.slow
def test_a_wheel_carries_the_catalogues_and_speaks_from_them(tmp_path, wheel):
    pip = [sys.executable, "-m", "pip"]
    names = zipfile.ZipFile(wheel).namelist()
    for path in ["gategrad.pot", "ru/LC_MESSAGES/gategrad.po", "zh/LC_MESSAGES/gategrad.po"]:
        assert f"gategrad/explain/locale/{path}" in names
    target = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True)
    said = subprocess.run(
        [sys.executable, "-c", "from gategrad.explain import lang; print(lang.SHIPPED, lang.gate_name('add', 'zh'))"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert said == [str(target / "gategrad" / "explain" / "locale"), "加法"]
