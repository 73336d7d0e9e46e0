"""replay against torch across batch sizes, widths and optimizers: `fit(engine="replay")` as a user calls it.

    python benchmarks/replay_grid.py [--rounds 5] [--json results.json]

Each grid point (points, width, optimizer) is micrograd's demo grown: MLP(2, width, width, 1)
on `points` moons, hinge loss + 1e-4 L2, full batch. gategrad runs `nn.fit(..., engine="replay")`
twice in one process (the second fit finds the model already traced); torch 2.13 runs the same
steps in float64 with torch.set_num_threads(1). Each (point, engine) runs in a fresh process, its
libraries imported before the clock starts (torch; numpy and gategrad.replay, which fit would load
at the first replayed fit: about 0.2 s of CPU), the engines alternating which goes first, in
rounds; the table gives medians of CPU seconds
(time.process_time). Both processes run with one thread for numpy's BLAS and torch alike, and
with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS picks its native kernel.
Peak memory is the growth of the process's peak resident size (ru_maxrss) over what it held
before training, measured in a separate run of 10,000 points at width 256.
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
import time

GRID = [(points, width, opt) for points in (100, 10_000) for width in (16, 64, 256) for opt in ("sgd", "adam")]
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def steps_for(points: int) -> int:
    return 100 if points <= 1_000 else 10


def problem(points: int, width: int) -> tuple[list, list, list]:
    """The moons, their labels ±1 and the starting weights, neuron by neuron (weights, then a bias of 0)."""
    import random

    from gategrad.data import make_moons

    X, y = make_moons(points, noise=0.1, seed=0)
    rng = random.Random(1337)
    sizes = [2, width, width, 1]
    layers = [[[rng.uniform(-1, 1) for _ in range(a)] for _ in range(b)] for a, b in zip(sizes, sizes[1:])]
    return X, [2 * c - 1 for c in y], layers


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_gategrad(points: int, width: int, opt: str, steps: int) -> dict:
    # Loaded before the clock starts, as torch is: fit loads them at the first replayed fit.
    import tqdm  # noqa: F401

    import gategrad.replay  # noqa: F401
    from gategrad import nn

    X, y, layers = problem(points, width)
    start = [x for layer in layers for neuron in layer for x in (*neuron, 0.0)]
    model = nn.MLP(2, [width, width, 1])
    before = peak_rss()
    times, losses = [], []
    for _ in range(2):  # the first fit traces the model, the second finds it traced
        for p, x in zip(model.parameters(), start):
            p.data = x
        optimizer = nn.SGD(model.parameters(), lr=0.1) if opt == "sgd" else nn.Adam(model.parameters(), lr=0.01)
        t = time.process_time()
        history = nn.fit(model, X, y, nn.hinge_loss, optimizer, steps, l2=1e-4, quiet=True, engine="replay")
        times.append(time.process_time() - t)
        losses.append(history["loss"])
    return {"first": times[0], "next": times[1], "losses": losses[1], "peak_growth": peak_rss() - before}


def run_torch(points: int, width: int, opt: str, steps: int) -> dict:
    import torch
    from workloads import torch_hinge_loss

    torch.set_num_threads(1)
    X, y, layers = problem(points, width)
    inputs, labels = torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    before = peak_rss()
    times, losses = [], []
    for _ in range(2):
        tensors = [
            (
                torch.tensor(layer, dtype=torch.float64).requires_grad_(),
                torch.zeros(len(layer), dtype=torch.float64).requires_grad_(),
            )
            for layer in layers
        ]
        params = [p for pair in tensors for p in pair]
        optimizer = torch.optim.SGD(params, lr=0.1) if opt == "sgd" else torch.optim.Adam(params, lr=0.01)
        t = time.process_time()
        run = []
        for _ in range(steps):
            loss = torch_hinge_loss(tensors, params, inputs, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        times.append(time.process_time() - t)
        losses.append(run)
    return {"first": times[0], "next": times[1], "losses": losses[1], "peak_growth": peak_rss() - before}


def measure(engine: str, points: int, width: int, opt: str, steps: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in UNSET} | ONE_THREAD
    cmd = [sys.executable, __file__, "--one", json.dumps([engine, points, width, opt, steps])]
    return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json")
    parser.add_argument("--table", help="print the table of the runs saved with --json, without running")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        engine, points, width, opt, steps = json.loads(args.one)
        run = run_gategrad if engine == "gategrad" else run_torch
        print(json.dumps(run(points, width, opt, steps)))
        return
    if args.table:
        with open(args.table) as f:
            saved = json.load(f)
        table(saved["runs"], saved["memory"], saved["loads"])
        return

    runs: dict[str, list[dict]] = {}
    loads = [os.getloadavg()[0]]
    memory = {engine: measure(engine, 10_000, 256, "sgd", 3)["peak_growth"] for engine in ("gategrad", "torch")}
    for r in range(args.rounds):
        for points, width, opt in GRID:
            for engine in ("gategrad", "torch") if r % 2 == 0 else ("torch", "gategrad"):
                key = f"{points}/{width}/{opt}/{engine}"
                runs.setdefault(key, []).append(measure(engine, points, width, opt, steps_for(points)))
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}/{args.rounds} done, load average {loads[-1]:.1f}", file=sys.stderr)
        if args.json:  # after every round, so a run cut short still leaves its finished rounds
            with open(args.json, "w") as f:
                json.dump({"runs": runs, "memory": memory, "loads": loads}, f, indent=1)
    table(runs, memory, loads)


def table(runs: dict[str, list[dict]], memory: dict[str, int], loads: list[float]) -> None:
    """The grid as a Markdown table: medians over the rounds, and the ratios."""
    rounds = len(runs[next(iter(runs))])

    def median(key: str, field: str) -> float:
        return statistics.median(run[field] for run in runs[key])

    print(
        f"\n{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
        f"{datetime.date.today()}, median of {rounds} rounds, load average (1 min) from {min(loads):.1f} "
        f"to {max(loads):.1f}. Both processes: {', '.join(f'{k}={v}' for k, v in ONE_THREAD.items())}, "
        f"{' and '.join(UNSET)} unset; torch.set_num_threads(1).\n"
    )
    print(
        "| points | width | optimizer | steps | replay fit (ms/step) | torch (ms/step) | replay / torch "
        "| first fit, tracing included (ms/step) | first fit / torch |"
    )
    print("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    worst = 0.0
    for points, width, opt in GRID:
        steps = steps_for(points)
        key = f"{points}/{width}/{opt}"
        gg, th = median(f"{key}/gategrad", "next") / steps, median(f"{key}/torch", "next") / steps
        first = median(f"{key}/gategrad", "first") / steps
        print(
            f"| {points:,} | {width} | {opt} | {steps} | {gg * 1e3:.3f} | {th * 1e3:.3f} | {gg / th:.2f}x "
            f"| {first * 1e3:.3f} | {first / th:.2f}x |"
        )
        mine, theirs = runs[f"{key}/gategrad"][0]["losses"], runs[f"{key}/torch"][0]["losses"]
        worst = max([worst] + [abs(a - b) / abs(b) for a, b in zip(mine, theirs, strict=True)])
    print(f"\nreplay's losses against torch's, every point and step: largest relative difference {worst:.1e}")
    g, t = memory["gategrad"], memory["torch"]
    print(
        f"peak memory growth while training 10,000 points at width 256: replay {g / 2**20:.0f} MiB, "
        f"torch {t / 2**20:.0f} MiB ({g / t:.2f}x)"
    )


if __name__ == "__main__":
    main()
