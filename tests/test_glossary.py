"""The glossary (docs/glossary.md), the catalogues and the notebooks agree: none uses a variant it rules out."""

import json
import re
from pathlib import Path

import polib
import pytest

from gategrad.explain import lang

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"


def rows():
    """Each term's row: en, zh, ru, and the variants zh and ru must not use."""
    lines = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    table = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[1:]]  # the header's line out
    return [(en, zh, ru, *(part.strip() for part in nots.split("/"))) for en, zh, ru, nots in table]


def translations(code):
    """Every translated message of the language, and the prose of its notebooks (notebooks/*_zh.ipynb, ...)."""
    po = polib.pofile(str(lang.SHIPPED / code / "LC_MESSAGES" / "gategrad.po"))
    texts = [text for e in po if not e.obsolete for text in [e.msgstr, *e.msgstr_plural.values()] if text]
    for path in sorted((ROOT / "notebooks").glob(f"*_{code}.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        texts += ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]
    return texts


def test_the_glossary_holds_the_seeds_terms():
    words = {word for row in rows() for word in row[1:3]}
    seeds = ["残差", "学习信号", "偏置", "学习率", "均方差", "交叉熵", "小批量"]
    seeds += ["смещение", "взвешенный вход", "произведение Адамара", "мини-пакет", "градиент по выходу"]
    assert [s for s in seeds if not any(s in w for w in words)] == []


@pytest.mark.parametrize(("code", "column"), [("zh", 1), ("ru", 2)])
def test_no_catalogue_uses_a_variant_the_glossary_rules_out(code, column):
    texts = translations(code)

    def uses(variant, text):  # Russian by whole words ("в точности" is not "точность"); Chinese has no spaces
        if code == "zh":
            return variant in text
        return re.search(rf"(?<!\w){re.escape(variant)}(?!\w)", text, re.IGNORECASE) is not None

    found = [
        (row[0], variant, text)
        for row in rows()
        for variant in [row[3 + (column - 1)]]
        if variant != "—"
        for text in texts
        if uses(variant, text)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("msgid", "zh", "ru"),
    [
        ("accuracy", "准确率", "доля верных ответов"),
        ("predict", "自测", "проверь себя"),
        ("Training health at this step", "这一步的训练状态", "Состояние обучения на этом шаге"),
        ("batch loss", "小批量损失", "функция потерь на мини-пакете"),
        ("learning rate", "学习率", "скорость обучения"),
    ],
)
def test_the_words_on_the_pages_are_the_glossarys(msgid, zh, ru):
    assert lang.translator("zh").gettext(msgid) == zh
    assert lang.translator("ru").gettext(msgid) == ru
