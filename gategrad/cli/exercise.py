"""`gategrad exercise`: exercise packs for a class (one seeded variant per student, keys) and their grading."""

from __future__ import annotations

import argparse
from pathlib import Path

from gategrad.cli.common import CommandError, Parser, add_lang, output_path
from gategrad.files import FileRefused


def add(commands: argparse._SubParsersAction[Parser]) -> None:
    from gategrad.exercise import FORMATS, KINDS

    parser = commands.add_parser(
        "exercise",
        help="make exercise packs for a class, and grade them",
        description=(
            "Exercise packs for teachers. `new` writes, for each student of a roster, a printable sheet with their "
            "own numbers, an answer file (or a notebook) and a key with the worked solution; `grade` reads the "
            "answers back and writes grades.csv and a feedback page per student."
        ),
    )
    actions = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
    new = actions.add_parser(
        "new",
        help="write a pack: sheets/, answers/ (or notebooks/), key/",
        description=(
            "Write an exercise pack into DIR. The kinds: circuit (a circuit of 4-8 exact gates: every input's "
            "gradient and some intermediate ones), net (a 2-2-2 or 2-3-1 network: outputs, loss, deltas, every "
            "weight's gradient, to 3 significant digits), bug (a numpy backprop with one planted mistake: its kind "
            "and line). A variant depends on the seed and the student's id alone."
        ),
    )
    new.add_argument("--kind", choices=KINDS, required=True, help="the kind of exercise")
    new.add_argument("--students", type=Path, required=True, metavar="ROSTER.csv", help="a CSV file with an id column")
    new.add_argument("--seed", type=int, required=True, help="the pack's seed: the same seed gives the same pack")
    add_lang(new, "the sheets, keys and feedback")
    new.add_argument("--out", type=output_path, required=True, metavar="DIR", help="the folder to write the pack to")
    new.add_argument(
        "--format", choices=FORMATS, default="html", help="html: an answers/<id>.json each; notebook: a notebook each"
    )
    new.set_defaults(run=run_new)
    grade = actions.add_parser(
        "grade",
        help="grade a pack's answers into DIR/grades.csv and DIR/feedback/",
        description="Grade the answers in DIR against the keys: DIR/grades.csv and a feedback page per student.",
    )
    grade.add_argument("folder", type=Path, metavar="DIR", help="a folder `gategrad exercise new` wrote")
    grade.set_defaults(run=run_grade)


def run_new(args: argparse.Namespace) -> int:
    from gategrad.exercise import PackError, new_pack
    from gategrad.viz import GraphvizNotInstalled

    try:
        students = new_pack(args.students, args.kind, args.seed, args.lang, args.out, args.format)
    except (PackError, FileRefused, GraphvizNotInstalled) as e:
        raise CommandError(f"exercise new: {e}") from None
    except OSError as e:
        raise CommandError(f"exercise new: cannot write {args.out}: {e.strerror or e}") from None
    print(f"wrote a {args.kind} pack for {len(students)} students to {args.out}")
    return 0


def run_grade(args: argparse.Namespace) -> int:
    from gategrad.exercise import PackError, grade_pack

    try:
        results = grade_pack(args.folder)
    except (PackError, FileRefused) as e:
        raise CommandError(f"exercise grade: {e}") from None
    except OSError as e:
        raise CommandError(f"exercise grade: cannot write in {args.folder}: {e.strerror or e}") from None
    for g in results:
        score = f"{g.score:g} / {g.maximum}"
        notes = [f"unreadable: {', '.join(g.unreadable)}"] if g.unreadable else []
        notes += ["no answer file"] if g.missing_file else []
        print(f"{g.student}: {score}" + (f" ({'; '.join(notes)})" if notes else ""))
    print(f"wrote {args.folder / 'grades.csv'} and {args.folder / 'feedback'}/")
    return 0
