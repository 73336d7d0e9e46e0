"""Peak memory of `gategrad train --csv`, `eval --csv` and `predict` on a large CSV file, in copies of its data.

    python benchmarks/csv_memory.py [--rows 100000] [--features 4] [--steps 20] [--batch-size 32]

Writes a CSV of ROWS rows (FEATURES numeric columns and a string label) to a temporary folder,
then measures, each in a fresh process: the peak RSS of one that only imports gategrad's
command line, the bytes one copy of the data takes once read (X and y as Python lists, by
tracemalloc), and the peak RSS of train (mini-batches, a held-out fifth, saved), eval and
predict. "Copies" is (peak RSS - the import's) / one copy.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"
QUIET = "import contextlib, io, os; from gategrad.cli import main\nsink = open(os.devnull, 'w')\n"
TASKS = {
    "import": "import gategrad.cli",
    "one copy": (
        "import tracemalloc; tracemalloc.start(); from gategrad.data import load_csv\n"
        "before = tracemalloc.get_traced_memory()[0]; table = load_csv({csv!r}, target='label')\n"
        "print(tracemalloc.get_traced_memory()[0] - before)"
    ),
    "train": QUIET
    + (
        "with contextlib.redirect_stdout(sink): assert main(['train', '--csv', {csv!r}, '--target', 'label', "
        "'--hidden', '16', '--optimizer', 'adam', '--steps', {steps!r}, '--batch-size', {batch!r}, "
        "'--test-fraction', '0.2', '--quiet', '--save', {model!r}]) == 0"
    ),
    "eval": QUIET
    + "with contextlib.redirect_stdout(sink): assert main(['eval', '--model', {model!r}, '--csv', {csv!r}]) == 0",
    "predict": QUIET
    + "with contextlib.redirect_stdout(sink): assert main(['predict', '--model', {model!r}, '--csv', {csv!r}]) == 0",
}


def run(task: str, **paths: str) -> tuple[int, float]:
    """The last number the task prints (its peak RSS in bytes, or what it measured) and its wall time."""
    code = TASKS[task].format(**paths) + "\n" + (PEAK if task != "one copy" else "")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]), time.perf_counter() - start


def write_csv(path: Path, rows: int, features: int) -> None:
    """Three classes of points around three centres, with some overlap; seeded."""
    rng = random.Random(0)
    names = ["alpha", "beta", "gamma"]
    with open(path, "w") as f:
        f.write(",".join([*(f"x{j}" for j in range(features)), "label"]) + "\n")
        for i in range(rows):
            c = i % 3
            values = [rng.gauss(c * (j + 1) % 3, 1.0) for j in range(features)]
            f.write(",".join([*(f"{v:.6f}" for v in values), names[c]]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        csv, model = str(Path(folder) / "big.csv"), str(Path(folder) / "model.json")
        write_csv(Path(csv), args.rows, args.features)
        paths = {"csv": csv, "model": model, "steps": str(args.steps), "batch": str(args.batch_size)}
        figures = {"file bytes": Path(csv).stat().st_size}
        for task in TASKS:
            figures[task], figures[f"{task} seconds"] = run(task, **paths)
            print(json.dumps({task: figures[task]}), file=sys.stderr)

    mb = 2**20
    copy = figures["one copy"]
    size, imported = figures["file bytes"] / mb, figures["import"] / mb
    print(f"{args.rows:,} rows x {args.features} features + a label: {size:.1f} MB of CSV, {copy / mb:.1f} MB once")
    print(f"read (X and y as Python lists); importing gategrad.cli alone peaks at {imported:.0f} MB")
    print()
    print("| command | peak RSS | above the import | copies of the data | wall time |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for task in ("train", "eval", "predict"):
        above = figures[task] - figures["import"]
        print(
            f"| {task} | {figures[task] / mb:.0f} MB | {above / mb:.0f} MB | {above / copy:.1f} "
            f"| {figures[f'{task} seconds']:.1f} s |"
        )
    print(f"\ntrain: --batch-size {args.batch_size} --steps {args.steps} --hidden 16 --test-fraction 0.2 --save")


if __name__ == "__main__":
    main()
