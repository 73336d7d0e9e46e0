"""The exercise pages in headless Chromium: what a student sees on a sheet, and a feedback page, recomputed here.

Runs Debian's /usr/bin/chromium through /usr/bin/chromedriver; without them it skips on a laptop and fails under CI.
"""

import json
import math

import pytest
from conftest import console_errors, needs

from gategrad.engine import fmt, topological_order
from gategrad.exercise import grade_pack, new_pack
from gategrad.explain import expr
from gategrad.explain.lang import translator

By = needs("selenium.webdriver.common.by").By
pytestmark = [pytest.mark.needs_chromium, pytest.mark.needs_dot, pytest.mark.slow]


@pytest.fixture
def open_page(browser):
    """Open an HTML file; after the test, fail on any console error, and on anything it loaded from outside."""
    browser.get_log("browser")

    def open_(path):
        browser.get(path.as_uri())
        return browser

    yield open_
    assert console_errors(browser) == []
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("packs")
    roster = folder / "roster.csv"
    roster.write_text("id,name\nalice,Alice\nbob,Bob\n", encoding="utf-8")
    made = {}
    for kind, lang in (("circuit", "zh"), ("net", "ru"), ("bug", "en")):
        made[kind] = folder / kind
        new_pack(roster, kind, 11, lang, made[kind])
    return made


def key(pack, student):
    return json.loads((pack / "key" / f"{student}.json").read_text(encoding="utf-8"))


def answer_items(driver):
    return [e.get_attribute("data-item") for e in driver.find_elements(By.CSS_SELECTOR, "table.answers [data-item]")]


def test_a_circuit_sheet_shows_the_circuit_whose_gradients_the_key_holds(packs, open_page):
    driver = open_page(packs["circuit"] / "sheets" / "bob.html")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh"
    expression = driver.find_element(By.CSS_SELECTOR, "code.expression").text.removeprefix("f = ")
    shown = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".inputs code")]
    values = {name: float(v) for name, v in (s.split(" = ") for s in shown)}
    circuit = expr.build(expression, values)
    circuit.output.backward()
    where = dict(e.text.split(" = ", 1) for e in driver.find_elements(By.CSS_SELECTOR, "ul.where code"))
    labels = {v.label: v for v in topological_order(circuit.output)}
    expected = {f"df/d{n}": v.grad for n, v in circuit.inputs.items()}
    expected.update({f"df/d{n}": labels[text].grad for n, text in where.items()})
    assert key(packs["circuit"], "bob")["answers"] == expected
    assert sorted(answer_items(driver)) == sorted(expected)
    # The drawing: every Value's label, then its forward value, and no gradient anywhere.
    texts = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "figure svg text")]
    drawn = {texts[k - 1]: texts[k].removeprefix("data ") for k in range(1, len(texts)) if texts[k].startswith("data ")}
    assert drawn == {v.label: fmt(v.data) for v in labels.values()}
    assert not any(t.startswith("grad") for t in texts)
    said = translator("zh").gettext("Give exact values: whole numbers, halves, quarters, or fractions such as 3/4.")
    assert said in driver.find_element(By.TAG_NAME, "body").text


def test_a_net_sheet_shows_the_numbers_its_key_is_computed_from(packs, open_page):
    driver = open_page(packs["net"] / "sheets" / "alice.html")

    def rows(css):
        return [
            [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, f"table.{css} tbody tr")
        ]

    x = {name: float(v) for name, v in rows("inputs")}
    targets = [float(v) for _, v in rows("targets")]
    weights = {w: (source, to, float(v)) for w, source, to, v in rows("weights")}
    k = key(packs["net"], "alice")["answers"]
    outputs = [k[f"o{j + 1}"] for j in range(len(targets))]
    assert k["E"] == pytest.approx(sum(0.5 * (t - o) ** 2 for t, o in zip(targets, outputs)), rel=1e-12)
    # Each weight into the first layer: its gradient is the δ of the neuron it feeds times the input it reads.
    for w, (source, to, _) in weights.items():
        if source in x:
            assert k[f"dE/d{w}"] == pytest.approx(k[f"delta_{to}"] * x[source], rel=1e-12)
    assert k["dE/db2"] == pytest.approx(sum(k[f"delta_o{j + 1}"] for j in range(len(targets))), rel=1e-12)
    assert sorted(answer_items(driver)) == sorted(k)
    body = driver.find_element(By.TAG_NAME, "body").text
    assert translator("ru").gettext("Round each answer to 3 significant digits and keep more digits in between. "
                                    "An answer within one unit of the third significant digit of the exact value "
                                    "is right.") in body  # fmt: skip
    assert all(math.isfinite(v) for v in k.values())


def test_a_bug_sheet_shows_the_file_with_line_numbers(packs, open_page):
    driver = open_page(packs["bug"] / "sheets" / "alice.html")
    shown = driver.find_element(By.CSS_SELECTOR, "pre.file").text.splitlines()
    handed_out = (packs["bug"] / "files" / "alice.py").read_text(encoding="utf-8").splitlines()
    assert [line[5:] for line in shown] == handed_out
    assert [int(line[:3]) for line in shown] == list(range(1, len(handed_out) + 1))
    k = key(packs["bug"], "alice")["answers"]
    assert k["kind"] in [e.text for e in driver.find_elements(By.CSS_SELECTOR, "ul.kinds code")]
    assert answer_items(driver) == ["kind", "line"]


def test_a_feedback_page_shows_the_score_and_each_item(packs, open_page):
    pack = packs["circuit"]
    k = key(pack, "alice")["answers"]
    first = next(iter(k))
    path = pack / "answers" / "alice.json"
    filled = json.loads(path.read_text(encoding="utf-8"))
    filled["answers"] = {**k, first: "?"}
    path.write_text(json.dumps(filled), encoding="utf-8")
    grade_pack(pack)
    driver = open_page(pack / "feedback" / "alice.html")
    score = translator("zh").gettext("Score: {score} of {max}").format(score=len(k) - 1, max=len(k))
    assert driver.find_element(By.CSS_SELECTOR, ".score").text == score
    rows = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in driver.find_elements(By.CSS_SELECTOR, "table.feedback tbody tr")
    ]
    assert [r[0] for r in rows] == list(k)
    assert rows[0][1:] == ["?", translator("zh").gettext("not readable"), "0 / 1"]
    assert all(r[3] == "1 / 1" for r in rows[1:])
