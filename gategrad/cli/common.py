"""What every subcommand shares: the one-line error, the parser that raises it, paths to write to."""

from __future__ import annotations

import argparse
from pathlib import Path


class CommandError(Exception):
    """A user's mistake on the command line: printed as one line, exit code 2."""


def output_path(text: str) -> Path:
    """A path to write to; an empty one would mean the current folder."""
    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty string")
    return Path(text)


class Parser(argparse.ArgumentParser):
    """An argparse parser whose mistakes are a CommandError, not a usage dump and exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandError(f"{self.prog}: {message}")
