"""How long, and how much memory, `gategrad check` takes at a learner's real size: each run in a fresh process.

    python benchmarks/check_size.py [--rounds 1] [--inputs 12288] [--hidden 64] [--samples 10] [--values]

The net is the one of the XOR/cat question learners post: 12288 inputs (a 64×64 colour image), 64 relu
units, one sigmoid output, binary cross-entropy averaged over 10 samples, written as a learner writes it
(no tap) in a file of its own and checked with `check_file`. Its backprop is checked twice: as written
(every array agrees) and with relu's mask forgotten (the report then names the mask and walks the first
divergence). Wall seconds of check_file and the process's peak resident memory (ru_maxrss), median of rounds.

Each is checked on traced float arrays (the array path, which builds Values only for the entries the
report walks) and, with --values, on the whole circuit of Values, as every check did before the array
path (about 9 minutes and 3.5 GB each at the full size).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NET = """
import numpy as np

rng = np.random.default_rng(0)
X = rng.random(size=({samples}, {inputs}))
Y = (rng.random(size=({samples}, 1)) > 0.5).astype(float)
m = X.shape[0]


def params():
    rng = np.random.default_rng(1)
    return {{"W1": rng.normal(size=({inputs}, {hidden})) * 0.01, "b1": np.zeros({hidden}),
             "W2": rng.normal(size=({hidden}, 1)) * 0.1, "b2": np.zeros(1)}}


def loss(p):
    z1 = X @ p["W1"] + p["b1"]
    a1 = np.maximum(0, z1)
    z2 = a1 @ p["W2"] + p["b2"]
    a2 = 1 / (1 + np.exp(-z2))
    cost = -np.sum(Y * np.log(a2) + (1 - Y) * np.log(1 - a2)) / m
    return cost


def grads(p):
    z1 = X @ p["W1"] + p["b1"]
    a1 = np.maximum(0, z1)
    a2 = 1 / (1 + np.exp(-(a1 @ p["W2"] + p["b2"])))
    dz2 = (a2 - Y) / m
    da1 = dz2 @ p["W2"].T
    dz1 = {mask}
    return {{"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": a1.T @ dz2, "b2": dz2.sum(axis=0)}}
"""


def measure_one(inputs: int, hidden: int, samples: int, bug: bool, values: bool) -> dict:
    from gategrad.check import check_file, run

    if values:
        run.ARRAYS = sys.maxsize  # no circuit counts as large: the whole circuit is built of Values

    source = NET.format(inputs=inputs, hidden=hidden, samples=samples, mask="da1" if bug else "da1 * (z1 > 0)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cat_net.py"
        path.write_text(source)
        wall = time.perf_counter()
        report = check_file(path)
        wall = time.perf_counter() - wall
    first = report.first_divergence.name if report.first_divergence else None
    kind = next((c.diagnosis.kind for c in report.checked if c.name == first), None)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    return {"wall_seconds": wall, "peak_mb": peak_mb, "ok": report.ok, "first_divergence": first, "kind": kind}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--inputs", type=int, default=12288)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--values", action="store_true", help="also check on the whole circuit of Values (slow)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a single measurement, in this fresh process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(*json.loads(args.one))))
        return

    print(
        f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, {datetime.date.today()}, median of {args.rounds} rounds\n"
    )
    print("| net | samples | backprop | checked on | check_file, wall s | peak memory, MB | first divergence |")
    print("| --- | ---: | --- | --- | ---: | ---: | --- |")
    paths = (False, True) if args.values else (False,)
    for bug, values in [(bug, values) for bug in (False, True) for values in paths]:
        runs = []
        for _ in range(args.rounds):
            one = json.dumps([args.inputs, args.hidden, args.samples, bug, values])
            cmd = [sys.executable, __file__, "--one", one]
            runs.append(json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout))
        expected = (False, "b1", "mask") if bug else (True, None, None)
        assert all((r["ok"], r["first_divergence"], r["kind"]) == expected for r in runs), runs
        wall = statistics.median(r["wall_seconds"] for r in runs)
        peak = statistics.median(r["peak_mb"] for r in runs)
        what = "relu's mask forgotten" if bug else "right (all agree)"
        first = f"{runs[0]['first_divergence']} ({runs[0]['kind']})" if bug else "-"
        net = f"{args.inputs}-{args.hidden}-1"
        path = "the circuit of Values" if values else "traced arrays"
        print(f"| {net} | {args.samples} | {what} | {path} | {wall:.1f} | {peak:.0f} | {first} |")


if __name__ == "__main__":
    main()
