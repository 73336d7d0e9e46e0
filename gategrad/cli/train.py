"""`gategrad train`, `eval` and `predict`: small nets on toy datasets or your own CSV file."""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gategrad import data, files, nn
from gategrad.cli.common import CommandError, output_path
from gategrad.data import DATASETS
from gategrad.engine import Value, gc_paused
from gategrad.explain import lang
from gategrad.nn import DEFAULT_LR, LOSSES, OPTIMIZERS
from gategrad.replay import Replay


def _layer_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")] if text.strip() else []
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes such as 16,16, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _fraction(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < x < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return x


def _rate(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= x < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return x


def add_train(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train a small MLP on a toy dataset or your own CSV file",
        description=(
            "Train an MLP (one input per feature, the hidden layers, then a linear output layer) on a toy "
            "dataset or a CSV file, showing a progress bar, then print its loss (with the L2 term) and accuracy "
            "on the points it trained on. With two classes, hinge and mse use one output and labels -1/+1, bce "
            "one output (a logit) and labels 0/1; cross_entropy uses one output per class. With --csv, the "
            "first line names the columns, --target holds class labels (strings or integers), every other "
            "column is a numeric feature, and --loss mse makes it a regression: the target must be numbers. At the "
            "end it warns when a layer is mostly dead or its updates are far from 1e-3 of its weights."
        ),
    )
    source = train.add_mutually_exclusive_group()
    source.add_argument("--dataset", choices=DATASETS, help="default: moons (100 points)")
    source.add_argument("--csv", type=Path, metavar="FILE", help="your own data: a CSV file with a header line")
    train.add_argument("--target", metavar="COLUMN", help="with --csv: the column to predict")
    train.add_argument(
        "--no-standardize",
        dest="standardize",
        action="store_false",
        help="with --csv: keep the features as they are (default: each column to mean 0 and deviation 1)",
    )
    train.add_argument(
        "--test-fraction",
        type=_fraction,
        metavar="F",
        help="hold out this share of the points (drawn with --seed) and report the accuracy on them",
    )
    train.add_argument("--hidden", type=_layer_sizes, default=[16, 16], metavar="SIZES", help="default: 16,16")
    train.add_argument("--activation", choices=nn.ACTIVATIONS, default="relu", help="of the hidden layers")
    train.add_argument(
        "--loss",
        choices=LOSSES,
        help="default: cross_entropy for a CSV file and for more than two classes, else hinge",
    )
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default: sgd")
    train.add_argument("--lr", type=_rate, help="learning rate; default: 1.0 for sgd, 0.05 for adam and adamw")
    train.add_argument(
        "--schedule",
        choices=["linear", "constant"],
        default="linear",
        help="linear (default): lr falls linearly to a tenth of it by the last step, as in micrograd's demo",
    )
    train.add_argument("--l2", type=_rate, default=1e-4, metavar="ALPHA", help="L2 penalty weight; default: 1e-4")
    train.add_argument("--steps", type=_positive_int, default=100, help="default: 100")
    train.add_argument("--seed", type=int, default=0, help="seeds the data, the weights and the batches; default: 0")
    train.add_argument("--batch-size", type=_positive_int, metavar="N", help="points per step; default: all")
    train.add_argument(
        "--engine",
        choices=["replay", "scalar"],
        default="replay",
        help="replay (default): the net traced once and run on the whole batch with numpy; scalar: a circuit "
        "of Values for every point. Both give the same numbers (to 1e-9)",
    )
    train.add_argument("--save", type=output_path, metavar="MODEL.json", help="write the trained model to this file")
    train.add_argument(
        "--plot",
        type=output_path,
        metavar="IMAGE.png",
        help="draw the decision boundary (needs matplotlib); the format follows the extension, .png when there is none",
    )
    train.add_argument(
        "--record",
        type=output_path,
        metavar="RUN.html",
        help="write the run as one page to open in a browser: every step's loss, weights and gradients",
    )
    train.add_argument(
        "--lang",
        choices=lang.languages(),
        default=lang.ENGLISH,
        metavar="LANG",
        help=f"the language of the --record page: {', '.join(lang.languages())}; default: en (what train prints "
        "stays English)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)


def _objective(loss: str, classes: int) -> tuple[int, Callable, Callable[[Any], Any]]:
    """How a loss reads `classes` classes (0: a regression): (outputs of the net, loss function, label for target c)."""
    try:
        task = nn.objective(loss, classes)
    except ValueError as e:
        raise CommandError(f"train: --loss {e}") from None
    return task.outputs, task.loss, task.label


def run_train(args: argparse.Namespace) -> int:
    points = _dataset(args)
    X, y, X_test, y_test = _split(args, points)
    loss_name = args.loss or ("cross_entropy" if points.features or points.classes > 2 else "hinge")
    outputs, loss_fn, label = _objective(loss_name, points.classes)
    if args.batch_size is not None and args.batch_size > len(X):
        held_out = " left after --test-fraction" if X_test else ""
        raise CommandError(
            f"train: --batch-size {args.batch_size} is more than the {len(X)} points of {points.name}{held_out}"
        )
    if args.plot is not None and (len(X[0]) != 2 or points.regression):
        why = "a regression has no classes" if points.regression else f"{points.name} has {len(X[0])} features"
        raise CommandError(f"train: --plot draws the classes over two features; {why}")
    pyplot = _pyplot() if args.plot is not None else None
    plot = _image_path(args.plot) if args.plot is not None else None
    _check_writable("--save", args.save)
    _check_writable("--plot", plot)
    _check_writable("--record", args.record)
    if args.lang != lang.ENGLISH and args.record is None:
        raise CommandError(f"train: --lang {args.lang} is the language of the --record page; give --record RUN.html")
    try:
        lang.translator(args.lang)
    except ValueError as e:  # a catalogue that cannot be read
        raise CommandError(f"train: {e}") from None
    info = _data_info(args, points, loss_name, X)
    if info is not None:
        X, X_test = (data.standardize(part, info.mean, info.scale) for part in (X, X_test))

    labels: list = [label(c) for c in y]
    model = nn.MLP(len(X[0]), [*args.hidden, outputs], args.activation, seed=args.seed)
    model.data_info = info
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    schedule = None if args.schedule == "constant" else (lambda k: lr * (1.0 - 0.9 * k / args.steps))
    recorder = nn.Recorder()  # also without --record: its health figures give the warning at the end
    nn.fit(
        model,
        X,
        labels,
        loss_fn,
        optimizer,
        args.steps,
        batch_size=args.batch_size,
        l2=args.l2,
        lr_schedule=schedule,
        seed=args.seed,
        quiet=args.quiet,
        record=recorder,
        engine=args.engine,
    )

    loss, accuracy = _evaluate(model, X, labels, loss_fn, args.engine)
    print(f"loss: {loss + nn.l2_penalty(model.parameters(), args.l2).data:.6g}")
    if not points.regression:
        print(f"accuracy: {accuracy:.2f}")
    if X_test:
        test_loss, test_accuracy = _evaluate(model, X_test, [label(c) for c in y_test], loss_fn, args.engine)
        print(f"test loss: {test_loss:.6g}")
        if not points.regression:
            print(f"test accuracy: {test_accuracy:.2f}")
    if args.save is not None:
        try:
            model.save(args.save)
        except OSError as e:
            raise CommandError(f"train: cannot save the model to {args.save}: {e.strerror or e}") from None
        print(f"saved the model to {args.save}")
    if plot is not None:
        _plot(pyplot, model, X, y, plot)
        print(f"saved the decision boundary to {plot}")
    if args.record is not None:
        try:
            recorder.save(args.record, args.lang)
        except files.FileRefused as e:  # made a folder or a device since it was checked
            raise CommandError(f"train: cannot write the run: {e}") from None
        except OSError as e:
            raise CommandError(f"train: cannot write the run to {args.record}: {e.strerror or e}") from None
        print(f"saved the run to {args.record}: open it in a browser")
    warnings = recorder.warnings()
    if warnings:
        print(f"warning: {'; '.join(warnings)}", file=sys.stderr)
    return 0


def _image_path(path: Path) -> Path:
    """The file `--plot` writes: `path` itself, or `path`.png when it has no extension, as matplotlib names it."""
    from matplotlib.backend_bases import FigureCanvasBase

    if path.is_dir():
        raise CommandError(f"train: --plot {path} is a folder; give a file name such as {path / 'boundary.png'}")
    if not path.suffix:
        return path.with_name(path.name + ".png")
    formats = FigureCanvasBase.get_supported_filetypes()
    if path.suffix[1:].lower() not in formats:
        raise CommandError(f"train: --plot {path}: unknown image format {path.suffix}; use one of {', '.join(formats)}")
    return path


def _check_writable(option: str, path: Path | None) -> None:
    """Refuse, before the first training step, a path that saving to would fail on at the end."""
    if path is None:
        return
    if not path.parent.is_dir():
        raise CommandError(f"train: {option} {path}: the folder {path.parent} does not exist")
    try:
        files.check_writable(path)
    except files.FileRefused as e:
        raise CommandError(f"train: {option} {e}") from None
    except OSError as e:
        raise CommandError(f"train: {option} {path}: cannot write in {path.parent}: {e.strerror or e}") from None


@dataclass
class _Points:
    """What train and eval learn from: the points, their targets, and (for a CSV file) their columns."""

    name: str  # the toy dataset's name or the CSV file's path, for messages
    X: list[list[float]]
    y: list  # class indices, or numbers for a regression
    classes: int  # how many; 0 for a regression
    class_names: list[str] | None = None
    features: list[str] | None = None
    target: str | None = None

    @property
    def regression(self) -> bool:
        return self.classes == 0


def _dataset(args: argparse.Namespace) -> _Points:
    """The toy dataset or the CSV file `train` was asked for, with its options checked."""
    if args.csv is None:
        for option, given in (("--target", args.target), ("--no-standardize", not args.standardize)):
            if given:
                raise CommandError(f"train: {option} goes with --csv FILE")
        name = args.dataset or "moons"
        X, y = DATASETS[name](args.seed)
        return _Points(name, X, y, len(set(y)))
    if args.target is None:
        raise CommandError("train: --csv needs --target COLUMN, the column to predict")
    table = _read_csv("train", args.csv, target=args.target, regression=args.loss == "mse")
    classes = 0 if table.classes is None else len(table.classes)
    return _Points(str(args.csv), table.X, table.y or [], classes, table.classes, table.features, args.target)


def _read_csv(command: str, path: Path, **options: Any) -> data.Table:
    """`data.load_csv(path, **options)`, its errors made one line of the command's."""
    try:
        return data.load_csv(path, **options)
    except data.CSVError as e:
        raise CommandError(f"{command}: {e}") from None
    except OSError as e:
        raise CommandError(f"{command}: cannot read {path}: {e.strerror or e}") from None


def _split(args: argparse.Namespace, points: _Points) -> tuple[list, list, list, list]:
    """(X, y, X_test, y_test): a seeded --test-fraction held out, or nothing."""
    if args.test_fraction is None:
        return points.X, points.y, [], []
    try:
        X, X_test, y, y_test = data.train_test_split(points.X, points.y, args.test_fraction, seed=args.seed)
    except ValueError as e:
        raise CommandError(f"train: --test-fraction {args.test_fraction}: {e}") from None
    return X, y, X_test, y_test


def _data_info(args: argparse.Namespace, points: _Points, loss: str, X: list[list[float]]) -> nn.DataInfo | None:
    """For a CSV file, what the model file keeps: the columns, the training points' mean and scale, the classes."""
    if points.features is None or points.target is None:
        return None
    if args.standardize:
        try:
            mean, scale = data.mean_and_scale(X)
        except ValueError as e:
            raise CommandError(f"train: {points.name}: {e}") from None
    else:
        mean, scale = [0.0] * len(X[0]), [1.0] * len(X[0])
    return nn.DataInfo(points.features, points.target, mean, scale, points.class_names, loss)


EVAL_CHUNK = 256  # points per forward pass when measuring: a large table never becomes one circuit


def _evaluate(model: nn.Module, X: list, labels: list, loss_fn: Callable, engine: str) -> tuple[float, float]:
    """The mean loss and the accuracy of `model` over all of X: replayed at once, or a chunk at a time as Values."""
    if engine == "replay":
        loss, scores = Replay(model, loss_fn, X, labels).evaluate()
        return loss, nn.accuracy(scores, labels)
    loss = right = 0.0
    for start in range(0, len(X), EVAL_CHUNK):
        xs, ys = X[start : start + EVAL_CHUNK], labels[start : start + EVAL_CHUNK]
        with gc_paused():
            outputs = [model(x) for x in xs]
            loss += loss_fn(outputs, ys).data * len(xs)
            right += round(nn.accuracy(outputs, ys) * len(xs))
            del outputs
    return loss / len(X), right / len(X)


def _pyplot() -> Any:
    """matplotlib's pyplot drawing to files only (the Agg backend), or a CommandError saying how to get it."""
    try:
        import matplotlib
    except ImportError:
        raise CommandError("train: --plot needs matplotlib; install it with: pip install 'gategrad[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def _predicted_class(out: Value | list[Value]) -> int:
    if isinstance(out, list):
        scores = [v.data for v in out]
        return scores.index(max(scores))
    return int(out.data > 0)


def _plot(pyplot: Any, model: nn.Module, X: list[list[float]], y: list[int], path: Path) -> None:
    """Colour the plane by the class the model predicts, 60 x 60 points, and draw the data on top."""
    xs, ys = [p[0] for p in X], [p[1] for p in X]
    (left, right), (bottom, top) = (min(xs) - 0.5, max(xs) + 0.5), (min(ys) - 0.5, max(ys) + 0.5)
    grid_x = [left + (right - left) * i / 59 for i in range(60)]
    grid_y = [bottom + (top - bottom) * i / 59 for i in range(60)]
    predicted = [[_predicted_class(model([gx, gy])) for gx in grid_x] for gy in grid_y]
    classes = max(y) + 1
    fig, ax = pyplot.subplots(figsize=(5, 5))
    ax.contourf(grid_x, grid_y, predicted, levels=[c - 0.5 for c in range(classes + 1)], cmap="Spectral", alpha=0.4)
    ax.scatter(xs, ys, c=y, cmap="Spectral", vmin=0, vmax=classes - 1, s=20, edgecolors="k")
    ax.set_title(f"{model!r}")
    image = io.BytesIO()
    try:
        fig.savefig(image, format=path.suffix[1:].lower(), dpi=100)
        files.atomic_write(path, image.getvalue())
    except (OSError, ValueError) as e:
        raise CommandError(f"train: cannot save the plot to {path}: {e}") from None
    finally:
        pyplot.close(fig)


def add_eval(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="the accuracy of a saved model on a toy dataset or a CSV file",
        description=(
            "Load a model saved by `gategrad train --save` and print its accuracy on a dataset, or its loss "
            "and accuracy on a CSV file (standardised as its training data was)."
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
    print(f"accuracy: {nn.accuracy(scores, y):.2f}")
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
    table = _read_csv(
        "eval", args.csv, target=target, regression=regression, classes=info.classes, features=info.features
    )
    _, loss_fn, label = _objective(info.loss, len(info.classes or []))
    labels = [label(c) for c in table.y or []]
    loss, accuracy = _evaluate(model, data.standardize(table.X, info.mean, info.scale), labels, loss_fn, "replay")
    print(f"loss: {loss:.6g}")
    if not regression:
        print(f"accuracy: {accuracy:.2f}")
    return 0


def add_predict(commands: argparse._SubParsersAction) -> None:
    predict = commands.add_parser(
        "predict",
        help="a saved model's prediction for each row of a CSV file, as CSV",
        description=(
            "Load a model saved by `gategrad train --csv ... --save` and write each row of FILE to stdout, "
            "followed by the predicted target and, for a classifier trained with cross_entropy or bce, each "
            "class's probability. FILE needs the model's feature columns; other columns are copied through."
        ),
    )
    predict.add_argument("--model", type=Path, required=True, metavar="MODEL.json", help="a model file")
    predict.add_argument("--csv", type=Path, required=True, metavar="FILE", help="a CSV file with the model's columns")
    predict.set_defaults(run=run_predict)


def run_predict(args: argparse.Namespace) -> int:
    model = _load_model("predict", args.model)
    info = _table_info("predict", args.model, model)
    table = _read_csv("predict", args.csv, classes=info.classes, features=info.features, keep_rows=True)
    probabilities = info.classes is not None and info.loss in ("cross_entropy", "bce")
    added = [f"predicted_{info.target}", *(f"p_{c}" for c in info.classes or [] if probabilities)]
    for column in added:
        if column in table.columns:
            raise CommandError(f"predict: {args.csv} already has a column {column!r}, which predict adds")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow([*table.columns, *added])
    for row, z in zip(table.rows or [], nn.predict(model, data.standardize(table.X, info.mean, info.scale))):
        if info.classes is None:
            out.writerow([*row, z])
            continue
        # One output reads as class 1 when positive (hinge, bce), several by the largest (cross_entropy).
        predicted = info.classes[z.index(max(z)) if isinstance(z, list) else int(z > 0)]
        if not probabilities:
            out.writerow([*row, predicted])
        else:
            out.writerow([*row, predicted, *(_softmax(z) if isinstance(z, list) else [1.0 - _sigmoid(z), _sigmoid(z)])])
    return 0


def _softmax(z: list[float]) -> list[float]:
    top = max(z)  # subtracted first, so exp never overflows
    e = [math.exp(v - top) for v in z]
    total = math.fsum(e)
    return [v / total for v in e]


def _sigmoid(z: float) -> float:
    # the form that never takes exp of a large positive number
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
