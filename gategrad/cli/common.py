"""What the subcommands share: the one-line error, the parser that raises it, checked arguments."""

from __future__ import annotations

import argparse
import math
import re
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
    """An argparse parser whose mistakes are a CommandError, not a usage dump and exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse quotes the user's word and lists every choice: cut both, as every message does
        message = re.sub(f"'([^']{{{LIMIT + 1},}})'", lambda m: quoted(m.group(1)), message)
        raise CommandError(f"{self.prog}: {cut(message, 4 * LIMIT)}")
