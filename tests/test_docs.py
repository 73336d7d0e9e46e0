"""The documentation's examples run and print what the pages say they print, and the site builds offline.

Every `python` block of README.md and docs/**/*.md is run, and each of its `# prints:` comments must be
the line it prints; the `gategrad ...` lines of the `sh` blocks parse, and the walks and runs they show
are what the commands print.
"""

import argparse
import contextlib
import html
import io
import re
import shlex
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import needs

from gategrad.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
TEXT = {page: page.read_text(encoding="utf-8") for page in PAGES}


def name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def blocks(language: str, page: Path | None = None) -> list[str]:
    """The code blocks of one language, in one page or in all of them (README first)."""
    pattern = rf"^```{language}\n(.*?)^```"
    return [block for p in ([page] if page else PAGES) for block in re.findall(pattern, TEXT[p], re.M | re.S)]


def python_examples():
    """Each python block as a pytest param named page:line; those that train a net or import torch are slow."""
    examples = []
    for page in PAGES:
        for found in re.finditer(r"^```python\n(.*?)^```", TEXT[page], re.M | re.S):
            code = found[1]
            line = TEXT[page].count("\n", 0, found.start()) + 1
            marks = [pytest.mark.slow] if re.search(r"\bfit\(|^import torch", code, re.M) else []
            examples.append(pytest.param(code, id=f"{name(page)}:{line}", marks=marks))
    return examples


def expected_output(code):
    """The text after each `# prints: ` comment, in order: one line of output each."""
    return re.findall(r"# prints: (.*)$", code, re.M)


YOUR_DATA = ROOT / "docs" / "tutorials" / "your-data.md"


@pytest.mark.needs_dot
@pytest.mark.parametrize("code", python_examples())
def test_each_python_example_prints_what_its_comments_say(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the stepper example writes files
    (tmp_path / "fruit.csv").write_text(blocks("csv", YOUR_DATA)[0])  # the file "Your own data" reads
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "docs", "exec"), {})
    assert out.getvalue().splitlines() == expected_output(code)


def test_there_are_python_examples_with_their_output():
    assert len(python_examples()) >= 15
    assert "print(x.grad, y.grad, z.grad)  # prints: -4.0 -4.0 3.0" in TEXT[ROOT / "README.md"]
    assert "print(x.grad, y.grad, z.grad)  # prints: -4.0 -4.0 3.0" in TEXT[ROOT / "docs" / "tutorials" / "gates.md"]


def commands():
    """Each `gategrad ...` command of the pages' shell blocks, continuation lines joined."""
    text = "\n".join(blocks("sh")).replace("\\\n", " ")
    return [shlex.split(line.split("  #")[0])[1:] for line in text.splitlines() if line.startswith("gategrad ")]


def test_every_documented_command_parses():
    documented = commands()
    known = {"explain", "train", "eval", "predict", "demo", "check", "playground", "exercise"}
    assert {argv[0] for argv in documented} == known
    for argv in documented:
        build_parser().parse_args(argv)


