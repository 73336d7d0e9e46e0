"""`gategrad train --csv`, `eval --csv` and `predict`: your own table end to end, its numbers, and one-line errors."""

import csv
import io
import json
import math
import os
import random
import subprocess
import sys

import pytest

from gategrad import nn
from gategrad.cli import main
from gategrad.data import load_csv, make_moons, mean_and_scale, standardize, train_test_split

FRUITS = ["apple", "cherry", "pear"]


def fruit_csv(path, n=60):
    """A string-labelled table: width, height (cm) and weight (g) of apples, cherries and pears."""
    rng = random.Random(0)
    sizes = {"apple": (7.0, 7.0, 180.0), "cherry": (2.0, 2.0, 8.0), "pear": (6.0, 9.0, 170.0)}
    lines = ["width,height,weight,fruit"]
    for i in range(n):
        fruit = FRUITS[i % 3]
        width, height, weight = (rng.gauss(mean, 0.2 * mean) for mean in sizes[fruit])
        lines.append(f"{width:.2f},{height:.2f},{weight:.0f},{fruit}")
    path.write_text("\n".join(lines) + "\n")
    return path


def house_csv(path, n=80):
    """A regression: price from area, rooms and age, plus noise."""
    rng = random.Random(0)
    lines = ["area,rooms,age,price"]
    for _ in range(n):
        area, rooms, age = rng.uniform(40, 200), rng.randint(1, 6), rng.uniform(0, 80)
        lines.append(f"{area:.1f},{rooms},{age:.0f},{2.5 * area + 20 * rooms - 1.2 * age + rng.gauss(0, 10):.1f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def printed(out):
    return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)


def cross_entropy_report(model, X, y):
    scores = [model(x) for x in X]
    return nn.cross_entropy(scores, y).data, nn.accuracy(scores, y)


TRAIN = ["--hidden", "8", "--optimizer", "adam", "--steps", "60", "--quiet"]


def test_a_string_labelled_csv_trains_saves_evaluates_and_predicts(capsys, tmp_path):
    path, model_path = fruit_csv(tmp_path / "fruit.csv"), tmp_path / "fruit.json"
    argv = ["train", "--csv", path, "--target", "fruit", *TRAIN, "--test-fraction", "0.25", "--save", model_path]
    code, out, err = run(capsys, *argv)
    assert code == 0 and err == ""
    assert list(printed(out)) == ["loss", "accuracy", "test loss", "test accuracy"]

    # The same run on the API: a seeded split, the training rows' mean and scale, cross_entropy, Adam 0.05 falling.
    X, y, classes = load_csv(path, target="fruit")
    assert classes == FRUITS
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.25, seed=0)
    assert (len(X_train), len(X_test)) == (45, 15)
    mean, scale = mean_and_scale(X_train)
    X_train, X_test = standardize(X_train, mean, scale), standardize(X_test, mean, scale)
    model = nn.MLP(3, [8, 3], seed=0)
    opt = nn.Adam(model.parameters(), lr=0.05)
    schedule = lambda k: 0.05 * (1.0 - 0.9 * k / 60)  # noqa: E731
    nn.fit(
        model, X_train, y_train, nn.cross_entropy, opt, 60, l2=1e-4, lr_schedule=schedule, quiet=True, engine="replay"
    )
    loss, accuracy = cross_entropy_report(model, X_train, y_train)
    test_loss, test_accuracy = cross_entropy_report(model, X_test, y_test)
    assert printed(out) == {
        "loss": f"{loss + nn.l2_penalty(model.parameters(), 1e-4).data:.6g}",
        "accuracy": f"{accuracy:.2f}",
        "test loss": f"{test_loss:.6g}",
        "test accuracy": f"{test_accuracy:.2f}",
    }
    assert out.splitlines()[-1] == f"saved the model to {model_path}"
    assert (printed(out)["accuracy"], printed(out)["test accuracy"]) == (
        "0.80",
        "0.93",
    )  # measured: apples and pears overlap

    # The model file: the parameters, and the columns, mean, scale and classes eval and predict need.
    doc = json.loads(model_path.read_text())
    assert doc["data"] == {
        "features": ["width", "height", "weight"],
        "target": "fruit",
        "mean": mean,
        "scale": scale,
        "classes": FRUITS,
        "loss": "cross_entropy",
    }
    assert doc["parameters"] == model.state_dict()

    # eval on the whole file: standardised with the training rows' mean and scale.
    code, evaluated, err = run(capsys, "eval", "--model", model_path, "--csv", path)
    assert code == 0 and err == ""
    all_loss, all_accuracy = cross_entropy_report(model, standardize(X, mean, scale), y)
    assert evaluated == f"loss: {all_loss:.6g}\naccuracy: {all_accuracy:.2f}\n"

    # predict: each input row as it was, the predicted fruit, and the softmax of the outputs.
    code, predicted, err = run(capsys, "predict", "--model", model_path, "--csv", path)
    assert code == 0 and err == ""
    rows = list(csv.reader(io.StringIO(predicted)))
    assert rows[0] == ["width", "height", "weight", "fruit", "predicted_fruit", "p_apple", "p_cherry", "p_pear"]
    inputs = list(csv.reader(path.read_text().splitlines()))[1:]
    assert len(rows) == 1 + len(inputs) == 61
    for row, given, x in zip(rows[1:], inputs, standardize(X, mean, scale)):
        assert row[:4] == given
        logits = [v.data for v in model(x)]
        exps = [math.exp(z - max(logits)) for z in logits]
        assert [float(p) for p in row[5:]] == pytest.approx([e / sum(exps) for e in exps], rel=1e-15, abs=1e-300)
        assert row[4] == FRUITS[logits.index(max(logits))]
        assert math.fsum(float(p) for p in row[5:]) == pytest.approx(1.0, abs=1e-15)
    right = sum(row[4] == row[3] for row in rows[1:])
    assert right / 60 == all_accuracy


