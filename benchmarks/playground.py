"""What the playground costs: the site's size, the time to ready, an expression re-run, and net steps per second.

    python benchmarks/playground.py [--rounds 3] [--seconds 10]

Builds the site, serves it with http.server on 127.0.0.1 and opens it in headless Chromium
(/usr/bin/chromium) with a fresh profile each round, so nothing is cached: the time to ready is
from navigation until `document.documentElement.dataset.ready` is "true" (the median of the
rounds). A re-run is the time from a value's input event until #grads shows the new gradients
(the median of 20 changes of a slider on cs231n's sigmoid neuron). When the build has the network
lab, the moons net plays for `--seconds` (`#net-play`), and its steps per second (from
`#net-loss-value`'s data-step) are set against the same step in CPython, through the same bridge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from chromium import headless

from gategrad.playground import bridge, build, serve

GRID_EVERY = 2.0  # seconds: net.js's GRID_EVERY_MS
NEURON = ("sigmoid(w0*x0 + w1*x1 + w2)", {"w0": "2", "x0": "-1", "w1": "-3", "x1": "-2", "w2": "-3"})
RERUN_JS = """
const [name, value, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const grads = document.getElementById("grads");
const box = document.querySelector(`#vars [data-var="${name}"]`);
const start = performance.now();
new MutationObserver((_, observer) => { observer.disconnect(); done(performance.now() - start); })
  .observe(grads, { childList: true, subtree: true, characterData: true });
box.value = value;
box.dispatchEvent(new Event("input", { bubbles: true }));
"""


def ready_after(driver, address: str, timeout: float = 120) -> tuple[float, float]:
    """Seconds from navigation until Python (Pyodide) has loaded, and until the page says it is ready."""
    start = time.perf_counter()
    driver.get(address)
    loaded = None
    while True:
        progress, ready = driver.execute_script(
            "return [document.getElementById('progress').textContent, document.documentElement.dataset.ready]"
        )
        now = time.perf_counter() - start
        if loaded is None and (progress.startswith("Unpacking") or ready == "true"):
            loaded = now
        if ready == "true":
            return loaded, now
        if now > timeout:
            raise TimeoutError(f"not ready after {timeout} s")
        time.sleep(0.01)


def hash_of(state: dict) -> str:
    from urllib.parse import urlencode

    return "#" + urlencode({key: json.dumps(value) for key, value in state.items()})


def reruns(driver, n: int = 20) -> list[float]:
    """Milliseconds from a value's change to the new gradients on the page, for `n` changes of w0."""
    driver.set_script_timeout(30)
    return [float(driver.execute_async_script(RERUN_JS, "w0", f"{1 + 0.1 * (k + 1):.1f}")) for k in range(n)]


def net_steps_per_second(driver, seconds: float) -> float | None:
    """Steps per second of the net lab's play, or None when the build has no network lab."""
    from selenium.webdriver.common.by import By

    if not driver.find_elements(By.ID, "net-play"):
        return None
    driver.find_element(By.ID, "tab-button-net").click()
    value = driver.find_element(By.ID, "net-loss-value")
    first = int(value.get_attribute("data-step") or 0)
    driver.find_element(By.ID, "net-play").click()
    start = time.perf_counter()
    time.sleep(seconds)
    last = int(value.get_attribute("data-step") or 0)
    elapsed = time.perf_counter() - start
    driver.find_element(By.ID, "net-play").click()
    return (last - first) / elapsed


def cpython_steps_per_second(seconds: float) -> float | str:
    """The page's play in this Python, through the same bridge: one step a request, the regions and health
    figures every GRID_EVERY seconds, as net.js asks for them; steps per second, or the bridge's error."""
    reply = json.loads(bridge.handle(json.dumps({"lab": "net", "action": "reset", "args": {"dataset": "moons"}})))
    if not reply["ok"]:
        return reply["error"]
    steps, start, last_grid = 0, time.perf_counter(), 0.0
    while (now := time.perf_counter()) - start < seconds:
        grid = now - last_grid > GRID_EVERY
        bridge.handle(json.dumps({"lab": "net", "action": "step", "args": {"n": 1, "grid": grid}}))
        last_grid = now if grid else last_grid
        steps += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site"
        build.build(site)
        files = [p for p in site.rglob("*") if p.is_file()]
        size, python = sum(p.stat().st_size for p in files), (site / "python.zip").stat().st_size
        print(f"site: {len(files)} files, {size / 1e6:.1f} MB ({python / 1e6:.2f} MB of it python.zip)")
        httpd = serve.server(site, 0)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        address = f"http://127.0.0.1:{httpd.server_address[1]}/"
        state = {"expr.expression": NEURON[0], "expr.values": NEURON[1]}
        loads, readies, times = [], [], []
        for round_ in range(args.rounds):
            driver = headless(str(Path(folder) / f"profile-{round_}"))
            try:
                loaded, ready = ready_after(driver, address + hash_of(state))
                loads.append(loaded)
                readies.append(ready)
                times += reruns(driver)
                if round_ == args.rounds - 1:
                    in_page = net_steps_per_second(driver, args.seconds)
            finally:
                driver.quit()
        print(f"time to ready: median {statistics.median(readies):.2f} s of {', '.join(f'{r:.2f}' for r in readies)}")
        print(f"  of which loading Pyodide: median {statistics.median(loads):.2f} s")
        print(
            f"expression re-run (slider to new gradients): median {statistics.median(times):.1f} ms, "
            f"max {max(times):.1f} ms over {len(times)}"
        )
        if in_page is None:
            print("net steps per second: this build has no network lab (gategrad/playground/web/net.js)")
        else:
            native = cpython_steps_per_second(args.seconds)
            native_text = f"{native:.1f}" if isinstance(native, float) else native
            print(f"net steps per second: {in_page:.1f} in the page; CPython, the same step: {native_text}")
        httpd.shutdown()


if __name__ == "__main__":
    main()
