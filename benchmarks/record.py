"""What recording a run costs: training time with and without `record=`, the page's size, its opening in Chromium.

    python benchmarks/record.py [--rounds 5]

The run is `gategrad train`'s default: MLP(2, [16, 16, 1]) on 100 moons, hinge loss plus 1e-4
L2, 100 full-batch steps of SGD with the lr falling from 1.0 to 0.1. Each round trains it twice,
in fresh processes, alternating which goes first: plain, and recorded (a Recorder in `fit`,
then the page saved). Times are CPU seconds (time.process_time); the table gives medians.
Then headless Chromium (/usr/bin/chromium) opens the page from file:// and the script reports
when it was ready to use, and how long moving the slider, clicking a point and clicking a
neuron take.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chromium import headless


def train(recorded: bool, page: str) -> dict:
    """One training run in this process; with `recorded`, a Recorder and the page saved to `page`."""
    from gategrad import nn, viz
    from gategrad.data import make_moons

    X, y = make_moons(100, noise=0.1, seed=0)
    labels = [2 * c - 1 for c in y]
    model = nn.MLP(2, [16, 16, 1], seed=0)
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    recorder = nn.Recorder() if recorded else None
    start = time.process_time()
    nn.fit(
        model,
        X,
        labels,
        nn.hinge_loss,
        optimizer,
        100,
        l2=1e-4,
        lr_schedule=lambda k: 1.0 - 0.9 * k / 100,
        quiet=True,
        record=recorder,
    )
    trained = time.process_time()
    if recorder is not None:
        viz.save_run(recorder, page)
    return {"fit": trained - start, "total": time.process_time() - start}


def in_chromium(page: Path) -> dict:
    """Open the page in headless Chromium and time it becoming usable, and three interactions."""
    driver = headless()
    try:
        driver.get(page.as_uri())
        # The page marks itself ready after its first full drawing; read the time the load began and now.
        while driver.execute_script('return document.getElementById("viewer").getAttribute("data-ready")') != "true":
            time.sleep(0.005)
        ready = driver.execute_script("return performance.now()")
        timings = driver.execute_script(
            """
            const time = (act) => { const start = performance.now(); act(); return performance.now() - start; };
            const slider = document.getElementById("step-slider");
            return {
              step: time(() => { slider.value = "50"; slider.dispatchEvent(new Event("input")); }),
              sample: time(() => document.querySelector('#boundary [data-sample="17"]')
                .dispatchEvent(new MouseEvent("click", {bubbles: true}))),
              neuron: time(() => document.querySelector('#network [data-neuron="1:3"]')
                .dispatchEvent(new MouseEvent("click", {bubbles: true}))),
            };
            """
        )
        return {"ready_ms": ready, **timings}
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--one", choices=["plain", "recorded"], help=argparse.SUPPRESS)
    parser.add_argument("--page", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(train(args.one == "recorded", args.page)))
        return

    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "run.html"
        runs: dict[str, list[dict]] = {"plain": [], "recorded": []}
        for r in range(args.rounds):
            for mode in ("plain", "recorded") if r % 2 == 0 else ("recorded", "plain"):
                cmd = [sys.executable, __file__, "--one", mode, "--page", str(page)]
                runs[mode].append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
        browser = [in_chromium(page) for _ in range(3)]
        size = page.stat().st_size

    plain = statistics.median(run["total"] for run in runs["plain"])
    fit = statistics.median(run["fit"] for run in runs["recorded"])
    total = statistics.median(run["total"] for run in runs["recorded"])
    print(f"\nmedians of {args.rounds} rounds, CPU seconds")
    print("| | seconds | vs plain |")
    print("| --- | ---: | ---: |")
    print(f"| fit, 100 steps | {plain:.2f} | 1.00x |")
    print(f"| fit with a Recorder | {fit:.2f} | {fit / plain:.2f}x |")
    print(f"| fit with a Recorder, then the page saved | {total:.2f} | {total / plain:.2f}x |")
    print(f"\npage: {size:,} bytes ({size / 2**20:.2f} MiB)")
    for key, label in [
        ("ready_ms", "opened and drawn (from navigation start)"),
        ("step", "slider to another step"),
        ("sample", "a click on a point"),
        ("neuron", "a click on a neuron"),
    ]:
        print(f"Chromium, {label}: {statistics.median(b[key] for b in browser):.0f} ms (median of 3)")


if __name__ == "__main__":
    main()
