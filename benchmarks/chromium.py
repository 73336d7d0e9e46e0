"""Headless Chromium (Debian's) for the benchmarks that time a page, with a fresh profile when given one."""

from __future__ import annotations

from typing import Any


def headless(profile: str | None = None) -> Any:
    """A selenium driver of /usr/bin/chromium at 1300×1000, with no background requests."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",  # the machine has no network: no background requests to refuse
        "--window-size=1300,1000",
        *([f"--user-data-dir={profile}"] if profile else []),
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
