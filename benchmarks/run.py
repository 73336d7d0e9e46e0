"""Run gategrad against micrograd 0.1.0, each workload in fresh processes, interleaved.

    python benchmarks/run.py [--rounds 5] [--json results.json]

Each round runs every (workload, engine) pair once, in a new Python process, alternating
which engine goes first; the table gives the median over rounds and the ratio
micrograd / gategrad. Times are CPU seconds of the measuring process
(time.process_time), which a shared machine disturbs less than wall-clock time.
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
# (key, workload, arguments): each is run for both engines in every round
PAIRED = [
    ("mlp_step", "mlp_step", {}),
    ("mlp_step_gc_paused", "mlp_step", {"gc_paused": True}),
    ("nn_step", "nn_step", {}),
    ("bytes_per_node", "bytes_per_node", {}),
]


def measure(workload: str, engine: str, **kwargs: object) -> dict:
    cmd = [sys.executable, str(HERE / "workloads.py"), workload, engine, json.dumps(kwargs)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
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
