"""Run gategrad against micrograd 0.1.0 and torch 2.13, each workload in fresh processes, interleaved.

    python benchmarks/run.py [--rounds 5] [--json results.json]

Each round runs every (workload, engine) pair once, in a new Python process, alternating
which engine goes first; the tables give the median over rounds and the ratios. Times
are CPU seconds of the measuring process (time.process_time), which a shared machine
disturbs less than wall-clock time. Every process runs on one thread (torch and numpy's
BLAS alike), so that replay and torch do the same work on the same core.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ENGINES = ("micrograd", "gategrad")
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# (key, workload, arguments): each is run for both engines in every round
PAIRED = [
    ("mlp_step", "mlp_step", {}),
    ("mlp_step_gc_paused", "mlp_step", {"gc_paused": True}),
    ("nn_step", "nn_step", {}),
    ("bytes_per_node", "bytes_per_node", {}),
]
# micrograd's demo step by replay and by torch, on more points and wider layers: (points, width)
SIZES = [(points, 16) for points in (100, 1_000, 10_000, 100_000)] + [
    (points, width) for width in (64, 256) for points in (100, 1_000, 10_000, 100_000)
]


def measure(workload: str, engine: str, **kwargs: object) -> dict:
    cmd = [sys.executable, str(HERE / "workloads.py"), workload, engine, json.dumps(kwargs)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, **ONE_THREAD})
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    args = parser.parse_args()

    runs: dict[str, list[dict]] = {}
    for r in range(args.rounds):
        for engine in ENGINES if r % 2 == 0 else ENGINES[::-1]:
            for key, workload, kwargs in PAIRED:
                runs.setdefault(f"{key}/{engine}", []).append(measure(workload, engine, **kwargs))
        runs.setdefault("binary_adds/gategrad", []).append(measure("mlp_step", "gategrad", binary_adds=True))
        runs.setdefault("deep_chain/gategrad", []).append(measure("deep_chain", "gategrad"))
        runs.setdefault("train_step/100/16/micrograd", []).append(measure("train_step", "micrograd"))
        for points, width in SIZES:
            steps = 3 if points * width > 1_000_000 else 5
            for engine in ("gategrad", "torch") if r % 2 == 0 else ("torch", "gategrad"):
                runs.setdefault(f"train_step/{points}/{width}/{engine}", []).append(
                    measure("train_step", engine, points=points, width=width, steps=steps)
                )
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    runs["deep_chain/micrograd"] = [measure("deep_chain", "micrograd")]

    def median(key: str, field: str) -> float:
        return statistics.median(run[field] for run in runs[key])

    print(
        f"\n{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, {datetime.date.today()}, median of {args.rounds} rounds\n"
    )
    print("| workload | micrograd 0.1.0 | gategrad | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for key, label in [
        ("mlp_step", "MLP(2,16,16,1) training step, 100 moons, plain Value ops (s)"),
        ("mlp_step_gc_paused", "the same, GC paused in the step and one gc.collect() after it (s)"),
        ("nn_step", "the same step with each library's own MLP (s)"),
    ]:
        mg, gg = median(f"{key}/micrograd", "seconds_per_step"), median(f"{key}/gategrad", "seconds_per_step")
        print(f"| {label} | {mg:.3f} | {gg:.4f} | {mg / gg:.1f}x |")
    mg, gg = median("bytes_per_node/micrograd", "bytes_per_node"), median("bytes_per_node/gategrad", "bytes_per_node")
    print(f"| bytes per node, `y = y * w + x` chain (tracemalloc) | {mg:.0f} | {gg:.0f} | {mg / gg:.2f}x less |")
    fwd, bwd = median("deep_chain/gategrad", "forward_seconds"), median("deep_chain/gategrad", "backward_seconds")
    micro = runs["deep_chain/micrograd"][0]
    micro_bwd = micro.get("error") or f"{micro['backward_seconds']:.2f}"
    print(
        f"| 1,000,000-node chain: forward / backward (s) | {micro['forward_seconds']:.2f} / {micro_bwd} "
        f"| {fwd:.2f} / {bwd:.2f} | backward = {bwd / fwd:.2f}x forward |"
    )

    def step(points: int, width: int, engine: str) -> float:
        return median(f"train_step/{points}/{width}/{engine}", "seconds_per_step")

    print("\nmicrograd's demo step (MLP(2,16,16,1), moons, hinge + L2, SGD), CPU seconds per step, one thread:\n")
    print("| points | micrograd 0.1.0 | gategrad replay | torch 2.13 float64 | replay vs micrograd | replay vs torch |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    mg = median("train_step/100/16/micrograd", "seconds_per_step")
    for points in (100, 10_000):
        gg, th = step(points, 16, "gategrad"), step(points, 16, "torch")
        micro = f"{mg:.3f}" if points == 100 else "-"
        faster = f"{mg / gg:,.0f}x faster" if points == 100 else "-"
        print(f"| {points:,} | {micro} | {gg:.5f} | {th:.5f} | {faster} | {gg / th:.2f}x torch's time |")

    print("\nThe same step by replay and by torch as the batch and the layers grow (seconds per step):\n")
    print("| points | width | replay | torch | replay / torch | replay's setup (once) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for points, width in SIZES:
        gg, th = step(points, width, "gategrad"), step(points, width, "torch")
        setup = median(f"train_step/{points}/{width}/gategrad", "setup_seconds")
        print(f"| {points:,} | {width} | {gg:.4g} | {th:.4g} | {gg / th:.2f} | {setup:.3g} |")

    worst = 0.0
    for points, width in SIZES:
        mine, theirs = (runs[f"train_step/{points}/{width}/{e}"][0]["losses"] for e in ("gategrad", "torch"))
        worst = max([worst] + [abs(a - b) / abs(b) for a, b in zip(mine, theirs, strict=True)])
    micro_losses = runs["train_step/100/16/micrograd"][0]["losses"]
    replay_losses = runs["train_step/100/16/gategrad"][0]["losses"]
    print(
        f"\nreplay's losses against torch's, every size and step: largest relative difference {worst:.1e}; "
        f"replay's first demo loss {'equals' if replay_losses[0] == micro_losses[0] else 'differs from'} micrograd's"
    )

    reference = runs["mlp_step/micrograd"][0]["losses"]
    for key in ("mlp_step/gategrad", "binary_adds/gategrad", "nn_step/gategrad"):
        other = runs["nn_step/micrograd" if key.startswith("nn_") else "mlp_step/micrograd"][0]["losses"]
        mine = runs[key][0]["losses"]
        exact = mine[0] == other[0]
        close = all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(mine, other, strict=True))
        print(f"\n{key}: first loss identical to micrograd's: {exact}; every loss within 1e-12: {close}", end="")
    print(f"\n(reference first loss {reference[0]!r})")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
