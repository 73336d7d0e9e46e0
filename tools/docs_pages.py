"""The site's generated pages, added at build time: an mkdocs hook (mkdocs.yml's `hooks:`).

reference/gates.md is the gate table read from `GATES`, and reference/cli.md the command line read from
`build_parser()`: neither is ever copied by hand, so a new gate or a new flag shows up on the next build.
"""

import argparse
from collections.abc import Iterable, Iterator

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from gategrad.cli import build_parser
from gategrad.engine.gates import FUNCTIONS, GATES, Gate

OPERANDS = "ab"


def cell(text: str) -> str:
    """Plain text made safe for a Markdown table cell: no pipe ends the cell, no star starts emphasis."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("<", "&lt;").replace("\n", " ")


def code(text: str) -> str:
    """A code span for a table cell (a pipe inside it still needs its escape there)."""
    return "`" + text.replace("|", "\\|") + "`"


def table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def local_gradients(gate: Gate) -> str:
    """Each operand's local gradient; the last one also serves any further inputs (add's n inputs)."""
    if gate.op == "add":
        return f"{code(gate.local[0])} for every input"
    if len(gate.local) == 1:
        return code(gate.local[0])
    return ", ".join(f"{code(local)} for {name}" for name, local in zip(OPERANDS, gate.local))


def gates_page() -> str:
    rows = []
    for gate in GATES.values():
        written = code(gate.python)
        if gate.function:
            written += f", {code(gate.function + '(…)')} in `explain`"
        rows.append(
            [
                f"**{gate.op}**",
                cell(gate.symbol),
                written,
                code(gate.forward),
                local_gradients(gate),
                code(gate.torch),
                "bit for bit" if gate.torch_ulps == 0 else f"within {gate.torch_ulps} ulps",
                gate.activation.torch_module if gate.activation else "",
            ]
        )
    header = ["gate (`op`)", "symbol", "you write", "forward", "local gradient", "torch", "against torch", "activation"]
    sentences = []
    for gate in GATES.values():
        sentences.append(f"### {gate.op}\n")
        for case, template in gate.sentences.items():
            if isinstance(template, str):
                sentences.append(f"- *{cell(case)}*: {cell(template)}")
            else:  # (singular, plural): ngettext picks by the number of inputs {n}
                sentences.append(f"- *{cell(case)}*, n = 1: {cell(template[0])}")
                sentences.append(f"- *{cell(case)}*, n > 1: {cell(template[1])}")
        sentences.append("")
    functions = table(["function", "what it computes"], ([code(name), cell(text)] for name, text in FUNCTIONS.items()))
    return f"""---
hide:
  - navigation
---

# The gates

This page is generated from `gategrad.engine.GATES` (`gategrad/engine/gates.py`) each time the site is
built: one row per gate, as the table holds it. A gate's operands are `a` and `b`, its output is `out`;
the forward and local-gradient expressions are the ones replay runs on numpy arrays and the training page
runs on numbers, in the functions listed below. "Against torch" is what the tests hold each gate to
against torch 2.13 in float64, and "activation" the
`torch.nn` module a layer with that activation becomes in `model.to_torch()`.

{table(header, rows)}
[Gates and backward](../tutorials/gates.md#the-gates) says how subtraction, constants and ties are handled;
[adding a gate](../tutorials/gates.md#adding-a-gate) says how a new row gets here.

## The functions of the expressions

{functions}
## What the walk says

Each gate's sentences, by case: a step of the walk takes the case its numbers call for, and fills in the
names and numbers in braces. These are the English templates; the Chinese and Russian ones are in the
catalogues (see [In your language](../tutorials/languages.md)).

""" + "\n".join(sentences)


Parser = argparse.ArgumentParser


def commands(parser: Parser, prefix: str = "gategrad") -> Iterator[tuple[str, Parser]]:
    """Every command under `parser` with its full name, depth first: `gategrad exercise`, then its `new`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from commands(sub, f"{prefix} {name}")


def options(parser: argparse.ArgumentParser) -> str:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        choices = [code(str(choice)) for choice in action.choices or ()]
        if isinstance(action, argparse._SubParsersAction):
            rows.append(["COMMAND", "", "one of: " + ", ".join(choices) + " (each below)"])
            continue
        name = ", ".join(action.option_strings) or str(action.metavar or action.dest)
        about = ("**required**: " if action.required and action.option_strings else "") + cell(action.help or "")
        if action.nargs == 0 or not action.option_strings:
            takes = ""
        elif action.metavar is None and choices:
            takes = " ".join(choices)
        else:
            takes = code(str(action.metavar or action.dest.upper()))
            about += f" (one of: {', '.join(choices)})" if choices else ""
        rows.append([code(name), takes, about])
    return table(["argument", "takes", "what it does"], rows)


def slug(name: str) -> str:
    return name.replace(" ", "-")


def cli_page() -> str:
    every = list(commands(build_parser()))
    sections = []
    for name, sub in every:
        level = "#" * name.count(" ") + "#"
        usage = sub.format_usage().strip()
        sections.append(f"{level} {name}\n\n```text\n{usage}\n```\n\n{cell(sub.description or '')}\n\n{options(sub)}")
    listing = "\n".join(f"{'  ' * (name.count(' ') - 1)}- [`{name}`](#{slug(name)})" for name, _ in every)
    return f"""# The command line

This page is generated from the `gategrad` command's own parser (`gategrad/cli/`) each time the site is
built: every command, every argument and its help, as `gategrad COMMAND --help` prints them. The
[command line tutorial](../tutorials/cli.md) shows them at work.

{listing}

A mistake on the command line (an unknown option, a malformed expression, a file that cannot be read or
written) is one line on stderr and exit code 2.

""" + "\n".join(sections)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """mkdocs calls this once the docs' files are known: the generated pages join them, before the nav is built."""
    files.append(File.generated(config, "reference/gates.md", content=gates_page()))
    files.append(File.generated(config, "reference/cli.md", content=cli_page()))
    return files
