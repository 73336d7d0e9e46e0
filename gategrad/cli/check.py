"""`gategrad check`: referee a backprop written by hand in numpy."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from pathlib import Path

from gategrad import check
from gategrad.cli.common import CommandError


def add(commands: argparse._SubParsersAction) -> None:
    checker = commands.add_parser(
        "check",
        help="check a numpy backprop written by hand against the engine",
        description=(
            "Import FILE.py, your own code, which defines params() (a dict of name -> float array), loss(p) "
            "(the forward pass in numpy) and grads(p) (your backprop: a dict of name -> gradient). Run loss(p) "
            "on arrays of Values, backpropagate through it, and compare each of your gradients with the true "
            "one, walking back from the loss. Every array loss(p) assigns to a name (z1 = X @ p['W1'] + ...) "
            "is checked under that name too when grads(p) returns it. A wrong gradient is named as a teacher "
            "would, with the fix: mask (relu's mask forgotten), derivative_at_output (σ' or tanh' at the "
            "activation), missing_path (a value used twice given one use's gradient), regularization, "
            "label_entries (the -1 of p - onehot), wrong_operand (an array changed in place), shape, "
            "transposed, scale, zero, nonfinite or other. "
            "Exit code 0 when every gradient agrees, 1 when one does not, 2 for an error."
        ),
    )
    checker.add_argument("file", type=Path, metavar="FILE.py", help="your file with params(), loss(p), grads(p)")
    checker.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    checker.add_argument("--lang", default="en", help="the language of the report and its diagnoses: en, zh or ru")
    checker.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        with contextlib.redirect_stdout(sys.stderr):  # what the file prints must not mix with the report
            report = check.check_file(args.file, lang=args.lang)
    except (check.CheckError, ValueError) as e:
        if not isinstance(e, check.CheckError) and not str(e).startswith("unknown language"):
            raise
        raise CommandError(f"check: {e}") from None
    except Exception as e:
        trace = _traceback_in(e, args.file)
        if trace is None:
            raise
        print(f"error: check: {args.file} raised an exception:\n{trace}", file=sys.stderr, end="")
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(report)
    return 0 if report.ok else 1


def _traceback_in(error: BaseException, path: Path) -> str | None:
    """`error`'s traceback with only the frames in the file at `path`, or None when none is there."""
    where = str(path.resolve())
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == where]
    if isinstance(error, SyntaxError) and error.filename == where:
        return "".join(traceback.format_exception_only(error))
    if not frames:
        return None
    return "".join(
        [
            "Traceback (most recent call last):\n",
            *traceback.format_list(frames),
            *traceback.format_exception_only(error),
        ]
    )
