"""`gategrad demo`: a tour of the other commands in one."""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path

from gategrad import files, viz
from gategrad.cli.common import CommandError, Parser
from gategrad.explain import expr, walkthrough

DEMO_EXPRESSION = "2*(x*y + max(z, w))"
DEMO_VALUES = ["x=3", "y=-4", "z=2", "w=-1"]


def add(commands: argparse._SubParsersAction[Parser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="a tour: one circuit walked gate by gate, drawn, then a small net trained on moons",
        description=(
            "Walk backpropagation through cs231n's circuit 2*(x*y + max(z, w)) gate by gate, draw it, "
            "then train micrograd's moons net, and write the pictures, a stepper page, the model and the recorded "
            "run into DIR."
        ),
    )
    demo.add_argument("--out", type=Path, default=Path("gategrad-demo"), metavar="DIR", help="default: ./gategrad-demo")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"demo: cannot make the folder {out}: {e.strerror or e}") from None
    written = []

    print(f"1. Backpropagation, gate by gate\n$ gategrad {shlex.join(['explain', DEMO_EXPRESSION, *DEMO_VALUES])}\n")
    circuit = expr.build(DEMO_EXPRESSION, expr.parse_values(DEMO_VALUES))
    steps = walkthrough.walk(circuit.output)  # leaves the gradients backward() would, for the picture
    print(walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps))
    try:
        files.atomic_write(out / "circuit.svg", viz.draw_dot(circuit.output, color_grads=True).pipe())
        viz.Stepper(circuit.output, frames=viz.walkthrough_frames(circuit.output, steps)).save(out / "walkthrough.html")
        written += [
            ("circuit.svg", "the circuit and its gradients"),
            ("walkthrough.html", "the stepper: open it in a browser"),
        ]
    except viz.GraphvizNotInstalled as e:
        print(f"\nskipped the pictures: {e}", file=sys.stderr)
    except files.FileRefused as e:
        raise CommandError(f"demo: cannot write {e.path}: {e.reason}") from None
    except OSError as e:
        raise CommandError(f"demo: cannot write {e.filename or out}: {e.strerror or e}") from None

    train = ["train", "--save", str(out / "model.json"), "--record", str(out / "run.html")]
    train += ["--plot", str(out / "boundary.png")]
    if importlib.util.find_spec("matplotlib") is None:
        del train[5:]
        print("\nskipped the decision boundary: it needs matplotlib (pip install 'gategrad[plot]')", file=sys.stderr)
    print(f"\n2. micrograd's moons demo, trained on gategrad\n$ gategrad {shlex.join(train)}\n")
    from gategrad.cli import build_parser  # the parser of every command, this one's too: imported when run

    parsed = build_parser().parse_args([*train, *(["--quiet"] if args.quiet else [])])
    parsed.run(parsed)
    written.append(
        ("model.json", f"the model: gategrad eval --model {shlex.quote(str(out / 'model.json'))} --dataset moons")
    )
    written.append(("run.html", "the training run, step by step: open it in a browser"))
    if len(train) > 5:
        written.append(("boundary.png", "its decision boundary"))

    print(f"\nThe files are in {out.resolve()}:")
    for name, what in written:
        print(f"  {name:<17} {what}")
    return 0
