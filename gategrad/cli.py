"""The `gategrad` command line: one subcommand per task, errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from gategrad import expr, viz, walkthrough


class CommandError(Exception):
    """A user's mistake on the command line: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gategrad", description="See backpropagation gate by gate.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # Each subcommand adds its parser here; its `run` default handles the parsed arguments.
    _add_explain(commands)
    return parser


def _add_explain(commands: argparse._SubParsersAction) -> None:
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
    explain.add_argument("--svg-dir", type=Path, metavar="DIR", help="also write one SVG frame per step into DIR")
    explain.set_defaults(run=_explain)


def _explain(args: argparse.Namespace) -> int:
    try:
        circuit = expr.build(args.expression, expr.parse_values(args.values))
    except expr.ExpressionError as e:
        raise CommandError(f"explain: {e}") from None
    paths = []
    if args.svg_dir is not None:
        try:
            paths = viz.render_walkthrough(circuit.output, args.svg_dir)
        except (viz.GraphvizNotInstalled, ValueError, OSError) as e:
            print(f"error: explain: {e}", file=sys.stderr)
            return 1
    steps = walkthrough.walk(circuit.output)
    if args.json:
        report = walkthrough.to_json(circuit.expression, circuit.output, circuit.inputs, steps)
        print(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps))
        if paths:
            print(
                f"\nWrote {len(paths)} frames to {args.svg_dir}: {paths[0].name} (the forward pass) to {paths[-1].name}"
            )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args))
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
