"""How long `gategrad check` takes on a two-layer net, each measurement in a fresh process.

    python benchmarks/check_speed.py [--rounds 3]

The net is a learner's usual one: sigmoid hidden layer, stable softmax, cross-entropy averaged over
the batch, z1, a1 and the scores tapped. Its backprop is checked twice: as written (every array
agrees) and with σ' taken at the activation (the report then also walks the first divergence).
Times are CPU seconds of check() (time.process_time) and wall seconds; the table shows medians.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

NETS = [((64, 32, 10), 16), ((784, 100, 10), 8)]


def net(sizes: tuple[int, int, int], m: int, bug: bool) -> tuple[dict, object, object]:
    """params, loss(p) and grads(p) of the two-layer net on a random batch of m samples."""
    import numpy as np

    from gategrad.check import tap

    n_in, n_hidden, n_out = sizes
    rng = np.random.default_rng(0)
    X = rng.normal(size=(m, n_in))
    y = rng.integers(0, n_out, size=m)
    params = {
        "W1": rng.normal(size=(n_in, n_hidden)) / np.sqrt(n_in),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(size=(n_hidden, n_out)) / np.sqrt(n_hidden),
        "b2": np.zeros(n_out),
    }

    def forward(p):
        z1 = tap("z1", X @ p["W1"] + p["b1"])
        a1 = tap("a1", 1 / (1 + np.exp(-z1)))
        scores = tap("scores", a1 @ p["W2"] + p["b2"])
        exps = np.exp(scores - scores.max(axis=1, keepdims=True))
        return z1, a1, exps / exps.sum(axis=1, keepdims=True)

    def loss(p):
        probs = forward(p)[2]
        return -np.mean(np.log(probs[np.arange(m), y]))

    def grads(p):
        z1, a1, probs = forward(p)
        dscores = probs.copy()
        dscores[np.arange(m), y] -= 1
        dscores /= m
        da1 = dscores @ p["W2"].T
        s = 1 / (1 + np.exp(-a1)) if bug else a1  # the bug: σ' at the activation
        dz1 = da1 * s * (1 - s)
        return {
            "scores": dscores,
            "W2": a1.T @ dscores,
            "b2": dscores.sum(axis=0),
            "a1": da1,
            "z1": dz1,
            "W1": X.T @ dz1,
            "b1": dz1.sum(axis=0),
        }

    return params, loss, grads


def measure_one(sizes: tuple[int, int, int], m: int, bug: bool) -> dict:
    from gategrad.check import check

    params, loss, grads = net(sizes, m, bug)
    cpu, wall = time.process_time(), time.perf_counter()
    report = check(params, loss, grads)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    first = report.first_divergence.name if report.first_divergence else None
    return {"cpu_seconds": cpu, "wall_seconds": wall, "ok": report.ok, "first_divergence": first}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, in this fresh process
    args = parser.parse_args()
    if args.one:
        sizes, m, bug = json.loads(args.one)
        print(json.dumps(measure_one(tuple(sizes), m, bug)))
        return

    print(
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, {datetime.date.today()}, median of {args.rounds} rounds\n"
    )
    print("| net | batch | backprop | check, CPU s | check, wall s |")
    print("| --- | ---: | --- | ---: | ---: |")
    for sizes, m in NETS:
        for bug in (False, True):
            runs = []
            for _ in range(args.rounds):
                cmd = [sys.executable, __file__, "--one", json.dumps([sizes, m, bug])]
                runs.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
            expected = (not bug, "z1" if bug else None)
            assert all((r["ok"], r["first_divergence"]) == expected for r in runs), runs
            cpu = statistics.median(r["cpu_seconds"] for r in runs)
            wall = statistics.median(r["wall_seconds"] for r in runs)
            what = "σ' at the activation (z1 diverges)" if bug else "right (all agree)"
            print(f"| {'-'.join(map(str, sizes))} | {m} | {what} | {cpu:.2f} | {wall:.2f} |")


if __name__ == "__main__":
    main()
