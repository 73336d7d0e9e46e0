"""The network lab in headless Chromium: the page's Python trains as `gategrad train` does; the URL keeps the lab."""

import functools
import http.server
import json
import threading
import time
from urllib.parse import parse_qsl

import pytest
from conftest import console_errors, needs

from gategrad.cli import main
from gategrad.playground import net
from gategrad.viz import plot
from gategrad.viz.viewer import read_record

pytestmark = pytest.mark.slow

STEPS = 5
READY_SECONDS = 120  # Pyodide's first start on a busy machine; ready is usually a few seconds


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The playground built by `gategrad playground --build`, served by http.server on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("site")
    assert main(["playground", "--build", str(folder)]) == 0
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def cli_losses(tmp_path, *options):
    page = tmp_path / "run.html"
    argv = ["train", "--schedule", "constant", "--steps", str(STEPS), "--engine", "scalar", "--quiet", *options]
    assert main([*argv, "--record", str(page)]) == 0
    return [s["loss"] for s in read_record(page)["steps"]]


def open_lab(browser, url):
    wait = needs("selenium.webdriver.support.wait").WebDriverWait
    browser.get("about:blank")
    browser.get(url)
    wait(browser, READY_SECONDS).until(lambda d: d.execute_script("return document.documentElement.dataset.ready"))
    browser.find_element("id", "tab-button-net").click()
    return wait


def readout(browser):
    value = browser.find_element("id", "net-loss-value")
    return value.get_attribute("data-step"), value.get_attribute("data-loss")


def take_steps(browser, wait, n, start=0):
    button = browser.find_element("id", "net-step")
    for _ in range(n):
        button.click()  # clicks while a step runs are queued
    wait(browser, 120).until(lambda d: readout(d)[0] == str(start + n))
    return readout(browser)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def test_n_clicks_of_step_give_train_s_nth_loss_and_reset_gives_the_same_start(browser, site, tmp_path):
    losses = cli_losses(tmp_path)
    wait = open_lab(browser, site)
    assert readout(browser) == ("0", None)
    started = time.perf_counter()
    step, loss = take_steps(browser, wait, STEPS)
    print(f"{STEPS} steps in the page: {time.perf_counter() - started:.2f} s")
    assert close(float(loss), losses[-1])
    first_regions = browser.find_element("id", "net-plot").get_attribute("innerHTML")
    browser.find_element("id", "net-reset").click()
    wait(browser, 60).until(lambda d: readout(d) == ("0", None))
    step, loss = take_steps(browser, wait, 1)
    assert close(float(loss), losses[0])
    browser.find_element("id", "net-reset").click()
    wait(browser, 60).until(lambda d: readout(d) == ("0", None))
    assert console_errors(browser) == []
    assert first_regions != browser.find_element("id", "net-plot").get_attribute("innerHTML")


def test_settings_give_train_s_losses_and_the_url_keeps_them_with_added_points(browser, site, tmp_path):
    Select = needs("selenium.webdriver.support.select").Select  # noqa: N806
    losses = cli_losses(tmp_path, "--dataset", "circles", "--hidden", "8", "--optimizer", "adam", "--seed", "2")
    wait = open_lab(browser, site)
    Select(browser.find_element("id", "net-dataset")).select_by_value("circles")
    hidden = browser.find_element("id", "net-hidden")
    hidden.clear()
    hidden.send_keys("8\n")
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", hidden)
    Select(browser.find_element("id", "net-optimizer")).select_by_value("adam")
    seed = browser.find_element("id", "net-seed")
    seed.clear()
    seed.send_keys("2")
    browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", seed)
    in_hash = 'return location.hash.includes("net.seed")'
    wait(browser, 60).until(lambda d: readout(d) == ("0", None) and d.execute_script(in_hash))
    step, loss = take_steps(browser, wait, STEPS)
    assert close(float(loss), losses[-1])

    points = browser.find_elements("css selector", "#net-plot .net-point")
    assert len(points) == 100
    assert all(p.get_attribute("fill") == plot.class_color(int(p.get_attribute("data-label"))) for p in points)
    browser.find_element("id", "net-plot").click()  # the middle of the plot: a point of class 0 there
    wait(browser, 60).until(lambda d: len(d.find_elements("css selector", "#net-plot .net-point")) == 101)
    added = browser.find_elements("css selector", "#net-plot .net-point.net-added")
    assert len(added) == 1 and added[0].get_attribute("data-label") == "0"
    state = {k: json.loads(v) for k, v in _hash_items(browser.execute_script("return location.hash"))}
    assert state["net.dataset"] == "circles" and state["net.hidden"] == "8" and state["net.optimizer"] == "adam"
    assert state["net.seed"] == "2" and len(state["net.points"]) == 1 and state["net.points"][0][2] == 0
    url = browser.current_url
    wait = open_lab(browser, url)
    assert browser.find_element("id", "net-dataset").get_attribute("value") == "circles"
    assert browser.find_element("id", "net-hidden").get_attribute("value") == "8"
    assert browser.find_element("id", "net-seed").get_attribute("value") == "2"
    assert len(browser.find_elements("css selector", "#net-plot .net-point.net-added")) == 1
    assert console_errors(browser) == []