@pytest.mark.needs_dot
@pytest.mark.parametrize("argv", [c for c in commands() if c[0] == "explain"], ids=" ".join)
def test_every_documented_explain_runs(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0


def test_the_walk_shown_is_the_walk_explain_prints(capsys):
    (shown,) = [block for block in blocks("text") if block.startswith("Backward pass")]
    assert main(["explain", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert all(line in printed for line in shown.splitlines())


def test_your_own_data_runs_as_shown(tmp_path, monkeypatch, capsys):
    """The page's CSV file trains, evaluates to the numbers its comment shows, and predicts, as documented."""
    monkeypatch.chdir(tmp_path)
    (csv_text,) = blocks("csv")
    assert len(csv_text.splitlines()) == 10
    (tmp_path / "fruit.csv").write_text(csv_text)
    text = "\n".join(blocks("sh")).replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith("gategrad ") and "--csv fruit.csv" in line]
    assert [shlex.split(line)[1] for line in lines] == ["train", "train", "eval", "predict", "predict"]
    rows: list[str] = []  # what predict printed, which predict --out writes to its file
    for line in lines:
        command, _, comment = line.partition("  #")
        argv = shlex.split(command)[1:]
        assert main([*argv, "--quiet"] if argv[0] == "train" else argv) == 0
        out = capsys.readouterr().out
        if argv[0] == "eval":
            assert out == comment.strip().replace(", ", "\n") + "\n"
        if argv[0] == "predict" and "--out" in argv:  # the CSV in the file, one line said in the language
            assert out == comment.strip() + "\n"
            assert rows and (tmp_path / argv[argv.index("--out") + 1]).read_text().splitlines() == rows
        elif argv[0] == "predict":
            rows = out.splitlines()
            assert rows[0] == "width,height,weight,fruit,predicted_fruit,p_apple,p_cherry,p_pear"
            assert [row.split(",")[4] for row in rows[1:]] == [row.split(",")[3] for row in csv_text.splitlines()[1:]]


CHECK_BACKPROP = ROOT / "docs" / "tutorials" / "check-backprop.md"


def test_the_check_report_shown_is_what_check_prints_for_the_file_shown(tmp_path, monkeypatch, capsys):
    (source,) = [block for block in blocks("python", CHECK_BACKPROP) if block.startswith("# broken_backprop.py")]
    (shown,) = [block for block in blocks("text", CHECK_BACKPROP) if "First divergence" in block]
    (tmp_path / "broken_backprop.py").write_text(source)
    monkeypatch.chdir(tmp_path)
    assert main(["check", "broken_backprop.py"]) == 1
    assert capsys.readouterr().out == shown
    assert main(["check", "broken_backprop.py", "--json"]) == 1
    assert '"first_divergence": "z1"' in capsys.readouterr().out


def test_the_tolerance_the_docs_state_is_the_checks():
    from gategrad.check import RTOL

    assert RTOL == 1e-8
    assert "within **1e-8 × the largest |true| entry of that array**" in TEXT[CHECK_BACKPROP]


def test_the_readme_is_short_and_its_links_to_the_pages_work():
    readme = TEXT[ROOT / "README.md"]
    assert len(readme.splitlines()) <= 250
    linked = set(re.findall(r"\]\((docs/[\w/.-]+\.md)\)", readme))
    assert {"docs/install.md", "docs/tutorials/gates.md", "docs/tutorials/cli.md", "docs/performance.md"} <= linked
    assert all((ROOT / link).is_file() for link in linked)


GENERATED = {"reference/gates.md", "reference/cli.md"}  # made by tools/docs_pages.py when the site is built


def test_every_page_is_in_the_sites_nav():
    nav = re.findall(r":\s+([\w/.-]+\.md)$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    pages = {str(page.relative_to(ROOT / "docs")) for page in PAGES[1:]}
    assert pages | GENERATED == set(nav)
    assert not any((ROOT / "docs" / page).exists() for page in GENERATED)  # generated, never hand-copied


class _Outside(HTMLParser):
    """Collects the src and href of script, link, img, iframe and source tags that point outside the site."""

    TAGS = {"script", "link", "img", "iframe", "source", "audio", "video", "embed", "object"}

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.TAGS:
            for key, value in attrs:
                if key in ("src", "href", "data", "srcset") and value and re.match(r"\s*(https?:)?//", value):
                    self.found.append(f"<{tag} {key}={value}>")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once with --strict into a temporary folder."""
    needs("mkdocs")  # the docs extra: without it these tests skip, and fail under CI
    folder = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    return folder


def text_of(page: Path) -> str:
    """A built page's text, as a reader sees it: no tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_the_site_builds_strictly_offline_and_loads_nothing_from_outside(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= len(PAGES) - 1 + len(GENERATED)
    for page in pages:
        parser = _Outside()
        parser.feed(page.read_text(encoding="utf-8"))
        assert parser.found == [], page.relative_to(site)
        assert 'class="mermaid"' not in page.read_text(encoding="utf-8")  # material would fetch mermaid from a CDN
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "fonts.googleapis.com" not in index and "fonts.gstatic.com" not in index
    assert (site / "images" / "circuit.svg").is_file()
    assert 'href="https://cs231n.github.io/optimization-2/"' in (site / "tutorials" / "gates.html").read_text()


@pytest.mark.slow
def test_the_gate_page_shows_every_row_of_the_gate_table(site):
    from gategrad.engine import GATES

    text = text_of(site / "reference" / "gates.html")
    for gate in GATES.values():
        assert gate.op in text.splitlines()  # the first cell of its row
        assert gate.symbol in text and gate.forward in text and gate.torch in text, gate.op
        assert all(local in text for local in gate.local), gate.op
        templates = [t for s in gate.sentences.values() for t in ([s] if isinstance(s, str) else s)]
        assert all(template in text for template in templates), gate.op


def every_command(parser, prefix="gategrad"):
    """Each command and subcommand of `parser` with its full name, as `gategrad exercise new`."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield f"{prefix} {name}", sub
                yield from every_command(sub, f"{prefix} {name}")


@pytest.mark.slow
def test_the_cli_page_shows_every_command_and_every_flag_with_its_help(site):
    text = " ".join(text_of(site / "reference" / "cli.html").split())
    every = list(every_command(build_parser()))
    assert len(every) > 7  # the seven commands, and the subcommands of some
    for name, sub in every:
        assert name in text
        assert " ".join((sub.description or "").replace("`", "").split()) in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                assert flag in text, (name, flag)
            if action.help and action.help != argparse.SUPPRESS and not isinstance(action, argparse._HelpAction):
                assert " ".join(action.help.replace("`", "").split()) in text, (name, action.dest)
