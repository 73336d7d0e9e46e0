"""The stepper page in headless Chromium: keys, buttons, play, and two steppers on one page.

Runs Debian's /usr/bin/chromium through /usr/bin/chromedriver (`make system-deps` installs
them); without them it skips on a laptop and fails under CI.
"""

import math
import re
import time

import pytest
from conftest import MAX_CIRCUIT, NEURON, console_errors, needs

from gategrad.engine import topological_order
from gategrad.explain import lang
from gategrad.explain.expr import build
from gategrad.viz import Stepper
from gategrad.viz.page import PACE_MS

webdriver = needs("selenium.webdriver")
By = needs("selenium.webdriver.common.by").By
Keys = needs("selenium.webdriver.common.keys").Keys
WebDriverWait = needs("selenium.webdriver.support.ui").WebDriverWait
pytestmark = [pytest.mark.needs_chromium, pytest.mark.needs_dot]

FORWARD = "The forward pass: each value is computed from its inputs; no gradient is known yet."


@pytest.fixture
def open_page(browser):
    """Open an HTML file; after the test, fail on any console error the page logged."""
    browser.get_log("browser")  # forget what earlier pages logged

    def open_(path):
        browser.get(path.as_uri())
        return browser

    yield open_
    assert console_errors(browser) == []


@pytest.fixture(scope="module")
def sentences():
    """The engine's sentence for each backward step of the max circuit."""
    return [s.explanation for s in build(*MAX_CIRCUIT).output.backward_steps()]


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def grads(driver, container="stepper"):
    cells = driver.find_elements(By.CSS_SELECTOR, f'#{container} [data-part="grad"]')
    return [cell.text for cell in cells]


def press(driver, key):
    webdriver.ActionChains(driver).send_keys(key).perform()


@pytest.mark.slow
def test_keys_and_buttons_walk_the_steps_in_the_engines_words(open_page, sentences, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output).save(tmp_path / "stepper.html"))
    assert text(page, "step") == "1 / 5"
    assert text(page, "explanation") == FORWARD
    assert grads(page) == ["?", "?", "?", "?"]
    assert page.find_elements(By.CSS_SELECTOR, "#stepper svg .gate.gg-active") == []

    press(page, Keys.ARROW_RIGHT)
    assert text(page, "step") == "2 / 5"
    assert text(page, "explanation") == sentences[0]
    assert len(page.find_elements(By.CSS_SELECTOR, "#stepper svg .gate.gg-active")) == 1

    page.find_element(By.ID, "next").click()
    page.find_element(By.ID, "next").click()
    assert text(page, "step") == "4 / 5"
    assert text(page, "explanation") == sentences[2]
    assert grads(page) == ["?", "?", "2", "0"]
    page.save_screenshot(str(tmp_path / "step-4.png"))

    page.find_element(By.ID, "prev").click()
    assert text(page, "step") == "3 / 5"
    assert text(page, "explanation") == sentences[1]

    press(page, Keys.END)
    assert text(page, "step") == "5 / 5"
    assert text(page, "explanation") == sentences[3]
    assert grads(page) == ["-8", "6", "2", "0"]
    press(page, Keys.ARROW_RIGHT)
    assert text(page, "step") == "5 / 5"

    press(page, Keys.HOME)
    assert text(page, "step") == "1 / 5"
    assert text(page, "explanation") == FORWARD
    press(page, Keys.ARROW_LEFT)
    assert text(page, "step") == "1 / 5"
    assert (tmp_path / "step-4.png").stat().st_size > 10_000


@pytest.mark.slow
def test_play_steps_at_a_readable_pace_and_pause_stops_it(open_page, sentences, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output).save(tmp_path / "stepper.html"))
    play = page.find_element(By.ID, "play")
    started = time.monotonic()
    play.click()
    assert "pause" in play.text
    WebDriverWait(page, PACE_MS / 1000 + 2, poll_frequency=0.05).until(lambda d: text(d, "step") == "2 / 5")
    assert time.monotonic() - started >= PACE_MS / 1000 - 0.1
    assert text(page, "explanation") == sentences[0]

    play.click()
    assert "play" in play.text
    time.sleep(PACE_MS / 1000 + 0.3)
    assert text(page, "step") == "2 / 5"


