"""The `gategrad` command line: one subcommand per task, errors as one line and exit code 2."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from gategrad import nn
from gategrad.cli import check, demo, evaluate, exercise, explain, playground, train
from gategrad.cli.common import CommandError, Parser


def build_parser() -> Parser:
    """The parser of every subcommand; each parsed command's `run` handles it."""
    parser = Parser(prog="gategrad", description="See backpropagation gate by gate.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    explain.add(commands)
    train.add_train(commands)
    evaluate.add_eval(commands)
    evaluate.add_predict(commands)
    demo.add(commands)
    check.add(commands)
    playground.add(commands)
    exercise.add(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    if sys.stdout is None:  # started with its standard output closed (`>&-`)
        print("error: gategrad: the standard output is closed, so nothing could be written", file=sys.stderr)
        return 2
    try:
        args = build_parser().parse_args(argv)
        code = int(args.run(args))
        sys.stdout.flush()  # a full disk (/dev/full) fails here, where it can be told, not at exit
        return code
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except nn.TrainingDiverged as e:
        print(f"error: train: {e}; nothing was saved", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left early (as `gategrad explain ... | head` does): stop without a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as e:
        if e.filename is not None:  # a file's error: each command names its own files
            raise
        print(f"error: cannot write the output: {e.strerror or e}", file=sys.stderr)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the flush at exit cannot fail again
        return 2
