"""The `gategrad` command line: one subcommand per task, errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gategrad import data, nn, viz
from gategrad.engine import Value
from gategrad.explain import expr, walkthrough


class CommandError(Exception):
    """A user's mistake on the command line: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CommandError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gategrad", description="See backpropagation gate by gate.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # Each subcommand adds its parser here; its `run` default handles the parsed arguments.
    _add_explain(commands)
    _add_train(commands)
    _add_eval(commands)
    _add_demo(commands)
    return parser


def _add_explain(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser(
        "explain",
        help="walk backpropagation through an expression, gate by gate",
        description=(
            "Build the circuit of EXPR at the given values, then print its forward pass, its backward pass "
            "one gate at a time, and each input's gradient. Put -- before an EXPR that starts with a minus: "
            "gategrad explain -- '-x*y' x=2 y=3"
        ),
    )
    explain.add_argument("expression", metavar="EXPR", help="e.g. '2*(x*y + max(z, w))'")
    explain.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for each name, e.g. x=3 y=-4")
    explain.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    explain.add_argument("--svg-dir", type=Path, metavar="DIR", help="also write one SVG frame per step into DIR")
    explain.add_argument(
        "--html", type=Path, metavar="FILE", help="also write a page that steps through the walk in a browser"
    )
    explain.set_defaults(run=_explain)


def _explain(args: argparse.Namespace) -> int:
    try:
        circuit = expr.build(args.expression, expr.parse_values(args.values))
    except expr.ExpressionError as e:
        raise CommandError(f"explain: {e}") from None
    steps = walkthrough.walk(circuit.output)  # the walk is taken once; every output below renders it
    paths = []
    if args.svg_dir is not None or args.html is not None:
        try:
            frames = viz.walkthrough_frames(circuit.output, steps)
            if args.svg_dir is not None:
                paths = viz.render_walkthrough(circuit.output, args.svg_dir, frames=frames)
            if args.html is not None:
                viz.Stepper(circuit.output, frames=frames).save(args.html)
        except (viz.GraphvizNotInstalled, ValueError, OSError) as e:
            print(f"error: explain: {e}", file=sys.stderr)
            return 1
    if args.json:
        report = walkthrough.to_json(circuit.expression, circuit.output, circuit.inputs, steps)
        print(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        print(walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps))
        if paths:
            print(
                f"\nWrote {len(paths)} frames to {args.svg_dir}: {paths[0].name} (the forward pass) to {paths[-1].name}"
            )
        if args.html is not None:
            print(f"\nWrote the stepper to {args.html}: open it in a browser")
    return 0


# ---- train and eval: small nets on toy datasets ----

Dataset = tuple[list[list[float]], list[int]]
DATASETS: dict[str, Callable[[int], Dataset]] = {
    "xor": lambda seed: data.make_xor(),
    "moons": lambda seed: data.make_moons(100, noise=0.1, seed=seed),
    "circles": lambda seed: data.make_circles(100, noise=0.05, factor=0.5, seed=seed),
    "spiral": lambda seed: data.make_spiral(50, classes=3, noise=0.2, seed=seed),
}
LOSSES = ["hinge", "mse", "bce", "cross_entropy"]
OPTIMIZERS = {"sgd": nn.SGD, "adam": nn.Adam, "adamw": nn.AdamW}
DEFAULT_LR = {"sgd": 1.0, "adam": 0.05, "adamw": 0.05}


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


def _rate(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= x < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return x


def _add_train(commands: argparse._SubParsersAction) -> None:
    train = commands.add_parser(
        "train",
        help="train a small MLP on a toy dataset",
        description=(
            "Train an MLP (2 inputs, the hidden layers, then a linear output layer) on a toy dataset, "
            "showing a progress bar, then print its loss and accuracy on the whole dataset. With two "
            "classes, hinge and mse use one output and labels -1/+1, bce one output (a logit) and labels "
            "0/1; cross_entropy uses one output per class."
        ),
    )
    train.add_argument("--dataset", choices=DATASETS, default="moons", help="default: moons (100 points)")
    train.add_argument("--hidden", type=_layer_sizes, default=[16, 16], metavar="SIZES", help="default: 16,16")
    train.add_argument("--activation", choices=nn.ACTIVATIONS, default="relu", help="of the hidden layers")
    train.add_argument("--loss", choices=LOSSES, help="default: hinge for two classes, cross_entropy for more")
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
    train.add_argument("--save", type=Path, metavar="MODEL.json", help="write the trained model to this file")
    train.add_argument("--plot", type=Path, metavar="IMAGE.png", help="draw the decision boundary (needs matplotlib)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)


def _objective(loss: str, classes: int) -> tuple[int, Callable, Callable[[int], int]]:
    """How a loss reads `classes` classes: (outputs of the net, loss function, label it needs for class c)."""
    if loss == "cross_entropy":
        return classes, nn.cross_entropy, int
    if loss == "mse" and classes > 2:

        def one_hot_mse(outputs: list, labels: list[int]) -> Value:
            return nn.mse_loss(outputs, [[float(j == c) for j in range(classes)] for c in labels])

        return classes, one_hot_mse, int
    if classes > 2:
        raise CommandError(f"train: --loss {loss} needs two classes, the dataset has {classes}; use cross_entropy")
    if loss == "bce":
        return 1, nn.bce_with_logits, int
    return 1, nn.hinge_loss if loss == "hinge" else nn.mse_loss, lambda c: 2 * c - 1


def _train(args: argparse.Namespace) -> int:
    X, y = DATASETS[args.dataset](args.seed)
    classes = len(set(y))
    outputs, loss_fn, label = _objective(args.loss or ("hinge" if classes == 2 else "cross_entropy"), classes)
    if args.batch_size is not None and args.batch_size > len(X):
        raise CommandError(f"train: --batch-size {args.batch_size} is more than the {len(X)} points of {args.dataset}")
    for option, path in (("--save", args.save), ("--plot", args.plot)):
        if path is not None and not path.parent.is_dir():
            raise CommandError(f"train: {option} {path}: the folder {path.parent} does not exist")
    pyplot = _pyplot() if args.plot is not None else None

    labels = [label(c) for c in y]
    model = nn.MLP(2, [*args.hidden, outputs], args.activation, seed=args.seed)
    lr = DEFAULT_LR[args.optimizer] if args.lr is None else args.lr
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=lr)
    schedule = None if args.schedule == "constant" else (lambda k: lr * (1.0 - 0.9 * k / args.steps))
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
        engine=args.engine,
    )

    scores = [model(x) for x in X]
    loss = loss_fn(scores, labels) + nn.l2_penalty(model.parameters(), args.l2)
    print(f"loss: {loss.data:.6g}")
    print(f"accuracy: {nn.accuracy(scores, labels):.2f}")
    if args.save is not None:
        try:
            model.save(args.save)
        except OSError as e:
            raise CommandError(f"train: cannot save the model to {args.save}: {e.strerror or e}") from None
        print(f"saved the model to {args.save}")
    if pyplot is not None:
        _plot(pyplot, model, X, y, args.plot)
        print(f"saved the decision boundary to {args.plot}")
    return 0


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
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as e:
        raise CommandError(f"train: cannot save the plot to {path}: {e}") from None
    finally:
        pyplot.close(fig)


def _add_eval(commands: argparse._SubParsersAction) -> None:
    evaluate = commands.add_parser(
        "eval",
        help="the accuracy of a saved model on a toy dataset",
        description="Load a model saved by `gategrad train --save` and print its accuracy on a dataset.",
    )
    evaluate.add_argument("--model", type=Path, required=True, metavar="MODEL.json", help="a model file")
    evaluate.add_argument("--dataset", choices=DATASETS, required=True)
    evaluate.add_argument(
        "--seed", type=int, default=0, help="the dataset's seed; default 0, train's default (another draws new points)"
    )
    evaluate.set_defaults(run=_eval)


def _eval(args: argparse.Namespace) -> int:
    try:
        model = nn.load(args.model)
    except OSError as e:
        raise CommandError(f"eval: cannot read the model file {args.model}: {e.strerror or e}") from None
    except ValueError as e:
        raise CommandError(f"eval: {e}") from None
    X, y = DATASETS[args.dataset](args.seed)
    classes = len(set(y))
    nin = model.config()["nin"]
    if nin != 2:
        raise CommandError(f"eval: {args.model}: the model takes {nin} inputs, the points of {args.dataset} have 2")
    scores = [model(x) for x in X]
    outputs = len(scores[0]) if isinstance(scores[0], list) else 1
    if outputs != classes and not (outputs == 1 and classes == 2):
        has = f"{outputs} output" + ("s" if outputs > 1 else "")
        raise CommandError(f"eval: {args.model}: the model has {has}, {args.dataset} has {classes} classes")
    print(f"accuracy: {nn.accuracy(scores, y):.2f}")
    return 0


# ---- demo: a tour of the above in one command ----

DEMO_EXPRESSION = "2*(x*y + max(z, w))"
DEMO_VALUES = ["x=3", "y=-4", "z=2", "w=-1"]


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="a tour: one circuit walked gate by gate, drawn, then a small net trained on moons",
        description=(
            "Walk backpropagation through cs231n's circuit 2*(x*y + max(z, w)) gate by gate, draw it, "
            "then train micrograd's moons net, and write the pictures, a stepper page and the model into DIR."
        ),
    )
    demo.add_argument("--out", type=Path, default=Path("gategrad-demo"), metavar="DIR", help="default: ./gategrad-demo")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace) -> int:
    out: Path = args.out
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"demo: cannot make the folder {out}: {e.strerror or e}") from None
    written = []

    print(f"1. Backpropagation, gate by gate\n$ gategrad {shlex.join(['explain', DEMO_EXPRESSION, *DEMO_VALUES])}\n")
    circuit = expr.build(DEMO_EXPRESSION, expr.parse_values(DEMO_VALUES))
    steps = walkthrough.walk(circuit.output)  # leaves the gradients backward() would, for the picture
    print(walkthrough.format_report(circuit.expression, circuit.output, circuit.inputs, steps))
    try:
        (out / "circuit.svg").write_bytes(viz.draw_dot(circuit.output, color_grads=True).pipe())
        viz.Stepper(circuit.output, frames=viz.walkthrough_frames(circuit.output, steps)).save(out / "walkthrough.html")
        written += [
            ("circuit.svg", "the circuit and its gradients"),
            ("walkthrough.html", "the stepper: open it in a browser"),
        ]
    except viz.GraphvizNotInstalled as e:
        print(f"\nskipped the pictures: {e}", file=sys.stderr)
    except OSError as e:
        raise CommandError(f"demo: cannot write {e.filename or out}: {e.strerror or e}") from None

    train = ["train", "--save", str(out / "model.json"), "--plot", str(out / "boundary.png")]
    if importlib.util.find_spec("matplotlib") is None:
        del train[3:]
        print("\nskipped the decision boundary: it needs matplotlib (pip install 'gategrad[plot]')", file=sys.stderr)
    print(f"\n2. micrograd's moons demo, trained on gategrad\n$ gategrad {shlex.join(train)}\n")
    _train(build_parser().parse_args([*train, *(["--quiet"] if args.quiet else [])]))
    written.append(
        ("model.json", f"the model: gategrad eval --model {shlex.quote(str(out / 'model.json'))} --dataset moons")
    )
    if len(train) > 3:
        written.append(("boundary.png", "its decision boundary"))

    print(f"\nThe files are in {out.resolve()}:")
    for name, what in written:
        print(f"  {name:<17} {what}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args))
    except CommandError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left early (as `gategrad explain ... | head` does): stop without a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