def test_two_steppers_on_one_page_keep_to_themselves(open_page, tmp_path):
    first = Stepper(build(*MAX_CIRCUIT).output)._repr_html_()
    second = Stepper(build("x*y", {"x": 2.0, "y": 3.0}).output)._repr_html_()
    page_path = tmp_path / "notebook.html"
    page_path.write_text(f'<!DOCTYPE html><meta charset="utf-8"><body>{first}{second}</body>', encoding="utf-8")
    a, b = (re.search(r'id="(gategrad-[0-9a-f]+-)stepper"', html)[1] for html in (first, second))
    page = open_page(page_path)
    assert (text(page, f"{a}step"), text(page, f"{b}step")) == ("1 / 5", "1 / 2")

    page.find_element(By.ID, f"{a}next").click()
    assert (text(page, f"{a}step"), text(page, f"{b}step")) == ("2 / 5", "1 / 2")
    assert text(page, f"{b}explanation") == FORWARD

    page.find_element(By.ID, f"{b}stepper").click()
    press(page, Keys.ARROW_RIGHT)
    assert (text(page, f"{a}step"), text(page, f"{b}step")) == ("2 / 5", "2 / 2")
    assert grads(page, f"{b}stepper") == ["3", "2"]

    page.execute_script("document.activeElement.blur()")
    press(page, Keys.HOME)
    assert (text(page, f"{a}step"), text(page, f"{b}step")) == ("2 / 5", "2 / 2")
    page.save_screenshot(str(tmp_path / "two-steppers.png"))


def test_a_russian_stepper_plays_pauses_and_walks_in_russian(open_page, tmp_path):
    circuit = build(*MAX_CIRCUIT)
    steps = list(circuit.output.backward_steps())
    page = open_page(Stepper(build(*MAX_CIRCUIT).output, lang="ru").save(tmp_path / "ru.html"))
    play = page.find_element(By.ID, "play")
    assert play.text == "▶ пуск"
    play.click()
    assert play.text == "❚❚ пауза"
    play.click()
    assert play.text == "▶ пуск"
    press(page, Keys.END)
    assert text(page, "step") == "5 / 5"
    assert text(page, "explanation") == lang.sentence(steps[3], "ru")
    assert text(page, "explanation").startswith("Вентиль умножения меняет входы местами: x получает")
    assert grads(page) == ["-8", "6", "2", "0"]


# ---- predict mode: the learner says what each input gets before the step is shown ----


@pytest.fixture(scope="module")
def max_steps():
    """The engine's steps of the max circuit: what predict mode must expect."""
    return list(build(*MAX_CIRCUIT).output.backward_steps())


def heading(driver):
    return driver.find_element(By.CSS_SELECTOR, '#stepper [data-part="heading"]').text


def answer_fields(driver):
    return driver.find_elements(By.CSS_SELECTOR, '#stepper [data-part="answer"]')


def feedback(driver):
    return [(item.get_attribute("class"), item.text) for item in driver.find_elements(By.CSS_SELECTOR, "#feedback li")]


