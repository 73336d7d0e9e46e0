"""`gategrad explain`: an expression's circuit walked gate by gate, as text, JSON, frames or a page."""

from __future__ import annotations

import argparse
import json

from gategrad import viz
from gategrad.cli.common import CommandError, Parser, output_path
from gategrad.explain import expr, lang, mistakes, walkthrough


def add(commands: argparse._SubParsersAction[Parser]) -> None:
    explain = commands.add_parser(
        "explain",
        help="walk backpropagation through an expression, gate by gate",
        description=(
            "Build the circuit of EXPR at the given values, then print its forward pass, its backward pass "
            "one gate at a time, and each input's gradient. Put -- before an EXPR that starts with a minus: "
            "gategrad explain -- '-x*y' x=2 y=3"
        ),
    )
    explain.add_argument("expression", metavar="EXPR", help="e.g. '2*(x*y + max(z, w))'")
    explain.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for each name, e.g. x=3 y=-4")
    explain.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    explain.add_argument(
        "--svg-dir", type=output_path, metavar="DIR", help="also write one SVG frame per step into DIR"
    )
    explain.add_argument(
        "--html", type=output_path, metavar="FILE", help="also write a page that steps through the walk in a browser"
    )
    explain.add_argument(
        "--lang",
        choices=lang.languages(),
        default=lang.ENGLISH,
        metavar="LANG",
        help=f"the language of the walk, the lab and the page: {', '.join(lang.languages())}; default: en",
    )
    explain.add_argument(
        "--mistake",
        choices=mistakes.MISTAKES,
        help="the misconception lab: walk the circuit the right way and this wrong way side by side, up to the "
        "first step where they part, and say why (a subexpression written twice is computed once, so its "
        "gate's output is used twice)",
    )
    explain.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.mistake is not None and (args.html is not None or args.svg_dir is not None):
        raise CommandError(
            "explain: --mistake prints its walks as text or --json; it does not draw (--html, --svg-dir)"
        )
    try:
        t = lang.translator(args.lang)
    except ValueError as e:  # a catalogue that cannot be read
        raise CommandError(f"explain: {e}") from None
    try:
        circuit = expr.build(args.expression, expr.parse_values(args.values), share=args.mistake is not None)
    except expr.ExpressionError as e:
        raise CommandError(f"explain: {e}") from None
    if args.mistake is not None and not circuit.output.children:
        raise CommandError(f"explain: --mistake needs a circuit with a gate; {args.expression!r} is a lone input")
    steps = walkthrough.walk(circuit.output)  # the walk is taken once; every output below renders it
    try:
        lab = None if args.mistake is None else mistakes.compare(circuit.output, steps, args.mistake)
    except RecursionError:
        raise CommandError(
            "explain: the recursive walk went deeper than Python's recursion limit (about 1,000 nested calls), "
            "as micrograd's does on a deep circuit; the sorted walk has no such limit"
        ) from None
    paths = []
    if args.svg_dir is not None or args.html is not None:
        try:
            frames = viz.walkthrough_frames(circuit.output, steps, lang=args.lang)
            if args.svg_dir is not None:
                paths = viz.render_walkthrough(circuit.output, args.svg_dir, frames=frames)
            if args.html is not None:
                viz.Stepper(circuit.output, frames=frames, lang=args.lang).save(args.html)
        except OSError as e:
            raise CommandError(f"explain: cannot write {e.filename or 'the files'}: {e.strerror or e}") from None
        except (viz.GraphvizNotInstalled, ValueError) as e:
            raise CommandError(f"explain: {e}") from None
    if args.json:
        report = walkthrough.to_json(circuit.expression, circuit.output, circuit.inputs, steps, args.lang)
        if lab is not None:
            report["mistake"] = mistakes.lab_json(lab, circuit.inputs, args.lang)
        print(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    elif lab is not None:
        print(mistakes.format_lab(lab, circuit.expression, circuit.inputs, args.lang))
    else:
        print(walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps, args.lang))
        if paths:
            where = {"n": len(paths), "dir": args.svg_dir, "first": paths[0].name, "last": paths[-1].name}
            wrote = (
                t.gettext("Wrote 1 frame to {dir}: {first}, the forward pass")
                if len(paths) == 1
                else t.ngettext(
                    "Wrote {n} frame to {dir}: {first} (the forward pass) to {last}",
                    "Wrote {n} frames to {dir}: {first} (the forward pass) to {last}",
                    len(paths),
                )
            )
            print("\n" + wrote.format(**where))
        if args.html is not None:
            print("\n" + t.gettext("Wrote the stepper to {path}: open it in a browser").format(path=args.html))
    return 0
