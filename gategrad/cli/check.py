"""`gategrad check`: referee a backprop written by hand in numpy, or a learner's own micrograd-style Value class."""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import sys
from pathlib import Path

from gategrad import check
from gategrad.check import referee, sandbox
from gategrad.cli.common import CommandError, Parser
from gategrad.explain import lang

NUMPY_FUNCTIONS = ("params", "loss", "grads")
TIMEOUT = 60.0  # seconds an engine check may take in its child process


def add(commands: argparse._SubParsersAction[Parser]) -> None:
    checker = commands.add_parser(
        "check",
        help="check a numpy backprop, or your own Value class, against the engine",
        description=(
            "Two checks. (1) FILE.py defines params() (a dict of name -> float array), loss(p) (the forward pass "
            "in numpy) and grads(p) (your backprop: a dict of name -> gradient): run loss(p) on arrays of Values, "
            "backpropagate through it, and compare each of your gradients with the true one, walking back from "
            "the loss. Every array loss(p) assigns to a name (z1 = X @ p['W1'] + ...) is checked under that name "
            "too when grads(p) returns it. A wrong gradient is named as a teacher would, with the fix: mask (relu's "
            "mask forgotten), derivative_at_output (σ' or tanh' at the activation), missing_path (a value used "
            "twice given one use's gradient), regularization, label_entries (the -1 of p - onehot), wrong_operand "
            "(an array changed in place), shape, transposed, scale, zero, nonfinite or other. (2) FILE.py defines "
            "or imports a micrograd-style class Value (data, grad, backward()) and no params/loss/grads, or "
            "FILE.py:ClassName names one: run small adversarial circuits and random ones on it and on gategrad's "
            "engine, in a child process with a time limit, and report each wrong value or gradient on the smallest "
            "circuit that shows it. Exit code 0 when every gradient agrees, 1 when one does not, 2 for an error."
        ),
    )
    checker.add_argument(
        "file", metavar="FILE.py[:ClassName]", help="your file with params(), loss(p), grads(p), or your Value class"
    )
    checker.add_argument("--json", action="store_true", help="print one JSON object instead of the text report")
    checker.add_argument(
        "--lang",
        choices=lang.languages(),
        default=lang.ENGLISH,
        metavar="LANG",
        help=f"the language of the report and its diagnoses: {', '.join(lang.languages())}; default: en",
    )
    checker.add_argument(
        "--timeout",
        type=float,
        default=TIMEOUT,
        metavar="SECONDS",
        help=f"stop checking a Value class after this long (an endless loop); default: {TIMEOUT:g}",
    )
    checker.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path, class_name = _target(args.file)
    if class_name is not None:
        return _run_engine(args, path, class_name)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # what the file prints must not mix with the report
            report = check.check_file(path, lang=args.lang)
    except check.CheckError as e:
        raise CommandError(f"check: {e}") from None
    except Exception as e:
        trace = referee.traceback_in(e, str(path.resolve()))
        if trace is None:
            raise
        print(f"error: check: {path} raised an exception:\n{trace}", file=sys.stderr, end="")
        return 2
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(report)
    return 0 if report.ok else 1


def _target(text: str) -> tuple[Path, str | None]:
    """The file, and the class to referee: the one named after a colon, Value for an engine file, None for numpy."""
    file, colon, name = text.rpartition(":") if text.rpartition(":")[2].isidentifier() else ("", "", "")
    if colon and file.endswith(".py"):
        return Path(file), name
    path = Path(text)
    return path, "Value" if _is_engine(path) else None


def _is_engine(path: Path) -> bool:
    """Whether the file defines or imports a name Value and none of params, loss, grads (read, not run)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return False  # the numpy check says what is wrong with the file
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return "Value" in names and not names & set(NUMPY_FUNCTIONS)


def _run_engine(args: argparse.Namespace, path: Path, class_name: str) -> int:
    if not path.is_file():
        raise CommandError(f"check: no such file: {path}")
    if path.suffix != ".py":
        raise CommandError(f"check: {path} is not a Python file (.py)")
    if not args.timeout > 0:
        raise CommandError(f"check: --timeout must be a positive number of seconds, got {args.timeout:g}")
    try:
        result = sandbox.run(path, class_name, args.lang, args.timeout)
    except sandbox.EngineRunError as e:
        message = str(e)
        if "\n" in message:  # the learner's traceback
            print(f"error: check: {message}", file=sys.stderr, end="" if message.endswith("\n") else "\n")
            return 2
        raise CommandError(f"check: {message}") from None
    if args.json:
        print(json.dumps(result.report, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(result.text)
    return 0 if result.ok else 1