def test_predict_mode_says_right_or_wrong_with_the_rule_and_keeps_score(open_page, sentences, max_steps, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output).save(tmp_path / "stepper.html"))
    assert text(page, "score") == ""
    page.find_element(By.ID, "predict").click()
    assert text(page, "score") == "score: 0 of 0"
    page.find_element(By.ID, "next").click()

    # Gate 1, the mul by the constant 2: before the answer, the question and the forward pass's picture.
    mul = max_steps[0]
    assert heading(page) == (
        "Gate 1 of 4: the mul gate 2*(x*y+max(z,w)) received the upstream gradient 1. What does each of its inputs get?"
    )
    assert text(page, "explanation") == ""
    assert page.find_elements(By.CSS_SELECTOR, "#stepper svg .gate.gg-active") == []
    (field,) = answer_fields(page)
    assert field.find_element(By.XPATH, "..").text == "x*y+max(z,w) gets"
    field.send_keys(str(mul.inputs[0].contribution), Keys.ENTER)  # 2
    assert feedback(page) == [
        ("gg-right", "x*y+max(z,w): right, you said 2.0. It gets its local gradient 2 × the upstream 1 = 2.")
    ]
    assert text(page, "score") == "score: 1 of 1"
    assert text(page, "explanation") == sentences[0]
    assert len(page.find_elements(By.CSS_SELECTOR, "#stepper svg .gate.gg-active")) == 1

    # Gate 2, the add: each input gets the upstream 2; the second answer, 1, is wrong.
    page.find_element(By.ID, "next").click()
    add = max_steps[1]
    assert [i.contribution for i in add.inputs] == [2.0, 2.0]
    first, second = answer_fields(page)
    first.send_keys("2")
    second.send_keys("1")
    page.find_element(By.ID, "check").click()
    assert feedback(page) == [
        ("gg-right", "x*y: right, you said 2. It gets its local gradient 1 × the upstream 2 = 2."),
        ("gg-wrong", "max(z,w): wrong, you said 1. It gets its local gradient 1 × the upstream 2 = 2."),
    ]
    assert text(page, "score") == "score: 2 of 3"
    assert grads(page) == ["?", "?", "?", "?"]

    # Back to an answered step: it stays answered and is not scored again.
    page.find_element(By.ID, "prev").click()
    assert text(page, "explanation") == sentences[0]
    assert [f.get_attribute("value") for f in answer_fields(page)] == ["2.0"]
    assert not answer_fields(page)[0].is_enabled()
    assert text(page, "score") == "score: 2 of 3"

    # Predict off: the plain stepper again, every step shown.
    page.find_element(By.ID, "predict").click()
    page.find_element(By.ID, "next").click()
    assert text(page, "explanation") == sentences[1]
    assert answer_fields(page) == []
    assert not page.find_element(By.ID, "score").is_displayed()


def test_predict_mode_checks_to_within_one_percent_and_refuses_a_non_number(open_page, tmp_path):
    circuit = build("sigmoid(w0*x0 + w1*x1 + w2)", {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0})
    local = next(circuit.output.backward_steps()).inputs[0].local_grad  # s(1 - s) = 0.19661...
    page = open_page(Stepper(circuit.output).save(tmp_path / "neuron.html"))
    page.find_element(By.ID, "predict").click()
    page.find_element(By.ID, "next").click()
    (field,) = answer_fields(page)
    field.send_keys("about a fifth", Keys.ENTER)
    assert feedback(page) == [("gg-note", "Type a number in each field (inf and nan are numbers too).")]
    assert text(page, "score") == "score: 0 of 0"
    field.clear()
    field.send_keys("0.197", Keys.ENTER)  # 0.2% off the engine's 0.19661
    assert abs(0.197 - local) < 0.01 * local
    assert feedback(page)[0][0] == "gg-right"
    page.find_element(By.ID, "next").click()
    for typed in answer_fields(page):  # the add: each of its 2 inputs gets 0.1966; 0.2 is 1.7% off
        typed.send_keys("0.2")
    answer_fields(page)[-1].send_keys(Keys.ENTER)
    assert abs(0.2 - local) > 0.01 * local
    assert [verdict for verdict, _ in feedback(page)] == ["gg-wrong", "gg-wrong"]
    assert text(page, "score") == "score: 1 of 3"


