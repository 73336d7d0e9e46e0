"""The engine referee in a child process with a time limit, so a learner's endless loop or crash cannot hang `check`.

The parent starts ``python -m gategrad.check.sandbox FILE CLASS LANG OUT PROGRESS``; the child imports
FILE, referees CLASS and writes the report's JSON and text to OUT. Before each circuit it writes
the circuit to PROGRESS, so when the time is up the parent can say where it was.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EngineRunError(Exception):
    """The child could not produce a report: the message is one line, or the learner's trimmed traceback."""


@dataclass(frozen=True)
class Result:
    """What the child sent back: the report as JSON, its text, and whether it is ok."""

    report: dict[str, Any]
    text: str

    @property
    def ok(self) -> bool:
        return bool(self.report["ok"])


def run(path: Path, class_name: str, lang: str, timeout: float) -> Result:
    """Referee the class `class_name` of the file at `path` in a child process stopped after `timeout` seconds."""
    with tempfile.TemporaryDirectory(prefix="gategrad-check-") as folder:
        out, progress = Path(folder) / "report.json", Path(folder) / "progress.txt"
        command = [sys.executable, "-m", "gategrad.check.sandbox", str(path), class_name, lang, str(out), str(progress)]
        try:
            # What the learner's file prints goes to our stderr, so that --json stays JSON.
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
            sys.stderr.write(done.stdout.decode(errors="replace"))
        except subprocess.TimeoutExpired as e:
            sys.stderr.write((e.stdout or b"").decode(errors="replace"))
            where = progress.read_text(encoding="utf-8").strip() if progress.is_file() else ""
            doing = f"while running {where}" if where else f"while importing {path}"
            raise EngineRunError(
                f"{path} did not finish within {timeout:g} s ({doing}): is there an endless loop? "
                "--timeout SECONDS gives it longer"
            ) from None
        if not out.is_file():
            where = progress.read_text(encoding="utf-8").strip() if progress.is_file() else ""
            if done.returncode < 0:
                name = signal.Signals(-done.returncode).name
                doing = f" while running {where}" if where else ""
                raise EngineRunError(f"Python crashed ({name}) running {path}{doing}")
            raise EngineRunError(f"the check of {path} stopped with exit code {done.returncode} and no report")
        answer = json.loads(out.read_text(encoding="utf-8"))
    if "error" in answer:
        raise EngineRunError(answer["error"])
    return Result(answer["report"], answer["text"])


def load(path: Path) -> Any:
    """Import the file at `path` as a module, as `python FILE.py` would find its neighbours."""
    spec = importlib.util.spec_from_file_location(path.stem, path.resolve())
    if spec is None or spec.loader is None:
        raise EngineRunError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))
    spec.loader.exec_module(module)
    return module


def child(path: Path, class_name: str, lang: str, out: Path, progress: Path) -> None:
    """The child's work: import, referee, write the answer (a report, or an error message) to `out`."""
    from gategrad.check import referee
    from gategrad.check.run import exited

    def write(answer: dict[str, Any]) -> None:
        out.write_text(json.dumps(answer, ensure_ascii=False, allow_nan=False), encoding="utf-8")

    def tell(where: str) -> None:
        with open(progress, "w", encoding="utf-8") as f:
            f.write(where)

    try:
        with contextlib.redirect_stdout(sys.stderr):  # what the file prints must not mix with the report
            module = load(path)
            cls = referee.find_class(module, class_name, str(path))
            report = referee.check_engine(cls, lang, progress=tell)
    except (EngineRunError, referee.EngineError) as e:
        write({"error": str(e)})
        return
    except SystemExit as e:
        write({"error": exited(path, e)})
        return
    except Exception as e:
        trace = referee.traceback_in(e, str(path.resolve()))
        write({"error": f"{path} raised an exception:\n{trace}" if trace else referee.raised(e)})
        return
    write({"report": report.to_json(), "text": report.text()})


if __name__ == "__main__":
    file, name, language, answer, where = sys.argv[1:6]
    child(Path(file), name, language, Path(answer), Path(where))