@pytest.mark.parametrize("loss, probabilities", [("bce", True), ("hinge", False)])
def test_two_classes_with_one_output_predict_by_its_sign(capsys, tmp_path, loss, probabilities):
    path, model_path = tmp_path / "two.csv", tmp_path / "two.json"
    path.write_text("x,y,label\n" + "".join(f"{i},{(i * 7) % 5},{'yes' if i > 4 else 'no'}\n" for i in range(10)))
    code, _, err = run(
        capsys, "train", "--csv", path, "--target", "label", "--loss", loss, *TRAIN, "--save", model_path
    )
    assert code == 0, err
    model = nn.load(model_path)
    assert model.config()["nouts"] == [8, 1] and model.data_info.classes == ("no", "yes")
    _, out, _ = run(capsys, "predict", "--model", model_path, "--csv", path)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["x", "y", "label", "predicted_label", *(["p_no", "p_yes"] if probabilities else [])]
    X, _, _ = load_csv(path, target="label")
    for row, x in zip(rows[1:], standardize(X, model.data_info.mean, model.data_info.scale)):
        z = model(x).data
        assert row[3] == ("yes" if z > 0 else "no")
        if probabilities:
            assert float(row[5]) == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-15)
            assert float(row[4]) == pytest.approx(1 - float(row[5]), rel=1e-15)


def test_no_standardize_keeps_the_features_as_they_are(capsys, tmp_path):
    path, model_path = fruit_csv(tmp_path / "fruit.csv"), tmp_path / "raw.json"
    argv = ["train", "--csv", path, "--target", "fruit", "--no-standardize", *TRAIN, "--save", model_path]
    assert run(capsys, *argv)[0] == 0
    info = nn.load(model_path).data_info
    assert info.mean == (0.0, 0.0, 0.0) and info.scale == (1.0, 1.0, 1.0)


def test_predict_copies_other_columns_through_and_reads_features_by_name(capsys, tmp_path):
    model_path = tmp_path / "fruit.json"
    assert (
        run(
            capsys,
            "train",
            "--csv",
            fruit_csv(tmp_path / "fruit.csv"),
            "--target",
            "fruit",
            *TRAIN,
            "--save",
            model_path,
        )[0]
        == 0
    )
    shuffled = tmp_path / "new.csv"
    shuffled.write_text("id,weight,width,height\nA,150,5.1,1.2\nB,120,6.0,0.1\n")
    code, out, err = run(capsys, "predict", "--model", model_path, "--csv", shuffled)
    assert code == 0 and err == ""
    rows = list(csv.reader(io.StringIO(out)))
    model = nn.load(model_path)
    info = model.data_info
    assert rows[0][:4] == ["id", "weight", "width", "height"]
    for row, given, x in zip(
        rows[1:], [["A", "150", "5.1", "1.2"], ["B", "120", "6.0", "0.1"]], [[5.1, 1.2, 150.0], [6.0, 0.1, 120.0]]
    ):
        logits = [v.data for v in model(standardize([x], info.mean, info.scale)[0])]
        assert row[:4] == given and row[4] == FRUITS[logits.index(max(logits))]


