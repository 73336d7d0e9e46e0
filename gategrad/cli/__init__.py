"""The `gategrad` command line: one subcommand per task, errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from gategrad.cli import check, demo, evaluate, exercise, explain, playground, train
from gategrad.cli.common import CommandError, Parser

# One example a command: `gategrad` alone lists the commands with them, and so does `gategrad --help`.
EXAMPLES = {
    "explain": "gategrad explain '2*(x*y + max(z, w))' x=3 y=-4 z=2 w=-1",
    "train": "gategrad train --dataset moons --save moons.json --record run.html",
    "eval": "gategrad eval --model moons.json --dataset moons",
    "predict": "gategrad predict --model houses.json --csv houses.csv",
    "demo": "gategrad demo",
    "check": "gategrad check my_backprop.py",
    "playground": "gategrad playground",
    "exercise": "gategrad exercise new --kind circuit --students roster.csv --seed 2026 --out pack",
}


def build_parser() -> Parser:
    """The parser of every subcommand; each parsed command's `run` handles it."""
    parser = Parser(
        prog="gategrad",
        description="See backpropagation gate by gate.",
        epilog="examples:\n" + "\n".join(f"  {example}" for example in EXAMPLES.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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


def overview(parser: Parser) -> str:
    """What `gategrad` alone prints: the usage, then each command with what it does and an example."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    width = max(map(len, commands.choices))
    lines = ["usage: gategrad COMMAND [options]", "", f"{parser.description} The commands, each with an example:", ""]
    for choice in commands._choices_actions:
        lines.append(f"  {choice.dest:<{width}}  {choice.help}")
        lines.append(f"  {'':<{width}}    {EXAMPLES[choice.dest]}")
    lines += ["", "gategrad COMMAND --help lists a command's options."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code. Without a command it prints `overview` on stderr, exit code 2."""
    if sys.stdout is None:  # started with its standard output closed (`>&-`)
        print("error: gategrad: the standard output is closed, so nothing could be written", file=sys.stderr)
        return 2
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv:
        print(overview(parser), file=sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
        code = int(args.run(args))
        sys.stdout.flush()  # a full disk (/dev/full) fails here, where it can be told, not at exit
        return code
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
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
