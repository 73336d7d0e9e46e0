"""`gategrad demo`: a tour of the other commands in one."""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path

from gategrad import files, viz
from gategrad.cli.common import CommandError, Parser, add_lang
from gategrad.explain import expr, lang, walkthrough

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
    add_lang(demo, "the tour: its words, walk, pictures, pages and training lines")
    demo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"demo: cannot make the folder {out}: {e.strerror or e}") from None
    written = []
    t = lang.translator(args.lang)
    language = [] if args.lang == lang.ENGLISH else ["--lang", args.lang]

    explain = shlex.join(["explain", DEMO_EXPRESSION, *DEMO_VALUES, *language])
    print(t.gettext("1. Backpropagation, gate by gate") + f"\n$ gategrad {explain}\n")
    circuit = expr.build(DEMO_EXPRESSION, expr.parse_values(DEMO_VALUES))
    steps = walkthrough.walk(circuit.output)  # leaves the gradients backward() would, for the picture
    print(walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps, args.lang))
    try:
        picture = viz.draw_dot(circuit.output, color_grads=True, lang=args.lang)
        files.atomic_write(out / "circuit.svg", picture.pipe())
        frames = viz.walkthrough_frames(circuit.output, steps, lang=args.lang)
        viz.Stepper(circuit.output, frames=frames, lang=args.lang).save(out / "walkthrough.html")
        written += [
            ("circuit.svg", t.gettext("the circuit and its gradients")),
            ("walkthrough.html", t.gettext("the stepper: open it in a browser")),
        ]
    except viz.GraphvizNotInstalled as e:
        print("\n" + t.gettext("skipped the pictures: {why}").format(why=e), file=sys.stderr)
    except files.FileRefused as e:
        raise CommandError(f"demo: cannot write {e.path}: {e.reason}") from None
    except OSError as e:
        raise CommandError(f"demo: cannot write {e.filename or out}: {e.strerror or e}") from None

    train = ["train", "--save", str(out / "model.json"), "--record", str(out / "run.html"), *language]
    plotted = importlib.util.find_spec("matplotlib") is not None
    if plotted:
        train += ["--plot", str(out / "boundary.png")]
    else:
        skipped = t.gettext("skipped the decision boundary: it needs matplotlib ({command})")
        print("\n" + skipped.format(command="pip install 'gategrad[plot]'"), file=sys.stderr)
    print("\n" + t.gettext("2. micrograd's moons demo, trained on gategrad") + f"\n$ gategrad {shlex.join(train)}\n")
    from gategrad.cli import build_parser  # the parser of every command, this one's too: imported when run

    parsed = build_parser().parse_args([*train, *(["--quiet"] if args.quiet else [])])
    parsed.run(parsed)
    evaluate = shlex.join(["eval", "--model", str(out / "model.json"), "--dataset", "moons", *language])
    written.append(("model.json", t.gettext("the model: {command}").format(command=f"gategrad {evaluate}")))
    written.append(("run.html", t.gettext("the training run, step by step: open it in a browser")))
    if plotted:
        written.append(("boundary.png", t.gettext("its decision boundary")))

    print("\n" + t.gettext("The files are in {dir}:").format(dir=out.resolve()))
    for name, what in written:
        print(f"  {name:<17} {what}")
    return 0