def test_a_toy_dataset_can_hold_out_a_test_share_too(capsys):
    code, out, _ = run(
        capsys, "train", "--dataset", "moons", "--hidden", "8", "--steps", "30", "--test-fraction", "0.2", "--quiet"
    )
    assert code == 0 and list(printed(out)) == ["loss", "accuracy", "test loss", "test accuracy"]
    X, y = make_moons(100, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, [2 * c - 1 for c in y], 0.2, seed=0)
    model = nn.MLP(2, [8, 1], seed=0)
    schedule = lambda k: 1.0 - 0.9 * k / 30  # noqa: E731
    nn.fit(
        model,
        X_train,
        y_train,
        nn.hinge_loss,
        nn.SGD(model.parameters(), lr=1.0),
        30,
        l2=1e-4,
        lr_schedule=schedule,
        quiet=True,
    )
    scores = [model(x) for x in X_test]
    assert printed(out)["test loss"] == f"{nn.hinge_loss(scores, y_test).data:.6g}"
    assert printed(out)["test accuracy"] == f"{nn.accuracy(scores, y_test):.2f}"


def test_a_two_feature_csv_draws_its_decision_boundary(capsys, tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("a,b,c\n" + "".join(f"{i},{i % 3},{'x' if i % 2 else 'y'}\n" for i in range(8)))
    code, out, err = run(capsys, "train", "--csv", path, "--target", "c", *TRAIN, "--plot", tmp_path / "b.png")
    assert code == 0, err
    assert (tmp_path / "b.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---- bad input: exit 2, one line on stderr naming the file, the line and the column ----


def one_line_error(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.endswith("\n") and len(err.splitlines()) == 1
    assert "Traceback" not in err
    return err[len("error: ") : -1]


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "{path}: the file is empty; its first line should name the columns"),
        ("a,b,fruit\n", "{path}: no rows after the header on line 1"),
        ("a,b,fruit\n1,2,apple\n3,banana\n", "{path}: line 3 has 2 columns, the header on line 1 has 3"),
        ("a,b,fruit\n1,2,apple\n3,4..5,banana\n", "{path}: line 3, column 2 (b): '4..5' is not a number"),
        ("a,b,species\n1,2,apple\n", "{path}: line 1: no column 'fruit' to predict; the columns are a, b, species"),
        (
            "a,b,fruit\n1,2,apple\n3,4,apple\n",
            "{path}: column 'fruit' has one class, 'apple': a classifier needs two or more",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "{path}: line 1: not a UTF-8 text file (byte 0x89)"),
        (b"a,fruit\n\x00\x01,\x02\n", "{path}: line 2: not a text file (a NUL byte)"),
    ],
    ids=["empty", "header-only", "ragged", "not-a-number", "unknown-target", "one-class", "binary", "nul"],
)
def test_each_bad_csv_is_one_line_naming_file_line_and_column(capsys, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    err = one_line_error(capsys, "train", "--csv", path, "--target", "fruit", "--quiet")
    assert err == "train: " + message.format(path=path)


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda tmp_path: "/dev/zero", "not a regular file (a character device)"),
        (
            lambda tmp_path: os.mkfifo(tmp_path / "fifo.csv") or tmp_path / "fifo.csv",
            "not a regular file (a named pipe)",
        ),
        (lambda tmp_path: tmp_path, "not a regular file (a directory)"),
    ],
    ids=["dev-zero", "fifo", "directory"],
)
def test_what_is_not_a_file_is_refused_without_reading_it(capsys, tmp_path, make, reason):
    path = make(tmp_path)
    for argv in (
        ["train", "--csv", path, "--target", "fruit"],
        ["predict", "--model", _model(tmp_path), "--csv", path],
    ):
        assert one_line_error(capsys, *argv).endswith(f": {path}: {reason}")


