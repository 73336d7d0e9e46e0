"""Peak memory of `gategrad train --csv` and `predict` on a CSV file at the size limit, against the file's size.

    python benchmarks/csv_limit.py [--megabytes 64] [--steps 5]

Writes a CSV of MEGABYTES MiB of short rows (`x,label`, about 8 bytes a row: the most rows the limit
allows, and so the most Python objects per byte), trains a small net on it (--hidden 4, mini-batches
of 32, saved), then predicts every row, each command in a fresh process whose peak resident memory
(VmHWM) it reports; stdout goes to /dev/null, where tests/peak.py would keep predict's rows in a buffer.
The target is a peak of at most 10 times the file's size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN = """
import contextlib, json, os, resource, sys
from gategrad.cli import main


def peak():
    # VmHWM is this program's own high-water mark; ru_maxrss also keeps the forking parent's size across exec
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
    code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "peak": peak()}))
"""


def peak(argv: list[str]) -> tuple[int, float]:
    """The peak resident bytes of `gategrad ARGV` in a fresh process, and its wall time."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(argv)], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    if result["code"] != 0:
        raise SystemExit(f"gategrad {' '.join(argv)} exited {result['code']}: {done.stderr}")
    return result["peak"], time.perf_counter() - start


def write_csv(path: Path, megabytes: float) -> int:
    """Short rows of one feature and a two-class label, up to `megabytes` MiB; returns the rows."""
    limit = int(megabytes * 2**20)
    rows = ["x,label\n"]
    size, i = len(rows[0]), 0
    while True:
        row = f"{(i * 37) % 1000 / 100:.2f},{'ab'[i % 2]}\n"
        if size + len(row) > limit:
            break
        rows.append(row)
        size += len(row)
        i += 1
    path.write_text("".join(rows))
    return i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=64.0)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        csv, model = Path(folder) / "big.csv", Path(folder) / "model.json"
        rows = write_csv(csv, args.megabytes)
        size = csv.stat().st_size
        train = ["train", "--csv", str(csv), "--target", "label", "--hidden", "4", "--steps", str(args.steps)]
        train += ["--batch-size", "32", "--quiet", "--save", str(model)]
        figures = {"train": peak(train), "predict": peak(["predict", "--model", str(model), "--csv", str(csv)])}
    mb = 2**20
    print(f"{rows:,} rows, {size / mb:.1f} MiB of CSV (the limit is 64 MiB)\n")
    print("| command | peak RSS | peak / file size | wall time |")
    print("| --- | ---: | ---: | ---: |")
    for name, (bytes_, seconds) in figures.items():
        print(f"| {name} | {bytes_ / mb:.0f} MiB | {bytes_ / size:.1f}x | {seconds:.0f} s |")


if __name__ == "__main__":
    main()
