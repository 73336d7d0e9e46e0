"""The playground in headless Chromium, served by http.server on 127.0.0.1: what the page shows is explain's.

The site is built once for the module and loaded once; each test drives the page through its controls
and compares what it shows with `gategrad explain --json`, recomputed in Python.
"""

import contextlib
import io
import json
import subprocess
import sys
import threading
import time

import pytest
from conftest import ADD_MUL, MAX_CIRCUIT, NEURON, console_errors, needs

from gategrad.cli import main
from gategrad.playground import build, expression, serve

webdriver = needs("selenium.webdriver")
By = needs("selenium.webdriver.common.by").By
Keys = needs("selenium.webdriver.common.keys").Keys
Select = needs("selenium.webdriver.support.select").Select
pytestmark = [pytest.mark.needs_chromium, pytest.mark.slow]

READY_S = 60  # a generous bound for a loaded machine; benchmarks/playground.py measures the real time


def explain_json(expr, values, code="en", *more):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["explain", expr, *(f"{n}={v}" for n, v in values.items()), "--json", "--lang", code, *more]) == 0
    return json.loads(out.getvalue())


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """The built site, served on 127.0.0.1 for the module."""
    site = tmp_path_factory.mktemp("playground")
    build.build(site)
    httpd = serve.server(site, 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def open_page(driver, address):
    driver.get("about:blank")
    driver.get(address)
    wait(driver, lambda: driver.execute_script("return document.documentElement.dataset.ready") == "true", READY_S)
    return driver


@pytest.fixture(scope="module")
def page(browser, url):
    """The playground, loaded once and ready."""
    return open_page(browser, url)


@pytest.fixture(autouse=True)
def no_console_errors(browser):
    browser.get_log("browser")
    yield
    assert console_errors(browser) == []


def wait(driver, condition, timeout=20):
    """Wait until `condition()` is true (a test then asserts what it waited for)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)


def set_text(driver, css, text):
    """Type `text` into a field as a learner would, in one change (one input event)."""
    driver.execute_script(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1];"
        "e.dispatchEvent(new Event('input', {bubbles: true}));",
        css,
        text,
    )


def walk(driver):
    """The text of each [data-step] in #walk, read at one moment (the page redraws as it runs)."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#walk [data-step]'), e => e.textContent)"
    )


def grads(driver):
    """Each #grads [data-input]: its text and its data-value, read at one moment."""
    cells = driver.execute_script(
        "return Array.from(document.querySelectorAll('#grads [data-input]'),"
        " e => [e.dataset.input, e.textContent, e.dataset.value])"
    )
    return {name: (text, value) for name, text, value in cells}


def var_names(driver):
    return driver.execute_script("return Array.from(document.querySelectorAll('#vars [data-var]'), e => e.dataset.var)")


def show(driver, expr, values, code="en"):
    """Choose the language, type the expression and each value; return explain --json's report for them."""
    Select(driver.find_element(By.ID, "lang")).select_by_value(code)
    set_text(driver, "#expr", expr)
    wait(driver, lambda: var_names(driver) == list(values))
    for name, value in values.items():
        set_text(driver, f'#vars input[data-var="{name}"]', str(value))
    report = explain_json(expr, values, code)
    sentences = [s["explanation"] for s in report["steps"]]
    wait(driver, lambda: walk(driver) == sentences and grads_of(report) == grads(driver) and not running(driver))
    return report


def running(driver):
    """Whether the expression lab is still computing (a change made while one run was on asks for another)."""
    return driver.execute_script("return 'running' in document.getElementById('tab-expr').dataset")


def grads_of(report):
    from gategrad.engine import fmt

    return {n: (fmt(float(g)), json.dumps(g)) for n, g in report["grads"].items()}


def referee_without_numpy(source):
    """What the tab should show for `source`: the referee's answer in a Python without numpy, as the page's is."""
    code = (
        "import json, sys; sys.modules['numpy'] = None\n"
        "from gategrad.playground import engine\n"
        "try:\n"
        "    shown = {'status': '', 'report': engine.check(sys.argv[1], 'Value', 'en')}\n"
        "except ValueError as e:\n"
        "    shown = {'status': str(e), 'report': None}\n"
        "print(json.dumps(shown))"
    )
    return json.loads(subprocess.run([sys.executable, "-c", code, source], capture_output=True, check=True).stdout)


@pytest.mark.parametrize("code", ["en", "zh"])
@pytest.mark.parametrize("circuit", [ADD_MUL, MAX_CIRCUIT, NEURON], ids=["add_mul", "max", "neuron"])
def test_walk_and_gradients_are_explain_jsons(page, circuit, code):
    expr, values = circuit
    report = show(page, expr, values, code)
    assert walk(page) == [s["explanation"] for s in report["steps"]]
    shown = grads(page)
    assert list(shown) == list(report["grads"])
    assert {n: float(v) for n, (_, v) in shown.items()} == report["grads"]
    assert shown == grads_of(report)


