"""Peak memory of `gategrad eval` against the model's own size, each figure from a fresh process.

    python benchmarks/eval_memory.py [--hidden 200,1000] [--keep-circuits 200]

For MLP(2, [H, H, 1]) saved to a temporary folder, prints the file's size, the peak RSS of a
process that only loads it, and the peak RSS of `gategrad eval` on moons (100 points). With
--keep-circuits H, it also measures the way eval worked before (every sample's circuit kept
until accuracy is taken) for those sizes: that one grows with the dataset, so keep H small.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

PEAK = "import resource; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"
TASKS = {
    "load": "from gategrad import nn; nn.load({path!r})",
    "eval": (
        "import contextlib, io; from gategrad.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['eval', '--model', {path!r}, '--dataset', 'moons'])"
    ),
    "keep-circuits": (
        "from gategrad import nn; from gategrad.data import make_moons\n"
        "X, y = make_moons(100, noise=0.1, seed=0); model = nn.load({path!r})\n"
        "nn.accuracy([model(x) for x in X], y)"
    ),
}


def peak_rss(task: str, path: Path) -> int:
    """Peak resident memory in bytes of a fresh Python process running `task` on the model file."""
    code = TASKS[task].format(path=str(path)) + "\n" + PEAK
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="200,1000", help="hidden sizes H to measure, comma-separated")
    parser.add_argument("--keep-circuits", default="200", help="sizes to also measure the old way ('' for none)")
    args = parser.parse_args()
    from gategrad import nn

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for h in (int(s) for s in args.hidden.split(",")):
            path = Path(folder) / f"mlp-{h}.json"
            model = nn.MLP(2, [h, h, 1], seed=0)
            model.save(path)
            row = {"hidden": h, "parameters": len(model.parameters()), "file_bytes": path.stat().st_size}
            del model
            row["load_rss"] = peak_rss("load", path)
            row["eval_rss"] = peak_rss("eval", path)
            if str(h) in args.keep_circuits.split(","):
                row["keep_circuits_rss"] = peak_rss("keep-circuits", path)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)

    mb = 2**20
    print("| model | parameters | file | load: peak RSS | eval: peak RSS | kept every circuit (before) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        before = f"{r['keep_circuits_rss'] / mb:.0f} MB" if "keep_circuits_rss" in r else "not run"
        print(
            f"| MLP(2, [{r['hidden']}, {r['hidden']}, 1]) | {r['parameters']:,} | {r['file_bytes'] / mb:.1f} MB "
            f"| {r['load_rss'] / mb:.0f} MB | {r['eval_rss'] / mb:.0f} MB | {before} |"
        )


if __name__ == "__main__":
    main()
