"""`gategrad eval` and `predict`: a saved model measured on a dataset, or run on each row of a CSV file."""

from __future__ import annotations

import argparse
import csv
import gettext
import io
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from gategrad import data, nn
from gategrad.cli.common import CommandError, Parser, add_lang, read_csv, read_rows
from gategrad.data import DATASETS
from gategrad.engine import Value, gc_paused
from gategrad.explain import lang
from gategrad.files import atomic_write
from gategrad.replay import Replay
from gategrad.text import cut, quoted

EVAL_CHUNK = 256  # points per forward pass when measuring: a large table never becomes one circuit
REPLAY_CHUNK = 65_536  # points per replayed pass when measuring


def measure(
    model: nn.Module,
    X: Sequence[Sequence[float]],
    labels: Sequence[float],
    loss_fn: Callable[[list[Any], Sequence[Any]], Value],
    engine: str,
) -> tuple[float, float]:
    """The mean loss and the accuracy of `model` over all of X: replayed at once, or a chunk at a time as Values."""
    if engine == "replay":
        if len(X) <= REPLAY_CHUNK:
            loss, scores = Replay(model, loss_fn, X, labels).evaluate()
            return loss, nn.accuracy(scores, labels)
        # A replay's arrays take some hundreds of bytes a point: a large table is measured a chunk at a time.
        total = right = 0.0
        for start in range(0, len(X), REPLAY_CHUNK):
            xs, ys = X[start : start + REPLAY_CHUNK], labels[start : start + REPLAY_CHUNK]
            loss, scores = Replay(model, loss_fn, xs, ys).evaluate()
            total += loss * len(xs)
            right += round(nn.accuracy(scores, ys) * len(xs))
        return total / len(X), right / len(X)
    loss = right = 0.0
    for start in range(0, len(X), EVAL_CHUNK):
        xs, ys = X[start : start + EVAL_CHUNK], labels[start : start + EVAL_CHUNK]
        with gc_paused():
            outputs = [model(x) for x in xs]
            loss += loss_fn(outputs, ys).data * len(xs)
            right += round(nn.accuracy(outputs, ys) * len(xs))
            del outputs
    return loss / len(X), right / len(X)


def measure_regression(
    model: nn.Module,
    X: Sequence[Sequence[float]],
    targets: Sequence[float],
    info: nn.DataInfo | None,
    engine: str,
) -> tuple[float, float, float]:
    """A regression's mean squared error, R² and MAE over all of X, in the target's own units.

    `info` turns the net's outputs (a standardised target) back into the target's units; None keeps them.
    """
    if engine == "replay":
        outputs = Replay(model, nn.mse_loss, X, targets).evaluate()[1].tolist()
    else:
        outputs = nn.predict(model, X)
    predictions = [z if info is None else info.target_value(z) for z in outputs]
    mse = math.fsum((p - t) * (p - t) for p, t in zip(predictions, targets)) / len(targets)
    return mse, nn.r2_score(predictions, targets), nn.mean_absolute_error(predictions, targets)


def print_regression(t: gettext.NullTranslations, mse: float, r2: float, mae: float, test: bool = False) -> None:
    """A regression's figures, one a line in `t`'s language: `loss` (the mean squared error), `r2`, `mae`;
    `test loss` and so on for the held-out rows."""
    loss, figures = f"{mse:.6g}", {"r2": f"{r2:.4f}", "mae": f"{mae:.6g}"}
    if test:
        print(t.gettext("test loss: {loss}").format(loss=loss))
        print(t.gettext("test r2: {r2}").format(**figures))
        print(t.gettext("test mae: {mae}").format(**figures))
    else:
        print(t.gettext("loss: {loss}").format(loss=loss))
        print(t.gettext("r2: {r2}").format(**figures))
        print(t.gettext("mae: {mae}").format(**figures))


def add_eval(commands: argparse._SubParsersAction[Parser]) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="the accuracy of a saved model on a toy dataset or a CSV file",
        description=(
            "Load a model saved by `gategrad train --save` and print its accuracy on a dataset, or its loss "
            "and accuracy on a CSV file (standardised as its training data was). A regression prints its loss "
            "(the mean squared error), R² and mean absolute error, in the target's own units."
        ),
    )
    evaluate.add_argument("--model", type=Path, required=True, metavar="MODEL.json", help="a model file")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", choices=DATASETS)
    source.add_argument("--csv", type=Path, metavar="FILE", help="a CSV file with the model's columns")
    evaluate.add_argument("--target", metavar="COLUMN", help="with --csv: the labels' column; default: the model's")
    evaluate.add_argument(
        "--seed", type=int, help="the dataset's seed; default 0, train's default (another draws new points)"
    )
    add_lang(evaluate, "what eval prints")
    evaluate.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    model = _load_model("eval", args.model)
    if args.csv is not None:
        if args.seed is not None:
            raise CommandError("eval: --seed goes with --dataset; a CSV file has its own points")
        return _eval_csv(args, model)
    if args.target is not None:
        raise CommandError("eval: --target goes with --csv FILE")
    X, y = DATASETS[args.dataset](args.seed or 0)
    classes = len(set(y))
    nin = model.config()["nin"]
    if nin != 2:
        raise CommandError(f"eval: {args.model}: the model takes {nin} inputs, the points of {args.dataset} have 2")
    scores = nn.predict(model, X)
    outputs = len(scores[0]) if isinstance(scores[0], list) else 1
    if outputs != classes and not (outputs == 1 and classes == 2):
        has = f"{outputs} output" + ("s" if outputs > 1 else "")
        raise CommandError(f"eval: {args.model}: the model has {has}, {args.dataset} has {classes} classes")
    print(lang.translator(args.lang).gettext("accuracy: {accuracy}").format(accuracy=f"{nn.accuracy(scores, y):.2f}"))
    return 0