def test_predict_mode_works_from_the_keyboard_alone(open_page, max_steps, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output).save(tmp_path / "stepper.html"))
    active = page.switch_to.active_element
    for _ in range(10):  # Tab through prev, play, next to the toggle
        press(page, Keys.TAB)
        active = page.switch_to.active_element
        if active.get_attribute("id") == "predict":
            break
    assert active.get_attribute("id") == "predict"
    press(page, Keys.SPACE)
    assert text(page, "score") == "score: 0 of 0"
    press(page, Keys.ARROW_RIGHT)
    assert text(page, "step") == "2 / 5"
    assert page.switch_to.active_element.get_attribute("id") == "answer-0"

    press(page, "2")
    press(page, Keys.ARROW_LEFT)  # inside the field the arrow moves the caret, not the stepper
    assert text(page, "step") == "2 / 5"
    press(page, Keys.ENTER)
    assert text(page, "score") == "score: 1 of 1"
    assert page.switch_to.active_element.get_attribute("id") == "next"

    press(page, Keys.ENTER)  # next, then the add's two fields
    assert text(page, "step") == "3 / 5"
    assert page.switch_to.active_element.get_attribute("id") == "answer-0"
    press(page, "2")
    press(page, Keys.TAB)
    press(page, "2")
    press(page, Keys.ENTER)
    assert text(page, "score") == "score: 3 of 3"

    press(page, Keys.ENTER)  # the max gate: z (2) gets the upstream 2, w gets 0
    assert [i.contribution for i in max_steps[2].inputs] == [2.0, 0.0]
    press(page, "2")
    press(page, Keys.TAB)
    press(page, "2")
    press(page, Keys.ENTER)
    assert text(page, "score") == "score: 4 of 5"
    assert feedback(page)[1] == ("gg-wrong", "w: wrong, you said 2. It gets its local gradient 0 × the upstream 2 = 0.")
    page.save_screenshot(str(tmp_path / "predict.png"))


def test_predict_mode_takes_inf_for_an_infinite_gradient(open_page, tmp_path):
    circuit = build("log(x) * y", {"x": 0.0, "y": 2.0})  # log(0) = -inf, and 1/x = inf at x = 0
    assert [[i.contribution for i in s.inputs] for s in circuit.output.backward_steps()] == [
        [2.0, -math.inf],
        [math.inf],
    ]
    page = open_page(Stepper(circuit.output).save(tmp_path / "log.html"))
    page.find_element(By.ID, "predict").click()
    page.find_element(By.ID, "next").click()
    first, second = answer_fields(page)
    first.send_keys("2")
    second.send_keys("-inf", Keys.ENTER)
    page.find_element(By.ID, "next").click()
    answer_fields(page)[0].send_keys("\u221e", Keys.ENTER)
    assert feedback(page) == [
        ("gg-right", "x: right, you said ∞. It gets its local gradient inf × the upstream 2 = inf.")
    ]
    assert text(page, "score") == "score: 3 of 3"


def test_predict_mode_asks_in_the_pages_language(open_page, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output, lang="zh").save(tmp_path / "zh.html"))
    page.find_element(By.ID, "predict").click()
    assert text(page, "score") == "得分：0 / 0"
    page.find_element(By.ID, "next").click()
    assert heading(page) == "第 1 个门（共 4 个）：乘法门 2*(x*y+max(z,w)) 收到上游梯度 1。它的每个输入各得到多少？"
    answer_fields(page)[0].send_keys("3", Keys.ENTER)
    assert feedback(page) == [("gg-wrong", "x*y+max(z,w)：错，你填的是 3。它得到的是局部梯度 2 × 上游梯度 1 = 2。")]
    assert text(page, "score") == "得分：0 / 1"


# ---- the gate being explained stays in view, and the nodes stay put ----

