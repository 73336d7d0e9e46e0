"""How long a class's exercise pack takes to make and to grade, per kind.

    python benchmarks/exercise_pack.py [--students 300] [--kinds circuit,net,bug]

For a roster of N students, times `new_pack` (every variant, sheet, key and drawing) and `grade_pack`
(with every answer file filled with the key's answers), and prints the seconds per student and the
pack's size on disk.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from gategrad.exercise import grade_pack, new_pack


def measure(kind: str, students: int, folder: Path) -> tuple[float, float, int]:
    roster = folder / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{k:04d}\n" for k in range(students)), encoding="utf-8")
    out = folder / kind
    start = time.perf_counter()
    ids = new_pack(roster, kind, 2026, "en", out)
    made = time.perf_counter() - start
    for sid in ids:
        key = json.loads((out / "key" / f"{sid}.json").read_text(encoding="utf-8"))
        (out / "answers" / f"{sid}.json").write_text(json.dumps({"student": sid, "answers": key["answers"]}))
    start = time.perf_counter()
    results = grade_pack(out)
    graded = time.perf_counter() - start
    assert all(g.score == g.maximum for g in results)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return made, graded, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--kinds", default="circuit,net,bug")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for kind in args.kinds.split(","):
            made, graded, size = measure(kind, args.students, Path(folder))
            print(
                f"{kind:8} {args.students} students: made in {made:.1f} s ({made / args.students * 1000:.0f} ms each), "
                f"graded in {graded:.2f} s, {size / 1e6:.1f} MB"
            )


if __name__ == "__main__":
    main()