def test_a_slider_reruns_the_walk(page):
    show(page, *MAX_CIRCUIT)
    slider = page.find_element(By.CSS_SELECTOR, 'input[data-slider="x"]')
    slider.send_keys(Keys.ARROW_RIGHT)  # one step of 0.1: x = 3.1
    report = explain_json(MAX_CIRCUIT[0], {**MAX_CIRCUIT[1], "x": 3.1})
    wait(page, lambda: grads(page) == grads_of(report))
    assert page.find_element(By.CSS_SELECTOR, 'input[data-var="x"]').get_attribute("value") == "3.1"
    assert grads(page)["y"] == ("6.2", "6.2")
    assert walk(page) == [s["explanation"] for s in report["steps"]]


def test_stepping_marks_the_current_gate(page):
    show(page, *MAX_CIRCUIT)
    page.find_element(By.CSS_SELECTOR, '#walk [data-step="1"]').click()
    wait(page, lambda: len(page.find_elements(By.CSS_SELECTOR, "#circuit svg g.gate.gg-active")) == 1)
    assert page.find_element(By.ID, "expr-counter").text == "2 / 5"
    assert page.find_element(By.CSS_SELECTOR, '#walk [aria-current="step"]').get_attribute("data-step") == "1"
    assert page.find_element(By.ID, "expr-caption").text == "Step 1: " + walk(page)[0]
    assert len(page.find_elements(By.CSS_SELECTOR, "#circuit svg g.gate.gg-active")) == 1
    page.find_element(By.ID, "expr-prev").click()
    wait(page, lambda: page.find_element(By.ID, "expr-counter").text == "1 / 5")
    wait(page, lambda: page.find_elements(By.CSS_SELECTOR, "#circuit svg g.gate.gg-active") == [])
    assert page.find_elements(By.CSS_SELECTOR, "#circuit svg g.gate.gg-active") == []
    assert page.find_element(By.ID, "expr-heading").text == "Forward pass"
    page.find_element(By.CSS_SELECTOR, '#walk [data-step="3"]').click()
    wait(page, lambda: page.find_element(By.ID, "expr-counter").text == "4 / 5")
    assert page.find_element(By.ID, "expr-heading").text == "Backward pass, gate 3 of 4: max"


def test_the_arrow_keys_step_and_switch_tabs(page):
    show(page, *ADD_MUL)
    page.find_element(By.CSS_SELECTOR, '#walk [data-step="1"]').click()
    wait(page, lambda: page.find_element(By.ID, "expr-counter").text == "2 / 3")
    webdriver.ActionChains(page).send_keys(Keys.ARROW_RIGHT).perform()
    wait(page, lambda: page.find_element(By.ID, "expr-counter").text == "3 / 3")
    assert page.find_element(By.ID, "expr-counter").text == "3 / 3"
    tab = page.find_element(By.ID, "tab-button-expr")
    tab.send_keys(Keys.ARROW_RIGHT)
    selected = page.find_element(By.CSS_SELECTOR, '.tabs [aria-selected="true"]')
    assert page.switch_to.active_element == selected
    assert not page.find_element(By.ID, "tab-" + selected.get_attribute("data-tab")).get_attribute("hidden")
    assert page.find_element(By.ID, "tab-expr").get_attribute("hidden") == "true"
    page.find_element(By.ID, "tab-button-expr").click()


def test_predict_mode_asks_before_each_step_and_checks(page):
    expr, values = ADD_MUL
    show(page, expr, values)
    page.find_element(By.CSS_SELECTOR, '#walk [data-step="1"]').click()
    page.find_element(By.ID, "expr-predict").click()
    wait(page, lambda: page.find_elements(By.CSS_SELECTOR, '#expr-quiz [data-part="answer"]'))
    texts = {n: str(v) for n, v in values.items()}
    question = expression.run(expr, texts)["predict"][0]
    assert page.find_element(By.CSS_SELECTOR, "#expr-quiz p").text == question["question"]
    assert page.find_element(By.ID, "expr-caption").text == ""
    fields = page.find_elements(By.CSS_SELECTOR, '#expr-quiz [data-part="answer"]')
    fields[0].send_keys("-4")
    fields[1].send_keys("2", Keys.ENTER)
    expected = expression.predict(expr, texts, 1, ["-4", "2"])["feedback"]
    wait(page, lambda: len(page.find_elements(By.CSS_SELECTOR, "#expr-quiz .feedback li")) == 2)
    assert [li.text for li in page.find_elements(By.CSS_SELECTOR, "#expr-quiz .feedback li")] == [
        f["text"] for f in expected
    ]
    assert page.find_element(By.ID, "expr-score").text == "score: 1 of 2"
    page.find_element(By.ID, "expr-predict").click()