def test_a_neuron_click_walks_its_gates_in_the_chosen_language(browser, site):
    Select = needs("selenium.webdriver.support.select").Select  # noqa: N806
    wait = open_lab(browser, site)
    Select(browser.find_element("id", "lang")).select_by_value("zh")
    wait(browser, 60).until(lambda d: "已训练步数：0" in d.find_element("id", "net-loss-value").text)  # redrawn in zh
    browser.find_element("css selector", '#net-net [data-neuron="1:0"]').click()
    wait(browser, 60).until(lambda d: d.find_elements("css selector", "#net-walk .net-walk-step"))
    shown = [li.text for li in browser.find_elements("css selector", "#net-walk .net-walk-step")]
    net.handle("reset", {})
    expected = net.handle("walk", {"target": {"neuron": "1:0"}, "sample": 0, "lang": "zh"})
    assert shown == [s["sentence"] for s in expected["steps"]]
    assert browser.find_element("css selector", "#net-walk .heading").text == expected["heading"]

    # by keyboard: a neuron takes the focus and Enter walks it
    neuron = browser.find_element("css selector", '#net-net [data-neuron="0:3"]')
    browser.execute_script("arguments[0].focus()", neuron)
    browser.switch_to.active_element.send_keys(needs("selenium.webdriver.common.keys").Keys.ENTER)
    wait(browser, 60).until(lambda d: walked(d) == '{"neuron":"0:3"}')

    # a sample's walk: the whole backward pass of its loss, grouped by the loss's gates and each neuron's
    browser.find_element("id", "net-mode-walk").click()
    browser.find_element("css selector", '#net-plot [data-index="7"]').click()
    wait(browser, 60).until(lambda d: walked(d) == '{"sample":7}')
    expected = net.handle("walk", {"target": {"sample": 7}, "lang": "zh"})
    shown = [li.text for li in browser.find_elements("css selector", "#net-walk .net-walk-step")]
    assert shown == [s["sentence"] for s in expected["steps"]]
    groups = [li.text for li in browser.find_elements("css selector", "#net-walk .net-walk-group")]
    assert groups[0] == "损失函数" and groups[1] == "神经元 2:0"
    assert browser.find_elements("css selector", '#net-plot [data-index="7"].net-picked')
    assert console_errors(browser) == []


def test_a_diverged_run_says_why_in_the_language_the_page_switches_to(browser, site):
    Select = needs("selenium.webdriver.support.select").Select  # noqa: N806
    wait = open_lab(browser, site)
    for key, value in (("hidden", "2"), ("lr", "1e300")):
        box = browser.find_element("id", f"net-{key}")
        box.clear()
        box.send_keys(value)
        browser.execute_script("arguments[0].dispatchEvent(new Event('change'))", box)
    in_hash = 'return location.hash.includes("net.lr") && location.hash.includes("net.hidden")'
    wait(browser, 60).until(lambda d: readout(d) == ("0", None) and d.execute_script(in_hash))
    for _ in range(2):  # the first update makes the weights about 1e298; the second step's products overflow
        browser.find_element("id", "net-step").click()
    net.handle("reset", {"lr": 1e300, "hidden": "2"})
    english = net.handle("step", {"n": 5})["diverged"]["where"]
    wait(browser, 120).until(lambda d: d.find_element("id", "net-error").text == f"Training diverged: {english}")
    assert readout(browser)[0] == "1"
    Select(browser.find_element("id", "lang")).select_by_value("ru")
    russian = net.handle("step", {"n": 0, "lang": "ru"})["diverged"]["where"]
    assert russian.startswith("вентиль умножения выдал inf при конечных входах")
    wait(browser, 60).until(lambda d: d.find_element("id", "net-error").text == f"Обучение разошлось: {russian}")
    assert console_errors(browser) == []


def walked(browser):
    return browser.find_element("id", "net-walk").get_attribute("data-target")


def _hash_items(fragment):
    return parse_qsl(fragment.lstrip("#"))


@pytest.mark.parametrize("width", [800, 1300])
def test_the_lab_fits_the_width_without_scrolling_sideways(browser, site, width):
    browser.set_window_size(width, 1000)
    try:
        open_lab(browser, site)
        overflow = "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert browser.execute_script(overflow) <= 0
        plot = browser.find_element("id", "net-plot").size
        assert plot["width"] >= 250 and plot["height"] >= 250  # the regions stay large enough to click on
    finally:
        browser.set_window_size(1300, 1000)
    assert console_errors(browser) == []