def _load_model(command: str, path: Path) -> nn.Module:
    try:
        return nn.load(path)
    except OSError as e:
        raise CommandError(f"{command}: cannot read the model file {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise CommandError(f"{command}: {e}") from None


def _table_info(command: str, path: Path, model: nn.Module) -> nn.DataInfo:
    """The model's data section, which says how to read a CSV file; a model without one cannot."""
    if model.data_info is None:
        raise CommandError(
            f'{command}: {path} has no "data" section naming the columns it reads: '
            "save one with gategrad train --csv FILE --target COLUMN --save MODEL.json"
        )
    return model.data_info


def _eval_csv(args: argparse.Namespace, model: nn.Module) -> int:
    info = _table_info("eval", args.model, model)
    regression = info.classes is None
    target = args.target or info.target
    table = read_csv(
        "eval", args.csv, target=target, regression=regression, classes=info.classes, features=info.features
    )
    X = _standardized("eval", args.csv, table.X, info)
    t = lang.translator(args.lang)
    if info.classes is None:
        print_regression(t, *measure_regression(model, X, table.y or [], info, "replay"))
        return 0
    task = nn.objective(info.loss, len(info.classes))  # the model file's data section was checked on loading
    labels = [task.label(c) for c in table.y or []]
    loss, accuracy = measure(model, X, labels, task.loss, "replay")
    if not math.isfinite(loss):
        raise CommandError(
            f"eval: {args.csv}: the loss is {loss}: the model's output is not a number for some row, "
            "whose features are far outside those the model was trained on"
        )
    print(t.gettext("loss: {loss}").format(loss=f"{loss:.6g}"))
    print(t.gettext("accuracy: {accuracy}").format(accuracy=f"{accuracy:.2f}"))
    return 0


def add_predict(commands: argparse._SubParsersAction[Parser]) -> None:
    predict = commands.add_parser(
        "predict",
        help="a saved model's prediction for each row of a CSV file, as CSV",
        description=(
            "Load a model saved by `gategrad train --csv ... --save` and write each row of FILE to stdout "
            "(or to --out), followed by the predicted target and, for a classifier trained with cross_entropy or "
            "bce, each class's probability. FILE needs the model's feature columns; other columns are copied through."
        ),
    )
    predict.add_argument("--model", type=Path, required=True, metavar="MODEL.json", help="a model file")
    predict.add_argument("--csv", type=Path, required=True, metavar="FILE", help="a CSV file with the model's columns")
    predict.add_argument(
        "--out", type=Path, metavar="OUT.csv", help="write the CSV to this file, not stdout, and say how many rows"
    )
    add_lang(predict, "the line saying what --out wrote (the CSV's columns stay as they are)")
    predict.set_defaults(run=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    model = _load_model("predict", args.model)
    info = _table_info("predict", args.model, model)
    header, rows = read_rows("predict", args.csv, info.features)
    probabilities = info.classes is not None and info.loss in ("cross_entropy", "bce")
    added = [f"predicted_{info.target}", *(f"p_{c}" for c in info.classes or [] if probabilities)]
    for column in added:
        if column in header:
            raise CommandError(f"predict: {args.csv} already has a column {quoted(column)}, which predict adds")
    sink = sys.stdout if args.out is None else io.StringIO()  # --out: written whole, once every row is predicted
    out = csv.writer(sink, lineterminator="\n")
    written = 0
    # A row at a time: the memory is the file's bytes and one row's circuit, whatever the number of rows.
    for line, row, x in rows:
        if not written:
            out.writerow([*header, *added])
        written += 1
        z = nn.predict(model, _standardized("predict", args.csv, [x], info, line))[0]
        if info.classes is None:  # a regression's one output, in the target's units
            z = info.target_value(cast(float, z))
        if not all(math.isfinite(v) for v in (z if isinstance(z, list) else [z])):
            raise CommandError(
                f"predict: {args.csv}: line {line}: the model's output for this row is {z}, not a number: "
                "its features are far outside those the model was trained on"
            )
        if info.classes is None:
            out.writerow([*row, z])
        elif not probabilities:
            out.writerow([*row, info.classes[nn.predicted_class(z)]])
        else:
            out.writerow([*row, info.classes[nn.predicted_class(z)], *nn.probabilities(z)])
    if not written:
        raise CommandError(f"predict: {args.csv}: no rows after the header")
    if isinstance(sink, io.StringIO):
        try:
            atomic_write(args.out, sink.getvalue())
        except OSError as e:
            raise CommandError(f"predict: cannot write {args.out}: {e.strerror or e}") from None
        said = lang.translator(args.lang).ngettext(
            "wrote {n} prediction to {path}", "wrote {n} predictions to {path}", written
        )
        print(said.format(n=written, path=args.out))
    return 0


def _standardized(
    command: str, path: Path, X: list[list[float]], info: nn.DataInfo, line: int | None = None
) -> list[list[float]]:
    """The rows as the model reads them; a row that standardising takes out of the floats (1.7e308) is refused."""
    rows: list[list[float]] = data.standardize(X, info.mean, info.scale)
    for i, row in enumerate(rows):
        if not all(math.isfinite(v) for v in row):
            where = f"line {line}" if line is not None else f"row {i + 1} after the header"
            raise CommandError(
                f"{command}: {path}: {where}: a feature is too large to standardise as the model was trained "
                f"({cut(repr(X[i]))} with the mean and scale of the model file gives {cut(repr(row))})"
            )
    return rows
