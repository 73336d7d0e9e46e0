"""`gategrad train`: a small net on a toy dataset or your own CSV file, with its model, picture and run saved."""

from __future__ import annotations

import argparse
import gettext
import os
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from gategrad import data, files, nn, viz
from gategrad.cli.common import (
    CommandError,
    Parser,
    add_lang,
    fraction,
    layer_sizes,
    output_path,
    positive_int,
    rate,
    read_csv,
)
from gategrad.cli.evaluate import measure, measure_regression, print_regression
from gategrad.data import DATASETS
from gategrad.explain import lang
from gategrad.nn import DEFAULT_LR, OPTIMIZERS
from gategrad.text import cut

MAX_STEPS = 1_000_000  # a million steps of the smallest net take about an hour


def steps(text: str) -> int:
    """--steps: a whole number from 1 to MAX_STEPS."""
    n = positive_int(text)
    if n > MAX_STEPS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_STEPS:,}, got {cut(text)}")
    return n


# The overfit check's "near 0": a net that learns can fit a handful of points this closely in its steps.
OVERFIT_LOSS = 0.05


def add_train(commands: argparse._SubParsersAction[Parser]) -> None:
    train = commands.add_parser(
        "train",
        help="train a small MLP on a toy dataset or your own CSV file",
        description=(
            "Train an MLP (one input per feature, the hidden layers, then a linear output layer) on a toy "
            "dataset or a CSV file, showing a progress bar, then print its loss (with the L2 term) and accuracy "
            "on the points it trained on. With two classes, hinge and mse use one output and labels -1/+1, bce "
            "one output (a logit) and labels 0/1; cross_entropy uses one output per class. With --csv, the "
            "first line names the columns, --target holds class labels (strings or integers), every other "
            "column is a numeric feature, and --loss mse makes it a regression: the target must be numbers, is "
            "standardised as the features are, and train prints the loss (the mean squared error), R² and mean "
            "absolute error in the target's own units. A loss that grows to 1000 times its first step's stops the "
            "run (exit 1), as a nan or inf does. At the end it warns when a layer is mostly dead or its updates "
            "are far from 1e-3 of its weights."
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
        type=fraction,
        metavar="F",
        help="hold out this share of the points (drawn with --seed) and report the accuracy on them",
    )
    train.add_argument("--hidden", type=layer_sizes, default=[16, 16], metavar="SIZES", help="default: 16,16")
    train.add_argument("--activation", choices=nn.ACTIVATIONS, default="relu", help="of the hidden layers")
    train.add_argument(
        "--loss",
        choices=nn.LOSSES,
        help="default: cross_entropy for a CSV file and for more than two classes, else hinge",
    )
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd", help="default: sgd")
    train.add_argument("--lr", type=rate, help="learning rate; default: 1.0 for sgd, 0.05 for adam and adamw")
    train.add_argument(
        "--schedule",
        choices=["linear", "constant"],
        default="linear",
        help="linear (default): lr falls linearly to a tenth of it by the last step, as in micrograd's demo",
    )
    train.add_argument("--l2", type=rate, metavar="ALPHA", help="L2 penalty weight; default: 1e-4 (0 with --overfit)")
    train.add_argument("--steps", type=steps, default=100, help=f"default: 100, at most {MAX_STEPS:,}")
    train.add_argument(
        "--overfit",
        type=positive_int,
        metavar="N",
        help=f"the sanity check: train on N points only (drawn with --seed) and say whether the net drives "
        f"their loss below {OVERFIT_LOSS:g}; exits 0 when it does, 1 when it does not",
    )
    train.add_argument("--seed", type=int, default=0, help="seeds the data, the weights and the batches; default: 0")
    train.add_argument("--batch-size", type=positive_int, metavar="N", help="points per step; default: all")
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
    add_lang(train, "what train prints (why a run diverged too) and the --record page")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    points = _dataset(args)
    X, y, X_test, y_test = _split(args, points)
    if args.overfit is not None:
        X, y = _few(args, points.name, X, y)
    l2 = args.l2 if args.l2 is not None else 0.0 if args.overfit is not None else 1e-4
    loss_name = args.loss or ("cross_entropy" if points.features or points.classes > 2 else "hinge")
    try:
        task = nn.objective(loss_name, points.classes)
    except ValueError as e:
        raise CommandError(f"train: --loss {e}") from None
    if args.batch_size is not None and args.batch_size > len(X):
        held_out = " left after --test-fraction" if len(X_test) else ""
        raise CommandError(
            f"train: --batch-size {args.batch_size} is more than the {len(X)} points of {points.name}{held_out}"
        )
    if args.plot is not None and (len(X[0]) != 2 or points.regression):
        why = "a regression has no classes" if points.regression else f"{points.name} has {len(X[0])} features"
        raise CommandError(f"train: --plot draws the classes over two features; {why}")
    plot = _image_path(args.plot) if args.plot is not None else None
    _check_writable("--save", args.save)
    _check_writable("--plot", plot)
    _check_writable("--record", args.record)
    _check_distinct(args, plot)
    _check_size(args, len(X[0]), task.outputs)
    if args.record is not None and len(X) * (len(X[0]) + 1) > nn.record.MAX_NUMBERS:
        raise CommandError(
            f"train: --record draws every sample, and {len(X):,} samples of {len(X[0])} features are more numbers "
            f"than a page holds ({nn.record.MAX_NUMBERS:,}): record a run on a sample of the rows"
        )
    try:
        t = lang.translator(args.lang)
    except ValueError as e:  # a catalogue that cannot be read
        raise CommandError(f"train: {e}") from None
    info = _data_info(args, points, loss_name, X, y)
    if info is not None:
        X, X_test = (data.standardize(part, info.mean, info.scale) for part in (X, X_test))
        points.X = X  # the table as read is let go: a CSV file's may be hundreds of MB

    # A regression's net learns the target standardised, (y - target_mean) / target_scale.
    to_label = task.label if info is None or info.target_mean is None else _standardized_target(info)
    labels: list[float] = [to_label(c) for c in _plain(y)]
    model = nn.MLP(len(X[0]), [*args.hidden, task.outputs], args.activation, seed=args.seed)
    model.data_info = info
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    schedule = None if args.schedule == "constant" else (lambda k: lr * (1.0 - 0.9 * k / args.steps))
    recorder = nn.Recorder(features=points.features, classes=points.class_names)  # also without --record: warnings
    try:
        nn.fit(
            model,
            X,
            labels,
            task.loss,
            optimizer,
            args.steps,
            batch_size=args.batch_size,
            l2=l2,
            lr_schedule=schedule,
            seed=args.seed,
            quiet=args.quiet,
            record=recorder,
            engine=args.engine,
            regression=points.regression,
        )
    except nn.TrainingDiverged as e:  # the run's outcome, not a mistake in the command: said in --lang
        where = e.where_in(t, **lang.gate_numbers(e.numbers, args.lang))
        stopped = t.gettext(nn.train.STOPPED).format(step=e.step, where=where)
        print(t.gettext("error: train: {stopped}; nothing was saved").format(stopped=stopped), file=sys.stderr)
        return 1

    if points.regression:
        print_regression(t, *measure_regression(model, X, list(_plain(y)), info, args.engine))
        if len(X_test):
            test_targets = list(_plain(y_test))
            print_regression(t, *measure_regression(model, X_test, test_targets, info, args.engine), test=True)
    else:
        loss, accuracy = measure(model, X, labels, task.loss, args.engine)
        print(t.gettext("loss: {loss}").format(loss=f"{loss + nn.l2_penalty(model.parameters(), l2).data:.6g}"))
        print(t.gettext("accuracy: {accuracy}").format(accuracy=f"{accuracy:.2f}"))
        if len(X_test):
            test_labels = [task.label(c) for c in _plain(y_test)]
            test_loss, test_accuracy = measure(model, X_test, test_labels, task.loss, args.engine)
            print(t.gettext("test loss: {loss}").format(loss=f"{test_loss:.6g}"))
            print(t.gettext("test accuracy: {accuracy}").format(accuracy=f"{test_accuracy:.2f}"))
    if args.save is not None:
        try:
            model.save(args.save)
        except OSError as e:
            raise CommandError(f"train: cannot save the model to {args.save}: {e.strerror or e}") from None
        print(t.gettext("saved the model to {path}").format(path=args.save))
    if plot is not None:
        _plot(model, X, cast("Sequence[int]", y), plot)  # class indices: --plot refuses a regression above
        print(t.gettext("saved the decision boundary to {path}").format(path=plot))
    if args.record is not None:
        try:
            viz.save_run(recorder, args.record, args.lang)
        except files.FileRefused as e:  # made a folder or a device since it was checked
            raise CommandError(f"train: cannot write the run: {e}") from None
        except OSError as e:
            raise CommandError(f"train: cannot write the run to {args.record}: {e.strerror or e}") from None
        print(t.gettext("saved the run to {path}: open it in a browser").format(path=args.record))
    warnings = [t.gettext(nn.record.WARNINGS[kind]).format(**numbers) for kind, numbers in recorder.warning_numbers()]
    if warnings:
        print(t.gettext("warning: {warnings}").format(warnings=t.gettext("; ").join(warnings)), file=sys.stderr)
    if args.overfit is not None:
        # A regression's verdict reads the loss of the target the net learnt, standardised: near 0 in any units.
        fitted = measure(model, X, labels, task.loss, args.engine)[0] if points.regression else loss
        return _overfit_verdict(len(X), fitted, args.steps, t)
    return 0


def _few(args: argparse.Namespace, name: str, X: Any, y: Any) -> tuple[Any, Any]:
    """The --overfit N points, drawn with --seed from the training points."""
    if args.overfit > len(X):
        raise CommandError(f"train: --overfit {args.overfit} is more than the {len(X)} points of {name}")
    if args.test_fraction is not None:
        raise CommandError("train: --overfit N trains on N points only; leave out --test-fraction")
    chosen = sorted(random.Random(args.seed).sample(range(len(X)), args.overfit))
    if hasattr(X, "ndim"):  # a CSV file's arrays stay arrays
        return X[chosen], y[chosen]
    return [X[i] for i in chosen], [y[i] for i in chosen]


def _overfit_verdict(n: int, loss: float, steps: int, t: gettext.NullTranslations) -> int:
    """cs231n's sanity check: a net that learns drives the loss of a few points near 0; exit 0 if so, 1 if not."""
    after = t.ngettext("after {steps} step", "after {steps} steps", steps).format(steps=steps)
    numbers = {"n": n, "loss": f"{loss:.3g}", "after": after, "limit": f"{OVERFIT_LOSS:g}"}
    if loss < OVERFIT_LOSS:
        said = t.ngettext(
            "overfit: yes, the loss on the {n} point fell to {loss}, below {limit}: the net fits it",
            "overfit: yes, the loss on the {n} points fell to {loss}, below {limit}: the net fits them",
            n,
        )
        print(said.format(**numbers))
        return 0
    said = t.ngettext(
        "overfit: no, the loss on the {n} point is {loss} {after}, not below {limit}: the net cannot "
        "fit even it; look at the lr, the steps, the gradients before training on all the data",
        "overfit: no, the loss on the {n} points is {loss} {after}, not below {limit}: the net cannot "
        "fit even them; look at the lr, the steps, the gradients before training on all the data",
        n,
    )
    print(said.format(**numbers))
    return 1


def _image_path(path: Path) -> Path:
    """The file `--plot` writes: `path` itself, or `path`.png when it has no extension, as matplotlib names it."""
    from gategrad.viz import plot  # matplotlib is optional: only --plot needs it

    try:
        return plot.image_path(path)
    except (plot.MatplotlibNotInstalled, ValueError) as e:
        raise CommandError(f"train: --plot {e}") from None


def _plot(model: nn.Module, X: list[list[float]], y: Sequence[int], path: Path) -> None:
    """Colour the plane by the class the model predicts and draw the data on top."""
    from gategrad.viz import plot

    try:
        plot.decision_boundary(lambda point: nn.predicted_class(model(point)), X, y, path, title=f"{model!r}")
    except (OSError, ValueError) as e:
        raise CommandError(f"train: cannot save the plot to {path}: {e}") from None


def _check_writable(option: str, path: Path | None) -> None:
    """Refuse, before the first training step, a path that saving to would fail on at the end."""
    if path is None:
        return
    folder = Path(os.path.realpath(path)).parent if path.is_symlink() else path.parent  # a link is written through
    if not folder.is_dir():
        link = f" (where the link {path} points)" if path.is_symlink() else ""
        raise CommandError(f"train: {option} {path}: the folder {folder}{link} does not exist")
    try:
        files.check_writable(path)
    except files.FileRefused as e:
        raise CommandError(f"train: {option} {e}") from None
    except OSError as e:
        raise CommandError(f"train: {option} {path}: cannot write in {path.parent}: {e.strerror or e}") from None


def _check_distinct(args: argparse.Namespace, plot: Path | None) -> None:
    """Refuse an output that is the --csv file or another output: one would overwrite the other at the end."""
    paths = [("--csv", args.csv), ("--save", args.save), ("--plot", plot), ("--record", args.record)]
    given = [(option, path) for option, path in paths if path is not None]
    for i, (option, path) in enumerate(given):
        for earlier, other in given[:i]:
            if files.same_file(path, other):
                what = "your data" if earlier == "--csv" else f"the {earlier} file"
                raise CommandError(f"train: {option} {path} is also {earlier}: writing it would replace {what}")


def _check_size(args: argparse.Namespace, nin: int, nout: int) -> None:
    """Refuse, before building it, a net larger than a model file holds (`nn.load` would refuse the file)."""
    count = nn.parameter_count([nin, *args.hidden, nout])
    if count > nn.MAX_PARAMETERS:
        hidden = cut(",".join(map(str, args.hidden)))
        raise CommandError(
            f"train: --hidden {hidden} makes a net of {count:,} parameters, more than the {nn.MAX_PARAMETERS:,} "
            "a model file holds: use smaller layers"
        )


@dataclass
class _Points:
    """What train learns from: the points, their targets, and (for a CSV file) their columns."""

    name: str  # the toy dataset's name or the CSV file's path, for messages
    X: Any  # rows of floats, or a numpy array of them (a CSV file for replay)
    y: Any  # class indices, or numbers for a regression: a list, or a numpy array
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
    # replay trains on numpy arrays: a table read as lists of floats takes about 12 times the memory
    replay = args.engine == "replay"
    table = read_csv("train", args.csv, target=args.target, regression=args.loss == "mse", arrays=replay)
    classes = 0 if table.classes is None else len(table.classes)
    target = table.y if table.y is not None else []
    return _Points(str(args.csv), table.X, target, classes, table.classes, table.features, args.target)


def _plain(y: Any) -> Iterable[Any]:
    """Labels as Python numbers, one at a time: a numpy array's items would carry numpy's types into the circuits."""
    return (v.item() for v in y) if hasattr(y, "dtype") else y


def _split(
    args: argparse.Namespace, points: _Points
) -> tuple[list[list[float]], Sequence[float], list[list[float]], Sequence[float]]:
    """(X, y, X_test, y_test): a seeded --test-fraction held out, or nothing."""
    if args.test_fraction is None:
        return points.X, points.y, [], []
    try:
        X, X_test, y, y_test = data.train_test_split(points.X, points.y, args.test_fraction, seed=args.seed)
    except ValueError as e:
        raise CommandError(f"train: --test-fraction {args.test_fraction}: {e}") from None
    return X, y, X_test, y_test


def _data_info(
    args: argparse.Namespace, points: _Points, loss: str, X: list[list[float]], y: Sequence[float]
) -> nn.DataInfo | None:
    """For a CSV file, what the model file keeps: the columns, the training points' mean and scale, the classes,
    and a regression's target mean and scale."""
    if points.features is None or points.target is None:
        return None
    if not args.standardize:
        return nn.DataInfo(
            points.features, points.target, [0.0] * len(X[0]), [1.0] * len(X[0]), points.class_names, loss
        )
    try:
        mean, scale = data.mean_and_scale(X)
        target = data.mean_and_scale([[t] for t in y]) if points.regression else None
    except ValueError as e:
        raise CommandError(f"train: {points.name}: {e}") from None
    if target is None:
        return nn.DataInfo(points.features, points.target, mean, scale, points.class_names, loss)
    (target_mean,), (target_scale,) = target
    return nn.DataInfo(points.features, points.target, mean, scale, None, loss, target_mean, target_scale)


def _standardized_target(info: nn.DataInfo) -> Callable[[float], float]:
    mean, scale = info.target_mean or 0.0, info.target_scale or 1.0
    return lambda t: (t - mean) / scale