def _model(tmp_path):
    """A model trained on fruit.csv, saved with its data section."""
    path = tmp_path / "m.json"
    if not path.exists():
        model = nn.MLP(3, [4, 3], seed=0)
        model.data_info = nn.DataInfo(
            ["width", "height", "weight"], "fruit", [0, 0, 0], [1, 1, 1], FRUITS, "cross_entropy"
        )
        model.save(path)
    return path


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "width,height,fruit\n1,2,apple\n",
            "{path}: line 1: no column 'weight'; expected the features width, height, weight",
        ),
        (
            "width,height,weight,fruit\n1,2,3,kiwi\n",
            "{path}: line 2, column 4 (fruit): 'kiwi' is not one of the classes apple, cherry, pear",
        ),
        (
            "width,height,weight\n1,2,3\n",
            "{path}: line 1: no column 'fruit' to predict; the columns are width, height, weight",
        ),
    ],
    ids=["missing-feature", "unknown-class", "no-target"],
)
def test_eval_refuses_columns_that_do_not_match_the_models(capsys, tmp_path, content, message):
    path = tmp_path / "other.csv"
    path.write_text(content)
    assert one_line_error(capsys, "eval", "--model", _model(tmp_path), "--csv", path) == "eval: " + message.format(
        path=path
    )


def test_predict_refuses_a_file_without_the_models_features_or_with_its_own_prediction_column(capsys, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("width,height\n1,2\n")
    err = one_line_error(capsys, "predict", "--model", _model(tmp_path), "--csv", path)
    assert err == f"predict: {path}: line 1: no column 'weight'; expected the features width, height, weight"
    path.write_text("width,height,weight,predicted_fruit\n1,2,3,apple\n")
    err = one_line_error(capsys, "predict", "--model", _model(tmp_path), "--csv", path)
    assert err == f"predict: {path} already has a column 'predicted_fruit', which predict adds"


def test_a_model_without_a_data_section_cannot_read_a_csv(capsys, tmp_path):
    nn.MLP(3, [4, 3]).save(tmp_path / "plain.json")
    path = fruit_csv(tmp_path / "fruit.csv")
    for command in ("eval", "predict"):
        err = one_line_error(capsys, command, "--model", tmp_path / "plain.json", "--csv", path)
        assert err.startswith(f'{command}: {tmp_path / "plain.json"} has no "data" section naming the columns it reads')


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--csv", "f.csv"], "train: --csv needs --target COLUMN, the column to predict"),
        (["train", "--target", "fruit"], "train: --target goes with --csv FILE"),
        (["train", "--no-standardize"], "train: --no-standardize goes with --csv FILE"),
        (["train", "--csv", "f.csv", "--dataset", "moons"], "argument --dataset: not allowed with argument --csv"),
        (["train", "--test-fraction", "1"], "argument --test-fraction: must be between 0 and 1, got 1"),
        (
            ["train", "--csv", "nowhere.csv", "--target", "x"],
            "train: cannot read nowhere.csv: No such file or directory",
        ),
        (["eval", "--model", "m.json"], "one of the arguments --dataset --csv is required"),
        (["predict", "--csv", "f.csv"], "the following arguments are required: --model"),
    ],
)
def test_options_that_do_not_go_together_are_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert message in one_line_error(capsys, *argv)


def test_options_that_need_the_data_are_checked_against_it(capsys, tmp_path):
    path = fruit_csv(tmp_path / "fruit.csv")
    base = ["train", "--csv", path, "--target", "fruit"]
    assert (
        one_line_error(capsys, *base, "--loss", "hinge")
        == "train: --loss hinge needs two classes, the dataset has 3; use cross_entropy"
    )
    assert (
        one_line_error(capsys, *base, "--loss", "mse")
        == f"train: {path}: line 2, column 4 (fruit): 'apple' is not a number (a regression's target must be)"
    )
    assert (
        one_line_error(capsys, *base, "--plot", tmp_path / "b.png")
        == f"train: --plot draws the classes over two features; {path} has 3 features"
    )
    assert (
        one_line_error(capsys, *base, "--test-fraction", "0.001")
        == "train: --test-fraction 0.001: a test fraction of 0.001 of 60 rows leaves no rows to test on"
    )
    assert (
        one_line_error(capsys, *base, "--test-fraction", "0.5", "--batch-size", "40")
        == f"train: --batch-size 40 is more than the 30 points of {path} left after --test-fraction"
    )
    houses = house_csv(tmp_path / "houses.csv")
    assert one_line_error(capsys, "train", "--csv", houses, "--target", "price").startswith(
        f"train: {houses}: column 'price' holds numbers such as"
    )


def test_the_console_command_reports_a_bad_csv_without_a_traceback(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,fruit\n1,2,apple\n3,banana\n")
    result = subprocess.run(
        [sys.executable, "-m", "gategrad.cli", "train", "--csv", str(path), "--target", "fruit"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"error: train: {path}: line 3 has 2 columns, the header on line 1 has 3\n"
