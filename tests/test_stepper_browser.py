"""The stepper page in headless Chromium: keys, buttons, play, and two steppers on one page.

Runs Debian's /usr/bin/chromium through /usr/bin/chromedriver (`make system-deps` installs
them); without them it skips on a laptop and fails under CI.
"""

import re
import time

import pytest
from conftest import MAX_CIRCUIT, needs

from gategrad.explain import lang
from gategrad.explain.expr import build
from gategrad.viz import Stepper
from gategrad.viz.page import PACE_MS

webdriver = needs("selenium.webdriver")
Service = needs("selenium.webdriver.chrome.service").Service
By = needs("selenium.webdriver.common.by").By
Keys = needs("selenium.webdriver.common.keys").Keys
WebDriverWait = needs("selenium.webdriver.support.ui").WebDriverWait
pytestmark = [pytest.mark.needs_chromium, pytest.mark.needs_dot]

FORWARD = "The forward pass: each value is computed from its inputs; no gradient is known yet."


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Chromium for the module, with a fresh profile and its console log kept."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
        "--window-size=1400,900",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def open_page(browser):
    """Open an HTML file; after the test, fail on any console error the page logged."""
    browser.get_log("browser")  # forget what earlier pages logged

    def open_(path):
        browser.get(path.as_uri())
        return browser

    yield open_
    errors = [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


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


def test_keys_and_buttons_walk_the_steps_in_the_engines_words(open_page, sentences, tmp_path):
    page = open_page(Stepper(build(*MAX_CIRCUIT).output).save(tmp_path / "stepper.html"))
    assert text(page, "step") == "1 / 5"
    assert text(page, "explanation") == FORWARD
    assert grads(page) == ["?", "?", "?", "?"]
    assert page.find_elements(By.CSS_SELECTOR, "#stepper svg .gate.active") == []

    press(page, Keys.ARROW_RIGHT)
    assert text(page, "step") == "2 / 5"
    assert text(page, "explanation") == sentences[0]
    assert len(page.find_elements(By.CSS_SELECTOR, "#stepper svg .gate.active")) == 1

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
