"""The docs' picture of a recorded run: `python tools/screenshot.py RUN.html docs/images/run.png` (headless Chromium).

It opens the page `gategrad train --record` wrote for the demo's run, moves to step 8, clicks
sample 27 and neuron 0:5, and saves the top 1300 x 1500 pixels.
"""

import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def main(page: str, picture: str) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1300,1500"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    try:
        driver.get(Path(page).resolve().as_uri())
        slider = driver.find_element(By.ID, "step-slider")
        for _ in range(8):
            slider.send_keys(Keys.ARROW_RIGHT)
        driver.find_element(By.CSS_SELECTOR, '#boundary [data-sample="27"]').click()
        neuron = driver.find_element(By.CSS_SELECTOR, '#network [data-neuron="0:5"]')
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", neuron)  # the click scrolled the page
        neuron.click()
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.3)
        driver.save_screenshot(picture)
    finally:
        driver.quit()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