WIDE = (
    "tanh(tanh(tanh(a*b + c)*d + e)*f + g)",
    {"a": 0.5, "b": -1.0, "c": 0.25, "d": 2.0, "e": -0.5, "f": 1.5, "g": 0.1},
)
IN_VIEW = """
const gate = document.querySelector("#stepper svg g.node.gg-active");
const figure = document.querySelector('#stepper [data-part="figure"]').getBoundingClientRect();
const g = gate.getBoundingClientRect();
return [g.left >= figure.left && g.right <= figure.right && g.top >= figure.top && g.bottom <= figure.bottom,
        g.left >= 0 && g.right <= window.innerWidth && g.top >= 0 && g.bottom <= window.innerHeight];
"""
CENTRES = """
const svg = document.querySelector("#stepper svg").getBoundingClientRect();
return Array.from(document.querySelectorAll("#stepper svg g.node:not(.gg-corner)"), (node) => {
  const box = node.getBoundingClientRect();
  return [box.left + box.width / 2 - svg.left, box.top + box.height / 2 - svg.top];
});
"""


@pytest.mark.slow
@pytest.mark.parametrize("width", [800, 1300])
@pytest.mark.parametrize("circuit", [NEURON, WIDE], ids=["sigmoid neuron", "wide circuit"])
def test_every_step_shows_its_gate_inside_the_figure_and_the_window(open_page, tmp_path, width, circuit):
    page = open_page(Stepper(build(*circuit).output).save(tmp_path / "stepper.html"))
    page.set_window_size(width, 900)
    try:
        count = int(text(page, "step").split(" / ")[1])
        figure = page.find_element(By.CSS_SELECTOR, '#stepper [data-part="figure"]')
        assert figure.size["width"] < page.execute_script(
            'return document.querySelector("#stepper svg").width.baseVal.value'
        )
        for k in range(2, count + 1):
            page.find_element(By.ID, "next").click()
            assert text(page, "step") == f"{k} / {count}"
            assert page.execute_script(IN_VIEW) == [True, True], f"step {k} at {width} px"
    finally:
        page.set_window_size(1300, 1000)


@pytest.mark.parametrize("circuit", [NEURON, MAX_CIRCUIT, WIDE], ids=["sigmoid neuron", "max circuit", "wide circuit"])
def test_the_nodes_keep_their_places_from_frame_to_frame(open_page, tmp_path, circuit):
    page = open_page(Stepper(build(*circuit).output).save(tmp_path / "stepper.html"))
    count = int(text(page, "step").split(" / ")[1])
    first = page.execute_script(CENTRES)
    values = topological_order(build(*circuit).output)
    assert len(first) == len(values) + sum(1 for v in values if v.children)  # a record per Value, a node per gate
    for k in range(2, count + 1):
        page.find_element(By.ID, "next").click()
        centres = page.execute_script(CENTRES)
        assert len(centres) == len(first)
        for (x0, y0), (x, y) in zip(first, centres):
            assert (x, y) == (pytest.approx(x0, abs=1), pytest.approx(y0, abs=1)), f"frame {k}"


def test_a_circuit_a_little_too_wide_is_shrunk_to_fit_and_a_much_wider_one_scrolls(open_page, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output).save(tmp_path / "max.html"))
    page.set_window_size(1300, 900)
    try:
        page.find_element(By.ID, "next").click()
        drawn, size, room, scroll = page.execute_script(
            "const f = document.querySelector('#stepper [data-part=\"figure\"]'), svg = f.querySelector('svg');"
            "return [svg.getBoundingClientRect().width, svg.width.baseVal.value, f.clientWidth, f.scrollWidth];"
        )
        assert room < size <= room / 0.75  # a little too wide
        assert drawn == pytest.approx(room, abs=1) and scroll == room  # shrunk to the box, nothing to scroll
        page.set_window_size(800, 900)
        page.find_element(By.ID, "next").click()
        drawn, size, room, scroll = page.execute_script(
            "const f = document.querySelector('#stepper [data-part=\"figure\"]'), svg = f.querySelector('svg');"
            "return [svg.getBoundingClientRect().width, svg.width.baseVal.value, f.clientWidth, f.scrollWidth];"
        )
        assert size > room / 0.75 and drawn == size and scroll > room  # kept at its size: it scrolls
    finally:
        page.set_window_size(1300, 1000)
