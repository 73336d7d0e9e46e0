"""A regression's run page in headless Chromium: R² and MAE where a classifier's page shows accuracy."""

import pytest
from conftest import console_errors, needs
from test_cli_csv import house_csv

from gategrad import nn, viz
from gategrad.cli import main
from gategrad.engine import fmt
from gategrad.viz import viewer

By = needs("selenium.webdriver.common.by").By
Keys = needs("selenium.webdriver.common.keys").Keys
WebDriverWait = needs("selenium.webdriver.support.ui").WebDriverWait
pytestmark = pytest.mark.needs_chromium


@pytest.mark.slow
def test_a_regressions_page_shows_r2_and_mae_never_accuracy(browser, tmp_path):
    """y = 2x - 1 on 12 points, learnt by MLP(1, [4, 1]) in 8 steps of Adam."""
    X = [[i / 6 - 1.0] for i in range(12)]
    y = [2 * x - 1 for (x,) in X]
    model = nn.MLP(1, [4, 1], seed=0)
    recorder = nn.Recorder()
    history = nn.fit(
        model, X, y, nn.mse_loss, nn.Adam(model.parameters(), lr=0.05), 8, quiet=True, record=recorder, regression=True
    )
    path = viz.save_run(recorder, tmp_path / "run.html")
    steps = viewer.read_record(path)["steps"]
    assert [s["r2"] for s in steps] == history["r2"] and [s["mae"] for s in steps] == history["mae"]

    browser.get_log("browser")
    browser.get(path.as_uri())
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "viewer").get_attribute("data-ready"))
    readout = browser.find_element(By.ID, "readout").text
    assert readout == f"loss {fmt(steps[0]['loss'])} · R² {fmt(steps[0]['r2'])} · MAE {fmt(steps[0]['mae'])}"
    chart = browser.find_element(By.CSS_SELECTOR, ".gg-chart-panel")
    assert chart.find_element(By.TAG_NAME, "h2").text == "Loss and R²"
    assert chart.find_element(By.CSS_SELECTOR, ".gg-legend.gg-acc-text").text == "R²"
    assert "accuracy" not in browser.find_element(By.ID, "viewer").text
    assert console_errors(browser) == []


@pytest.mark.slow
def test_the_page_of_a_csv_regression_from_train_opens_without_an_error(browser, tmp_path, capsys):
    """houses.csv (three features, a price) trained by `gategrad train --record`: the page says R² and MAE."""
    page = tmp_path / "run.html"
    argv = ["train", "--csv", house_csv(tmp_path / "houses.csv"), "--target", "price", "--loss", "mse"]
    assert main([str(a) for a in [*argv, "--optimizer", "adam", "--steps", "20", "--quiet", "--record", page]]) == 0
    capsys.readouterr()
    last = viewer.read_record(page)["steps"][-1]

    browser.get_log("browser")
    browser.get(page.as_uri())
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "viewer").get_attribute("data-ready"))
    browser.find_element(By.ID, "step-slider").send_keys(Keys.END)
    readout = browser.find_element(By.ID, "readout").text
    assert readout == f"loss {fmt(last['loss'])} · R² {fmt(last['r2'])} · MAE {fmt(last['mae'])}"
    assert console_errors(browser) == []