def test_the_misconception_lab_is_explain_mistakes(page):
    show(page, "x*x + x", {"x": 3.0}, "zh")
    Select(page.find_element(By.ID, "mistake")).select_by_value("overwrite")
    expected = explain_json("x*x + x", {"x": 3.0}, "zh", "--mistake", "overwrite")["mistake"]["explanation"]
    wait(page, lambda: page.find_element(By.ID, "mistake-why").text == expected)
    assert page.find_element(By.ID, "mistake-why").text == expected
    Select(page.find_element(By.ID, "mistake")).select_by_value("")
    wait(page, lambda: page.find_element(By.ID, "mistake-why").text == "")


def test_the_url_restores_the_state(browser, page, url):
    report = show(page, "sigmoid(w*x + b)", {"w": 0.5, "x": -2.0, "b": 1.5}, "zh")
    page.find_element(By.CSS_SELECTOR, '#walk [data-step="2"]').click()
    wait(page, lambda: page.find_element(By.ID, "expr-counter").text == "3 / 4")
    address = page.current_url
    assert address.startswith(url + "#")
    again = open_page(browser, address)
    assert again.find_element(By.ID, "expr").get_attribute("value") == "sigmoid(w*x + b)"
    assert {n: again.find_element(By.CSS_SELECTOR, f'[data-var="{n}"]').get_attribute("value") for n in "wxb"} == {
        "w": "0.5",
        "x": "-2.0",
        "b": "1.5",
    }
    assert Select(again.find_element(By.ID, "lang")).first_selected_option.get_attribute("value") == "zh"
    assert again.find_element(By.ID, "expr-counter").text == "3 / 4"
    assert walk(again) == [s["explanation"] for s in report["steps"]]
    assert grads(again) == grads_of(report)
    assert again.current_url == address


def test_every_request_stays_on_the_pages_origin(page, url):
    requested = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any(name.endswith("/viz/viz.js") for name in requested)
    assert [name for name in requested if not name.startswith(url)] == []


@pytest.mark.parametrize("width", [800, 1300])
def test_readable_at_800_and_1300_px(browser, page, width, tmp_path):
    show(page, *NEURON)
    browser.set_window_size(width, 1000)
    try:
        inner = page.execute_script("return window.innerWidth")
        wide = page.execute_script("return document.documentElement.scrollWidth")
        assert wide <= inner  # nothing runs off the side of the page
        assert page.find_element(By.CSS_SELECTOR, "#circuit svg").size["width"] >= min(inner - 50, 1000) - 50
        page.save_screenshot(str(tmp_path / f"playground-{width}.png"))
    finally:
        browser.set_window_size(1300, 1000)


def test_at_800_px_the_gate_being_explained_is_in_the_circuits_box(browser, page):
    show(page, *MAX_CIRCUIT)
    browser.set_window_size(800, 1000)
    try:
        for step in range(4):  # the output's mul is at the far right, x*y's at the far left
            page.find_element(By.CSS_SELECTOR, f'#walk [data-step="{step + 1}"]').click()
            wait(page, lambda s=step: page.find_element(By.ID, "expr-counter").text == f"{s + 2} / 5")
            wait(page, lambda: len(page.find_elements(By.CSS_SELECTOR, "#circuit svg g.gate.gg-active")) == 1)
            box, gate = page.execute_script(
                "const c = document.getElementById('circuit');"
                "return [c.getBoundingClientRect(), c.querySelector('g.gate.gg-active').getBoundingClientRect()];"
            )
            assert box["left"] <= gate["left"] and gate["right"] <= box["right"], step
    finally:
        browser.set_window_size(1300, 1000)


def test_the_engine_tab_shows_the_referees_answer(page):
    page.find_element(By.ID, "tab-button-engine").click()
    source = "class Value:\n    def __init__(self, data):\n        self.data = data\n"
    page.find_element(By.ID, "engine-source").send_keys(source)
    page.find_element(By.ID, "engine-run").click()
    expected = referee_without_numpy(source)
    status = page.find_element(By.ID, "engine-status")
    wait(page, lambda: status.text not in ("", "checking…"), READY_S)
    assert status.text == expected["status"]
    shown = page.find_elements(By.CSS_SELECTOR, "#engine-report details pre")
    assert (json.loads(shown[0].get_attribute("textContent")) if shown else None) == expected["report"]
    if shown:  # the report as gategrad check prints it
        assert page.find_element(By.CSS_SELECTOR, "#engine-report > pre").text == expected["report"]["text"]
    page.find_element(By.ID, "tab-button-expr").click()
