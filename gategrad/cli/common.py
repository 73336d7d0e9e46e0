"""What the subcommands share: the one-line error, the parser that raises it, checked arguments."""

from __future__ import annotations

import argparse
import difflib
import math
import re
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from gategrad import data
from gategrad.explain import lang
from gategrad.text import LIMIT, cut, quoted

T = TypeVar("T")


class CommandError(Exception):
    """A user's mistake on the command line: printed as one line, exit code 2."""


def output_path(text: str) -> Path:
    """A path to write to; an empty one would mean the current folder."""
    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    return Path(text)


def checked(parse: Callable[[str], T], expected: str, ok: Callable[[T], bool], refusal: str) -> Callable[[str], T]:
    """An argparse type: `parse` the text, else say "expected {expected}"; then refuse a value that is not `ok`.

    `refusal` is a format string of the given `text` and the parsed `value`.
    """

    def convert(text: str) -> T:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {quoted(text)}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(refusal.format(text=cut(text), value=value))
        return value

    return convert


def _sizes(text: str) -> list[int]:
    return [int(part) for part in text.split(",")] if text.strip() else []


positive_int = checked(int, "a whole number", lambda n: n >= 1, "must be at least 1, got {value}")
fraction = checked(float, "a number", lambda x: 0.0 < x < 1.0, "must be between 0 and 1, got {text}")
rate = checked(float, "a number", lambda x: 0.0 <= x < math.inf, "must be a finite number >= 0, got {text}")
layer_sizes = checked(
    _sizes,
    "layer sizes such as 16,16",
    lambda sizes: all(n >= 1 for n in sizes),
    "layer sizes must be at least 1, got {text!r}",
)


def add_lang(parser: argparse.ArgumentParser, what: str, note: str = "") -> None:
    """The `--lang` option, one per command: `what` is what it translates."""
    known = ", ".join(lang.languages())
    parser.add_argument(
        "--lang",
        choices=lang.languages(),
        default=lang.ENGLISH,
        metavar="LANG",
        help=f"the language of {what}: {known}; default: en{note}. Error messages stay English",
    )


def read_csv(command: str, path: Path, **options: Any) -> data.Table:
    """`data.load_csv(path, **options)`, its errors made one line of the command's."""
    try:
        return data.load_csv(path, **options)
    except data.CSVError as e:
        raise CommandError(f"{command}: {e}") from None
    except OSError as e:
        raise CommandError(f"{command}: cannot read {path}: {e.strerror or e}") from None


def read_rows(command: str, path: Path, features: Sequence[str]) -> tuple[list[str], Iterator[Any]]:
    """`data.read_rows(path, features)`, its errors (also those met row by row) made one line of the command's."""
    try:
        header, rows = data.read_rows(path, features)
    except data.CSVError as e:
        raise CommandError(f"{command}: {e}") from None
    except OSError as e:
        raise CommandError(f"{command}: cannot read {path}: {e.strerror or e}") from None

    def checked_rows() -> Iterator[Any]:
        try:
            yield from rows
        except data.CSVError as e:
            raise CommandError(f"{command}: {e}") from None

    return header, checked_rows()


class Parser(argparse.ArgumentParser):
    """An argparse parser whose mistakes are a CommandError, not a usage dump and exit.

    A misspelt option, command or choice is named with the closest one ("did you mean --steps?"),
    and an argument that starts with a minus but is no option gets the hint to put -- before it.
    """

    given: list[str] = []  # what this parser was last asked to parse

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self.given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse quotes the user's word and lists every choice: cut both, as every message does
        message = re.sub(f"'([^']{{{LIMIT + 1},}})'", lambda m: quoted(m.group(1)), message)
        said = _unknown_option(self) or _closest_choice(self.prog, message) or f"{self.prog}: {message}"
        raise CommandError(cut(said, 4 * LIMIT))


_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")  # what argparse reads as a number, not an option
_INVALID_CHOICE = re.compile(r"invalid choice: '(.*)' \(choose from (.*)\)$")


def _unknown_option(parser: Parser) -> str | None:
    """The first option given that `parser`, or the command it handed over to, does not know, said with a hint."""
    commands = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    tokens = parser.given
    for at, token in enumerate(tokens):
        if token == "--":
            return None
        if commands is not None and token in commands.choices:
            before = _unknown_in(parser, tokens[:at])
            command = commands.choices[token]
            return before or (_unknown_option(command) if isinstance(command, Parser) else None)
    return _unknown_in(parser, tokens)


def _unknown_in(parser: argparse.ArgumentParser, tokens: list[str]) -> str | None:
    options = [option for action in parser._actions for option in action.option_strings]
    for at, token in enumerate(tokens):
        if token == "--":
            return None
        if not token.startswith("-") or token == "-" or " " in token or _NEGATIVE_NUMBER.match(token):
            continue  # argparse reads these as values, not options
        name = token.split("=", 1)[0] if token.startswith("--") else token
        if name in options or any(o.startswith(name) for o in options if token.startswith("--")):
            continue  # known, or the start of one (argparse itself says when it is ambiguous)
        if token[:2] in options and not token.startswith("--"):
            continue  # a short option with its value attached, as -h would be
        close = difflib.get_close_matches(name, [o for o in options if o.startswith("--")], n=1)
        if close:
            return f"{parser.prog}: unknown option {name}; did you mean {close[0]}?"
        takes_values = any(
            not action.option_strings and not isinstance(action, argparse._SubParsersAction)
            for action in parser._actions
        )
        if takes_values and not token.startswith("--"):  # a single minus: this may be one of its values
            rest = [t for t in tokens[at + 1 :] if not t.startswith("-")]
            return (
                f"{parser.prog}: {token!r} starts with a minus, so it reads as an option; to give it as a value, "
                f"put -- before it: {parser.prog} -- {shlex.join([token, *rest])}"
            )
        return f"{parser.prog}: unknown option {name}; see {parser.prog} --help"
    return None


def _closest_choice(prog: str, message: str) -> str | None:
    """argparse's "invalid choice" message with the closest choice: a misspelt command, or --dataset."""
    found = _INVALID_CHOICE.search(message)
    if found is None:
        return None
    choices = re.findall(r"'([^']*)'", found[2])
    close = difflib.get_close_matches(found[1], choices, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    if message.startswith("argument command:"):
        return f"{prog}: no command {found[1]!r}{hint or '.'} The commands are {', '.join(choices)}."
    return f"{prog}: {message}{hint}"
